"""The no-op sync fast path must agree with the full path: it may say "not proven", never a
wrong "already installed". Every scenario runs both and compares."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from archives import asset_name, build_pbs_archive
from clirun import console_script, pylock, run_in_new_interpreter
from pbs_server import FakePBS
from pylock import hostinfo, launcher, locations, lockfile, noop
from pylock.errors import PylockError
from pylock.platforms import KNOWN_PLATFORMS, host_platform
from pylock.syncing import SyncOptions, sync_project

HOST = host_platform()
BUILD = "20260101"


@pytest.fixture
def synced(fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "3.12"\nplatforms = ["{HOST.key}"]\n', "utf-8"
    )
    fake_pbs.add_release(
        BUILD,
        [
            (
                asset_name(version="3.12.8", build=BUILD, triple=HOST.triple, flavor=flavor),
                build_pbs_archive(version="3.12.8", flavor=flavor),
            )
            for flavor in ("install_only", "install_only_stripped")
        ],
    )
    assert pylock(capsys, "-p", str(tmp_path), "lock", "--source", fake_pbs.spec)[0] == 0
    assert pylock(capsys, "-p", str(tmp_path), "sync")[0] == 0
    return tmp_path


def full_path_is_noop(project: Path, **options: object) -> bool:
    """What the full library path concludes: True for "unchanged", False for anything else."""
    try:
        result = sync_project(project, SyncOptions(offline=True, **options))  # type: ignore[arg-type]
    except PylockError:
        return False
    return result.action == "unchanged"


def agree(project: Path, **options: object) -> str | None:
    fast = noop.check(str(project), **options)  # type: ignore[arg-type]
    if fast is not None:
        assert full_path_is_noop(project, **options), (
            "fast path claimed a no-op the full path denies"
        )
    return fast


def test_synced_project_is_a_noop_on_both_paths(synced: Path) -> None:
    report = agree(synced)
    assert report is not None
    assert report.startswith(
        "cpython 3.12.8 (20260101, install_only_stripped) is already installed at "
    )
    assert full_path_is_noop(synced)


@pytest.mark.parametrize(
    ("table", "fast_decides"),
    [
        ('python = "3.12"', True),
        ('python = "3"', True),
        ('python = "3.12.8"', True),
        ('python = " 3.12 "', True),
        ('python = "3.12"\nflavor = "install_only_stripped"', True),
        (f'python = "3.12"\nbuild = "{BUILD}"', True),
        ('python = "3.12"\nsource = "github"\nmirror = "https://m.example/pbs"', True),
        ('python = "3.12"\nexclude-newer = "2026-01-01"', True),
        ('python = "3.12"\nexclude-newer = "20260101"', True),
        ('python = "3.12"\nexclude-newer = "2025-12-31"', False),  # the build is newer: stale
        ('python = "3.12"\nexclude-newer = "2026-02-30"', False),  # not a day: exit 2
        ('python = "3.12"\nexclude-newer = "2026-01-01T00:00"', False),
        ('python = "3.12"\nexclude-newer = 20260101', False),
        ('python = "3.12"\nexclude-newer = 2026-01-01', None),  # a TOML date: full path decides
        ('python = "3.13"', False),  # stale: both must refuse the no-op
        ('python = "3.12.9"', False),
        ('python = "3.12t"', False),
        ('python = "3.12"\nflavor = "install_only"', False),
        ('python = "3.12"\nbuild = "20250101"', False),
        ('python = "3.12"\nplatforms = ["windows-aarch64-none"]', False),
        # manifest errors the full path reports (exit 2): never "already installed"
        ('python = "3.12"\nplatforms = []', False),
        ('python = "3.12"\nplatforms = [{ key = "x" }]', False),
        ('python = "3.12"\nsource = 5', False),
        ('python = "3.12"\nmirror = " "', False),
        ('python = ">=3.12,<3.13"', None),  # satisfied, but only the full path decides
        ('python = "3.12"\npythn = "3.11"', None),  # a manifest error: the full path reports it
        ('python = "3.12"\nflavor = "debug-full"', None),
    ],
)
def test_manifest_edits(synced: Path, table: str, fast_decides: bool | None) -> None:
    (synced / "pyproject.toml").write_text(f"[tool.pylock]\n{table}\n", "utf-8")
    fast = agree(synced)
    if fast_decides is True:
        assert fast is not None
    else:
        assert fast is None
    if fast_decides is None and "pythn" not in table and "debug" not in table:
        assert full_path_is_noop(synced)


def test_frozen_skips_the_manifest_on_both_paths(synced: Path) -> None:
    (synced / "pyproject.toml").write_text('[tool.pylock]\npython = "3.13"\n', "utf-8")
    assert agree(synced) is None
    assert agree(synced, frozen=True) is not None


def test_receipt_or_lock_that_differ_are_not_a_noop(synced: Path) -> None:
    lock_path = synced / "python.lock"
    text = lock_path.read_text("utf-8")
    (target,) = lockfile.read(lock_path).targets
    lock_path.write_text(text.replace(f"size = {target.size}", f"size = {target.size + 1}"))
    assert agree(synced) is None
    lock_path.write_text(text)
    assert agree(synced) is not None
    receipt = next(Path(os.environ["PYLOCK_PYTHON_DIR"]).glob("*/.pylock/receipt.json"))
    receipt.write_text(receipt.read_text().replace('"receipt_version": 1', '"receipt_version": 9'))
    assert agree(synced) is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("created-by", 'extra = "key"\ncreated-by'),  # an unknown top-level key
        ("[manifest]", "[manifest]\nsource = 'github'"),  # an unknown [manifest] key
        ("[[target]]", '[[target]]\nplatform = "windows-x86_64-none"\n\n[[target]]'),
    ],
)
def test_a_lock_the_full_path_refuses_is_not_a_noop(synced: Path, old: str, new: str) -> None:
    lock_path = synced / "python.lock"
    lock_path.write_text(lock_path.read_text("utf-8").replace(old, new, 1), "utf-8")
    assert not full_path_is_noop(synced)
    assert agree(synced) is None


def test_a_second_target_for_the_host_is_not_a_noop(synced: Path) -> None:
    lock_path = synced / "python.lock"
    text = lock_path.read_text("utf-8")
    target = text[text.index("[[target]]") :]
    lock_path.write_text(text + "\n" + target, "utf-8")
    assert not full_path_is_noop(synced)
    assert agree(synced) is None


def test_another_platform_or_into_elsewhere_is_not_a_noop(synced: Path, tmp_path: Path) -> None:
    assert agree(synced, platform="windows-x86_64-none") is None
    assert agree(synced, into=str(tmp_path / "nowhere")) is None


def test_constants_and_locations_agree_with_the_full_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert noop.LOCK_VERSION == lockfile.LOCK_VERSION
    assert set(lockfile._TOP_KEYS) == noop._LOCK_KEYS
    assert set(lockfile._MANIFEST_KEYS) == noop._LOCKED_MANIFEST_KEYS
    assert set(lockfile._TARGET_KEYS) == noop._TARGET_KEYS
    assert set(lockfile._OPTIONAL_TARGET_KEYS) == noop._OPTIONAL_TARGET_KEYS
    assert Path(noop._python_dir(os.environ)) == locations.python_dir()
    monkeypatch.delenv("PYLOCK_PYTHON_DIR")
    assert Path(noop._python_dir(os.environ)) == locations.python_dir()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Path(noop._python_dir(os.environ)) == locations.python_dir()


def test_host_key_is_a_known_platform_matching_the_stdlib() -> None:
    assert hostinfo.host_key() in {p.key for p in KNOWN_PLATFORMS}
    if sys.platform.startswith("linux"):
        libc, _ = platform.libc_ver()
        assert hostinfo.linux_libc() == ("gnu" if libc == "glibc" else "musl")
        assert hostinfo.machine() == platform.machine().lower()


GLOBALS = {"project": ".", "quiet": False, "verbose": False}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sync"], ("sync", GLOBALS)),
        (
            ["-p", "x", "-q", "sync", "--frozen"],
            ("sync", {**GLOBALS, "project": "x", "quiet": True, "frozen": True}),
        ),
        (
            ["--project=x", "sync", "--into=/opt/py"],
            ("sync", {**GLOBALS, "project": "x", "into": "/opt/py"}),
        ),
        (
            ["check", "--installed", "--deep", "--format", "json"],
            ("check", {**GLOBALS, "installed": True, "deep": True, "format": "json"}),
        ),
        (["sync", "--reinstall"], None),
        (["sync", "--help"], None),
        (["sync", "-q"], None),  # -q is a global option: typer rejects it here, so must we
        (["check", "--frozen"], None),
        (["lock"], None),
        (["--project"], None),
        (["sync", "--into"], None),
        ([], None),
    ],
)
def test_launcher_recognises_only_plain_sync_and_check(args: list[str], expected: object) -> None:
    assert launcher.parse(args) == expected


def test_launcher_option_tables_match_the_typer_commands() -> None:
    """Every option the launcher parses exists on the typer command, and vice versa except
    those it leaves to typer on purpose (--reinstall, --help)."""
    import typer.main

    from pylock.cli import app

    group = typer.main.get_command(app)
    context = typer.Context(group)
    declared_globals = {o for p in group.params for o in p.opts}
    assert set(launcher.GLOBAL_FLAGS) | set(launcher.GLOBAL_VALUES) <= declared_globals
    for name in launcher.COMMAND_FLAGS:
        command = group.get_command(context, name)  # type: ignore[attr-defined]
        declared = {o for p in command.params for o in p.opts if o.startswith("--")}
        parsed = set(launcher.COMMAND_FLAGS[name]) | set(launcher.COMMAND_VALUES[name])
        assert parsed <= declared
        assert declared - parsed <= {"--reinstall"}, name


def test_console_script_noop_imports_nothing_heavy(synced: Path) -> None:
    heavy = ["typer", "httpx", "tomlkit", "rich", "packaging", "platformdirs", "dataclasses"]
    code, printed, imported = run_in_new_interpreter(
        "-p", str(synced), "sync", watch=heavy, script=True
    )
    assert (code, imported) == (0, []), printed
    assert "is already installed at" in printed[0]


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
