"""The content-addressed archive store: layout, verification on lookup, temp files, commit."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylock.base.fsutil import dead_temps, seal
from pylock.base.settings import Settings
from pylock.errors import InputError
from pylock.fetch.cache import ArchiveCache
from temps import dead_writers_file, live_writer

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


def _part(cache: ArchiveCache, name: str) -> Path:
    return cache.store_dir / f".tmp-{name}.part"


@pytest.mark.skipif(os.name == "nt", reason="flock marks a live writer on POSIX")
def test_a_dead_writers_temp_file_is_removed_at_once_a_live_ones_never(tmp_path: Path) -> None:
    """A temp file with bytes in it that nobody holds locked has a dead writer, however young
    (a sync killed a moment ago); one a live process holds is kept, however old."""
    cache = ArchiveCache(tmp_path / "cache")
    dead = dead_writers_file(_part(cache, "dead"))
    old = time.time() - 7200
    with live_writer(_part(cache, "live")) as live:
        os.utime(live, (old, old))  # age does not make a live writer's file dead
        with cache.temp_file() as (temp, _):
            assert temp.exists()
            left = sorted(p.name for p in cache.store_dir.iterdir())
        assert not dead.exists()
        assert live.exists()
        assert left == sorted([live.name, temp.name])
    cache.clean_leftovers()
    assert not live.exists()  # its writer is gone now


@pytest.mark.skipif(os.name == "nt", reason="flock marks a live writer on POSIX")
def test_only_an_empty_unlocked_temp_file_is_given_the_grace_period(tmp_path: Path) -> None:
    """Created but not yet locked looks like this for an instant in a live writer's life, so
    such a file is left to a later run; a file the grace period spared is still removed by
    name (``dead_temps``) once it has bytes and no lock."""
    cache = ArchiveCache(tmp_path / "cache")
    cache.store_dir.mkdir(parents=True)
    empty = _part(cache, "empty")
    empty.touch()
    cache.clean_leftovers()
    assert empty.exists()
    assert dead_temps(cache.store_dir, ".tmp-", ".part") == []
    empty.write_bytes(b"x")
    assert dead_temps(cache.store_dir, ".tmp-", ".part") == [empty]


def test_own_temp_file_is_locked_while_in_use_and_until_it_is_stored(tmp_path: Path) -> None:
    """Our temp file survives another process's clean-up while being written, and after the
    download closed its writing (sealed) until the rename into the store."""
    cache = ArchiveCache(tmp_path / "cache")
    with cache.temp_file() as (temp, stream):
        stream.write(DATA)
        stream.flush()
        _clean_in_another_process(cache)
        assert temp.exists()
        seal(stream)
        _clean_in_another_process(cache)
        assert temp.exists()
        cache.commit(temp, SHA, len(DATA))
    assert not temp.exists()
    assert cache.lookup(SHA, len(DATA)) == cache.path_for(SHA)


def _clean_in_another_process(cache: ArchiveCache) -> None:
    """``clean_leftovers`` as a second pylock run would call it, in a process of its own."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from pylock.fetch.cache import ArchiveCache; "
            "ArchiveCache(Path(sys.argv[1])).clean_leftovers()",
            str(cache.root),
        ],
        check=True,
    )
