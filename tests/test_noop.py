"""The no-op sync fast path (a memo of the full path's verdict on the same bytes) and the
console script's own parser. test_differential.py runs both paths on many broken inputs."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import console_script, pylock, run_in_new_interpreter
from conftest import REAL, SyncedTemplate
from pylock.base import hostinfo, locations
from pylock.fast import argv, memo, noop
from pylock.project.platforms import KNOWN_PLATFORMS, host_platform

HOST = host_platform()
MINOR = ".".join(REAL.split(".")[:2])
BUILD = "20260101"


@pytest.fixture
def synced(
    synced_template: SyncedTemplate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Path:
    """The synced template, and one full-path sync here to write this project's memo."""
    project = synced_template.synced(tmp_path)
    assert pylock(capsys, "-p", str(project), "sync")[0] == 0
    return project


def test_a_synced_project_is_a_noop_without_reading_toml(synced: Path) -> None:
    report = noop.check(str(synced), environ=os.environ)
    assert report is not None
    assert report.startswith(
        f"cpython {REAL} ({BUILD}, install_only_stripped) is already installed at "
    )


def test_the_memo_answers_only_for_its_own_key(synced: Path, tmp_path: Path) -> None:
    assert noop.check(str(synced), environ=os.environ) is not None
    assert (
        noop.check(str(synced), environ=os.environ, frozen=True) is None
    )  # not yet run with --frozen
    assert noop.check(str(synced), environ=os.environ, platform="windows-x86_64-none") is None
    assert noop.check(str(synced), environ=os.environ, into=str(tmp_path / "nowhere")) is None
    assert (
        noop.check(str(synced), environ=os.environ, python=MINOR) is None
    )  # --python picks another memo
    moved = {**os.environ, "PYLOCK_PYTHON_DIR": str(tmp_path / "other-root")}
    assert noop.check(str(synced), environ=moved) is None


