"""Malformed input is exit 2 with one paragraph naming the file, on every command and on both
the console script's fast path and the full CLI; a bug is exit 70, never 3 ("retry")."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from archives import make_target
from clirun import console_script, pylock
from pylock.base import tomlread
from pylock.cli.console import guarded
from pylock.errors import EXIT_BUG, EXIT_INPUT
from pylock.install.receipt import read_receipt
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, LockedManifest

DEEP = 3000
DEEP_ARRAY = "[" * DEEP + "]" * DEEP


def write_project(root: Path, *, lock_extra: str = "", pyproject_extra: str = "") -> Path:
    target = make_target(b"archive")
    lock = Lock(LockedManifest(python="3.12", platforms=(target.platform,)), (target,))
    (root / "python.lock").write_text(lockfile.dumps(lock) + lock_extra, "utf-8")
    (root / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "3.12"\nplatforms = ["{target.platform}"]\n' + pyproject_extra,
        "utf-8",
    )
    return root


def script(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout, done.stderr


def one_paragraph(err: str, name: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("error: ")
    assert name in err
    assert "nested more than" in err


@pytest.mark.parametrize("where", ["python.lock", "pyproject.toml"])
def test_deep_nesting_is_exit_2_naming_the_file_on_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    extra = f"\n[deep]\nvalue = {DEEP_ARRAY}\n"
    if where == "python.lock":
        project = write_project(tmp_path, lock_extra=extra)
    else:
        project = write_project(tmp_path, pyproject_extra=f"\n[tool.other]\nvalue = {DEEP_ARRAY}\n")
    code, _, err = script("-p", str(project), "sync")  # the launcher's no-op proof first
    assert code == EXIT_INPUT, err
    one_paragraph(err, where)
    commands = [["sync"], ["lock", "--offline"], ["check"], ["check", "--format", "json"]]
    if where == "python.lock":
        commands += [["show"], ["which"]]
    for command in commands:
        code, out, err = pylock(capsys, "-p", str(project), *command)
        assert code == EXIT_INPUT, (command, out, err)
        if command[0] == "check":
            assert where in out and "nested more than" in out
            assert "Traceback" not in err
        else:
            one_paragraph(err, where)


def test_deep_nesting_within_a_value_of_moderate_depth_is_refused() -> None:
    """Not only what makes the parser recurse: any value deeper than MAX_DEPTH is refused, so
    no code walking the parsed values can recurse its way into a RecursionError either."""
    depth = tomlread.MAX_DEPTH
    ok = "a = " + "[" * (depth - 1) + "]" * (depth - 1)
    assert tomlread.loads(ok)
    deep = "a = " + "[" * depth + "]" * depth
    with pytest.raises(tomlread.TOMLDecodeError, match="nested more than"):
        tomlread.loads(deep)
    with pytest.raises(tomlread.TOMLDecodeError, match="nested more than"):
        tomlread.loads("[" + ".".join(["t"] * (depth + 1)) + "]\n")


def test_a_deeply_nested_receipt_is_no_receipt(tmp_path: Path) -> None:
    meta = tmp_path / ".pylock"
    meta.mkdir()
    (meta / "receipt.json").write_text("[" * 100_000 + "]" * 100_000)
    assert read_receipt(tmp_path) is None
    (meta / "receipt.json").write_text(json.dumps({"receipt_version": 1}))
    assert read_receipt(tmp_path) is None


def test_an_unexpected_exception_is_a_bug_with_exit_70(capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> int:
        raise ValueError("an invariant broke")

    assert guarded(broken, verbose=False) == EXIT_BUG
    err = capsys.readouterr().err
    assert err.startswith("error: pylock hit an internal error (ValueError: an invariant broke)")
    assert "This is a bug" in err and "--verbose" in err
    assert err.count("\n") == 1
    assert guarded(broken, verbose=True) == EXIT_BUG  # --verbose adds the traceback
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "ValueError: an invariant broke\nerror: pylock hit an internal error" in err
