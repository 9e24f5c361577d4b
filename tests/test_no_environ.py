"""The library reads no environment variable: Settings are resolved once, by the CLI (or a Python
caller), and passed down whole (issue 15: "one answer per rule" for settings).

Two proofs. Statically, no module below the CLI layer and the API facade names ``os.environ``
or ``os.getenv`` in code. Dynamically, the library's entry points run a whole lock, sync, check
and mirror with ``os.environ`` emptied, the Settings injected: every directory, token and policy
they need comes from the injected mapping, and nothing lands where the (now absent) variables
would have pointed.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from conftest import REAL, SyncedTemplate
from pbs_server import FakePBS
from pylock.base.settings import HttpPolicy, Settings
from pylock.checking.checks import CheckOptions, run_checks
from pylock.commands.mirror import MirrorOptions, fill_mirror
from pylock.commands.sync import SyncOptions, installed_interpreter, sync_project
from pylock.resolution.locker import LockOptions, lock_project

SRC = Path(__file__).resolve().parent.parent / "src" / "pylock"
SHELLS = ("cli", "api.py")  # the callers that resolve Settings from os.environ


def _environ_reads(path: Path) -> list[int]:
    """Lines of ``path`` whose code (not docstrings or comments) reads the environment."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb", "getenvb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
    return lines


def test_no_library_module_reads_the_environment() -> None:
    library = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in SHELLS]
    assert len(library) > 40  # the scan sees the library, not an empty directory
    found = {str(p.relative_to(SRC)): _environ_reads(p) for p in library}
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert _environ_reads(SRC / "cli" / "app.py")  # and it does see a read where there is one


def test_the_library_runs_on_injected_settings_with_an_empty_environment(
    tmp_path: Path,
    fake_pbs: FakePBS,
    synced_template: SyncedTemplate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    synced_template.publish(fake_pbs)
    project = tmp_path / "project"
    project.mkdir()
    minor = ".".join(REAL.split(".")[:2])
    (project / "pyproject.toml").write_text(f'[tool.pylock]\npython = "{minor}"\n', "utf-8")
    home = tmp_path / "injected"
    injected = {
        "PYLOCK_CACHE_DIR": str(home / "cache"),
        "PYLOCK_PYTHON_DIR": str(home / "python"),
    }
    settings = Settings.resolve(
        environ=injected, source=fake_pbs.spec, http=HttpPolicy(retries=0, backoff=0.0)
    )
    isolated = {name: os.environ[name] for name in ("PYLOCK_CACHE_DIR", "PYLOCK_PYTHON_DIR")}
    for name in list(os.environ):
        monkeypatch.delenv(name)

    assert lock_project(project, LockOptions(), settings=settings).written
    synced = sync_project(project, SyncOptions(), settings=settings)
    assert synced.action == "installed"
    assert synced.installation.path.is_relative_to(home / "python")
    python = installed_interpreter(project, settings=settings)
    assert python == synced.installation.interpreter
    report = run_checks(project, CheckOptions(installed_required=True), settings=settings)
    assert report.exit_code == 0, report.lines()
    mirrored = fill_mirror(project, MirrorOptions(tmp_path / "mirror"), settings=settings)
    assert [a.action for a in mirrored.archives] == ["copied"]  # from the injected cache

    assert os.environ == {}  # nothing put a variable back for the library to read
    assert any((home / "cache").iterdir())
    for path in isolated.values():  # where the environment would have sent them: untouched
        assert not Path(path).exists() or not any(Path(path).iterdir())
