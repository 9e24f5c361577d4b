"""Fixtures every test gets: an isolated environment, and on request a fake PBS server.

No test may touch the real home directory, a real token or the network: the autouse fixture
points the cache and install dirs at temporary directories and removes every variable that
could leak in (tokens, PYLOCK_* settings, proxies that would route loopback traffic away), and
points NETRC at a file that does not exist, so no one's ~/.netrc answers for a test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from archives import asset_name, build_pbs_archive
from clirun import pylock
from pbs_server import FakePBS
from pylock.base.settings import Settings
from pylock.commands.standin import Archive
from pylock.net.http import HttpCache, HttpPolicy, make_client
from pylock.project.platforms import host_platform
from pylock.sources.source import SourceContext

_LEAKY = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "NO_COLOR",
)


_SHM_NEEDED = 4 << 30
"""Free bytes /dev/shm must have to take the run's temp dirs: a run peaks under half a GiB
with two workers; a container's 64 MiB /dev/shm is left alone."""


def pytest_configure(config: pytest.Config) -> None:
    """Temporary directories in memory where Linux offers a roomy tmpfs (``/dev/shm``), unless
    the run was given a place for them (--basetemp, PYTEST_DEBUG_TEMPROOT or TMPDIR).

    The suite installs real interpreters (thousands of files) and pylock fsyncs every file it
    replaces: on a disk that is a journal commit each, seconds per run, many more when anything
    else uses the disk; in memory it costs nothing, and pylock behaves the same. pytest keeps
    its numbered, locked ``pytest-of-USER/pytest-N`` directories there as it would under /tmp
    (xdist workers inherit the variable, and are handed their base temp anyway).
    """
    if config.option.basetemp or {"PYTEST_DEBUG_TEMPROOT", "TMPDIR"} & set(os.environ):
        return
    shm = Path("/dev/shm")
    if not hasattr(os, "statvfs") or not shm.is_dir():  # Windows; macOS has no tmpfs
        return
    stats = os.statvfs(shm)
    if stats.f_bavail * stats.f_frsize >= _SHM_NEEDED and os.access(shm, os.W_OK | os.X_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(shm)


_OUTCOMES = pytest.StashKey[dict[str, bool]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Whether each phase passed, for fixtures that clean up after a passing test only."""
    report = yield
    item.stash.setdefault(_OUTCOMES, {})[report.when] = report.passed
    return report


@pytest.fixture(scope="session")
def _homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where each test's private home is made: ``mktemp`` per test rescans its directory every
    time, which over a thousand tests costs seconds; a counter does not."""
    yield tmp_path_factory.mktemp("pylock-homes")


_HOME_NUMBERS = itertools.count()


@pytest.fixture(autouse=True)
def isolated_environment(
    _homes: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """A private PYLOCK_CACHE_DIR / PYLOCK_PYTHON_DIR; returns their parent.

    It goes when the test ends as its tmp_path does under ``tmp_path_retention_policy``
    (pyproject.toml: "failed", a passing test's), since it may hold installed interpreters.
    """
    for name in list(os.environ):
        if name.startswith("PYLOCK_") or name.upper() in _LEAKY:
            monkeypatch.delenv(name)
    home = _homes / str(next(_HOME_NUMBERS))
    home.mkdir()
    monkeypatch.setenv("NETRC", str(home / "no-netrc"))  # never the developer's ~/.netrc
    monkeypatch.setenv("PYLOCK_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("PYLOCK_PYTHON_DIR", str(home / "python"))
    # The Sigstore trust root: never refreshed through TUF (that is the network), and sigstore's
    # own cache (platformdirs: XDG on Linux) kept out of the real home.
    monkeypatch.setenv("PYLOCK_SIGSTORE_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    yield home
    policy = request.config.getini("tmp_path_retention_policy")
    passed = request.node.stash.get(_OUTCOMES, {}).get("call", False)
    if policy == "none" or (policy == "failed" and passed):
        shutil.rmtree(home, ignore_errors=True)


class _QuickStopServer(HTTPServer):
    """pytest-httpserver's server, whose ``stop()`` returns at once: serve_forever's default
    poll interval would keep it waiting up to half a second (thread_target is the documented
    place to change how the server runs)."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.01)


@pytest.fixture(scope="session")
def _pbs_http_server() -> Iterator[HTTPServer]:
    """One loopback server for the session (each test's fake GitHub clears it)."""
    server = _QuickStopServer(host="127.0.0.1", port=0, threaded=True)
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
        yield SourceContext(
            client=client,
            cache=cache,
            policy=http_policy,
            base_dir=tmp_path,
            environ=os.environ,  # the test's own (isolated_environment): tokens are read here
        )


@pytest.fixture
def synced(fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A project locked to 3.12.8 (build 20260101) for this host and synced, through the CLI."""
    host, build = host_platform(), "20260101"
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "3.12"\nplatforms = ["{host.key}"]\n', "utf-8"
    )
    fake_pbs.add_release(
        build,
        [
            (
                asset_name(version="3.12.8", build=build, triple=host.triple, flavor=flavor),
                build_pbs_archive(version="3.12.8", flavor=flavor),
            )
            for flavor in ("install_only", "install_only_stripped")
        ],
    )
    assert pylock(capsys, "-p", str(tmp_path), "lock", "--source", fake_pbs.spec)[0] == 0
    assert pylock(capsys, "-p", str(tmp_path), "sync")[0] == 0
    return tmp_path


@dataclass(frozen=True)
class SyncedTemplate:
    """A project locked against the fake GitHub and synced, made once per session.

    Tests that start from "locked" or "synced" copy it (a few small files and one synthetic
    install) instead of locking and syncing through the CLI each time. The archive it locks is
    a ``tests/archives.py`` build whose interpreter runs the Python running the tests, so it
    passes pylock's version check: ``REAL`` is that Python's version.
    """

    root: Path  # project/ (pyproject.toml, python.lock) and home/ (cache/, python/)
    build: str
    assets: tuple[tuple[str, bytes], ...]

    def publish(self, fake: FakePBS) -> None:
        """Serve the locked archive again (each test's fake GitHub starts empty)."""
        fake.add_release(self.build, list(self.assets))

    def locked(self, project: Path) -> Path:
        """The locked project, copied into ``project``; nothing installed."""
        project.mkdir(parents=True, exist_ok=True)
        for name in ("pyproject.toml", "python.lock"):
            shutil.copy2(self.root / "project" / name, project / name)
        return project

    def synced(self, project: Path) -> Path:
        """The locked project, its install and its cached archive in this test's PYLOCK_*_DIR."""
        for name in ("python", "cache"):
            shutil.copytree(
                self.root / "home" / name,
                os.environ[f"PYLOCK_{name.upper()}_DIR"],
                symlinks=True,
                dirs_exist_ok=True,
            )
        return self.locked(project)


REAL = ".".join(str(part) for part in sys.version_info[:3])


@pytest.fixture(scope="session")
def synced_template(
    _pbs_http_server: HTTPServer, tmp_path_factory: pytest.TempPathFactory
) -> SyncedTemplate:
    from archives import asset_name, build_pbs_archive, delegating_interpreter
    from pylock.commands.sync import SyncOptions, sync_project
    from pylock.project.platforms import host_platform
    from pylock.resolution.locker import LockOptions, lock_project

    host = host_platform()
    build = "20260101"
    name = asset_name(version=REAL, build=build, triple=host.triple, flavor="install_only_stripped")
    archive = build_pbs_archive(
        version=REAL, flavor="install_only_stripped", interpreter=delegating_interpreter()
    )
    root = tmp_path_factory.mktemp("synced-template")
    project = root / "project"
    project.mkdir()
    minor = ".".join(REAL.split(".")[:2])
    (project / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{minor}"\nplatforms = ["{host.key}"]\n', "utf-8"
    )
    environ = {
        "PYLOCK_CACHE_DIR": str(root / "home" / "cache"),
        "PYLOCK_PYTHON_DIR": str(root / "home" / "python"),
    }
    template = SyncedTemplate(root, build, ((name, archive),))
    _pbs_http_server.clear()
    fake = FakePBS(_pbs_http_server)
    template.publish(fake)
    try:
        settings = Settings.resolve(environ=environ, source=fake.spec)
        lock_project(project, LockOptions(), settings=settings)
        sync_project(project, SyncOptions(), settings=settings)
    finally:
        _pbs_http_server.clear()
    for entry in (root / "home" / "cache").iterdir():  # keep the archive, not the HTTP cache
        if entry.name != "archives":  # or the no-op memo, whose key holds this template's paths
            shutil.rmtree(entry)
    return template


def shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """``name`` in a directory every worker of this run sees: with xdist, beside the workers'
    own base temps (``pytest-N/popen-gwK``: their parent is this run's alone), else in the base
    temp itself. What is built there is built under a FileLock by the first worker that needs
    it, read by the others, and never changed after: a test that would change it copies it."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "shared" / name
    path.parent.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def standin_archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """This CPython as a PBS install_only archive (pylock.commands.standin, what ``pylock demo``
    serves): some seconds to build, so built once per run, in ``shared_dir`` (build_archive
    reuses an archive whose stamp matches, so only the first worker builds it)."""
    from filelock import FileLock

    from real_interpreter import build_real_archive

    directory = shared_dir(tmp_path_factory, "standin")
    with FileLock(f"{directory}.lock"):
        return build_real_archive(directory)


@pytest.fixture(scope="session")
def real_archive(standin_archive: Archive) -> tuple[str, bytes]:
    """``standin_archive`` as (name, bytes), to publish on the fake GitHub."""
    return standin_archive.name, standin_archive.path.read_bytes()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first (stable otherwise): a ten-second test dealt out last would keep one
    worker busy while the others have nothing left to do."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
