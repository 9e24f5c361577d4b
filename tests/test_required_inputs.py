"""A required input that is missing, a directory or unreadable: exit 2, naming it, everywhere.

python.lock and pyproject.toml are read by one function (``fsutil.read_input``), so every
command says the same about the same broken file. The tests run as root in CI, where a file
with mode 000 is still readable; the states that really fail for root are a directory, a
dangling symlink and a symlink loop (``ELOOP``). The mode-000 case runs only without root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clirun import pylock, typer_in_child
from conftest import SyncedTemplate
from pylock.base.fsutil import read_input
from pylock.errors import ExternalError, InputError
from pylock.project.platforms import host_platform
from pylock.sources.source import SourceContext
from pylock.sources.spec import open_source

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
STATES = [
    "directory",
    "dangling-symlink",
    "symlink-loop",
    pytest.param(
        "mode-000", marks=pytest.mark.skipif(ROOT, reason="root reads a file of mode 000")
    ),
]

# Each command, and which of the two files it requires. `which` and `run` read pyproject.toml
# only to warn about a stale lock (a broken manifest must not lock anyone out of their
# interpreter: tests/test_cli_conventions.py), and `show` lists the lock alone; both are tested
# below.
COMMANDS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "lock": (["lock"], ("python.lock", "pyproject.toml")),
    "sync": (["sync"], ("python.lock", "pyproject.toml")),
    "check": (["check"], ("python.lock", "pyproject.toml")),
    "which": (["which"], ("python.lock",)),
    "run": (["run", "python", "-c", "pass"], ("python.lock",)),
    "show": (["show"], ("python.lock",)),
    "export uv": (["export", "uv", "-o", "-"], ("python.lock", "pyproject.toml")),
    "mirror": (["mirror", "MIRROR"], ("python.lock", "pyproject.toml")),
    "list": (["list"], ("python.lock", "pyproject.toml")),
}
CASES = [(command, name) for command, (_, reads) in COMMANDS.items() for name in reads]


def spoil(path: Path, state: str) -> None:
    """Put ``path`` into ``state`` (it exists as a regular file before)."""
    if state == "mode-000":
        path.chmod(0)
        return
    path.unlink()
    if state == "directory":
        path.mkdir()
        (path / "inside").write_text("a directory, not a file\n", "utf-8")
    elif state == "dangling-symlink":
        path.symlink_to("nowhere.toml")
    elif state == "symlink-loop":
        path.symlink_to(path.name)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("command", "name"), CASES)
def test_a_broken_required_input_is_exit_2_naming_it(
    synced_template: SyncedTemplate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    name: str,
    state: str,
) -> None:
    project = synced_template.synced(tmp_path / "project")
    broken = project / name
    spoil(broken, state)
    args = [str(tmp_path / "mirror") if a == "MIRROR" else a for a in COMMANDS[command][0]]
    # --offline: whatever happens, nothing leaves this machine.
    code, out, err = pylock(capsys, "--offline", "-p", str(project), *args)
    assert code == 2, (out, err)
    assert str(broken) in out + err, (out, err)
    assert "Traceback" not in err


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", ["which", "run"])
def test_which_and_run_warn_naming_a_broken_manifest(
    synced_template: SyncedTemplate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    state: str,
) -> None:
    project = synced_template.synced(tmp_path / "project")
    broken = project / "pyproject.toml"
    spoil(broken, state)
    args = ["-p", str(project), *COMMANDS[command][0]]
    # run execs its command: it runs in a child process
    code, _, err = typer_in_child(*args) if command == "run" else pylock(capsys, *args)
    assert code == 0
    assert err.startswith("warning: cannot tell whether python.lock is current: "), err
    assert str(broken) in err


@pytest.mark.parametrize("state", STATES)
def test_show_does_not_read_the_manifest(
    synced_template: SyncedTemplate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state: str,
) -> None:
    project = synced_template.synced(tmp_path / "project")
    spoil(project / "pyproject.toml", state)
    code, out, _ = pylock(capsys, "-p", str(project), "show")
    assert code == 0 and host_platform().key in out


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ("directory", "is a directory"),
        ("dangling-symlink", "which does not exist"),
        ("symlink-loop", "Too many levels of symbolic links"),
    ],
)
def test_read_input_says_what_is_wrong_and_what_to_do(
    tmp_path: Path, state: str, said: str
) -> None:
    path = tmp_path / "python.lock"
    path.write_text("x", "utf-8")
    assert read_input(path, fix="create it with `pylock lock`") == b"x"
    spoil(path, state)
    with pytest.raises(InputError) as raised:
        read_input(path, fix="create it with `pylock lock`")
    assert raised.value.exit_code == 2
    assert str(path) in raised.value.message and said in raised.value.message
    assert raised.value.hint is not None and "`pylock lock`" in raised.value.hint


def test_a_missing_input_names_the_command_that_makes_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        read_input(tmp_path / "python.lock", fix="create it with `pylock lock`")
    assert raised.value.message == f"{tmp_path / 'python.lock'} not found."
    assert raised.value.hint == "Create it with `pylock lock`."


def test_the_machine_failing_is_still_the_environment(tmp_path: Path) -> None:
    """Only a path that names no readable file is the user's to fix; an I/O error is exit 3."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("needs /proc/self/mem, a file whose read fails with EIO")
    with pytest.raises(ExternalError) as raised:
        read_input(Path("/proc/self/mem"), fix="create it")
    assert raised.value.exit_code == 3


@pytest.mark.parametrize(("scheme", "what"), [("catalog", "json"), ("index", "ndjson")])
@pytest.mark.parametrize("state", STATES)
def test_a_local_source_file_in_any_broken_state_is_exit_2(
    source_context: SourceContext, tmp_path: Path, scheme: str, what: str, state: str
) -> None:
    path = tmp_path / f"pbs.{what}"
    path.write_text("{}", "utf-8")
    spoil(path, state)
    source = open_source(f"{scheme}:{path}", source_context)
    with pytest.raises(InputError) as raised:
        list(source.releases(build=None, platforms=None))
    assert raised.value.exit_code == 2
    assert raised.value.message.startswith(f"Source {scheme}:{path}: ")
    assert str(path) in raised.value.message


@pytest.mark.parametrize("state", STATES)
def test_a_mirror_directory_with_a_broken_sha256sums_is_exit_2(
    source_context: SourceContext, tmp_path: Path, state: str
) -> None:
    sums = tmp_path / "pbs" / "20250101" / "SHA256SUMS"
    sums.parent.mkdir(parents=True)
    sums.write_text("", "utf-8")
    spoil(sums, state)
    source = open_source(f"mirror:{tmp_path / 'pbs'}", source_context)
    with pytest.raises(InputError) as raised:
        list(source.releases(build=None, platforms=None))
    assert raised.value.exit_code == 2
    assert str(sums) in raised.value.message
