"""``pylock demo``: the whole job (init -> lock -> sync -> run -> check) offline, in one directory.

A first run should show what pylock is for, not a no-op. Without network there is no real PBS
release to lock, so the demo builds a stand-in (pylock.commands.standin: an ``install_only``
archive made from the running CPython, under the made-up build tag 20990101), lays it out as a
local mirror (``{mirror}/{build}/{asset}`` plus ``SHA256SUMS``, what ``--source mirror:PATH``
reads), and then runs the real ``pylock`` commands on a fresh project, each in a child process,
with ``PYLOCK_CACHE_DIR`` and ``PYLOCK_PYTHON_DIR`` inside the demo directory. The lock's URL is
a ``file://`` URL into that mirror, so nothing is read from the network (``PYLOCK_OFFLINE=1``
allows it too: a local file needs no network), and nothing is written outside that directory.

It ends by showing what the check is for: it changes one file inside the install, as a stray
edit or a bad actor would, runs ``pylock check --installed --deep``, which names that file and
exits 1 (the one step expected to fail), and mends the install with ``pylock sync
--reinstall``, checked again.

Only the CLI prints: each line goes through the ``echo`` callback it passes in.
"""

from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pylock.base.fsutil import atomic_write_bytes
from pylock.commands.standin import BUILD_TAG, build_archive
from pylock.errors import InputError
from pylock.project.platforms import host_platform

_PROBE = "import sys; print(sys.prefix)"


@dataclass(frozen=True)
class DemoLayout:
    """Where everything of one demo lives: all of it under ``root``."""

    root: Path

    @property
    def mirror(self) -> Path:
        return self.root / "mirror"

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def pythons(self) -> Path:
        return self.root / "python"


@dataclass(frozen=True)
class Step:
    """One pylock command line of the demo (without the leading ``pylock``): the exit code it
    is expected to end with, and whether the demo first changes a file inside the install (the
    tampering the next check is there to catch)."""

    args: tuple[str, ...]
    expect: int = 0
    tamper: bool = False


DEEP_CHECK = ("check", "--installed", "--deep")


def steps(layout: DemoLayout, version: str) -> list[Step]:
    """The pylock command lines the demo runs, in order."""
    return [
        Step(("init", "--python", version)),
        Step(("lock", "--source", f"mirror:{layout.mirror}")),
        Step(("sync",)),
        Step(("sync",)),  # the second one is the no-op every CI job and container start pays for
        Step(("which",)),
        Step(("run", "--", "python", "-c", _PROBE)),
        Step(("check", "--installed")),
        Step(DEEP_CHECK, expect=1, tamper=True),  # names the changed file
        Step(("sync", "--reinstall")),  # mends it from the cached archive
        Step(DEEP_CHECK),
    ]


TAMPERED = "this.py"
"""The file of the install the demo changes: the standard library's Zen of Python, which no
step runs, so the change can only be seen by re-hashing the tree."""


def tamper(layout: DemoLayout) -> Path:
    """Append a line to one file of the installed interpreter (``TAMPERED``); its path."""
    found = [
        path
        for path in layout.pythons.glob(f"cpython-*/**/{TAMPERED}")
        if "site-packages" not in path.parts
    ]
    if len(found) != 1:  # pragma: no cover - the stand-in is this CPython's install tree
        raise InputError(f"The demo's install has {len(found)} files named {TAMPERED}, not one.")
    with found[0].open("a", encoding="utf-8") as stream:
        stream.write("# changed by pylock demo: `pylock check --deep` names this file\n")
    return found[0]


def child_environment(layout: DemoLayout, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without any PYLOCK_* setting of the user's, plus the demo's own."""
    env = {k: v for k, v in base.items() if not k.startswith("PYLOCK_")}
    env.update(PYLOCK_CACHE_DIR=str(layout.cache), PYLOCK_PYTHON_DIR=str(layout.pythons))
    return env


def build_mirror(layout: DemoLayout) -> str:
    """Build the stand-in archive into ``{mirror}/20990101/`` with its SHA256SUMS; its name."""
    from pylock.sources.mirror import SUMS_NAME, mirror_path

    build_dir = mirror_path(layout.mirror, BUILD_TAG)
    archive = build_archive(build_dir, host_platform().triple, rebuild=True, compresslevel=1)
    (build_dir / f"{archive.name}.json").unlink()  # the builder's reuse stamp is not a release file
    sums = mirror_path(layout.mirror, BUILD_TAG, SUMS_NAME)
    atomic_write_bytes(sums, f"{archive.sha256}  {archive.name}\n".encode())
    return archive.name


def run_demo(root: Path, echo: Callable[[str], None], *, environ: Mapping[str, str]) -> int:
    """Run the demo in ``root`` (which must be empty or absent); the first failing command's
    exit code, else 0."""
    if root.exists() and any(root.iterdir()):
        raise InputError(
            f"{root} is not empty.", hint="Give `pylock demo --dir` a new or empty directory."
        )
    layout = DemoLayout(root)
    version = platform.python_version()
    echo(
        f"pylock demo, in {root}. No network: the 'PBS release' below is a STAND-IN, an "
        f"install_only archive built from this machine's own CPython {version} "
        f"({sys.base_prefix}) under the made-up build tag {BUILD_TAG}, not a real "
        "python-build-standalone build."
    )
    name = build_mirror(layout)
    echo(f"Built {layout.mirror / BUILD_TAG / name} and its SHA256SUMS: a local mirror.")
    layout.project.mkdir(parents=True)
    env = child_environment(layout, environ)
    echo(
        f"Running the real pylock commands in {layout.project}, with "
        f"PYLOCK_CACHE_DIR={layout.cache} and PYLOCK_PYTHON_DIR={layout.pythons}."
    )
    for step in steps(layout, version):
        args = step.args
        if step.tamper:
            echo("")
            changed = tamper(layout)
            echo(
                f"The demo now changes one file inside the install, as a stray edit or a bad "
                f"actor would: it appends a line to {changed}."
            )
        echo("")
        echo(f"$ pylock {shlex.join(args)}")
        done = subprocess.run(
            [sys.executable, "-m", "pylock", *args],
            cwd=layout.project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        for line in done.stdout.rstrip("\n").splitlines():
            echo(line)
        if done.returncode != step.expect:
            echo(f"The demo stopped: `pylock {args[0]}` exited {done.returncode}.")
            return done.returncode or 1
        if step.expect:
            echo(
                f"(exit {done.returncode}: the check named the changed file, as it would in CI; "
                "`pylock sync --reinstall` puts back the locked bytes.)"
            )
    return 0
