"""Running the real ``pylock`` entry point from tests: in-process, or in a fresh interpreter to
see which modules a command imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pylock.cli import main

HEAVY = ("httpx", "tomlkit", "rich")


def pylock(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``pylock ARGS`` through ``main`` (exit codes included); (code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def heavy_imports(*args: str) -> tuple[int, list[str]]:
    """Run ``pylock ARGS`` in a new interpreter; its exit code and which of HEAVY it imported."""
    probe = (
        "import sys\n"
        "from pylock.cli import main\n"
        "code = 0\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print(code, ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    code, _, modules = result.stdout.strip().splitlines()[-1].partition(" ")
    return int(code), [m for m in modules.split(",") if m]


def console_script() -> Path:
    """The installed ``pylock`` executable beside this interpreter."""
    return Path(sys.executable).with_name("pylock")
