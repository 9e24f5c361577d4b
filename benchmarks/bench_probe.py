"""Does probing the bundled libraries slow a cold ``pylock sync``? Before and after, in pairs.

The install runs the new interpreter once to check its version; since docs/sbom.md that same
run also imports the modules that carry OpenSSL, SQLite, zlib, expat, ... and prints their
versions. This times what that costs, two ways, on this machine, with no network beyond
127.0.0.1:

1. **Cold sync, before vs after.** The same archive (pylock.commands.standin's repackaging of the
   CPython running this script, as bench_sync.py uses) served on loopback, the same lock, fresh
   cache and install dirs for every run; "before" is pylock's ``src/`` at ``--baseline`` (by
   default the parent of the commit that added the probe), "after" is this checkout's ``src/``.
   Each round runs both, in alternating order (before-after, then after-before, ...), so a
   slow moment of the machine is shared out; the report gives both medians and the median of
   the per-round differences.
2. **The interpreter run alone.** On one installed tree, the old program (the version only) and
   ``PROBE`` (version and components), alternating, many times: the probe's own cost, without
   the noise of downloading and extracting 1,500 files. Twice: as the stand-in is installed
   (no bytecode, so what the readings import is compiled from source every time), and with the
   stdlib's bytecode written, as PBS archives ship it.

    .venv/bin/python benchmarks/bench_probe.py                 # 15 rounds
    .venv/bin/python benchmarks/bench_probe.py --rounds 5 --scratch /dev/shm
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

# This checkout's pylock, whatever is installed in the venv: "after" is this src/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_sync import (
    REPO,
    WORK,
    BenchmarkError,
    Invocation,
    base_env,
    fresh_dir,
    host_platform_key_and_triple,
    settle,
    timed,
    write_lock_text,
)
from loopback import serve
from pbs_archive import build_archive, verify_archive

OLD_PROBE = "import sys; print(*tuple(sys.version_info))"
"""What the install ran before the components were probed (interpreter.VERSION_PROBE then)."""


def probe_commit() -> str:
    """The commit that added ``components.PROBE`` (the first one whose tree has it)."""
    out = subprocess.run(
        ["git", "log", "--format=%H", "--reverse", "-S", "PROBE = _probe_source()", "--",
         "src/pylock/install/components.py"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not out:
        raise BenchmarkError("no commit adds components.PROBE; pass --baseline REV")
    return out[0]


def export_src(rev: str, into: Path) -> Path:
    """``src/`` of ``rev``, unpacked into ``into`` (what PYTHONPATH points at for "before")."""
    fresh_dir(into)
    archive = subprocess.run(
        ["git", "archive", rev, "src"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def invocation(src: Path, project: Path, run_dir: Path) -> Invocation:
    env = base_env()
    env["PYTHONPATH"] = str(src)
    env["PYLOCK_CACHE_DIR"] = str(run_dir / "cache")
    env["PYLOCK_PYTHON_DIR"] = str(run_dir / "python")
    argv = [sys.executable, "-m", "pylock", "--project", str(project), "sync"]
    return Invocation(argv, env, project)


def installed_python(run_dir: Path) -> Path:
    found = sorted(p for p in (run_dir / "python").glob("*/bin/python3.*") if p.is_file())
    if not found:
        raise BenchmarkError(f"nothing installed under {run_dir}")
    return found[0]


def time_run(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - start


def time_programs(python: Path, pairs: int, name: str) -> dict[str, object]:
    """The old program and ``PROBE`` run by ``python``, alternating, ``pairs`` times each."""
    from pylock.install.components import PROBE

    programs = {"before": OLD_PROBE, "after": PROBE}
    samples: dict[str, list[float]] = {"before": [], "after": []}
    for index in range(pairs):
        order = ["before", "after"] if index % 2 == 0 else ["after", "before"]
        for which in order:
            argv = [str(python), "-I", "-S", "-B", "-c", programs[which]]
            samples[which].append(time_run(argv, python.parent.parent))
    return {**summary(name, samples["before"], samples["after"]), "samples": samples}


def summary(name: str, before: list[float], after: list[float]) -> dict[str, float]:
    differences = [a - b for b, a in zip(before, after, strict=True)]
    quartiles = statistics.quantiles(differences, n=4) if len(differences) > 1 else [0.0] * 3
    result = {
        "before_median_ms": statistics.median(before) * 1e3,
        "after_median_ms": statistics.median(after) * 1e3,
        "median_difference_ms": statistics.median(differences) * 1e3,
        "difference_q1_ms": quartiles[0] * 1e3,
        "difference_q3_ms": quartiles[2] * 1e3,
        "after_slower_in": sum(d > 0 for d in differences) / len(differences),
        "before_min_ms": min(before) * 1e3,
        "after_min_ms": min(after) * 1e3,
    }
    print(
        f"{name}: before {result['before_median_ms']:.1f} ms, after "
        f"{result['after_median_ms']:.1f} ms (medians of {len(before)}); after - before per "
        f"pair: median {result['median_difference_ms']:+.1f} ms, quartiles "
        f"{result['difference_q1_ms']:+.1f} / {result['difference_q3_ms']:+.1f} ms; after slower "
        f"in {result['after_slower_in']:.0%} of pairs; minimums {result['before_min_ms']:.1f} / "
        f"{result['after_min_ms']:.1f} ms"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="cold-sync pairs (default 15)")
    parser.add_argument("--probe-pairs", type=int, default=60, help="interpreter-run pairs")
    parser.add_argument("--baseline", help="the 'before' revision (default: before the probe)")
    parser.add_argument("--scratch", type=Path, default=WORK, help="where the syncs install")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    platform_key, triple = host_platform_key_and_triple()
    www = WORK / "www"
    archive = build_archive(www / "20990101", triple)
    verify_archive(archive)
    baseline = args.baseline or f"{probe_commit()}~1"
    srcs = {"before": export_src(baseline, WORK / "baseline"), "after": REPO / "src"}
    print(f"archive {archive.name} ({archive.size / 1e6:.1f} MB); before = {baseline}")
    runs = args.scratch.resolve() / "probe-runs"
    shutil.rmtree(runs, ignore_errors=True)
    samples: dict[str, list[float]] = {"before": [], "after": []}
    with serve(www) as server:
        url = f"{server.base_url}/{archive.build}/{quote(archive.name)}"
        project = fresh_dir(WORK / "probe-project")
        (project / "pyproject.toml").write_text(
            f'[tool.pylock]\npython = "{archive.version}"\nplatforms = ["{platform_key}"]\n'
        )
        (project / "python.lock").write_text(write_lock_text(archive, url, platform_key))
        for name, src in srcs.items():  # warm-up: page cache and pyc files, not counted
            timed(invocation(src, project, fresh_dir(runs / f"warmup-{name}")), name)
        for index in range(args.rounds):
            order = ["before", "after"] if index % 2 == 0 else ["after", "before"]
            for name in order:
                run_dir = fresh_dir(runs / f"round-{index}" / name)
                settle()
                samples[name].append(timed(invocation(srcs[name], project, run_dir), name))
            print(f"round {index + 1}/{args.rounds} done", flush=True)
    receipt = json.loads(
        next((runs / "round-0" / "after" / "python").glob("*/.pylock/receipt.json")).read_text()
    )
    found = receipt.get("components", {}).get("libraries", [])
    print(f"components recorded by 'after': {', '.join(c['name'] for c in found)}")
    cold = summary("cold sync", samples["before"], samples["after"])

    from pylock.install.components import PROBE

    python = installed_python(runs / "round-0" / "after")
    alone = time_programs(python, args.probe_pairs, "interpreter run alone, no bytecode")
    # The stand-in archive has no __pycache__ (standin.py leaves it out) and -B writes none, so
    # above every pure-Python module the readings pull in (collections, functools, numbers) is
    # compiled from source on each run. PBS archives ship the stdlib's bytecode: write it once
    # (the same run without -B) and measure again, for the cost a real build pays.
    subprocess.run([str(python), "-I", "-S", "-c", PROBE], capture_output=True, check=True)
    compiled = time_programs(python, args.probe_pairs, "interpreter run alone, with bytecode")
    results = {
        "baseline": baseline,
        "archive": archive.to_json(),
        "nproc": os.cpu_count(),
        "load_average": os.getloadavg(),
        "cold_sync": {**cold, "samples": samples},
        "interpreter_run_no_bytecode": alone,
        "interpreter_run_with_bytecode": compiled,
    }
    (WORK / "probe-results.json").write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(runs, ignore_errors=True)
    print(f"results written to {WORK / 'probe-results.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