def test_a_python_selection_gets_a_memo_of_its_own(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pylock(capsys, "-p", str(synced), "sync", "--python", MINOR)[0] == 0
    assert noop.check(str(synced), environ=os.environ, python=MINOR) == noop.check(
        str(synced), environ=os.environ
    )
    assert (
        noop.check(str(synced), environ=os.environ, python=REAL) is None
    )  # the same interpreter, another key


def test_a_lost_or_corrupt_memo_only_costs_the_full_path(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    memos = Path(os.environ["PYLOCK_CACHE_DIR"]) / memo.MEMO_DIR
    (remembered,) = memos.iterdir()
    good = remembered.read_bytes()
    for broken in (
        b"",
        b"[" * 100_000,
        b"{}",
        good[:-3],
        good + b"-\n",
        good.replace(b"\n", b"x", 2),
    ):
        remembered.write_bytes(broken)
        assert noop.check(str(synced), environ=os.environ) is None
    remembered.write_bytes(good)
    assert noop.check(str(synced), environ=os.environ) is not None
    remembered.unlink()
    assert noop.check(str(synced), environ=os.environ) is None
    assert pylock(capsys, "-p", str(synced), "sync")[0] == 0  # the full path writes it again
    assert noop.check(str(synced), environ=os.environ) is not None


def test_locations_follow_xdg_as_platformdirs_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the XDG rule is pylock's own on Linux only")
    import platformdirs

    monkeypatch.delenv("PYLOCK_PYTHON_DIR")
    monkeypatch.delenv("PYLOCK_CACHE_DIR")
    for value in (None, str(tmp_path / "xdg"), ""):
        for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME"):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        data = Path(platformdirs.user_data_dir("pylock", appauthor=False))
        assert locations.python_dir(os.environ) == data / "python"
        assert locations.cache_dir(os.environ) == Path(
            platformdirs.user_cache_dir("pylock", appauthor=False)
        )


def test_host_key_is_a_known_platform_matching_the_stdlib() -> None:
    assert hostinfo.host_key() in {p.key for p in KNOWN_PLATFORMS}
    if sys.platform.startswith("linux"):
        libc, _ = platform.libc_ver()
        assert hostinfo.linux_libc() == ("gnu" if libc == "glibc" else "musl")
        assert hostinfo.machine() == platform.machine().lower()


GLOBALS = argv.GLOBAL_DEFAULTS


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sync"], ("sync", GLOBALS, [])),
        (
            ["-p", "x", "-q", "sync", "--frozen"],
            ("sync", {**GLOBALS, "project": "x", "quiet": True, "frozen": True}, []),
        ),
        (
            ["--project=x", "sync", "--into=/opt/py"],
            ("sync", {**GLOBALS, "project": "x", "into": "/opt/py"}, []),
        ),
        (
            ["check", "--installed", "--deep", "--format", "json"],
            ("check", {**GLOBALS, "installed": True, "deep": True, "format": "json"}, []),
        ),
        (
            ["sync", "--python", "3.12", "--all"],
            ("sync", {**GLOBALS, "python": "3.12", "all": True}, []),
        ),
        (["which", "--into", "d"], ("which", {**GLOBALS, "into": "d"}, [])),
        (
            ["show", "--format=json", "-q"],
            ("show", {**GLOBALS, "format": "json", "quiet": True}, []),
        ),
        (["venv"], ("venv", GLOBALS, [])),
        (["venv", "v", "--clear"], ("venv", {**GLOBALS, "clear": True}, ["v"])),
        (["venv", "--seed", "v", "-q"], ("venv", {**GLOBALS, "seed": True, "quiet": True}, ["v"])),
        (["venv", "v", "w"], None),  # one PATH: typer phrases the usage error
        # run: its options, then the command (from its first word, or after --) with its own
        (["run", "--", "true"], ("run", GLOBALS, ["true"])),
        (
            ["run", "-q", "sh", "-c", "x", "-q"],
            ("run", {**GLOBALS, "quiet": True}, ["sh", "-c", "x", "-q"]),
        ),
        (
            ["run", "--python", "3.12", "--", "-x", "--"],
            ("run", {**GLOBALS, "python": "3.12"}, ["-x", "--"]),
        ),
        (["run", "echo", "--", "a"], ("run", GLOBALS, ["echo", "--", "a"])),
        (["run"], None),
        (["run", "--"], None),
        (["run", "--unknown", "x"], None),
        (["which", "x"], None),
        (["sync", "--reinstall"], None),
        (["sync", "--help"], None),
        # Global options go before or after the command, as typer (through cli.app.main) takes them.
        (["sync", "-q", "--offline"], ("sync", {**GLOBALS, "quiet": True, "offline": True}, [])),
        (
            ["check", "--color=never", "--no-progress", "-p", "x"],
            ("check", {**GLOBALS, "color": "never", "no_progress": True, "project": "x"}, []),
        ),
        (["sync", "--color", "blue"], None),  # typer phrases the usage error
        (["check", "--frozen"], None),
        (["lock"], None),
        (["--project"], None),
        (["sync", "--into"], None),
        ([], None),
    ],
)
def test_launcher_parses_the_commands_run_all_day(args: list[str], expected: object) -> None:
    assert argv.parse(args) == expected


def test_launcher_option_tables_match_the_typer_commands() -> None:
    """Every option the launcher parses exists on the typer command, and vice versa except
    those it leaves to typer on purpose (--reinstall, --help)."""
    import typer.main

    from pylock.cli.app import app

    group = typer.main.get_command(app)
    context = typer.Context(group)
    declared_globals = {o for p in group.params for o in p.opts} - {"--version", "-V"}
    assert set(argv.GLOBAL_FLAGS) | set(argv.GLOBAL_VALUES) == declared_globals
    for name in argv.COMMAND_FLAGS:
        command = group.get_command(context, name)  # type: ignore[attr-defined]
        declared = {o for p in command.params for o in p.opts if o.startswith("--")}
        parsed = set(argv.COMMAND_FLAGS[name]) | set(argv.COMMAND_VALUES[name])
        assert parsed <= declared
        assert declared - parsed <= {"--reinstall"}, name


def test_console_script_noop_imports_nothing_heavy(synced: Path) -> None:
    heavy = ["typer", "httpx", "tomlkit", "rich", "packaging", "platformdirs", "dataclasses"]
    heavy += [
        "tomllib",
        "json",
        "re",
        "pathlib",
        "pylock.resolution.lockfile",
        "pylock.project.manifest",
    ]
    heavy += ["pylock.install.receipt", "typing", "netrc", "pylock.base.credentials"]
    code, printed, imported = run_in_new_interpreter(
        "-p", str(synced), "sync", watch=heavy, script=True
    )
    assert (code, imported) == (0, []), printed
    assert "is already installed at" in printed[0]


