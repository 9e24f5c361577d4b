"""Where a cold ``pylock sync`` spends its time, stage by stage.

Run from the repository root with the project's venv (see benchmarks/README.md):

    .venv/bin/python benchmarks/bench_stages.py                    # 7 cold syncs, disk
    .venv/bin/python benchmarks/bench_stages.py --scratch /dev/shm # on a tmpfs
    .venv/bin/python benchmarks/bench_stages.py --pace 50          # a 50 MB/s link

Each round runs one cold ``pylock sync`` (fresh cache and install directories) of the
archive bench_sync.py builds, served on 127.0.0.1, in a child process (through the installed
executable's entry point, ``launcher.console``) whose functions are timed as they run: a finder
on ``sys.meta_path`` wraps them as their modules are imported, so import times stay where they
fall. The child records, on the system's monotonic clock (which the parent
shares), when each stage starts and ends and on which thread; the parent adds the process's
start and end. Printed: the median of each stage over the rounds, and the timeline of the
median round, so what overlaps (the download, the inflater and the extraction run on three
threads) and what waits on what can be read off.

Stages: interpreter start; imports and reading the project (lock, manifest, store); importing the
network stack; the HTTP client; the request up to the first byte; the stream (first to last
byte, network thread, which also hashes the archive and writes the cache file); the extraction
(main thread); the cache write (the time spent in the cache file's writes, and its commit); the
checks of the new tree; the probe (running the new interpreter); the receipt (RECORD and
receipt.json); the placement (the rename into place); exit (report, thread joins, interpreter
finalization), with the memo write (the answer the next run replays) apart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench_sync import (
    WORK,
    BenchmarkError,
    base_env,
    host_platform_key_and_triple,
    settle,
    write_lock_text,
)
from loopback import serve
from pbs_archive import build_archive

REPO = Path(__file__).resolve().parent.parent

# The child: time functions as their modules load, then run the console script's main.
PROBE = r"""
import importlib.abc, importlib.machinery, json, os, sys, threading, time

T = time.monotonic
STARTED = T()
EVENTS = []  # (stage, start, end, thread)
COUNTERS = {}  # stage -> [calls, seconds, first start, last end]

def mark(stage, start, end):
    EVENTS.append((stage, start, end, threading.current_thread().name))

def count(stage, start, end):
    entry = COUNTERS.setdefault(stage, [0, 0.0, start, end])
    entry[0] += 1
    entry[1] += end - start
    entry[3] = end

def timed(stage, function, record=mark):
    def wrapper(*args, **kwargs):
        start = T()
        try:
            return function(*args, **kwargs)
        finally:
            record(stage, start, T())
    wrapper.__wrapped__ = function
    return wrapper

def patch_writer(module):
    make = module._writer
    def _writer(stream):
        return timed("cache write", make(stream), count)
    module._writer = _writer

PATCHES = {
    "pylock.commands.sync": [("_download_and_install", "download and install")],
    "pylock.net.http": [("make_client", "http client")],
    "pylock.fetch.integrity": [("Verifier.feed", "stream", count)],
    "pylock.fetch.download": [("_verify_and_store", "verify and store"), patch_writer],
    "pylock.fetch.cache": [("ArchiveCache.commit", "cache commit")],
    "pylock.extract.extractor": [("Extractor.extract_from", "extract")],
    "pylock.install.installer": [
        ("check_layout", "checks"),
        ("check_reported_version", "probe"),
        ("format_record", "receipt"),
        ("record_digest", "receipt"),
        ("write_receipt", "receipt"),
        ("_write", "receipt"),
    ],
    "pylock.install.store": [("Slot.place", "placement"), ("Slot.temp_dir", "temp dir")],
    "pylock.fast.memo": [("remember", "memo write")],
    "pylock.cli.console": [("run_sync", "sync command")],
}
IMPORTS = {"pylock.fetch.download": "import network stack", "pylock.install.installer":
           "import installer"}

def apply(module):
    for item in PATCHES.get(module.__name__, ()):
        if callable(item):
            item(module)
            continue
        dotted, stage, *record = item
        owner, _, name = dotted.rpartition(".")
        holder = getattr(module, owner) if owner else module
        setattr(holder, name, timed(stage, getattr(holder, name), *record))

class Loader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner
    def create_module(self, spec):
        return self.inner.create_module(spec)
    def exec_module(self, module):
        start = T()
        self.inner.exec_module(module)
        if module.__name__ in IMPORTS:
            mark(IMPORTS[module.__name__], start, T())
        apply(module)

class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCHES and name not in IMPORTS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = Loader(spec.loader)
        return spec

sys.meta_path.insert(0, Finder())

def dump():
    for stage, (calls, seconds, first, last) in COUNTERS.items():
        EVENTS.append((stage + " (in calls)", first, first + seconds, f"{calls} calls"))
        if stage == "stream":
            EVENTS.append(("stream", first, last, "network"))
    cpu = os.times()
    with open(os.environ["PYLOCK_BENCH_EVENTS"], "w") as out:
        json.dump({"started": STARTED, "ended": T(), "events": EVENTS,
                   "user": cpu.user, "system": cpu.system}, out)

