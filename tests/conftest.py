"""Fixtures every test gets: an isolated environment, and on request a fake PBS server.

No test may touch the real home directory, a real token or the network: the autouse fixture
points the cache and install dirs at temporary directories and removes every variable that
could leak in (tokens, PYLOCK_* settings, proxies that would route loopback traffic away).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pbs_server import FakePBS
from pylock.http import HttpCache, HttpPolicy, make_client
from pylock.sources import SourceContext

_LEAKY = ("GITHUB_TOKEN", "GH_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A private PYLOCK_CACHE_DIR / PYLOCK_PYTHON_DIR; returns their parent."""
    for name in list(os.environ):
        if name.startswith("PYLOCK_") or name.upper() in _LEAKY:
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("pylock-home")
    monkeypatch.setenv("PYLOCK_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("PYLOCK_PYTHON_DIR", str(home / "python"))
    return home


@pytest.fixture(scope="session")
def _pbs_http_server() -> Iterator[HTTPServer]:
    """One loopback server for the session: stopping a server costs half a second."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_pbs(_pbs_http_server: HTTPServer) -> Iterator[FakePBS]:
    """A fresh fake GitHub (API + downloads) on 127.0.0.1, empty until a test adds releases."""
    _pbs_http_server.clear()
    yield FakePBS(_pbs_http_server)
    try:
        _pbs_http_server.check_handler_errors()  # a bug in the fake must not pass silently
    finally:
        _pbs_http_server.clear()


@pytest.fixture
def http_policy() -> HttpPolicy:
    """The default policy without waiting between retries (retries still happen)."""
    return HttpPolicy(retries=2, backoff=0.0, timeout=10.0)


@pytest.fixture
def source_context(http_policy: HttpPolicy, tmp_path: Path) -> Iterator[SourceContext]:
    """A context for sources: one client, an HTTP cache in the test's cache dir, and the
    test's tmp_path as the project directory."""
    cache = HttpCache(Path(os.environ["PYLOCK_CACHE_DIR"]))
    with make_client(http_policy) as client:
        yield SourceContext(client=client, cache=cache, policy=http_policy, base_dir=tmp_path)


@pytest.fixture(scope="session")
def real_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bytes]:
    """This CPython as a PBS install_only archive (name, bytes), built once per session."""
    from real_interpreter import build_real_archive

    return build_real_archive(tmp_path_factory.mktemp("real-archive"))
