"""The content-addressed archive store: layout, verification on lookup, temp files, commit."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylock.base.settings import Settings
from pylock.errors import InputError
from pylock.fetch.cache import ArchiveCache

DATA = b"an archive's bytes\n" * 1000
SHA = hashlib.sha256(DATA).hexdigest()


def store(cache: ArchiveCache, data: bytes) -> Path:
    with cache.temp_file() as (temp, stream):
        stream.write(data)
        stream.close()
        return cache.commit(temp, hashlib.sha256(data).hexdigest(), len(data))


def test_the_settings_root_follows_pylock_cache_dir(tmp_path: Path) -> None:
    settings = Settings.resolve(environ={"PYLOCK_CACHE_DIR": str(tmp_path / "c")})
    assert ArchiveCache(settings.cache_dir).root == tmp_path / "c"


def test_path_for_is_content_addressed(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    assert cache.path_for(SHA) == tmp_path / "archives" / "sha256" / SHA
    assert cache.path_for(SHA.upper()) == cache.path_for(SHA)


@pytest.mark.parametrize("bad", ["", "abc", "../" + SHA[3:], SHA[:-1] + "g", SHA + "0"])
def test_path_for_refuses_what_is_not_a_digest(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InputError, match="sha256"):
        ArchiveCache(tmp_path).path_for(bad)


def test_commit_then_lookup(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    assert cache.lookup(SHA, len(DATA)) is None
    path = store(cache, DATA)
    assert path == cache.path_for(SHA)
    assert path.read_bytes() == DATA
    assert cache.lookup(SHA, len(DATA)) == path
    assert sorted(p.name for p in cache.store_dir.iterdir()) == [SHA]


def test_commit_replaces_an_existing_entry(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    store(cache, DATA)
    assert store(cache, DATA).read_bytes() == DATA
    assert [p.name for p in cache.store_dir.iterdir()] == [SHA]


@pytest.mark.parametrize("damage", ["truncate", "flip", "grow"])
def test_lookup_deletes_a_corrupt_entry(tmp_path: Path, damage: str) -> None:
    cache = ArchiveCache(tmp_path)
    path = store(cache, DATA)
    if damage == "truncate":
        path.write_bytes(DATA[:-1])
    elif damage == "flip":
        path.write_bytes(b"X" + DATA[1:])
    else:
        path.write_bytes(DATA + b"\0")
    assert cache.lookup(SHA, len(DATA)) is None
    assert not path.exists()


def test_lookup_checks_the_size_the_caller_expects(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    path = store(cache, DATA)
    assert cache.lookup(SHA, len(DATA) + 1) is None
    assert not path.exists()


def test_temp_file_is_removed_on_error(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    seen: list[Path] = []
    with pytest.raises(RuntimeError), cache.temp_file() as (temp, stream):
        seen.append(temp)
        stream.write(b"partial")
        assert temp.parent == cache.store_dir
        raise RuntimeError("boom")
    assert not seen[0].exists()
    assert list(cache.store_dir.iterdir()) == []


def test_temp_file_is_removed_on_keyboard_interrupt(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    with pytest.raises(KeyboardInterrupt), cache.temp_file() as (_, stream):
        stream.write(b"partial")
        raise KeyboardInterrupt
    assert list(cache.store_dir.iterdir()) == []


def test_temp_files_have_unique_names(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path)
    with cache.temp_file() as (first, _), cache.temp_file() as (second, _):
        assert first != second
        assert first.exists() and second.exists()


def _part(cache: ArchiveCache, name: str, age: float) -> Path:
    cache.store_dir.mkdir(parents=True, exist_ok=True)
    path = cache.store_dir / f".tmp-{name}.part"
    path.write_bytes(b"partial download")
    old = time.time() - age
    os.utime(path, (old, old))
    return path


@pytest.mark.skipif(os.name == "nt", reason="flock marks a live writer on POSIX")
def test_a_dead_writers_temp_file_is_removed_a_live_ones_is_kept(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    dead = _part(cache, "dead", age=60)
    young = _part(cache, "young", age=0)
    live = _part(cache, "live", age=60)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
            str(live),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with cache.temp_file() as (temp, _):
            assert temp.exists()
            left = sorted(p.name for p in cache.store_dir.iterdir())
        assert not dead.exists()
        assert young.exists() and live.exists()
        assert len(left) == 3  # young, live and our own
    finally:
        holder.communicate("")
    cache.clean_leftovers()
    assert not live.exists()  # its writer is gone now
    assert young.exists()  # too young to judge


def test_own_temp_file_is_locked_while_in_use(tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    with cache.temp_file() as (temp, _):
        old = time.time() - 60
        os.utime(temp, (old, old))
        cache.clean_leftovers()  # as a second process would
        assert temp.exists()
    assert not temp.exists()