def test_a_sync_that_downloads_nothing_reads_no_netrc(synced: Path) -> None:
    """The full path (no memo) resolves the credentials' settings but reads netrc only when a
    request is about to be sent; an installed interpreter needs none."""
    shutil.rmtree(Path(os.environ["PYLOCK_CACHE_DIR"]) / memo.MEMO_DIR)
    code, printed, imported = run_in_new_interpreter(
        "-p", str(synced), "sync", watch=["netrc", "httpx"], script=True
    )
    assert (code, imported) == (0, []), printed


@pytest.mark.parametrize(
    "command",
    [["which"], ["show"], ["show", "--format", "json"], ["check"], ["check", "--installed"]],
)
def test_the_other_commands_answer_from_the_memo_importing_nothing_heavy(
    synced: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """``which``, ``show`` and ``check``, run once through the full path, are answered from the
    memo next time with the standard library alone, and print the same."""
    full = pylock(capsys, "-p", str(synced), *command)
    assert full[0] == 0 and full[2] == ""
    heavy = ["typer", "httpx", "tomlkit", "rich", "packaging", "platformdirs", "dataclasses"]
    heavy += ["tomllib", "json", "re", "pathlib", "typing", "subprocess", "signal"]
    heavy += ["pylock.resolution.lockfile", "pylock.install.receipt", "pylock.checking.checks"]
    code, printed, imported = run_in_new_interpreter(
        "-p", str(synced), *command, watch=heavy, script=True
    )
    assert (code, imported) == (0, [])
    assert "\n".join(printed) == full[1].removesuffix("\n")


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("PYLOCK_HTTP_TIMEOUT", "abc", "PYLOCK_HTTP_TIMEOUT is 'abc', which is not a number"),
        ("PYLOCK_OFFLINE", "maybe", "PYLOCK_OFFLINE is 'maybe', which is neither on nor off"),
        ("PYLOCK_MAX_INSTALL_BYTES", "²", "PYLOCK_MAX_INSTALL_BYTES is '²', which is not a"),
        ("PYLOCK_SIGSTORE_OFFLINE", "maybe", "PYLOCK_SIGSTORE_OFFLINE is 'maybe', which is"),
        ("PYLOCK_MIRROR_TOKEN", "tok en", "PYLOCK_MIRROR_TOKEN holds a character a token"),
    ],
)
def test_an_invalid_setting_is_refused_on_the_noop_path_too(
    synced: Path, capsys: pytest.CaptureFixture[str], variable: str, value: str, said: str
) -> None:
    """The console script validates every setting before it replays anything, with the code
    ``Settings.resolve`` runs, and says it in the full path's words (exit 2)."""
    assert noop.check(str(synced), environ=os.environ) is not None  # a memo to replay
    full = pylock(capsys, "-p", str(synced), "sync")
    env = {**os.environ, variable: value}
    for command in (["sync"], ["which"], ["check"]):
        fast = subprocess.run(
            [str(console_script()), "-p", str(synced), *command],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert (fast.returncode, fast.stdout) == (2, "")
        assert fast.stderr.startswith(f"error: {said}"), fast.stderr
    assert full[0] == 0


def test_console_script_falls_back_and_reports_the_same(synced: Path) -> None:
    """A stale manifest: the fast path declines, the full path explains (exit 1)."""
    fast = subprocess.run(
        [str(console_script()), "-p", str(synced), "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fast.returncode == 0
    (synced / "pyproject.toml").write_text('[tool.pylock]\npython = "3.13"\n', "utf-8")
    stale = subprocess.run(
        [str(console_script()), "-p", str(synced), "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode == 1
    assert "pylock lock" in stale.stderr


def script_sync(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """``pylock ARGS`` through the console script's entry point (the memo first), in this
    process (not for ``run``, which execs)."""
    from pylock.cli import launcher

    monkeypatch.setattr(sys, "argv", ["pylock", *args])
    with pytest.raises(SystemExit) as exited:
        launcher.main()
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_an_install_whose_interpreter_is_gone_is_not_installed(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Installed" means the receipt and the interpreter file it names: every command asks the
    store, and the memo replays that verdict only while the interpreter is still there."""
    import json

    project = str(synced)
    code, out, _ = pylock(capsys, "-p", project, "which")
    assert code == 0
    interpreter = Path(out.strip())
    install_dir = interpreter.parent.parent
    interpreter.unlink()

    assert noop.check(project, environ=os.environ) is None  # the last sync's memo must not hide it
    which = pylock(capsys, "-p", project, "which")
    assert which[0] == 1 and "is not installed at" in which[2], which
    assert pylock(capsys, "-p", project, "run", "python", "-c", "pass") == which
    (row,) = json.loads(pylock(capsys, "-p", project, "show", "--format", "json")[1])["targets"]
    assert (row["installed"], row["path"]) == (False, None)
    assert pylock(capsys, "-p", project, "check", "--installed")[0] == 1

    # The console script's sync (memo first) repairs it, from the archive cache.
    code, out, _ = script_sync(capsys, monkeypatch, "-p", project, "sync")
    assert code == 0 and out.startswith("Installed "), out
    assert interpreter.is_file()
    assert pylock(capsys, "-p", project, "which")[:2] == (0, f"{interpreter}\n")
    # So does the typer command's.
    interpreter.unlink()
    code, out, _ = pylock(capsys, "-p", project, "sync")
    assert code == 0 and out.startswith("Installed "), out
    assert interpreter.is_file()
    assert noop.check(project, environ=os.environ) is not None  # and the memo answers again

    # A missing interpreter reads exactly as a missing install.
    interpreter.unlink()
    gone = pylock(capsys, "-p", project, "which")
    shutil.rmtree(install_dir)
    assert pylock(capsys, "-p", project, "which") == gone == which


def test_show_answers_anew_once_a_target_is_installed(
    synced_template: SyncedTemplate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``show`` remembers "not installed" as a receipt that is not there: the install that
    puts one there is seen by the next ``show``."""
    project = synced_template.locked(tmp_path / "project")
    before = script_sync(capsys, monkeypatch, "-p", str(project), "show", "--format", "json")
    assert before[0] == 0
    assert [row["installed"] for row in json_rows(before[1])] == [False]
    synced_template.synced(project)  # the install, as a sync leaves it
    after = script_sync(capsys, monkeypatch, "-p", str(project), "show", "--format", "json")
    assert [row["installed"] for row in json_rows(after[1])] == [True]
    assert after == pylock(capsys, "-p", str(project), "show", "--format", "json")


def json_rows(text: str) -> list[dict[str, object]]:
    import json

    rows = json.loads(text)["targets"]
    assert isinstance(rows, list)
    return rows


def test_check_looks_again_when_a_venvs_home_moves(
    synced: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The venv check rests on ``home`` being the install's directory (the same file, through
    a symlink here): the memo holds that, not the path, so a retargeted link is seen."""
    interpreter = Path(pylock(capsys, "-p", str(synced), "which")[1].strip())
    link = tmp_path / "home-link"
    link.symlink_to(interpreter.parent)
    venv = synced / ".venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text(f"home = {link}\nversion = {REAL}\n", "utf-8")
    args = ("-p", str(synced), "check")
    first = script_sync(capsys, monkeypatch, *args)
    assert first[0] == 0 and "pass   venv" in first[1]
    parsed = argv.parse(list(args))
    assert parsed is not None and memo.recall(
        memo.command_key("check", parsed[1], os.environ), os.environ
    )
    assert script_sync(capsys, monkeypatch, *args) == first  # from the memo
    link.unlink()
    link.symlink_to(tmp_path)  # the same pyvenv.cfg, another directory
    moved = script_sync(capsys, monkeypatch, *args)
    assert moved[0] == 1 and "fail   venv" in moved[1]
    assert moved == pylock(capsys, *args)


def test_the_installed_console_script_ends_a_replayed_answer_at_once(synced: Path) -> None:
    """``launcher.console`` (the executable's entry point) prints the remembered answer and
    exits 0 without the interpreter's finalization: its output is flushed first."""
    entry = "import sys\nfrom pylock.cli.launcher import console\nconsole()\n"
    args = [sys.executable, "-c", entry, "-p", str(synced), "sync"]
    assert noop.check(str(synced), environ=os.environ) is not None
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == noop.check(str(synced), environ=os.environ) + "\n"


def test_the_installed_console_script_ends_the_full_path_at_once_with_its_code(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a memo (a full run) and on a failure alike, ``console`` exits with the
    command's code and everything it printed, as the typer app does."""
    entry = "import sys\nfrom pylock.cli.launcher import console\nconsole()\n"
    memos = Path(os.environ["PYLOCK_CACHE_DIR"]) / memo.MEMO_DIR
    for args in (["check"], ["check", "--format", "json"], ["which"]):
        shutil.rmtree(memos, ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-c", entry, "-p", str(synced), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert (done.returncode, done.stdout, done.stderr) == pylock(
            capsys, "-p", str(synced), *args
        )
        assert any(memos.iterdir())  # the full path remembered its answer before exiting
    (synced / "pyproject.toml").write_text('[tool.pylock]\npython = "3.13"\n', "utf-8")
    stale = subprocess.run(
        [sys.executable, "-c", entry, "-p", str(synced), "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (stale.returncode, stale.stdout, stale.stderr) == pylock(
        capsys, "-p", str(synced), "sync"
    )
    assert stale.returncode == 1


def _which_from_both_paths(synced: Path, **streams: object) -> list[tuple[int, str]]:
    """``pylock which`` through the console script, answered from the memo, then (the memo
    gone) by the full path: each (exit code, stderr)."""
    memos = Path(os.environ["PYLOCK_CACHE_DIR"]) / memo.MEMO_DIR
    command = [str(console_script()), "-p", str(synced), "which"]
    results = []
    for path in ("memo", "full"):
        if path == "memo":
            assert subprocess.run(command, capture_output=True).returncode == 0
            assert any(memos.iterdir())
        else:
            shutil.rmtree(memos)
        done = subprocess.run(command, stderr=subprocess.PIPE, text=True, **streams)  # type: ignore[call-overload]
        results.append((done.returncode, done.stderr))
    return results


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_answer_the_disk_cannot_take_is_reported_alike_on_both_paths(synced: Path) -> None:
    with Path("/dev/full").open("w") as full_disk:
        replayed, full = _which_from_both_paths(synced, stdout=full_disk)
    assert replayed == full
    assert full == (3, full[1])
    assert full[1].startswith("error: [Errno 28] No space left on device. Check the path")
    assert "Traceback" not in full[1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_an_answer_into_a_closed_pipe_is_reported_alike_on_both_paths(synced: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: the write fails with EPIPE (Python ignores SIGPIPE)
    try:
        replayed, full = _which_from_both_paths(synced, stdout=write_end)
    finally:
        os.close(write_end)
    assert replayed == full
    assert full[0] == 3 and full[1].startswith("error: [Errno 32] Broken pipe.")


INTERRUPTED_WHILE_IMPORTING = """
import os, signal, sys
module = sys.argv.pop(1)
class Interrupt:  # a real SIGINT, raised while ``module`` is being imported
    fired = False
    def find_spec(self, name, path=None, target=None):
        if name == module and not Interrupt.fired:
            Interrupt.fired = True
            os.kill(os.getpid(), signal.SIGINT)
sys.meta_path.insert(0, Interrupt())
from pylock.cli.launcher import console
console()
"""


@pytest.mark.parametrize(
    ("module", "command", "memoized"),
    [
        ("pylock.fast.argv", "which", True),  # the console script's first import
        ("pylock.fast.memo", "which", True),  # on the way to a replayed answer
        ("pylock.cli.console", "which", False),  # the full path's imports
        ("pylock.cli.app", "lock", False),  # typer's
    ],
)
def test_ctrl_c_while_pylock_starts_is_one_line_and_130(
    synced: Path, module: str, command: str, memoized: bool
) -> None:
    """Before a command's own guard takes over (the imports, the memo), Ctrl-C is what it is
    after: ``interrupted`` and exit 130 (errors.EXIT_INTERRUPTED), never a traceback."""
    memos = Path(os.environ["PYLOCK_CACHE_DIR"]) / memo.MEMO_DIR
    if not memoized:
        shutil.rmtree(memos, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_WHILE_IMPORTING, module, "-p", str(synced), command],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "interrupted\n")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell redirections")
@pytest.mark.parametrize(
    "command",
    [
        ["which"],  # the console script's own path (console.py)
        ["run", "--", "true"],
        ["lock", "--offline"],  # typer's (app.py)
        ["show"],
        ["which", "--no-such-option"],  # click's usage error
        ["no-such-command"],
    ],
)
def test_an_error_with_stderr_closed_never_reaches_stdout(
    tmp_path: Path, command: list[str]
) -> None:
    """``$(pylock which 2>&-)`` in a directory with no project: the error has nowhere to go, and
    stdout, which a script takes for the answer, stays empty (``print(file=sys.stderr)`` with
    ``sys.stderr`` None prints to stdout)."""
    script = str(console_script())
    done = subprocess.run(
        ["sh", "-c", '"$@" 2>&-', "sh", script, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (1, 2)  # not found, not a project, or a usage error
    assert done.stdout == ""
    with_stderr = subprocess.run(
        [script, *command], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (with_stderr.returncode, with_stderr.stdout) == (done.returncode, "")
    assert with_stderr.stderr.startswith(("error: ", "Usage: "))
