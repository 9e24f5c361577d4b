"""``pylock sync``, ``which``, ``run`` and ``show`` end to end through the command line.

The fake GitHub on 127.0.0.1 publishes small PBS-shaped archives built by ``tests/archives.py``
for this host; ``pylock lock`` resolves them, and ``pylock sync`` downloads, verifies, extracts,
runs and records them for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archives import asset_name as pbs_asset_name
from archives import build_pbs_archive, delegating_interpreter, hostile_archive
from clirun import console_script, heavy_imports, pylock, run_in_new_interpreter
from conftest import SyncedTemplate
from pbs_server import FakePBS
from pylock import lockfile
from pylock.platforms import host_platform

HOST = host_platform()
# The archive's interpreter delegates to the Python running the tests, so it must claim that
# Python's version: pylock runs it and refuses any other answer.
REAL = ".".join(str(part) for part in sys.version_info[:3])
BUILD = "20260101"
NEWER = "20260201"


def publish(fake: FakePBS, build: str, archive: bytes, version: str = REAL) -> str:
    name = pbs_asset_name(
        version=version, build=build, triple=HOST.triple, flavor="install_only_stripped"
    )
    fake.add_release(build, [(name, archive)])
    return name


def real_archive(version: str = REAL, **options: object) -> bytes:
    return build_pbs_archive(
        version=version,
        flavor="install_only_stripped",
        interpreter=delegating_interpreter(),
        **options,  # type: ignore[arg-type]
    )


def python_dir() -> Path:
    return Path(os.environ["PYLOCK_PYTHON_DIR"])


def leftovers() -> list[str]:
    """Anything in the install root besides finished installs and their lock files."""
    root = python_dir()
    if not root.exists():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if not p.name.endswith(".lock") and not (p / ".pylock" / "receipt.json").exists()
    )


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    minor = ".".join(REAL.split(".")[:2])
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{minor}"\nplatforms = ["{HOST.key}"]\n', "utf-8"
    )
    return tmp_path


@pytest.fixture
def locked(fake_pbs: FakePBS, proj: Path, synced_template: SyncedTemplate) -> Path:
    """``proj`` locked to ``real_archive()`` at BUILD, which the fake GitHub serves."""
    assert synced_template.build == BUILD and synced_template.assets[0][1] == real_archive()
    synced_template.publish(fake_pbs)
    return synced_template.locked(proj)


def test_lock_sync_which_run_show(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 0, err
    assert f"Installed cpython {REAL} ({BUILD}, install_only_stripped)" in out
    assert err.startswith("Downloading the locked interpreter (")  # not a TTY: one plain line
    (target,) = lockfile.read(locked / "python.lock").targets
    install = python_dir() / f"cpython-{REAL}+{BUILD}-{HOST.key}-{target.sha256[:12]}"
    assert (install / "BUILD").read_text() == f"{BUILD}\n"
    receipt = json.loads((install / ".pylock" / "receipt.json").read_text())
    assert receipt["target"]["sha256"] == target.sha256

    code, out, _ = pylock(capsys, "-p", str(locked), "which")
    assert code == 0
    interpreter = Path(out.strip())
    assert interpreter.is_file()
    assert interpreter.is_relative_to(install)

    script = "import os, sys; print(sys.version_info[:3]); print(os.environ['PATH'])"
    exe = console_script()
    ran = subprocess.run(
        [str(exe), "-p", str(locked), "run", "--", "python", "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    version_line, path_line = ran.stdout.splitlines()
    assert version_line == str(tuple(sys.version_info[:3]))
    assert path_line.split(os.pathsep)[0] == str(interpreter.parent)

    failing = subprocess.run(
        [str(exe), "-p", str(locked), "run", "--", "python", "-c", "raise SystemExit(7)"],
        capture_output=True,
        check=False,
    )
    assert failing.returncode == 7

    code, out, _ = pylock(capsys, "-p", str(locked), "show", "--format", "json")
    assert code == 0
    (row,) = json.loads(out)["targets"]
    assert row["installed"] is True
    assert row["path"] == str(install)
    assert row["sha256"] == target.sha256


def test_resync_is_a_no_op_without_network(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pylock(capsys, "-p", str(locked), "sync")[0] == 0
    fake_pbs.log.clear()
    code, out, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 0
    assert "already installed" in out
    assert err == ""
    assert fake_pbs.log == []


def test_noop_sync_imports_no_network_or_toml_writer(locked: Path) -> None:
    """The fast path reads a receipt; httpx, tomlkit and rich must not even be imported."""
    first = subprocess.run(
        [sys.executable, "-m", "pylock", "-q", "-p", str(locked), "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stderr  # installs; the run below is the no-op under test
    assert heavy_imports("-p", str(locked), "sync") == (0, [])


def test_sync_on_a_terminal_draws_a_progress_bar(locked: Path) -> None:
    """On a TTY the download is a rich progress bar; the command still ends the same way."""
    import pty

    output = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        output.extend(data)
        return data

    argv = [str(console_script()), "-p", str(locked), "sync"]
    status = pty.spawn(argv, read)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Downloading the locked interpreter" in text
    assert "Installed cpython" in text


def test_a_new_lock_entry_installs_beside_the_old(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pylock(capsys, "-p", str(locked), "sync")[0] == 0
    first = pylock(capsys, "-p", str(locked), "which")[1].strip()
    publish(fake_pbs, NEWER, real_archive(padding=1000))
    assert pylock(capsys, "-p", str(locked), "lock", "--upgrade", "--source", fake_pbs.spec)[0] == 0
    code, out, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 0, err
    assert NEWER in out
    second = pylock(capsys, "-p", str(locked), "which")[1].strip()
    assert first != second
    assert Path(first).is_file() and Path(second).is_file()
    assert NEWER in second


def test_into_an_exact_directory(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "opt" / "python"
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--into", str(dest))
    assert code == 0, err
    assert (dest / ".pylock" / "receipt.json").is_file()
    assert (dest / "bin" / "python").exists()
    code, out, _ = pylock(capsys, "-p", str(locked), "which", "--into", str(dest))
    assert code == 0
    assert Path(out.strip()).parent == dest / "bin"
    assert not python_dir().exists() or not any(python_dir().iterdir())


def test_into_a_directory_that_is_not_a_pylock_install_is_refused(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "precious"
    dest.mkdir()
    (dest / "data.txt").write_text("keep me")
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--into", str(dest))
    assert code == 2
    assert str(dest) in err
    assert (dest / "data.txt").read_text() == "keep me"
    assert sorted(p.name for p in dest.iterdir()) == ["data.txt"]


def test_mirror_directory(
    fake_pbs: FakePBS, locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (target,) = lockfile.read(locked / "python.lock").targets
    mirror = tmp_path / "mirror"
    (mirror / BUILD).mkdir(parents=True)
    (mirror / BUILD / target.asset_name).write_bytes(
        fake_pbs.releases[BUILD].files[target.asset_name]
    )
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--mirror", str(mirror))
    assert code == 0, err
    assert fake_pbs.log == []  # every byte came from the mirror


def test_manifest_mirror_directory_is_relative_to_the_project(
    fake_pbs: FakePBS,
    locked: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (target,) = lockfile.read(locked / "python.lock").targets
    (locked / "pbs-mirror" / BUILD).mkdir(parents=True)
    (locked / "pbs-mirror" / BUILD / target.asset_name).write_bytes(
        fake_pbs.releases[BUILD].files[target.asset_name]
    )
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'mirror = "pbs-mirror"\n', "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 0, err
    assert fake_pbs.log == []


def test_mirror_serving_other_bytes_is_refused(
    locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (target,) = lockfile.read(locked / "python.lock").targets
    mirror = tmp_path / "mirror"
    (mirror / BUILD).mkdir(parents=True)
    (mirror / BUILD / target.asset_name).write_bytes(real_archive(padding=10))
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--mirror", str(mirror))
    assert code == 1
    assert "does not match python.lock" in err
    assert leftovers() == []
    assert not python_dir().exists() or not any(
        (p / ".pylock").exists() for p in python_dir().iterdir()
    )


def test_offline_with_and_without_the_archive_cached(
    fake_pbs: FakePBS, locked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--offline")
    assert code == 3
    (target,) = lockfile.read(locked / "python.lock").targets
    assert target.sha256 in err or target.asset_name in err
    assert fake_pbs.download_log == []

    assert pylock(capsys, "-p", str(locked), "sync")[0] == 0  # fills the archive cache
    dest = tmp_path / "elsewhere"
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--offline", "--into", str(dest))
    assert code == 0, err
    assert fake_pbs.log == []
    assert (dest / ".pylock" / "receipt.json").is_file()
    # Installing from the archive cache needs no network stack at all.
    assert heavy_imports("-p", str(locked), "sync", "--into", str(tmp_path / "third")) == (0, [])


@pytest.mark.parametrize(
    ("archive", "needle"),
    [
        (lambda: hostile_archive("dotdot"), ".."),
        (lambda: hostile_archive("symlink-escape"), "escape"),
        (lambda: hostile_archive("hardlink-absolute"), "/etc/passwd"),
        (lambda: hostile_archive("chardev"), "dev"),
        (
            lambda: build_pbs_archive(
                version=REAL, flavor="install_only_stripped", reported_version="3.9.1"
            ),
            "3.9.1",
        ),
        (lambda: b"this is not a tar archive at all\n" * 10, "archive"),
    ],
    ids=["dotdot", "symlink", "hardlink", "device", "lying-interpreter", "not-a-tar"],
)
def test_hostile_archives_are_refused_with_nothing_left(
    fake_pbs: FakePBS,
    proj: Path,
    capsys: pytest.CaptureFixture[str],
    archive: object,
    needle: str,
) -> None:
    data = archive()  # type: ignore[operator]
    publish(fake_pbs, BUILD, data)
    assert pylock(capsys, "-p", str(proj), "lock", "--source", fake_pbs.spec)[0] == 0
    code, out, err = pylock(capsys, "-p", str(proj), "sync")
    assert code == 1, err
    assert needle in err
    assert "Traceback" not in out + err
    assert leftovers() == []
    assert not python_dir().exists() or not any(
        (p / ".pylock").exists() for p in python_dir().iterdir()
    )


def test_server_serving_other_bytes_than_locked_is_refused(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (target,) = lockfile.read(locked / "python.lock").targets
    release = fake_pbs.releases[BUILD]
    original = release.files[target.asset_name]
    release.files[target.asset_name] = original[:-1] + bytes([original[-1] ^ 1])
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 1
    assert target.sha256 in err
    assert leftovers() == []
    cache = Path(os.environ["PYLOCK_CACHE_DIR"]) / "archives" / "sha256"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_404_is_an_environment_error(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (target,) = lockfile.read(locked / "python.lock").targets
    del fake_pbs.releases[BUILD].files[target.asset_name]
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 3
    assert "404" in err
    assert leftovers() == []


def test_500_then_success_is_retried(
    fake_pbs: FakePBS,
    locked: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_pbs.fail_next(1, status=503)
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 0, err
    statuses = [r.status for r in fake_pbs.download_log]
    assert statuses == [503, 200]


def test_stale_lock_is_refused_unless_frozen(
    locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = locked / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('python = "', 'python = ">=3.99,<4"  # '))
    pyproject.write_text(f'[tool.pylock]\npython = ">=3.99"\nplatforms = ["{HOST.key}"]\n', "utf-8")
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 1
    assert "pylock lock" in err and ">=3.99" in err
    assert leftovers() == [] and not python_dir().exists()
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--frozen")
    assert code == 0, err


def test_no_target_for_this_host_names_the_fix(
    locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "windows-x86_64-none" if HOST.os != "windows" else "linux-x86_64-gnu"
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--platform", other)
    assert code == 2
    assert f"pylock lock --platform {other}" in err


def test_which_before_sync_exits_1_with_a_hint(
    locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = pylock(capsys, "-p", str(locked), "which")
    assert code == 1
    assert "pylock sync" in err


def test_two_syncs_at_once_install_once(locked: Path) -> None:
    exe = console_script()
    procs = [
        subprocess.Popen(
            [str(exe), "-p", str(locked), "sync"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    outputs = sorted(r[0].strip().split(" ")[0] for r in results)
    assert outputs == ["Installed", "cpython"], results  # one installed, one found it installed
    installs = [p for p in python_dir().iterdir() if (p / ".pylock").exists()]
    assert len(installs) == 1
    assert leftovers() == []


def test_console_script_cold_sync_runs_without_typer(locked: Path) -> None:
    """The launcher runs a plain `pylock sync` itself; typer is only for the other commands."""
    code, printed, imported = run_in_new_interpreter(
        "-p", str(locked), "sync", watch=["typer"], script=True
    )
    assert (code, imported) == (0, []), printed
    assert printed[0].startswith(f"Installed cpython {REAL}")
