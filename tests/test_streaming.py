"""Install while downloading (``download.Download`` through ``installer.install``), on a real
loopback server: the bytes stream once into the temp tree and the cache, and nothing is placed
or cached unless the whole stream matched the lock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from archives import build_pbs_archive, hostile_archive, make_target
from pylock.errors import ExternalError, VerificationError
from pylock.fetch.cache import ArchiveCache
from pylock.fetch.download import Download
from pylock.install.installer import install
from pylock.net.http import HttpPolicy, make_client
from pylock.resolution.lockfile import Target
from test_download import Loopback, close_early, reset, serve

POLICY = HttpPolicy(backoff=0.0, retries=2, timeout=5.0)


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.close()


def _install(target: Target, cache: ArchiveCache, dest: Path) -> None:
    with make_client(POLICY) as client:
        download = Download(target, cache, client, POLICY)
        install(download, target, dest, run_interpreter=False)


def _leftovers(dest: Path, cache: ArchiveCache) -> list[str]:
    beside = [p.name for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}.tmp")]
    temp = [p.name for p in cache.store_dir.glob(".tmp-*")] if cache.store_dir.exists() else []
    return beside + temp


def _stored(cache: ArchiveCache) -> list[str]:
    if not cache.store_dir.exists():
        return []
    return sorted(p.name for p in cache.store_dir.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("fmt", ["gz", "zst"])
def test_streamed_install_places_the_tree_and_caches_the_archive(
    server: Loopback, tmp_path: Path, fmt: str
) -> None:
    data = build_pbs_archive(fmt=fmt, padding=3 * 1024 * 1024)
    target = make_target(data, url=server.route("/a", serve(data)))
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    _install(target, cache, dest)
    assert (dest / "bin" / "python3.12").is_file()
    assert (dest / ".pylock" / "receipt.json").is_file()
    assert _stored(cache) == [hashlib.sha256(data).hexdigest()]
    assert server.count("/a") == 1
    assert _leftovers(dest, cache) == []


def test_a_transfer_cut_short_restarts_extraction_from_an_empty_tree(
    server: Loopback, tmp_path: Path
) -> None:
    data = build_pbs_archive(padding=3 * 1024 * 1024)
    url = server.route("/a", close_early(data, len(data) // 2), reset(data, 5000), serve(data))
    target = make_target(data, url=url)
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    _install(target, cache, dest)
    assert server.count("/a") == 3
    assert (dest / ".pylock" / "RECORD").is_file()
    assert _leftovers(dest, cache) == []


def test_other_bytes_are_reported_as_a_mismatch_nothing_placed_or_cached(
    server: Loopback, tmp_path: Path
) -> None:
    locked = build_pbs_archive()
    served = build_pbs_archive(version="3.12.9")  # a valid archive, but not the locked one
    target = make_target(locked, url=server.route("/a", serve(served)))
    target = Target(**{**target.__dict__, "size": len(served)})
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    with pytest.raises(VerificationError, match="expected sha256"):
        _install(target, cache, dest)
    assert not dest.exists()
    assert _stored(cache) == [] and _leftovers(dest, cache) == []


def test_a_refused_archive_that_is_not_the_locked_one_is_a_mismatch(
    server: Loopback, tmp_path: Path
) -> None:
    """The extractor refuses a member before the stream ends; the rest is still hashed, so the
    user learns the more useful truth: a different file is being served."""
    locked = build_pbs_archive()
    served = hostile_archive("dotdot")
    target = make_target(locked, url=server.route("/a", serve(served)))
    target = Target(**{**target.__dict__, "size": len(served)})
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    with pytest.raises(VerificationError, match="expected sha256") as caught:
        _install(target, cache, dest)
    assert "'..'" in str(caught.value.__cause__)
    assert not dest.exists() and _stored(cache) == [] and _leftovers(dest, cache) == []


def test_a_refused_archive_that_is_the_locked_one_is_refused_as_such(
    server: Loopback, tmp_path: Path
) -> None:
    served = hostile_archive("dotdot")
    target = make_target(served, url=server.route("/a", serve(served)))
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    with pytest.raises(VerificationError, match="Refusing to install"):
        _install(target, cache, dest)
    assert not dest.exists() and _stored(cache) == [] and _leftovers(dest, cache) == []


def test_without_a_locked_size_the_ceiling_bounds_the_download(
    server: Loopback, tmp_path: Path
) -> None:
    data = build_pbs_archive(padding=2 * 1024 * 1024)
    target = make_target(data, url=server.route("/a", serve(data)))
    target = Target(**{**target.__dict__, "size": None})
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    with make_client(POLICY) as client:
        download = Download(target, cache, client, POLICY, ceiling=1024 * 1024)
        with pytest.raises(VerificationError, match="larger than any archive pylock accepts"):
            install(download, target, dest, run_interpreter=False)
    assert not dest.exists() and _stored(cache) == [] and _leftovers(dest, cache) == []


def test_unreachable_server_leaves_nothing(tmp_path: Path) -> None:
    data = build_pbs_archive()
    target = make_target(data, url="http://127.0.0.1:9/a")
    cache, dest = ArchiveCache(tmp_path / "cache"), tmp_path / "py" / "dest"
    with pytest.raises(ExternalError):
        _install(target, cache, dest)
    assert not dest.exists() and _stored(cache) == [] and _leftovers(dest, cache) == []
