"""``pylock prune`` end to end: two projects on two builds, synced for real from 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from archives import build_pbs_archive, delegating_interpreter, file
from clirun import console_script, pylock
from pbs_server import FakePBS
from pylock.fetch.cache import ArchiveCache
from pylock.install.store import install_dir_name
from pylock.resolution import lockfile
from temps import dead_writers_file, live_writer
from test_cli_sync import BUILD, NEWER, REAL, publish

HOST_MINOR = ".".join(REAL.split(".")[:2])


def archive(build: str) -> bytes:
    return build_pbs_archive(
        version=REAL,
        flavor="install_only_stripped",
        interpreter=delegating_interpreter(),
        extra_members=[file("python/NOTE.txt", f"build {build}\n".encode())],
    )


def synced_project(
    root: Path, build: str, fake: FakePBS, capsys: pytest.CaptureFixture[str]
) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{HOST_MINOR}"\nbuild = "{build}"\n', "utf-8"
    )
    code, _, err = pylock(capsys, "-p", str(root), "lock", "--source", fake.spec)
    assert code == 0, err
    code, _, err = pylock(capsys, "-p", str(root), "sync")
    assert code == 0, err
    return root


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, check=False
    )


def everything() -> set[str]:
    """Every path under the install root and the archive store (relative, as strings)."""
    found = set()
    for variable in ("PYLOCK_PYTHON_DIR", "PYLOCK_CACHE_DIR"):
        base = Path(os.environ[variable])
        found |= {str(p.relative_to(base)) for p in base.rglob("*")}
    return found


@pytest.fixture
def two(fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    publish(fake_pbs, BUILD, archive(BUILD))
    publish(fake_pbs, NEWER, archive(NEWER))
    old = synced_project(tmp_path / "old", BUILD, fake_pbs, capsys)
    new = synced_project(tmp_path / "new", NEWER, fake_pbs, capsys)
    return old, new


@pytest.fixture
def live_download() -> Iterator[Path]:
    """A download in progress in the archive cache: a temp file a live process holds."""
    cache = ArchiveCache(Path(os.environ["PYLOCK_CACHE_DIR"]))
    cache.store_dir.mkdir(parents=True, exist_ok=True)
    with live_writer(cache.store_dir / ".tmp-live.part") as live:
        yield live


def test_prune_keeps_this_project_and_removes_the_rest(
    two: tuple[Path, Path], live_download: Path
) -> None:
    old, new = two
    root = Path(os.environ["PYLOCK_PYTHON_DIR"])
    cache = ArchiveCache(Path(os.environ["PYLOCK_CACHE_DIR"]))
    [kept] = lockfile.read(new / "python.lock").targets
    [gone] = lockfile.read(old / "python.lock").targets
    foreign = root / "my-own-python"
    (foreign / "bin").mkdir(parents=True)
    (foreign / "bin" / "python").write_text("mine\n", "utf-8")
    killed = root / f".{install_dir_name(kept)}.tmp-0123456789abcdef"
    (killed / "bin").mkdir(parents=True)
    dead = dead_writers_file(cache.store_dir / ".tmp-dead.part")  # killed a moment ago
    live = live_download

    before = everything()
    dry = run("-p", str(new), "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert everything() == before
    for path in (root / install_dir_name(gone), cache.path_for(gone.sha256), killed, dead):
        assert "Would remove" in dry.stdout and str(path) in dry.stdout, path
    for path in (root / install_dir_name(kept), cache.path_for(kept.sha256), live):
        assert str(path) not in dry.stdout
    assert f"Left alone {foreign}: not a pylock install." in dry.stdout
    assert "Would free" in dry.stdout

    done = run("-p", str(new), "prune")
    assert done.returncode == 0, done.stderr
    assert done.stdout.replace("Removed", "Would remove").replace("Freed", "Would free") == (
        dry.stdout
    )
    assert not (root / install_dir_name(gone)).exists()
    assert not cache.path_for(gone.sha256).exists()
    assert not killed.exists() and not dead.exists()
    assert live.exists() and (foreign / "bin" / "python").read_text("utf-8") == "mine\n"
    assert (root / install_dir_name(kept)).is_dir() and cache.path_for(kept.sha256).is_file()
    assert not any(p.name.startswith(f".{install_dir_name(gone)}") for p in root.iterdir())
    assert run("-p", str(new), "check", "--installed", "--deep").returncode == 0

    again = run("-p", str(new), "prune")
    assert again.returncode == 0
    assert "Removed" not in again.stdout and "Freed 0.0 MB" in again.stdout


def test_every_kept_project_keeps_its_install(two: tuple[Path, Path]) -> None:
    old, new = two
    before = everything()
    done = run("prune", "--keep", str(old), "--keep", str(new))
    assert done.returncode == 0, done.stderr
    assert "Removed" not in done.stdout
    assert "kept 2 installs and 2 archives" in done.stdout
    assert everything() == before


def test_a_kept_project_without_a_lock_stops_prune(two: tuple[Path, Path], tmp_path: Path) -> None:
    old, _ = two
    before = everything()
    done = run("prune", "--keep", str(old), "--keep", str(tmp_path))
    assert done.returncode == 2
    assert str(tmp_path) in done.stderr and "Traceback" not in done.stderr
    assert everything() == before
