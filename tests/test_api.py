"""The Python API (docs/api.md), used the way a caller uses it: through ``import pylock`` alone.

No ``pylock.<stage>`` module is imported here: whatever a test needs from pylock must be a
public name, so a name the API forgot to export fails here first. The project is locked against
a loopback stand-in for GitHub (conftest.py's ``fake_pbs``) serving an archive whose interpreter
runs the Python running the tests (``synced_template``), so the installed interpreter really
runs.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pylock
from clirun import pylock as run_cli
from conftest import REAL, SyncedTemplate
from pbs_server import FakePBS

MINOR = ".".join(REAL.split(".")[:2])


def _fresh_interpreter(code: str) -> str:
    """What ``code`` prints in a new interpreter."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path: Path, fake_pbs: FakePBS, synced_template: SyncedTemplate) -> Path:
    """A project asking for this Python's X.Y on this host, whose manifest names the loopback
    source (so even calls with ``settings=None`` read nothing else); nothing locked yet."""
    synced_template.publish(fake_pbs)
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{MINOR}"\nsource = "{fake_pbs.spec}"\n', "utf-8"
    )
    return directory


# --- import pylock costs nothing --------------------------------------------------------------


def test_import_pylock_imports_nothing_but_the_package() -> None:
    """The console script imports the package on every run, the no-op sync included: no stage
    module, no third-party library, not even typing."""
    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import pylock\n"
        "print(pylock.__version__, *sorted(set(sys.modules) - before))\n"
    )
    version, *loaded = _fresh_interpreter(probe).split()
    assert version == pylock.__version__
    assert loaded == ["pylock"]
    for heavy in ("httpx", "tomlkit", "typer", "rich", "packaging", "typing"):
        assert heavy not in loaded


def test_a_name_loads_its_own_module_only() -> None:
    """``pylock.InputError`` needs errors.py, not the locker and httpx behind ``pylock.lock``."""
    probe = (
        "import sys\n"
        "import pylock\n"
        "pylock.InputError\n"
        "print(*sorted(m for m in sys.modules if m.startswith('pylock')))\n"
    )
    assert _fresh_interpreter(probe).split() == ["pylock", "pylock.errors"]


def test_lock_and_check_are_the_functions_whatever_was_imported_first() -> None:
    """Importing the stage packages first (as the CLI does) leaves the public names the
    functions: no subpackage is bound over them."""
    probe = (
        "import pylock.resolution.locker, pylock.checking.checks, pylock.commands.sync\n"
        "import pylock\n"
        "from pylock import check, lock\n"
        "print(pylock.lock is lock, pylock.check is check, lock.__module__, check.__module__)\n"
    )
    assert _fresh_interpreter(probe).split() == ["True", "True", "pylock.api", "pylock.api"]


def test_every_public_name_resolves_and_is_listed() -> None:
    assert len(set(pylock.__all__)) == len(pylock.__all__)
    for name in pylock.__all__:
        assert getattr(pylock, name) is not None, name
    assert set(pylock.__all__) <= set(dir(pylock))
    missing = "lock_project"  # the library's function, not a public name
    with pytest.raises(AttributeError, match=f"module 'pylock' has no attribute '{missing}'"):
        getattr(pylock, missing)
    for function in (pylock.lock, pylock.sync, pylock.which, pylock.check):
        assert callable(function)


def test_the_stub_names_what_the_package_loads() -> None:
    """Type checkers read ``__init__.pyi``; it must list the names ``__getattr__`` serves, each
    from the module that serves it."""
    stub = Path(pylock.__file__).with_suffix(".pyi")
    named = {
        alias.asname or alias.name: node.module
        for node in ast.parse(stub.read_text("utf-8")).body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert named == vars(pylock)["_PUBLIC"]


# --- lock, sync, which, check ------------------------------------------------------------------


def test_lock_sync_which_check_end_to_end(project: Path, fake_pbs: FakePBS) -> None:
    locked = pylock.lock(project)
    assert isinstance(locked, pylock.LockResult)
    assert locked.written
    assert [(c.kind, c.old) for c in locked.changes] == [("added", None)]
    (target,) = locked.lock.targets
    assert isinstance(target, pylock.Target)
    assert (target.version, target.build) == (REAL, "20260101")
    assert target == locked.changes[0].new
    assert (project / "python.lock").is_file()

    synced = pylock.sync(str(project))  # a str is a project directory too
    assert isinstance(synced, pylock.SyncResult)
    assert synced.action == "installed"
    assert isinstance(synced.installation, pylock.Installation)
    assert synced.installation.installed
    assert synced.installation.target == target
    assert synced.installation.path.is_relative_to(os.environ["PYLOCK_PYTHON_DIR"])
    assert pylock.sync(project).action == "unchanged"

    python = pylock.which(project)
    assert python == synced.installation.interpreter
    ran = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.strip() == REAL

    report = pylock.check(project, installed=True, deep=True, remote=True)
    assert isinstance(report, pylock.CheckReport)
    assert report.ok and report.exit_code == pylock.EXIT_OK == 0
    assert all(isinstance(each, pylock.CheckResult) for each in report.checks)
    statuses = {each.name: each.status for each in report.checks}
    assert set(statuses.values()) <= {"pass", "skip"}
    for name in ("lock-valid", "lock-current", "installed", "tree", "remote"):
        assert statuses[name] == "pass", report.lines()

    # A current lock is kept byte for byte, without asking the source anything.
    asked = len(fake_pbs.api_log)
    again = pylock.lock(project)
    assert not again.written
    assert [c.kind for c in again.changes] == ["unchanged"]
    assert again.lock == locked.lock
    assert len(fake_pbs.api_log) == asked


def test_results_are_frozen(project: Path) -> None:
    locked = pylock.lock(project, dry_run=True)
    assert not locked.written and not (project / "python.lock").exists()
    pylock.lock(project)
    for result in (pylock.sync(project), locked, pylock.check(project)):
        assert dataclasses.is_dataclass(result)
        field = dataclasses.fields(result)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, field, None)


