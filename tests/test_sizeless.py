"""A lock without sizes (what a catalog gives) flows through download, cache, check and sync.

uv's download-metadata.json states no sizes and a lock asks an archive's host nothing, so such a
target has ``size`` absent; the sha256 alone then decides. Every test here serves real bytes on
127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from archives import asset_name as pbs_asset_name
from archives import build_pbs_archive, delegating_interpreter
from clirun import pylock
from pbs_server import FakePBS
from pylock.base.settings import Settings
from pylock.checking.checks import CheckOptions, run_checks
from pylock.errors import VerificationError
from pylock.fetch.cache import ArchiveCache
from pylock.fetch.download import fetch_archive
from pylock.net.http import HttpPolicy, make_client
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, LockedManifest, Target

POLICY = HttpPolicy(retries=1, backoff=0.0, timeout=10.0)
DATA = b"an archive whose size no catalog states\n" * 1000
NAME = "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"


def target_at(url: str, data: bytes = DATA) -> Target:
    return Target(
        platform="linux-x86_64-gnu",
        triple="x86_64-unknown-linux-gnu",
        implementation="cpython",
        version="3.12.8",
        build="20241219",
        flavor="install_only_stripped",
        variant="default",
        url=url,
        size=None,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def serve(httpserver: HTTPServer, data: bytes) -> str:
    path = f"/download/20241219/{NAME}"
    httpserver.expect_request(path).respond_with_data(data)
    return httpserver.url_for(path).replace("+", "%2B")


def fetch(target: Target, cache: ArchiveCache) -> Path:
    with make_client(POLICY) as client:
        return fetch_archive(target, cache=cache, client=client, policy=POLICY)


def test_download_without_a_size_is_verified_by_sha256(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    target = target_at(serve(httpserver, DATA))
    path = fetch(target, cache)
    assert path.read_bytes() == DATA
    assert cache.lookup(target.sha256, None) == path
    requests = len(httpserver.log)
    fetch(target, cache)  # a cache hit: no second request
    assert len(httpserver.log) == requests
    assert cache.lookup(target.sha256, len(DATA) + 1) is None  # a stated size still counts


def test_wrong_bytes_without_a_size_are_refused(httpserver: HTTPServer, tmp_path: Path) -> None:
    cache = ArchiveCache(tmp_path / "cache")
    target = target_at(serve(httpserver, DATA + b"more"))
    with pytest.raises(VerificationError) as info:
        fetch(target, cache)
    assert target.sha256 in str(info.value)
    assert not cache.store_dir.exists() or list(cache.store_dir.iterdir()) == []


def test_a_local_file_without_a_size(tmp_path: Path) -> None:
    archive = tmp_path / "20241219" / NAME
    archive.parent.mkdir()
    archive.write_bytes(DATA)
    path = fetch(target_at(archive.as_uri()), ArchiveCache(tmp_path / "cache"))
    assert path.read_bytes() == DATA


@pytest.mark.parametrize(("served", "status"), [(DATA, "pass"), (DATA[:-1] + b"?", "fail")])
def test_check_remote_without_a_size(
    httpserver: HTTPServer, tmp_path: Path, served: bytes, status: str
) -> None:
    target = target_at(serve(httpserver, served))
    lock = Lock(
        manifest=LockedManifest(python="3.12", platforms=(target.platform,)), targets=(target,)
    )
    (tmp_path / "python.lock").write_text(lockfile.dumps(lock), "utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pylock]\npython = "3.12"\nplatforms = ["linux-x86_64-gnu"]\n', "utf-8"
    )
    report = run_checks(
        tmp_path,
        CheckOptions(remote=True),
        settings=Settings.resolve(environ={"PYLOCK_PYTHON_DIR": str(tmp_path / "py")}, http=POLICY),
    )
    remote = report.get("remote")
    assert remote.status == status, remote
    (row,) = remote.data["targets"]  # type: ignore[misc]
    assert row["size"] == len(served)


def test_catalog_lock_then_sync_then_no_op(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: a catalog source (no sizes) -> a lock without sizes -> a real install -> a
    second sync that is a no-op, answered by the stdlib fast path (the memo of the first)."""
    import sys

    host = host_platform()
    version = ".".join(str(part) for part in sys.version_info[:3])
    archive = build_pbs_archive(
        version=version, flavor="install_only_stripped", interpreter=delegating_interpreter()
    )
    name = pbs_asset_name(
        version=version, build="20260101", triple=host.triple, flavor="install_only_stripped"
    )
    fake_pbs.add_release("20260101", [(name, archive)])
    entry = {
        "name": "cpython",
        "url": fake_pbs.download_url("20260101", name),
        "sha256": hashlib.sha256(archive).hexdigest(),
        "build": "20260101",
    }
    (tmp_path / "catalog.json").write_text(json.dumps({"key": entry}), "utf-8")
    minor = ".".join(version.split(".")[:2])
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{minor}"\nplatforms = ["{host.key}"]\n'
        'source = "catalog:catalog.json"\n',
        "utf-8",
    )
    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock")
    assert code == 0, err
    assert fake_pbs.log == []  # locking asked the archive host nothing
    (target,) = lockfile.read(tmp_path / "python.lock").targets
    assert target.size is None

    code, out, err = pylock(capsys, "-p", str(tmp_path), "sync")
    assert code == 0, err
    assert "Installed" in out
    assert len(fake_pbs.download_log) == 1

    from pylock.fast import noop

    assert (
        noop.check(str(tmp_path), environ=os.environ) is not None
    )  # the fast path proves it installed
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "sync")
    assert code == 0 and "already installed" in out
    assert len(fake_pbs.download_log) == 1
