"""Time the commands run all day against uv's equivalents: which, run, show, venv, check, sync.

Run from the repository root with the project's venv (see benchmarks/README.md):

    .venv/bin/python benchmarks/bench_commands.py              # 21 pairs per command
    .venv/bin/python benchmarks/bench_commands.py --pairs 15 --only which run
    .venv/bin/python benchmarks/bench_commands.py --pylock before=/tmp/before-venv/bin/pylock

Everything happens on this machine: the archive bench_sync.py builds (a PBS-shaped
install_only archive of the running CPython) is served on 127.0.0.1 once, installed by
``pylock sync`` and by ``uv python install`` into directories of their own, and then every
command is timed as a whole process (start-up and imports included, as a user waits for it),
alternating with its uv equivalent: pylock, uv, then uv, pylock, ... so that a slow moment of a
shared machine falls on both. With ``--pylock NAME=PATH`` another pylock (an older tree in its
own venv) joins the rotation, for a before/after comparison in the same run. The load average
is printed before and after: on a busy 2-core machine, only ratios taken in one run compare.

uv's equivalents (the issue's table): ``uv python find 3.11.7 --managed-python`` for ``which``,
``uv run --no-project -p 3.11.7 --managed-python -- true`` for ``run``, ``uv python find``
again for ``show`` (uv has no listing of one project's interpreters; ``uv python list
--only-installed`` asks every interpreter on PATH and takes over a second here), a no-op ``uv
sync`` of a project with no dependencies (its venv already made) for ``venv``, and a no-op ``uv
python install`` for ``check``, ``check --installed`` and ``sync``.
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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bench_sync import (
    WORK,
    BenchmarkError,
    base_env,
    ensure_uv,
    host_platform_key_and_triple,
    platform_parts,
    write_lock_text,
)
from loopback import serve
from pbs_archive import build_archive

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"check": 1.5, "check --installed": 1.5}  # the issue: check within 1.5x uv's no-op
DEFAULT_TARGET = 1.2  # which, run, show, venv: within 1.2x of uv's equivalent


@dataclass(frozen=True)
class Command:
    name: str
    pylock: list[str]  # after `pylock -p PROJECT`
    uv: list[str]  # after `uv`
    uv_cwd: str  # "project" (pylock's), "uv-project" (uv sync's) or "home"


def commands(version: str, downloads_json: Path) -> list[Command]:
    install = ["python", "install", version, "--no-bin", "--python-downloads-json-url"]
    install.append(str(downloads_json))
    managed = ["-p", version, "--managed-python"]
    return [
        Command("which", ["which"], ["python", "find", version, "--managed-python"], "home"),
        Command(
            "run",
            ["run", "--", "true"],
            ["run", "--no-project", *managed, "--", "true"],
            "home",
        ),
        Command("show", ["show"], ["python", "find", version, "--managed-python"], "home"),
        Command("venv", ["venv"], ["sync", "--offline", *managed], "uv-project"),
        Command("check", ["check"], install, "home"),
        Command("check --installed", ["check", "--installed"], install, "home"),
        Command("sync", ["sync"], install, "home"),
    ]


def uv_venv(uv: Path) -> Path:
    """This tree installed by uv into .work/uv-venv (made once, the install refreshed)."""
    venv = WORK / "uv-venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([str(uv), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    subprocess.run([str(uv), "pip", "install", "-q", "-e", str(REPO)], check=True, env=env)
    return venv


def timed(argv: list[str], env: dict[str, str], cwd: Path, what: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()[-6:]
        raise BenchmarkError(f"{what} exited {done.returncode}:\n  " + "\n  ".join(said))
    return elapsed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pairs", type=int, default=21, help="timed rounds per command (21)")
    parser.add_argument("--only", nargs="*", help="only these commands (e.g. which run)")
    parser.add_argument(
        "--pylock",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another pylock executable to time in the same rotation (repeatable)",
    )
    parser.add_argument(
        "--uv-venv",
        action="store_true",
        help="also time this tree installed by uv (`uv pip install -e .` into .work/uv-venv): "
        "uv's console script imports no `re`, and a uv venv has no setuptools .pth",
    )
    parser.add_argument("--scratch", type=Path, default=WORK, help="where the installs go")
    parser.add_argument("--uv", type=Path, help="use this uv instead of .work/venv/bin/uv")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    platform_key, triple = host_platform_key_and_triple()
    www = WORK / "www"
    archive = build_archive(www / "20990101", triple)
    uv = args.uv or ensure_uv(WORK / "venv")
    contenders = {"pylock": REPO / ".venv" / "bin" / "pylock"}
    if args.uv_venv:
        contenders["pylock, uv venv"] = uv_venv(uv) / "bin" / "pylock"
    for spec in args.pylock:
        name, _, path = spec.partition("=")
        contenders[name] = Path(path)
    root = args.scratch.resolve() / "commands"
    shutil.rmtree(root, ignore_errors=True)
    home = root / "home"
    home.mkdir(parents=True)
    env = base_env()
    env.update(
        PYLOCK_CACHE_DIR=str(root / "cache"),
        PYLOCK_PYTHON_DIR=str(root / "python"),
        UV_PYTHON_INSTALL_DIR=str(root / "uv-python"),
        UV_PYTHON_BIN_DIR=str(root / "uv-bin"),
        UV_CACHE_DIR=str(root / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="manual",
    )
    project = root / "project"
    project.mkdir()
    uv_project = root / "uv-project"
    uv_project.mkdir()
    (uv_project / "pyproject.toml").write_text(
        f'[project]\nname = "bench"\nversion = "0"\nrequires-python = "=={archive.version}"\n'
        "dependencies = []\n"
    )
    downloads_json = root / "uv-downloads.json"
    cwds = {"project": project, "uv-project": uv_project, "home": home}
    with serve(www) as server:
        url = f"{server.base_url}/{archive.build}/{quote(archive.name)}"
        (project / "pyproject.toml").write_text(
            '[project]\nname = "bench"\nversion = "0"\n\n'
            f'[tool.pylock]\npython = "{archive.version}"\nplatforms = ["{platform_key}"]\n'
        )
        (project / "python.lock").write_text(write_lock_text(archive, url, platform_key))
        major, minor, patch = (int(part) for part in archive.version.split("."))
        key_os, key_arch, key_libc = platform_parts(archive.triple)
        downloads_json.write_text(
            json.dumps(
                {
                    f"cpython-{archive.version}-{key_os}-{key_arch}-{key_libc}": {
                        "name": "cpython",
                        "arch": {"family": key_arch, "variant": None},
                        "os": key_os,
                        "libc": key_libc,
                        "major": major,
                        "minor": minor,
                        "patch": patch,
                        "prerelease": "",
                        "url": url,
                        "sha256": archive.sha256,
                        "variant": None,
                        "build": archive.build,
                    }
                }
            )
        )
        table = commands(archive.version, downloads_json)
        if args.only:
            table = [c for c in table if c.name in args.only]
        # Install once, untimed. Several pylocks share the project and the install root (an
        # older tree finds the same build installed), each with its own memos.
        for name, exe in contenders.items():
            timed([str(exe), "-p", str(project), "sync"], env, project, f"{name} sync")
            if any(c.name == "venv" for c in table):
                timed([str(exe), "-p", str(project), "venv"], env, project, f"{name} venv")
        by_name = {c.name: c for c in commands(archive.version, downloads_json)}
        timed([str(uv), *by_name["sync"].uv], env, home, "uv python install")
        timed([str(uv), *by_name["venv"].uv], env, uv_project, "uv sync")
    load_before = os.getloadavg()
    results: dict[str, dict[str, list[float]]] = {}
    for command in table:
        runners = {
            name: ([str(exe), "-p", str(project), *command.pylock], project)
            for name, exe in contenders.items()
        }
        runners["uv"] = ([str(uv), *command.uv], cwds[command.uv_cwd])
        names = list(runners)
        for name in names:  # warm-up: page cache, .pyc files, the memo written
            for _ in range(2):
                timed(runners[name][0], env, runners[name][1], f"{name} {command.name}")
        samples: dict[str, list[float]] = {name: [] for name in names}
        for index in range(args.pairs):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                argv_, cwd = runners[name]
                samples[name].append(timed(argv_, env, cwd, f"{name} {command.name}"))
        results[command.name] = samples
        print(f"{command.name} done", flush=True)
    load_after = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
        f"{load_after[2]:.2f}; {os.cpu_count()} cpus; {args.pairs} rounds per command\n"
    )
    header = f"{'command':<19}" + "".join(f"{name:>22}" for name in [*contenders, "uv"])
    print(header + f"{'ratio':>8}  target")
    for name, samples in results.items():
        medians = {who: statistics.median(times) for who, times in samples.items()}
        cells = "".join(
            f"{medians[who] * 1000:10.1f} ms (min {min(samples[who]) * 1000:5.1f})"
            for who in [*contenders, "uv"]
        )
        ratio = medians["pylock"] / medians["uv"]
        target = TARGETS.get(name, DEFAULT_TARGET)
        verdict = "meets" if ratio <= target else "MISSES"
        others = "".join(
            f"  {who}/uv {medians[who] / medians['uv']:.2f}"
            for who in contenders
            if who != "pylock"
        )
        print(f"{name:<19}{cells}{ratio:8.2f}  <= {target}: {verdict}{others}")
    (WORK / "commands.json").write_text(
        json.dumps(
            {"load_before": load_before, "load_after": load_after, "samples": results}, indent=2
        )
        + "\n"
    )
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
