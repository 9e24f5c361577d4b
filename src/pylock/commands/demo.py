"""``pylock demo``: the whole job (init -> lock -> sync -> run -> check) offline, in one directory.

A first run should show what pylock is for, not a no-op. Without network there is no real PBS
release to lock, so the demo builds a stand-in (pylock.commands.standin: an ``install_only``
archive made from the running CPython, under the made-up build tag 20990101), lays it out as a
local mirror (``{mirror}/{build}/{asset}`` plus ``SHA256SUMS``, what ``--source mirror:PATH``
reads), and then runs the real ``pylock`` commands on a fresh project, each in a child process,
with ``PYLOCK_CACHE_DIR`` and ``PYLOCK_PYTHON_DIR`` inside the demo directory. The lock's URL is
a ``file://`` URL into that mirror, so nothing is read from the network (``PYLOCK_OFFLINE=1``
allows it too: a local file needs no network), and nothing is written outside that directory.

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


def steps(layout: DemoLayout, version: str) -> list[list[str]]:
    """The pylock command lines the demo runs (without the leading ``pylock``), in order."""
    return [
        ["init", "--python", version],
        ["lock", "--source", f"mirror:{layout.mirror}"],
        ["sync"],
        ["sync"],  # the second one is the no-op every CI job and container start pays for
        ["which"],
        ["run", "--", "python", "-c", _PROBE],
        ["check", "--installed"],
    ]


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
    for args in steps(layout, version):
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
        if done.returncode != 0:
            echo(f"The demo stopped: `pylock {args[0]}` exited {done.returncode}.")
            return done.returncode
    return 0