import atexit
atexit.register(dump)  # console() ends the process with os._exit, after the exit handlers
sys.argv = ["pylock", *sys.argv[1:]]
from pylock.cli.launcher import console
console()
"""

ORDER = [
    "interpreter start",
    "imports and reading the project",
    "import network stack",
    "import installer",
    "http client",
    "request to first byte",
    "stream",
    "extract",
    "extract after the last byte",
    "cache write (in calls)",
    "verify and store",
    "temp dir",
    "checks",
    "probe",
    "receipt",
    "placement",
    "memo write",
    "after the placement",
    "exit",
    "total",
    "cpu user",
    "cpu system",
]


def one_round(
    argv: list[str], env: dict[str, str], cwd: Path
) -> tuple[dict[str, float], list[tuple[str, float, float, str]]]:
    """One cold sync: each stage's seconds, and the timeline (stage, start, end, thread)
    relative to the process's start."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as events_file:
        events_path = Path(events_file.name)
    env = {**env, "PYLOCK_BENCH_EVENTS": str(events_path)}
    spawned = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    ended = time.monotonic()
    if done.returncode != 0:
        raise BenchmarkError(f"cold sync exited {done.returncode}: {done.stderr.strip()}")
    record = json.loads(events_path.read_text())
    events_path.unlink()
    events = [(s, a - spawned, b - spawned, t) for s, a, b, t in record["events"]]
    first: dict[str, tuple[float, float]] = {}
    totals: dict[str, float] = {}
    for stage, start, end, _ in events:
        begun, finished = first.get(stage, (start, end))
        first[stage] = (min(begun, start), max(finished, end))
        totals[stage] = totals.get(stage, 0.0) + (end - start)
    stages = dict(totals)
    started = record["started"] - spawned
    stages["interpreter start"] = started
    download = first["download and install"][0]
    stages["imports and reading the project"] = download - started
    client_end = first["http client"][1]
    stream_start, stream_end = first["stream"]
    stages["request to first byte"] = stream_start - client_end
    stages["stream"] = stream_end - stream_start
    stages["extract"] = first["extract"][1] - first["extract"][0]
    stages["extract after the last byte"] = max(0.0, first["extract"][1] - stream_end)
    last = max(end for _, _, end, _ in events)
    stages["after the placement"] = first["sync command"][1] - first["placement"][1]
    stages["exit"] = (ended - spawned) - last
    stages["total"] = ended - spawned
    stages["cpu user"] = record["user"]
    stages["cpu system"] = record["system"]
    timeline = [("interpreter start", 0.0, started, "main"), *sorted(events, key=lambda e: e[1])]
    timeline.append(("exit", last, ended - spawned, "main"))
    return stages, timeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7, help="cold syncs (default 7)")
    parser.add_argument("--pace", type=float, help="serve at most this many MB/s")
    parser.add_argument("--scratch", type=Path, default=WORK, help="where the installs go")
    parser.add_argument("--format", choices=("gz", "zst"), default="gz")
    args = parser.parse_args(argv)
    platform_key, triple = host_platform_key_and_triple()
    www = WORK / "www"
    archive = build_archive(www / "20990101", triple, fmt=args.format)
    python = REPO / ".venv" / "bin" / "python"
    root = args.scratch.resolve() / "stages"
    shutil.rmtree(root, ignore_errors=True)
    project = root / "project"
    project.mkdir(parents=True)
    pace = args.pace * 1e6 if args.pace else None
    results: list[tuple[dict[str, float], list[tuple[str, float, float, str]]]] = []
    load_before = os.getloadavg()
    with serve(www, pace=pace) as server:
        url = f"{server.base_url}/{archive.build}/{quote(archive.name)}"
        (project / "pyproject.toml").write_text(
            f'[tool.pylock]\npython = "{archive.version}"\nplatforms = ["{platform_key}"]\n'
        )
        (project / "python.lock").write_text(write_lock_text(archive, url, platform_key))
        for index in range(args.rounds + 1):  # the first is a warm-up (pyc files, page cache)
            run_dir = root / f"run-{index}"
            env = base_env()
            env["PYLOCK_CACHE_DIR"] = str(run_dir / "cache")
            env["PYLOCK_PYTHON_DIR"] = str(run_dir / "python")
            settle()
            command = [str(python), "-c", PROBE, "-p", str(project), "sync"]
            outcome = one_round(command, env, project)
            if index:
                results.append(outcome)
    load_after = os.getloadavg()
    shown = "unthrottled" if pace is None else f"paced at {args.pace:g} MB/s"
    transfer = "" if pace is None else f", transfer alone {archive.size / pace * 1000:.0f} ms"
    print(
        f"cold pylock sync of {archive.name} ({archive.size / 1e6:.1f} MB), {shown}, into "
        f"{root}{transfer}; {args.rounds} rounds; load average before "
        f"{load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cpus)\n"
    )
    print(f"{'stage':<34}{'median':>10}{'min':>10}")
    for stage in ORDER:
        values = [stages[stage] for stages, _ in results if stage in stages]
        if values:
            print(
                f"{stage:<34}{statistics.median(values) * 1000:8.1f} ms{min(values) * 1000:8.1f} ms"
            )
    totals = [stages["total"] for stages, _ in results]
    median_round = results[totals.index(sorted(totals)[len(totals) // 2])]
    print("\ntimeline of the median round (ms from the process's start):")
    for stage, start, end, thread in median_round[1]:
        if stage.endswith("(in calls)") or stage in ("download and install", "sync command"):
            continue
        print(f"  {start * 1000:7.1f} .. {end * 1000:7.1f}  {stage:<28} {thread}")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
