"""Time ``pylock sync`` against ``uv python install`` and a curl/sha256sum/tar shell floor.

Run from the repository root with the project's venv (see benchmarks/README.md):

    .venv/bin/python benchmarks/bench_sync.py            # 7 rounds
    .venv/bin/python benchmarks/bench_sync.py --quick    # 2 rounds, fewer no-op repeats

Everything happens on this machine: a PBS-shaped install_only archive is built from the running
interpreter's own prefix (pylock.commands.standin, checked by pbs_archive.py) and served on
127.0.0.1 (loopback.py). Each round runs every tool once, in a rotating order so no tool always goes
first: a *cold* install (empty cache, empty install directory, a fresh download) and then *no-op*
runs of the same command (the build is already installed). The shell floor is the least work
anyone can do to install the archive safely: download, hash, extract. Results are printed as a
table of medians and minimums with the pylock/uv ratios, and written to
benchmarks/.work/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from loopback import Server, serve
from pbs_archive import Archive, build_archive, verify_archive

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
COLD, NOOP = "cold", "no-op"
BASELINE = "pylock-base"  # --baseline: another checkout's pylock, timed in the same rounds
TARGETS = {COLD: 1.0, NOOP: 1.2}  # issue 18: cold <= 1.0x uv (ambition 0.8), no-op as uv's
PACED_TARGETS = {COLD: 1.0, NOOP: 1.2}  # on a paced link too
TRANSFER_TARGET = 1.2  # paced: pylock's cold median over the transfer time of the archive


@dataclass(frozen=True)
class Invocation:
    """One command line and the environment and directory it runs in."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path


@dataclass(frozen=True)
class Tool:
    """A contender: how to make its cold invocation in a fresh run directory."""

    name: str
    prepare: Callable[[Path], Invocation]
    has_noop: bool = True


@dataclass
class Samples:
    """Wall times in seconds, keyed by (tool, phase)."""

    times: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, tool: str, phase: str, seconds: float) -> None:
        self.times.setdefault(tool, {}).setdefault(phase, []).append(seconds)

    def median(self, tool: str, phase: str) -> float | None:
        values = self.times.get(tool, {}).get(phase)
        return statistics.median(values) if values else None


class BenchmarkError(Exception):
    """A tool failed or did not do what it claims; the message says which and why."""


def base_env() -> dict[str, str]:
    """The parent environment without anything that would redirect or slow a tool.

    Tool-specific variables are dropped so only what the benchmark sets applies. Bytecode goes
    to a private prefix (PYTHONPYCACHEPREFIX) so pylock's modules run from .pyc after the warm-up,
    as they do for an installed pylock, without writing __pycache__ into the source tree.
    """
    dropped = ("PYLOCK_", "UV_", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["NO_COLOR"] = "1"
    return env


# --- contenders ---------------------------------------------------------------------------------


def host_platform_key_and_triple() -> tuple[str, str]:
    from pylock.project.platforms import host_platform

    host = host_platform()
    return host.key, host.triple


def write_lock_text(archive: Archive, url: str, platform_key: str) -> str:
    """python.lock for the archive, written by pylock's own serializer."""
    from pylock.resolution.lockfile import Lock, LockedManifest, Target, dumps

    target = Target(
        platform=platform_key,
        triple=archive.triple,
        implementation="cpython",
        version=archive.version,
        build=archive.build,
        flavor=archive.flavor,
        variant="default",
        url=url,
        size=archive.size,
        sha256=archive.sha256,
    )
    manifest = LockedManifest(python=archive.version, platforms=(platform_key,))
    return dumps(Lock(manifest=manifest, targets=(target,)))


def pylock_tool(
    archive: Archive, url: str, platform_key: str, src: Path = REPO / "src", name: str = "pylock"
) -> Tool:
    """``pylock sync`` through the venv's console script, running the code in ``src`` (this
    checkout's by default, whatever the venv's editable install points at; ``--baseline``
    names another checkout's for a before/after comparison in the same run)."""
    project = WORK / "project"
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\n\n'
        f'[tool.pylock]\npython = "{archive.version}"\nplatforms = ["{platform_key}"]\n'
    )
    (project / "python.lock").write_text(write_lock_text(archive, url, platform_key))
    executable = REPO / ".venv" / "bin" / "pylock"

    def prepare(run_dir: Path) -> Invocation:
        env = base_env()
        env["PYLOCK_CACHE_DIR"] = str(run_dir / "cache")
        env["PYLOCK_PYTHON_DIR"] = str(run_dir / "python")
        env["PYTHONPATH"] = str(src)
        return Invocation([str(executable), "--project", str(project), "sync"], env, project)

    return Tool(name, prepare)


