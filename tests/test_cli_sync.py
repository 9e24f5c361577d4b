"""``pylock sync``, ``which``, ``run`` and ``show`` end to end through the command line.

The fake GitHub on 127.0.0.1 publishes small PBS-shaped archives built by ``tests/archives.py``
for this host; ``pylock lock`` resolves them, and ``pylock sync`` downloads, verifies, extracts,
runs and records them for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from archives import (
    Member,
    build_pbs_archive,
    delegating_interpreter,
    hostile_archive,
    inflation_bomb,
)
from archives import asset_name as pbs_asset_name
from clirun import console_script, heavy_imports, pylock, run_in_new_interpreter
from conftest import SyncedTemplate
from pbs_server import FakePBS
from pylock.base import settings as settings_module
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile

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


CONSOLE_SCRIPT_SAYING_WHAT_IT_IMPORTED = """
import atexit, sys
out = sys.argv.pop(1)
def imported():  # the exit handlers run even on the console script's quick exit
    with open(out, "w") as file:
        file.write(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
atexit.register(imported)
from pylock.cli.launcher import console
console()
"""


def test_sync_on_a_terminal_draws_a_progress_bar(locked: Path, tmp_path: Path) -> None:
    """On a TTY the download is a bar, erased when the install is done, without rich (whose
    import, on the download thread, cost a terminal user 40-70 ms: cli/progress.py)."""
    import pty

    output = bytearray()

    def read(fd: int) -> bytes:
        data = os.read(fd, 4096)
        output.extend(data)
        return data

    imported = tmp_path / "imported"
    argv = [sys.executable, "-c", CONSOLE_SCRIPT_SAYING_WHAT_IT_IMPORTED, str(imported)]
    status = pty.spawn([*argv, "-p", str(locked), "sync"], read)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Downloading the locked interpreter" in text
    assert " MB/s " in text and "\x1b[J" in text  # a bar, drawn, then erased
    assert "Installed cpython" in text.rpartition("\x1b[J")[2]  # the result after it
    modules = imported.read_text().split()
    assert "httpx" in modules  # it did download
    assert "rich" not in modules


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
    # The command's own policy, but without the half-second back-off: the retry still happens.
    default_policy = settings_module.http_policy
    monkeypatch.setattr(
        settings_module,
        "http_policy",
        lambda *a, **k: replace(default_policy(*a, **k), backoff=0.0),
    )
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


def cache_entries() -> list[Path]:
    store = Path(os.environ["PYLOCK_CACHE_DIR"]) / "archives" / "sha256"
    return sorted(store.iterdir()) if store.exists() else []


def test_inflation_bomb_is_refused_although_its_sha256_is_locked(
    fake_pbs: FakePBS, proj: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2.1 MB that inflates to one 2 GiB file: refused at its header, nothing written."""
    bomb = inflation_bomb(version=REAL)
    assert len(bomb) < 2_500_000
    publish(fake_pbs, BUILD, bomb)
    assert pylock(capsys, "-p", str(proj), "lock", "--source", fake_pbs.spec)[0] == 0
    code, out, err = pylock(capsys, "-p", str(proj), "sync")
    assert code == 1, err
    assert "'python/bin/bomb'" in err and "PYLOCK_MAX_INSTALL_BYTES" in err
    assert "Traceback" not in out + err
    assert leftovers() == []
    assert cache_entries() == []  # refused bytes are not kept, even under their own digest


def test_inflation_bomb_with_another_sha256_is_refused(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (target,) = lockfile.read(locked / "python.lock").targets
    fake_pbs.releases[BUILD].files[target.asset_name] = inflation_bomb(version=REAL)
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 1, err
    assert leftovers() == [] and cache_entries() == []


def test_over_long_member_name_is_a_refused_archive(
    fake_pbs: FakePBS, proj: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "python/" + "n" * 5000
    publish(fake_pbs, BUILD, real_archive(extra_members=[Member(name, data=b"x")]))
    assert pylock(capsys, "-p", str(proj), "lock", "--source", fake_pbs.spec)[0] == 0
    code, _, err = pylock(capsys, "-p", str(proj), "sync")
    assert code == 1, err
    assert "is longer than 1024 bytes" in err
    assert "(5007 characters)" in err
    assert len(err) < 1000  # one short paragraph, the name cut
    assert leftovers() == [] and cache_entries() == []


def test_member_limit_can_be_set(
    fake_pbs: FakePBS,
    locked: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYLOCK_MAX_INSTALL_MEMBERS", "5")
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 1, err
    assert "more than 5 members" in err and "PYLOCK_MAX_INSTALL_MEMBERS" in err
    monkeypatch.setenv("PYLOCK_MAX_INSTALL_MEMBERS", "many")
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 2
    assert "PYLOCK_MAX_INSTALL_MEMBERS is 'many'" in err
    monkeypatch.delenv("PYLOCK_MAX_INSTALL_MEMBERS")
    assert pylock(capsys, "-p", str(locked), "sync")[0] == 0


def _sync_process(project: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(console_script()), "-p", str(project), "sync"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _partial_downloads() -> list[Path]:
    return [p for p in cache_entries() if p.name.startswith(".")]


def _wait_for_partial_download(process: subprocess.Popen[bytes]) -> None:
    """Until the sync has written bytes of the archive into the cache's temp file (or ended)."""
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if any(p.stat().st_size > 0 for p in _partial_downloads()):
                return
        time.sleep(0.002)


def test_a_sync_killed_mid_download_leaves_no_partial_file_after_the_next_sync(
    fake_pbs: FakePBS, proj: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL a real `pylock sync` while a loopback mirror is half-way through the archive,
    then sync again at once: the dead run's partial download is gone, though it is seconds old
    (a live writer holds its temp file locked; an unlocked one with bytes has a dead writer)."""
    if os.name == "nt":
        pytest.skip("SIGKILL and flock are POSIX")
    import threading
    from urllib.parse import quote

    from test_download import Loopback, stall_after

    archive = real_archive(padding=4 * 1024 * 1024)  # chunks of 1 MiB reach the temp file
    publish(fake_pbs, BUILD, archive)
    locked = proj
    assert pylock(capsys, "-p", str(locked), "lock", "--source", fake_pbs.spec)[0] == 0
    (target,) = lockfile.read(locked / "python.lock").targets
    release = threading.Event()
    mirror = Loopback()
    try:
        mirror.route(
            f"/m/{BUILD}/{quote(target.asset_name, safe='')}",
            stall_after(archive, len(archive) // 2, release),  # half, then nothing for a while
        )
        process = subprocess.Popen(
            [str(console_script()), "-p", str(locked), "sync", "--mirror", mirror.url("/m")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_partial_download(process)
        process.kill()
        assert process.wait() == -signal.SIGKILL
    finally:
        release.set()
        mirror.close()
    [partial] = _partial_downloads()
    assert partial.stat().st_size > 0
    code, out, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 0, err
    assert f"Installed cpython {REAL}" in out
    assert _partial_downloads() == []
    assert [p.name for p in cache_entries()] == [target.sha256]
    assert leftovers() == []


def _whole_or_absent(project: Path) -> None:
    """Every install under the root is complete (its receipt's tree matches); no half one."""
    root = python_dir()
    if not root.exists():
        return
    for entry in root.iterdir():
        if entry.name.endswith(".lock") or entry.name.startswith("."):
            continue  # lock files; dot-named temp trees are leftovers, checked after a sync
        assert (entry / ".pylock" / "receipt.json").is_file(), entry


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_no_install_or_a_whole_one(
    fake_pbs: FakePBS, proj: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real SIGKILLs of a real `pylock sync` while it downloads and extracts; the next sync
    removes what the dead ones left and installs."""
    if os.name == "nt":
        pytest.skip("SIGKILL is POSIX")
    publish(fake_pbs, BUILD, real_archive(padding=6 * 1024 * 1024))
    assert pylock(capsys, "-p", str(proj), "lock", "--source", fake_pbs.spec)[0] == 0
    chooser = random.Random(8)
    dead_leftovers = 0
    for _ in range(6):
        process = _sync_process(proj)
        _wait_for_partial_download(process)
        time.sleep(chooser.uniform(0, 0.12))  # then a random point of download/extract/check
        process.kill()
        process.communicate()
        _whole_or_absent(proj)
        dead_leftovers += len(leftovers()) + len(
            [p for p in cache_entries() if p.name.startswith(".")]
        )
        # Start the next run from scratch: no finished install, no cached archive.
        for install in python_dir().glob("cpython-*"):
            shutil.rmtree(install)
        for entry in cache_entries():
            if not entry.name.startswith("."):
                entry.unlink()
    assert dead_leftovers > 0  # the kills did land mid-install, leaving something to clean
    code, _, err = pylock(capsys, "-p", str(proj), "sync")  # at once: no file aged past a grace
    assert code == 0, err
    assert leftovers() == []
    assert [p.name for p in cache_entries() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_concurrent_syncs_download_once(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pbs.log.clear()
    processes = [_sync_process(locked) for _ in range(8)]
    # communicate() returns when the child exits; wait(timeout=...) would poll for it.
    results = [(p.communicate(timeout=120)[1], p.returncode) for p in processes]
    assert all(code == 0 for _, code in results), results
    assert len(fake_pbs.download_log) == 1
    installs = [p for p in python_dir().iterdir() if not p.name.endswith(".lock")]
    assert len(installs) == 1
    assert leftovers() == []


@pytest.mark.parametrize("variable", ["PYLOCK_PYTHON_DIR", "PYLOCK_CACHE_DIR"])
def test_unwritable_install_or_cache_fails_before_downloading(
    fake_pbs: FakePBS,
    locked: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\\n")
    monkeypatch.setenv(variable, str(blocker / "below"))
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "-p", str(locked), "sync")
    assert code == 3, err
    assert str(blocker) in err
    assert fake_pbs.download_log == []


def test_stalled_download_fails_within_the_http_timeout(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mirror that stalls half-way: exit 3 naming the URL, the bytes and the knob."""
    import threading
    from urllib.parse import quote

    from test_download import Loopback, stall_after

    (target,) = lockfile.read(locked / "python.lock").targets
    archive = fake_pbs.releases[BUILD].files[target.asset_name]
    release = threading.Event()
    mirror = Loopback()
    try:
        url = mirror.route(
            f"/m/{BUILD}/{quote(target.asset_name, safe='')}",
            stall_after(archive, len(archive) // 2, release),
        )
        started = time.monotonic()
        code, _, err = pylock(
            capsys, "-p", str(locked), "sync", "--mirror", mirror.url("/m"), "--http-timeout", "0.3"
        )
        elapsed = time.monotonic() - started
    finally:
        release.set()
        mirror.close()
    assert code == 3, err
    assert url in err and f"{len(archive) // 2} bytes received" in err
    assert "--http-timeout" in err
    assert elapsed < 5
    assert leftovers() == [] and cache_entries() == []


@pytest.mark.parametrize(
    ("value", "needle"), [("-1", "--http-timeout is"), ("soon", "--http-timeout")]
)
def test_bad_http_timeout_is_a_usage_error(
    fake_pbs: FakePBS, locked: Path, capsys: pytest.CaptureFixture[str], value: str, needle: str
) -> None:
    code, _, err = pylock(capsys, "-p", str(locked), "sync", "--http-timeout", value)
    assert code == 2
    assert needle in err
    assert fake_pbs.download_log == []
