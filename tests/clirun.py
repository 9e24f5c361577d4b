"""Running the real ``pylock`` entry point from tests: in-process, or in a fresh interpreter to
see which modules a command imports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from pylock.cli.app import main

HEAVY = ("httpx", "tomlkit", "rich")
_MARK = "@@pylock-probe@@"


def pylock(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``pylock ARGS`` through ``main`` (exit codes included); (code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def typer_in_child(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``pylock ARGS`` through the typer app (``pylock.cli.app.main``, the full path) in a new
    interpreter: ``pylock run`` replaces its process with the command, so a test cannot run
    it in its own. (code, stdout, stderr)."""
    code = "import sys\nfrom pylock.cli.app import main\nmain(sys.argv[1:])\n"
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env
    )
    return result.returncode, result.stdout, result.stderr


def run_in_new_interpreter(
    *args: str, watch: Iterable[str] = HEAVY, script: bool = False
) -> tuple[int, list[str], list[str]]:
    """Run ``pylock ARGS`` in a new interpreter, through the console script's entry point
    (``pylock.cli.launcher.main``) when ``script``, else through ``pylock.cli.app.main``.

    Returns the exit code, what the command printed (stdout lines), and which of the modules in
    ``watch`` (top-level names, or dotted ones such as ``pylock.resolution.lockfile``) ended up
    imported.
    """
    entry = (
        f"sys.argv = ['pylock', *{list(args)!r}]\n"
        "from pylock.cli.launcher import main\nrun = main\n"
        if script
        else f"from pylock.cli.app import main\nrun = lambda: main({list(args)!r})\n"
    )
    probe = (
        "import sys\n"
        f"{entry}"
        "code = 0\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "names = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
        f"imported = sorted(names & set({sorted(watch)!r}))\n"
        "print(_MARK, code, ','.join(imported))\n"
    ).replace("_MARK", repr(_MARK))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    *printed, last = result.stdout.splitlines() or [""]
    assert last.startswith(_MARK), result.stdout + result.stderr
    _, code, modules = last.split(" ", 2)  # print() leaves "MARK code " when nothing matched
    return int(code), printed, [m for m in modules.split(",") if m]


def heavy_imports(*args: str) -> tuple[int, list[str]]:
    """Run ``pylock ARGS`` in a new interpreter; its exit code and which of HEAVY it imported."""
    code, _, imported = run_in_new_interpreter(*args)
    return code, imported


def console_script() -> Path:
    """The installed ``pylock`` executable beside this interpreter."""
    return Path(sys.executable).with_name("pylock")