def uv_tool(archive: Archive, url: str, uv: Path) -> Tool:
    """uv with a one-entry downloads JSON in its download-metadata.json format
    (docs/pbs-format.md §5)."""
    major, minor, patch = (int(part) for part in archive.version.split("."))
    key_os, key_arch, key_libc = platform_parts(archive.triple)
    document = {
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
    downloads_json = WORK / "uv-downloads.json"
    downloads_json.write_text(json.dumps(document, indent=2) + "\n")

    def prepare(run_dir: Path) -> Invocation:
        env = base_env()
        env["UV_PYTHON_INSTALL_DIR"] = str(run_dir / "python")
        env["UV_PYTHON_BIN_DIR"] = str(run_dir / "bin")
        env["UV_CACHE_DIR"] = str(run_dir / "cache")
        env["UV_NO_CONFIG"] = "1"
        argv = [str(uv), "python", "install", archive.version, "--no-bin", "--no-progress",
                "--python-downloads-json-url", str(downloads_json)]  # fmt: skip
        return Invocation(argv, env, run_dir)

    return Tool("uv", prepare)


def platform_parts(triple: str) -> tuple[str, str, str]:
    """uv's (os, arch, libc) for a Linux or macOS triple, as in its download keys."""
    arch, _vendor, os_name, *rest = triple.split("-")
    arch = {"i686": "x86", "ppc64le": "powerpc64le"}.get(arch, arch)
    if os_name == "darwin":
        return "darwin", arch, "none"
    if os_name == "linux":
        return "linux", arch, rest[0] if rest else "gnu"
    return "windows", arch, "none"


def shell_tool(url: str, fmt: str = "gz") -> Tool:
    unpack = "tar --zstd -xf" if fmt == "zst" else "tar -xzf"
    script = f"curl -sSfo a.tgz '{url}' && sha256sum a.tgz && mkdir d && {unpack} a.tgz -C d"

    def prepare(run_dir: Path) -> Invocation:
        return Invocation(["bash", "-c", script], base_env(), run_dir)

    return Tool("shell", prepare, has_noop=False)


def on_a_terminal(tool: Tool) -> Tool:
    """``tool`` run with its stdin, stdout and stderr on a pseudo-terminal (util-linux
    ``script``), as a user at a shell runs it: progress bars and all."""

    def prepare(run_dir: Path) -> Invocation:
        inner = tool.prepare(run_dir)
        argv = ["script", "-qec", shlex.join(inner.argv), "/dev/null"]
        return Invocation(argv, inner.env, inner.cwd)

    return Tool(tool.name, prepare, tool.has_noop)


# --- running ------------------------------------------------------------------------------------


def timed(invocation: Invocation, what: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        invocation.argv,
        env=invocation.env,
        cwd=invocation.cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-8:]
        raise BenchmarkError(f"{what} exited {result.returncode}:\n  " + "\n  ".join(tail))
    return elapsed


def settle() -> None:
    """Flush dirty pages before a timed cold run, so no run pays for the previous one's writes.

    Without it, the tens of MB a tool just extracted (or a directory just deleted) are written
    back while the next tool runs, and whichever tool comes second is charged for them.
    """
    os.sync()
    time.sleep(0.2)


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def installed_interpreter(run_dir: Path, version: str) -> Path:
    """The python3.X a tool put under run_dir (it must exist and report ``version``)."""
    xy = ".".join(version.split(".")[:2])
    found = sorted(
        p for p in run_dir.rglob(f"python{xy}") if p.is_file() and p.parent.name == "bin"
    )
    if not found:
        raise BenchmarkError(f"no bin/python{xy} under {run_dir}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_"))}
    out = subprocess.run(
        [str(found[0]), "-I", "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.stdout.strip() != version:
        raise BenchmarkError(f"{found[0]} reports {out.stdout.strip()!r} ({out.stderr.strip()})")
    return found[0]


def run_tool(
    tool: Tool, run_dir: Path, server: Server, archive: Archive, samples: Samples | None,
    noop_repeats: int, verify: bool,
) -> None:  # fmt: skip
    """One cold run then ``noop_repeats`` no-op runs; each proven against the server log."""
    invocation = tool.prepare(fresh_dir(run_dir))
    before = server.log.count(quote(archive.name))
    settle()
    elapsed = timed(invocation, f"{tool.name} (cold)")
    fetched = server.log.count(quote(archive.name)) - before
    if fetched != 1:
        raise BenchmarkError(f"{tool.name} cold run fetched the archive {fetched} times, not once")
    if samples is not None:
        samples.add(tool.name, COLD, elapsed)
    if verify and tool.name != "shell":
        installed_interpreter(run_dir, archive.version)
    if not tool.has_noop:
        return
    for _ in range(noop_repeats):
        elapsed = timed(invocation, f"{tool.name} (no-op)")
        if server.log.count(quote(archive.name)) - before != 1:
            raise BenchmarkError(f"{tool.name} no-op run downloaded the archive again")
        if samples is not None:
            samples.add(tool.name, NOOP, elapsed)


def pylock_ready(tool: Tool, server: Server, archive: Archive, run_dir: Path) -> str | None:
    """None when ``pylock sync`` installs the archive end to end, else why not (one line)."""
    help_run = subprocess.run(
        [str(REPO / ".venv" / "bin" / "pylock"), "sync", "--help"],
        capture_output=True,
        text=True,
        env=base_env(),
        check=False,
    )
    if help_run.returncode != 0:
        return "`pylock sync --help` fails: " + (help_run.stderr.strip().splitlines() or ["?"])[-1]
    try:
        run_tool(tool, run_dir, server, archive, None, 1, verify=True)
    except BenchmarkError as error:
        return str(error).replace("\n", " | ")
    return None


def time_checks(tool: Tool, run_dir: Path, repeats: int) -> dict[str, list[float] | str]:
    """``pylock check`` and ``pylock check --deep`` on the install a pylock run left in run_dir."""
    invocation = tool.prepare(run_dir)  # same env: same install dir; run_dir was synced already
    base = invocation.argv[:-1]  # drop "sync"
    results: dict[str, list[float] | str] = {}
    for label, extra in (("check", ["check"]), ("check --deep", ["check", "--deep"])):
        check = Invocation([*base, *extra, "--installed"], invocation.env, invocation.cwd)
        try:
            timed(check, f"pylock {label}")  # warm-up, and proof that it passes
            results[label] = [timed(check, f"pylock {label}") for _ in range(repeats)]
        except BenchmarkError as error:
            results[label] = "not ready: " + str(error).replace("\n", " | ")
    return results


# --- profiling ----------------------------------------------------------------------------------


def profile_pylock(tool: Tool, run_dir: Path, top: int = 12) -> list[str]:
    """cProfile a cold and a no-op ``pylock sync``, and ``-X importtime`` the no-op.

    Writes profile-cold.pstats, profile-noop.pstats and importtime-noop.txt to benchmarks/.work
    (open the .pstats with ``python -m pstats``) and returns a short summary to print.
    """
    import pstats

    python = str(REPO / ".venv" / "bin" / "python")
    invocation = tool.prepare(fresh_dir(run_dir))
    lines: list[str] = []
    for phase in (COLD, NOOP):
        out = WORK / f"profile-{phase.replace('-', '')}.pstats"
        if phase == COLD:
            settle()
        argv = [python, "-m", "cProfile", "-o", str(out), *invocation.argv]
        timed(Invocation(argv, invocation.env, invocation.cwd), f"pylock {phase} under cProfile")
        stats = pstats.Stats(str(out))
        total = stats.total_tt  # type: ignore[attr-defined]
        entries = stats.stats  # type: ignore[attr-defined]
        ours = [item for item in entries.items() if f"pylock{os.sep}" in item[0][0]]
        for title, chosen, column in (
            ("pylock functions by cumulative time", ours, 3),
            ("hot spots by own time", list(entries.items()), 2),
        ):
            lines.append(f"\n{phase} sync under cProfile ({total:.3f} s): {title}")
            ranked = sorted(chosen, key=lambda item: item[1][column], reverse=True)
            for (filename, line, function), row in ranked[:top]:
                where = f"{Path(filename).name}:{line}({function})" if line else function
                lines.append(f"  {row[3]:7.3f} cum {row[2]:7.3f} own  {where}")
    argv = [python, "-X", "importtime", *invocation.argv]
    result = subprocess.run(
        argv, env=invocation.env, cwd=invocation.cwd, capture_output=True, text=True, check=False
    )
    (WORK / "importtime-noop.txt").write_text(result.stderr)
    imports: list[tuple[int, str]] = []
    for row in result.stderr.splitlines():
        fields = row.split("|")
        if len(fields) == 3 and fields[1].strip().isdigit() and fields[2].startswith("   "):
            name = fields[2][1:]
            if len(name) - len(name.lstrip()) <= 2:  # top-level imports and their children
                imports.append((int(fields[1]), name.rstrip()))
    lines.append("\nno-op sync, -X importtime, largest cumulative imports (ms):")
    for micros, name in sorted(imports, reverse=True)[:top]:
        lines.append(f"  {micros / 1000:7.1f}  {name}")
    return lines


# --- reporting ----------------------------------------------------------------------------------


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:8.1f} ms" if value < 1 else f"{value:8.3f} s "


def report(
    samples: Samples,
    checks: dict[str, list[float] | str],
    tools: list[str],
    transfer: float | None = None,
) -> tuple[list[str], dict[str, float | None]]:
    """The table; ``transfer`` is the paced link's time for the archive (None: unthrottled)."""
    lines = [f"{'tool':<12} {'phase':<7} {'median':>11} {'min':>11} {'n':>3}"]
    for phase in (COLD, NOOP):
        for name in tools:
            values = samples.times.get(name, {}).get(phase)
            if not values:
                continue
            lines.append(
                f"{name:<12} {phase:<7} {fmt_seconds(statistics.median(values)):>11} "
                f"{fmt_seconds(min(values)):>11} {len(values):>3}"
            )
    ratios: dict[str, float | None] = {}
    lines.append("")
    for phase, limit in (PACED_TARGETS if transfer else TARGETS).items():
        ours, theirs = samples.median("pylock", phase), samples.median("uv", phase)
        ratio = ours / theirs if ours is not None and theirs else None
        ratios[phase] = ratio
        verdict = "-" if ratio is None else ("meets" if ratio <= limit else "MISSES")
        shown = "n/a" if ratio is None else f"{ratio:.2f}"
        lines.append(
            f"pylock/uv {phase:<6} median ratio {shown:>5}  (target <= {limit}: {verdict})"
        )
    for phase in (COLD, NOOP):
        ours, before = samples.median("pylock", phase), samples.median(BASELINE, phase)
        if ours is not None and before:
            ratios[f"baseline-{phase}"] = ours / before
            lines.append(f"pylock/{BASELINE} {phase:<6} median ratio {ours / before:.2f}")
    floor = samples.median("shell", COLD)
    ours = samples.median("pylock", COLD)
    if transfer and ours:
        ratio = ours / transfer
        ratios["transfer"] = ratio
        verdict = "meets" if ratio <= TRANSFER_TARGET else "MISSES"
        lines.append(
            f"pylock cold / transfer time {ratio:.2f}  (target <= {TRANSFER_TARGET}: {verdict})"
        )
    if floor and ours:
        lines.append(f"pylock/shell-floor cold median ratio {ours / floor:.2f}")
    for label, timings in checks.items():
        if isinstance(timings, str):
            lines.append(f"pylock {label:<13} {timings}")
        else:
            lines.append(
                f"pylock {label:<13} median {fmt_seconds(statistics.median(timings)).strip()}, "
                f"min {fmt_seconds(min(timings)).strip()} (n={len(timings)})"
            )
    return lines, ratios


def machine_info(uv: Path) -> dict[str, object]:
    def output(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "uv": output([str(uv), "--version"]),
        "curl": output(["curl", "--version"]).splitlines()[0] if shutil.which("curl") else "",
        "pylock_commit": output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


# --- main ---------------------------------------------------------------------------------------


def ensure_uv(venv: Path) -> Path:
    """uv from PyPI in the benchmark's own venv (created with the running interpreter)."""
    uv = venv / "bin" / "uv"
    if not uv.exists():
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "uv"], check=True
        )
    return uv


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (default 7)")
    parser.add_argument("--noop-repeats", type=int, default=5, help="no-op runs per round (5)")
    parser.add_argument("--check-repeats", type=int, default=5, help="pylock check runs (5)")
    parser.add_argument("--quick", action="store_true", help="2 rounds, 2 no-op repeats")
    parser.add_argument(
        "--terminal",
        action="store_true",
        help="run every contender on a pseudo-terminal (script -qec), as at a shell",
    )
    parser.add_argument(
        "--pace", type=float, default=None, metavar="MBPS",
        help="serve no faster than this many MB/s (a paced link; default: unthrottled)",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=("gz", "zst"), default="gz",
        help="gz: an install_only .tar.gz (default); zst: a full .tar.zst",
    )  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="rebuild the archive")
    parser.add_argument("--uv", type=Path, help="use this uv instead of .work/venv/bin/uv")
    parser.add_argument("--no-pylock", action="store_true", help="time only uv and the shell")
    parser.add_argument(
        "--baseline", type=Path, metavar="SRC",
        help="also time the pylock whose package is in SRC (another checkout's src/, e.g. "
        "`git archive BASE src | tar -x -C /tmp/base`) as pylock-base: before and after",
    )  # fmt: skip
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile a cold and a no-op pylock sync and -X importtime the no-op",
    )
    parser.add_argument(
        "--scratch",
        type=Path,
        default=WORK,
        help="the tools install into SCRATCH/runs (default benchmarks/.work); a tmpfs such as "
        "/dev/shm takes disk latency out of the comparison",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.noop_repeats, args.check_repeats = 2, 2, 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    platform_key, triple = host_platform_key_and_triple()
    www = WORK / "www"
    archive = build_archive(www / "20990101", triple, rebuild=args.rebuild, fmt=args.format)
    verified = verify_archive(archive)
    uv = args.uv or ensure_uv(WORK / "venv")
    print(
        f"archive: {archive.name}, {archive.size / 1e6:.1f} MB, from {archive.source_prefix}; "
        f"runs {verified.version} with {verified.libpython}"
    )
    pace = args.pace * 1e6 if args.pace else None
    if pace:
        floor = archive.size / pace
        print(f"paced link: {args.pace:g} MB/s, so the transfer alone takes {floor:.3f} s")
    with serve(www, pace=pace) as server:
        url = f"{server.base_url}/{archive.build}/{quote(archive.name)}"
        tools = [uv_tool(archive, url, uv), shell_tool(url, archive.fmt)]
        runs = args.scratch.resolve() / "runs"
        not_ready: str | None = "skipped (--no-pylock)"
        if not args.no_pylock:
            pylock = pylock_tool(archive, url, platform_key)
            not_ready = pylock_ready(pylock, server, archive, runs / "probe-pylock")
            if not_ready is None:
                tools.insert(0, pylock)
            else:
                print(f"pylock sync is not ready, timing uv and the shell only: {not_ready}")
            if args.baseline is not None and not_ready is None:
                base = pylock_tool(archive, url, platform_key, args.baseline.resolve(), BASELINE)
                base_ready = pylock_ready(base, server, archive, runs / "probe-base")
                if base_ready is not None:
                    raise BenchmarkError(f"the baseline pylock is not ready: {base_ready}")
                tools.insert(1, base)
        plain = tools[0]  # check and --profile: timed off the terminal (a pty adds nothing)
        if args.terminal:
            tools = [on_a_terminal(tool) for tool in tools]
        names = [tool.name for tool in tools]
        # Warm-up round (not counted): page cache, pyc files, uv's binary.
        shutil.rmtree(runs, ignore_errors=True)
        runs.mkdir(parents=True)
        need = (args.rounds + 2) * len(tools) * archive.size * 3  # extracted ~3x compressed
        if shutil.disk_usage(runs).free < need:
            raise BenchmarkError(f"{runs} needs about {need / 1e9:.1f} GB free")
        for tool in tools:
            run_tool(tool, runs / f"warmup-{tool.name}", server, archive, None, 1, verify=True)
        samples = Samples()
        round_dir = runs
        for index in range(args.rounds):
            # Each round installs into its own directories, all kept until the end: deleting
            # hundreds of MB on a VM disk (discard/TRIM) slows the writes that follow for seconds.
            round_dir = runs / f"round-{index + 1}"
            shift = index % len(tools)
            for tool in tools[shift:] + tools[:shift]:
                run_tool(
                    tool, round_dir / tool.name, server, archive, samples, args.noop_repeats,
                    verify=False,
                )  # fmt: skip
            print(f"round {index + 1}/{args.rounds} done", flush=True)
        checks: dict[str, list[float] | str] = {}
        if "pylock" in names:
            checks = time_checks(plain, round_dir / "pylock", args.check_repeats)
        profile = []
        if args.profile and "pylock" in names:
            profile = profile_pylock(plain, runs / "profile-pylock")
        print(f"{len(server.log.entries)} requests served; all archive downloads from {url}")
    lines, ratios = report(samples, checks, names, archive.size / pace if pace else None)
    info = machine_info(uv)
    print(f"\nmachine: nproc={info['nproc']}, {info['cpu']}, {info['platform']}; {info['uv']}")
    print(f"rounds={args.rounds}, no-op repeats per round={args.noop_repeats}\n")
    print("\n".join(lines))
    if profile:
        print("\n".join(profile))
    results = {
        "machine": info,
        "archive": archive.to_json(),
        "pace_mb_per_s": args.pace,
        "transfer_floor_s": archive.size / pace if pace else None,
        "rounds": args.rounds,
        "noop_repeats": args.noop_repeats,
        "pylock": "ok" if "pylock" in names else not_ready,
        "samples": samples.times,
        "medians": {t: {p: samples.median(t, p) for p in samples.times[t]} for t in samples.times},
        "ratios_pylock_over_uv": ratios,
        "checks": checks,
    }
    (WORK / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(runs, ignore_errors=True)  # untimed, after everything else
    print(f"\nresults written to {WORK / 'results.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