def test_which_raises_what_the_cli_says_when_not_installed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pylock.lock(project)
    for python, args in ((None, ()), (MINOR, ("--python", MINOR))):
        with pytest.raises(pylock.VerificationError) as raised:
            pylock.which(project, python=python)
        error = raised.value
        assert isinstance(error, pylock.PylockError)
        assert error.exit_code == pylock.EXIT_FAILED == 1
        assert "is not installed" in error.message
        code, out, err = run_cli(capsys, "-p", str(project), "which", *args)
        assert (code, out) == (error.exit_code, "")
        assert err == f"error: {error}\n"


def test_given_settings_win_over_the_environment(project: Path, tmp_path: Path) -> None:
    """``settings=None`` is the environment (conftest.py's private directories); a Settings
    resolved from another mapping puts the install elsewhere, and only it finds it."""
    elsewhere = tmp_path / "elsewhere"
    environ = dict(os.environ, PYLOCK_PYTHON_DIR=str(elsewhere))
    settings = pylock.Settings.resolve(environ=environ, source=None)
    pylock.lock(project, settings=settings)
    synced = pylock.sync(project, settings=settings)
    assert synced.installation.path.is_relative_to(elsewhere)
    assert pylock.which(project, settings=settings) == synced.installation.interpreter
    with pytest.raises(pylock.VerificationError):
        pylock.which(project)
    assert pylock.check(project, installed=True).exit_code == pylock.EXIT_FAILED
    assert pylock.check(project, settings=settings, installed=True).ok


def test_the_environment_is_validated_when_settings_are_not_given(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYLOCK_HTTP_TIMEOUT", "soon")
    with pytest.raises(pylock.InputError, match="PYLOCK_HTTP_TIMEOUT is 'soon'") as raised:
        pylock.lock(project)
    assert raised.value.exit_code == pylock.EXIT_INPUT == 2


def test_errors_carry_the_cli_exit_codes(project: Path) -> None:
    offline = pylock.Settings.resolve(environ=os.environ, offline=True)
    with pytest.raises(pylock.ExternalError) as nothing_cached:  # first: nothing is cached yet
        pylock.lock(project, settings=offline)
    assert nothing_cached.value.exit_code == pylock.EXIT_EXTERNAL == 3

    with pytest.raises(pylock.InputError) as bad_platform:
        pylock.lock(project, platforms=["no-such-platform"])
    assert bad_platform.value.exit_code == pylock.EXIT_INPUT

    with pytest.raises(pylock.ResolutionError) as unresolvable:
        pylock.lock(project, python="3.99")
    assert isinstance(unresolvable.value, pylock.VerificationError)
    assert unresolvable.value.exit_code == pylock.EXIT_FAILED


def test_a_stale_lock(project: Path) -> None:
    """sync refuses it (unless frozen), which still answers, check reports it: as the CLI."""
    pylock.lock(project)
    pylock.sync(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text("utf-8").replace(MINOR, "3.99"), "utf-8")

    with pytest.raises(pylock.VerificationError, match="out of date") as stale:
        pylock.sync(project)
    assert stale.value.exit_code == pylock.EXIT_FAILED
    assert pylock.sync(project, frozen=True).action == "unchanged"
    assert pylock.which(project).is_file()
    report = pylock.check(project, installed=True)
    assert report.exit_code == pylock.EXIT_FAILED
    assert report.get("lock-current").status == "fail"
    assert report.get("installed").status == "pass"


def test_check_reports_a_missing_lock_instead_of_raising(project: Path) -> None:
    report = pylock.check(project)
    assert report.get("lock-valid").status == "error"
    assert report.exit_code == pylock.EXIT_INPUT
    assert not report.ok
