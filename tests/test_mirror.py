"""``pylock mirror DIR``: every locked archive, verified, as ``{DIR}/{build}/{asset}`` plus
``SHA256SUMS``, and that directory read back by pylock (``mirror:``, ``--mirror``) and by the
real uv (``UV_PYTHON_INSTALL_MIRROR``) through a static file server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archives import asset_name as pbs_asset_name
from archives import build_pbs_archive, delegating_interpreter
from clirun import console_script, pylock
from conftest import SyncedTemplate
from pbs_server import FakePBS, synthetic_body
from pylock.base.settings import Settings
from pylock.commands.mirror import MirrorOptions, fill_mirror
from pylock.errors import InputError
from pylock.net.http import HttpPolicy
from pylock.project.platforms import host_platform, parse_platform
from pylock.resolution import lockfile
from pylock.sources._common import parse_sha256sums
from pylock.sources.source import SourceContext
from temps import dead_writers_file, live_writer

HOST = host_platform()
VERSION = ".".join(str(part) for part in sys.version_info[:3])
MINOR = ".".join(VERSION.split(".")[:2])
BUILD = "20260101"
OTHERS = tuple(
    k for k in ("linux-aarch64-gnu", "macos-aarch64-none", "windows-x86_64-none") if k != HOST.key
)
GITHUB_DOWNLOADS = "https://github.com/astral-sh/python-build-standalone/releases/download"
POLICY = HttpPolicy(retries=1, backoff=0.0, timeout=10.0)


def quick(mirror: str | None = None) -> Settings:
    """This test's Settings (the isolated environment), downloading from ``mirror`` (as
    ``--mirror``) under a policy that does not wait to retry."""
    return Settings.resolve(environ=os.environ, mirror=mirror, http=POLICY)


def name_for(key: str) -> str:
    return pbs_asset_name(
        version=VERSION,
        build=BUILD,
        triple=parse_platform(key).triple,
        flavor="install_only_stripped",
    )


@pytest.fixture(scope="module")
def host_archive() -> bytes:
    """A real, installable PBS-shaped archive for this host (its python delegates to ours)."""
    return build_pbs_archive(
        version=VERSION, flavor="install_only_stripped", interpreter=delegating_interpreter()
    )


@pytest.fixture
def bodies(host_archive: bytes) -> dict[str, bytes]:
    """Archive bytes per platform key: the real one for this host, stand-ins elsewhere."""
    return {HOST.key: host_archive, **{k: synthetic_body(name_for(k)) for k in OTHERS}}


def write_manifest(project: Path, source: str) -> None:
    keys = ", ".join(f'"{k}"' for k in (HOST.key, *OTHERS))
    # Provenance is off: the catalog names real github.com URLs, whose attestations API is the
    # real one (tests/test_provenance.py mirrors bundles from a loopback API).
    (project / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{MINOR}"\nplatforms = [{keys}]\nsource = "{source}"\n'
        '[tool.pylock.provenance]\npolicy = "off"\n',
        "utf-8",
    )


def make_project(
    fake_pbs: FakePBS, bodies: dict[str, bytes], root: Path, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A project locked from a catalog whose URLs are the real GitHub ones (a lock asks no
    archive host anything), while the bytes live on the fake, laid out like GitHub's downloads:
    so every download here goes through ``--mirror`` to loopback."""
    fake_pbs.add_release(BUILD, [(name_for(k), body) for k, body in bodies.items()])
    entries = {
        name_for(k): {
            "name": "cpython",
            "url": f"{GITHUB_DOWNLOADS}/{BUILD}/{name_for(k).replace('+', '%2B')}",
            "sha256": hashlib.sha256(body).hexdigest(),
            "build": BUILD,
        }
        for k, body in bodies.items()
    }
    root.mkdir()
    (root / "catalog.json").write_text(json.dumps(entries), "utf-8")
    write_manifest(root, "catalog:catalog.json")
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 0, err
    fake_pbs.log.clear()
    return root


@pytest.fixture
def project(
    fake_pbs: FakePBS, bodies: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Path:
    return make_project(fake_pbs, bodies, tmp_path / "project", capsys)


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_mirror_fills_the_layout_and_a_second_run_downloads_nothing(
    fake_pbs: FakePBS,
    project: Path,
    bodies: dict[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out_dir = tmp_path / "mirror"
    args = ("-p", str(project), "mirror", str(out_dir), "--mirror", fake_pbs.download_base)
    code, out, err = pylock(capsys, *args)
    assert code == 0, err
    assert f"{len(bodies)} downloaded" in out
    assert len(fake_pbs.download_log) == len(bodies)

    expected = {f"{BUILD}/{name_for(k)}": body for k, body in bodies.items()}
    sums = "".join(
        f"{hashlib.sha256(body).hexdigest()}  {name}\n"
        for name, body in sorted((name_for(k), b) for k, b in bodies.items())
    )
    expected[f"{BUILD}/SHA256SUMS"] = sums.encode()
    assert files_under(out_dir) == expected

    fake_pbs.log.clear()
    code, out, _ = pylock(capsys, *args)
    assert code == 0 and f"0 copied from the cache, {len(bodies)} already present" in out
    assert fake_pbs.log == []  # idempotent: nothing fetched, nothing rewritten
    assert files_under(out_dir) == expected

    # Gone from the mirror but still in the archive cache: copied, not downloaded again.
    (out_dir / BUILD / name_for(OTHERS[0])).unlink()
    code, out, _ = pylock(capsys, *args)
    assert code == 0 and "1 copied from the cache" in out and fake_pbs.log == []
    assert files_under(out_dir) == expected


def test_the_filled_mirror_serves_pylock_lock_and_sync(
    fake_pbs: FakePBS, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "mirror"
    result = fill_mirror(project, MirrorOptions(out_dir), settings=quick(fake_pbs.download_base))
    assert result.downloaded == 1 + len(OTHERS)
    locked = lockfile.read(project / "python.lock")

    # mirror: as a source gives the same pins (now with sizes, which a directory states).
    other = tmp_path / "relocked"
    other.mkdir()
    write_manifest(other, f"mirror:{out_dir}")
    code, _, err = pylock(capsys, "-p", str(other), "lock")
    assert code == 0, err
    relocked = lockfile.read(other / "python.lock")
    assert [(t.platform, t.sha256) for t in relocked.targets] == [
        (t.platform, t.sha256) for t in locked.targets
    ]
    assert all(t.size is not None for t in relocked.targets)

    # sync --mirror DIR installs the host's archive with no request anywhere.
    fake_pbs.log.clear()
    code, out, err = pylock(capsys, "-p", str(project), "sync", "--mirror", str(out_dir))
    assert code == 0, err
    assert "Installed" in out and fake_pbs.log == []


def test_only_the_chosen_platforms(
    fake_pbs: FakePBS, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "mirror"
    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(out_dir), "--platform", OTHERS[0],
        "--mirror", fake_pbs.download_base,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(files_under(out_dir)) == sorted(
        [f"{BUILD}/{name_for(OTHERS[0])}", f"{BUILD}/SHA256SUMS"]
    )
    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(out_dir), "--platform", "linux-x86_64-musl"
    )
    assert code == 2
    assert "no target for linux-x86_64-musl" in err and "pylock lock --platform" in err


def test_wrong_bytes_at_the_source_leave_nothing_under_a_final_name(
    fake_pbs: FakePBS, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pbs.releases[BUILD].files[name_for(OTHERS[0])] = b"tampered"
    out_dir = tmp_path / "mirror"
    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(out_dir), "--mirror", fake_pbs.download_base
    )
    assert code == 1
    assert "does not match python.lock" in err
    assert f"{BUILD}/{name_for(OTHERS[0])}" not in files_under(out_dir)
    assert not [p for p in out_dir.rglob("*") if p.name.startswith(".")]  # no temp file


def test_a_damaged_copy_is_replaced_and_a_dead_runs_temp_file_removed(
    fake_pbs: FakePBS, project: Path, bodies: dict[str, bytes], tmp_path: Path
) -> None:
    out_dir = tmp_path / "mirror"
    options = MirrorOptions(out_dir, jobs=2)
    fill_mirror(project, options, settings=quick(fake_pbs.download_base))
    damaged = out_dir / BUILD / name_for(HOST.key)
    damaged.write_bytes(b"half an archive")
    stale = dead_writers_file(out_dir / BUILD / ".pylock-mirror-0123456789ab.part")
    with live_writer(out_dir / BUILD / ".pylock-mirror-ba9876543210.part") as fresh:
        result = fill_mirror(project, options, settings=quick(fake_pbs.download_base))
        assert not stale.exists() and fresh.exists()  # a killed run's at once; a live one's kept
    assert {a.platform: a.action for a in result.archives}[HOST.key] == "copied"
    assert damaged.read_bytes() == bodies[HOST.key]


def test_sums_of_other_builds_and_assets_are_kept(
    fake_pbs: FakePBS, project: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "mirror"
    (out_dir / BUILD).mkdir(parents=True)
    (out_dir / BUILD / "SHA256SUMS").write_text(f"{'0' * 64}  another-lock's-asset.tar.gz\n")
    fill_mirror(project, MirrorOptions(out_dir), settings=quick(fake_pbs.download_base))
    sums = parse_sha256sums((out_dir / BUILD / "SHA256SUMS").read_text("utf-8"))
    assert sums["another-lock's-asset.tar.gz"] == "0" * 64
    assert len(sums) == 2 + len(OTHERS)


def test_offline_without_the_cache_and_bad_jobs(project: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        fill_mirror(project, MirrorOptions(tmp_path / "m", jobs=0), settings=quick())
    from pylock.errors import ExternalError

    with pytest.raises(ExternalError) as info:
        fill_mirror(
            project,
            MirrorOptions(tmp_path / "m"),
            settings=Settings.resolve(environ=os.environ, offline=True),
        )
    assert "offline" in info.value.message


def test_a_stalled_download_fails_within_the_http_timeout(
    project: Path, bodies: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--http-timeout reaches the mirror's downloads (one Settings, as for sync): a source that
    stalls half-way fails the run with exit 3 naming the knob, and nothing lands under a final
    name in DIR."""
    import threading
    from urllib.parse import quote

    from test_download import Loopback, stall_after

    archive = bodies[HOST.key]
    release = threading.Event()
    source = Loopback()
    out_dir = tmp_path / "mirror"
    try:
        url = source.route(
            f"/m/{BUILD}/{quote(name_for(HOST.key), safe='')}",
            stall_after(archive, len(archive) // 2, release),
        )
        started = time.monotonic()
        code, _, err = pylock(
            capsys, "-p", str(project), "mirror", str(out_dir), "--platform", HOST.key,
            "--mirror", source.url("/m"), "--http-timeout", "0.3",
        )  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        release.set()
        source.close()
    assert code == 3, err
    assert url in err and f"{len(archive) // 2} bytes received" in err
    assert "--http-timeout" in err
    assert elapsed < 5
    assert files_under(out_dir) == {}


def test_a_bad_http_timeout_is_a_usage_error(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(tmp_path / "m"), "--http-timeout", "-1"
    )
    assert code == 2
    assert "--http-timeout is" in err


# --- served by a static file server, read by the real uv -----------------------------------------


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """``python -m http.server`` on 127.0.0.1 serving an empty directory: the docs' advice."""
    root = tmp_path / "served"
    root.mkdir()
    server = subprocess.Popen(  # port 0: the kernel picks a free one, so no worker shares it
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # "Serving HTTP on 127.0.0.1 port 40123 (...) ...", printed once the socket listens.
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert " port " in banner, f"python -m http.server did not start: {banner!r}"
        yield root, f"http://127.0.0.1:{banner.split(' port ')[1].split()[0]}"
    finally:
        server.terminate()
        server.wait()


UV = Path(sys.executable).with_name("uv")


def test_pylock_reads_the_served_mirror(
    fake_pbs: FakePBS,
    project: Path,
    static_server: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served, base = static_server
    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(served), "--mirror", fake_pbs.download_base
    )
    assert code == 0, err
    fake_pbs.log.clear()

    # pylock reads it over HTTP: as a source (directory listing + SHA256SUMS) and for sync.
    relock = tmp_path / "relock"
    relock.mkdir()
    write_manifest(relock, f"mirror:{base}")
    code, _, err = pylock(capsys, "-p", str(relock), "lock")
    assert code == 0, err
    done = subprocess.run(
        [str(console_script()), "-p", str(project), "sync", "--mirror", base],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYLOCK_PYTHON_DIR": str(tmp_path / "pylock-python")},
    )
    assert done.returncode == 0, done.stderr
    assert fake_pbs.log == []  # only the served mirror was asked


@pytest.mark.slow
def test_uv_installs_from_the_served_mirror(
    fake_pbs: FakePBS,
    bodies: dict[str, bytes],
    static_server: tuple[Path, str],
    real_archive: tuple[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real uv, given `pylock export uv`'s downloads JSON and pointed at the mirror with
    UV_PYTHON_INSTALL_MIRROR, installs the locked build from it. uv refuses an interpreter tree
    without sysconfig data, so this needs a real CPython packaged as a PBS archive
    (tests/real_interpreter.py)."""
    assert UV.exists(), "uv is a test dependency: pip install -e '.[test]'"
    _, archive = real_archive
    project = make_project(fake_pbs, {**bodies, HOST.key: archive}, tmp_path / "project", capsys)
    served, base = static_server
    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(served), "--mirror", fake_pbs.download_base
    )
    assert code == 0, err
    fake_pbs.log.clear()

    # uv: `pylock export uv` writes its downloads JSON from the lock (the real GitHub URLs, no
    # mirror configured); UV_PYTHON_INSTALL_MIRROR swaps their prefix for the served mirror,
    # exactly as a firewalled fleet would use it.
    downloads = tmp_path / "downloads.json"
    code, out, err = pylock(capsys, "-p", str(project), "export", "uv", "-o", str(downloads))
    assert code == 0, err
    exported = json.loads(downloads.read_text("utf-8"))
    assert all(str(e["url"]).startswith(GITHUB_DOWNLOADS) for e in exported.values())
    uv_settings = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    uv_root = tmp_path / "uv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYLOCK_", "PYTHON"))}
    env.update(
        HOME=str(uv_root / "home"),
        UV_PYTHON_INSTALL_DIR=str(uv_root / "python"),
        UV_CACHE_DIR=str(uv_root / "cache"),
        UV_PYTHON_BIN_DIR=str(uv_root / "bin"),
        UV_NO_CONFIG="1",
        UV_PYTHON_INSTALL_MIRROR=base,
        UV_PYTHON_CPYTHON_BUILD=uv_settings["UV_PYTHON_CPYTHON_BUILD"],
    )
    argv = [str(UV), "python", "install", VERSION, "--no-progress"]
    argv += ["--python-downloads-json-url", str(downloads)]
    installed = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    assert fake_pbs.log == []  # neither pylock nor uv went anywhere but the served mirror
    [install] = [
        p for p in (uv_root / "python").iterdir() if (p / "BUILD").is_file() and not p.is_symlink()
    ]
    assert (install / "BUILD").read_text("utf-8").strip() == BUILD


def test_downloads_run_in_parallel_up_to_jobs_and_no_further(tmp_path: Path) -> None:
    """A server whose every answer waits until a second request is in flight (a barrier of
    two): one download at a time could never pass it, and the count of requests in flight
    shows that ``jobs`` bounds them."""
    import http.server
    import threading

    keys = ("linux-x86_64-gnu", "linux-aarch64-gnu", "macos-aarch64-none", "windows-x86_64-none")
    bodies = {name_for(k): synthetic_body(name_for(k)) for k in keys}
    barrier = threading.Barrier(2, timeout=10)
    guard = threading.Lock()
    in_flight = [0, 0]  # now, most seen

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with guard:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
            try:
                barrier.wait()
                body = bodies[self.path.rsplit("/", 1)[-1].replace("%2B", "+")]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                with guard:
                    in_flight[0] -= 1

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    polling = {"poll_interval": 0.01}  # shutdown() below returns within one poll
    threading.Thread(target=server.serve_forever, kwargs=polling, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        project = tmp_path / "project"
        project.mkdir()
        entries = {
            name: {
                "name": "cpython",
                "url": f"{base}/{BUILD}/{name.replace('+', '%2B')}",
                "sha256": hashlib.sha256(body).hexdigest(),
                "build": BUILD,
            }
            for name, body in bodies.items()
        }
        (project / "catalog.json").write_text(json.dumps(entries), "utf-8")
        platforms = ", ".join(f'"{k}"' for k in keys)
        (project / "pyproject.toml").write_text(
            f'[tool.pylock]\npython = "{MINOR}"\nplatforms = [{platforms}]\n'
            'source = "catalog:catalog.json"\n',
            "utf-8",
        )
        from pylock.resolution.locker import LockOptions, lock_project

        lock_project(project, LockOptions(), settings=quick())
        result = fill_mirror(project, MirrorOptions(tmp_path / "m", jobs=2), settings=quick())
    finally:
        server.shutdown()
        server.server_close()
    assert result.downloaded == 4
    assert in_flight[1] == 2


def test_progress_is_a_line_per_archive_in_a_log_and_bars_on_a_terminal(
    fake_pbs: FakePBS, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pty

    code, _, err = pylock(
        capsys, "-p", str(project), "mirror", str(tmp_path / "log"), "--mirror",
        fake_pbs.download_base,
    )  # fmt: skip
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1 + len(OTHERS)
    assert all(line.split()[0] == "downloaded" for line in lines)

    main, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    env["PYLOCK_CACHE_DIR"] = str(tmp_path / "fresh-cache")  # download again, with bars
    argv = [str(console_script()), "-p", str(project), "mirror", str(tmp_path / "tty")]
    with subprocess.Popen(
        [*argv, "--mirror", fake_pbs.download_base],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=env,
    ) as child:
        os.close(secondary)
        drawn = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        assert child.wait() == 0
    os.close(main)
    assert name_for(OTHERS[0]).encode() in drawn  # a bar labelled with the archive
    assert b"downloaded /" not in drawn  # no log lines on a terminal


def test_a_failure_stops_the_run_without_starting_the_queued_downloads(
    fake_pbs: FakePBS, project: Path, tmp_path: Path
) -> None:
    for key in OTHERS:
        del fake_pbs.releases[BUILD].files[name_for(key)]  # 404 for all but the host's
    from pylock.errors import ExternalError

    with pytest.raises(ExternalError) as info:
        fill_mirror(
            project, MirrorOptions(tmp_path / "m", jobs=1), settings=quick(fake_pbs.download_base)
        )
    assert "404" in info.value.message
    # One worker, lock order (by platform key): the first 404 (linux-aarch64-gnu) ends the run;
    # a run that went on would ask for every one of them. (The worker may have started the next
    # archive before the failure was seen, so that one may still run.)
    missing = sum(1 for r in fake_pbs.download_log if r.status == 404)
    assert 1 <= missing < len(OTHERS)
    assert not (tmp_path / "m" / BUILD / "SHA256SUMS").exists()


def test_the_configured_mirror_is_the_download_source_unless_it_is_dir_itself(
    fake_pbs: FakePBS, project: Path, bodies: dict[str, bytes], tmp_path: Path
) -> None:
    """PYLOCK_MIRROR names where bytes come from; when it is the very directory being filled
    (a runner's own setting), the lock's URLs are used instead of reading DIR from itself."""
    from pylock.base.settings import Settings
    from pylock.commands.mirror import _download_mirror

    out_dir = tmp_path / "mirror"
    environ = {**os.environ, "PYLOCK_MIRROR": fake_pbs.download_base}
    result = fill_mirror(
        project, MirrorOptions(out_dir), settings=Settings.resolve(environ=environ, http=POLICY)
    )
    assert result.downloaded == len(bodies)
    assert len(fake_pbs.download_log) == len(bodies)
    own = Settings.resolve(environ={**os.environ, "PYLOCK_MIRROR": str(out_dir)})
    assert _download_mirror(own, project, out_dir, None)[0] is None
    flag = Settings.resolve(mirror="https://m.example", environ=os.environ)
    assert _download_mirror(flag, project, out_dir, None)[0] == "https://m.example"


@pytest.mark.parametrize("spelling", ["file-url", "file-colon-path"])
def test_dir_itself_as_a_file_url_is_not_where_it_is_filled_from(
    fake_pbs: FakePBS,
    synced_template: SyncedTemplate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    """ "Is this a URL?" and "which file does a file: URL name?" have one answer each: DIR
    spelled as a file: URL is still DIR, so its archives come from the lock's URLs (here the
    loopback fake GitHub), not from DIR itself, where they are not yet."""
    synced_template.publish(fake_pbs)
    project = synced_template.locked(tmp_path / "project")
    out_dir = tmp_path / "out"
    mirror = out_dir.as_uri() if spelling == "file-url" else f"file:{out_dir}"
    code, out, err = pylock(capsys, "-p", str(project), "mirror", str(out_dir), "--mirror", mirror)
    assert code == 0, err
    assert "1 downloaded" in out
    assert len(fake_pbs.download_log) == 1


def test_one_spelling_of_the_mirror_layout(
    fake_pbs: FakePBS,
    synced_template: SyncedTemplate,
    source_context: SourceContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``{base}/{build}/{asset}`` is spelled by ``sources.mirror.mirror_path`` alone: what
    `pylock mirror` writes is where `--mirror` downloads from, what `export uv` points uv at
    and what the `mirror:` source reads, for a directory and for a URL."""
    from pylock.fetch.download import source_url
    from pylock.sources.mirror import SUMS_NAME, MirrorSource, mirror_path

    synced_template.publish(fake_pbs)
    project = synced_template.locked(tmp_path / "project")
    (target,) = lockfile.read(project / "python.lock").targets
    out_dir = tmp_path / "out"
    assert pylock(capsys, "-p", str(project), "mirror", str(out_dir))[0] == 0

    archive = mirror_path(out_dir, target.build, target.asset_name)
    assert archive == out_dir / target.build / target.asset_name and archive.is_file()
    assert mirror_path(out_dir, target.build, SUMS_NAME).is_file()
    assert source_url(target, str(out_dir)) == archive.as_uri()
    (release,) = MirrorSource(str(out_dir), source_context).releases()
    assert [a.url for a in release.artifacts] == [archive.resolve().as_uri()]

    base = fake_pbs.download_base
    url = mirror_path(base, target.build, target.asset_name)
    assert url == f"{base}/{target.build}/{target.asset_name.replace('+', '%2B')}"
    assert source_url(target, base) == url
    code, printed, _ = pylock(
        capsys, "-p", str(project), "export", "uv", "-o", "-", "--mirror", base
    )
    assert code == 0 and [e["url"] for e in json.loads(printed).values()] == [url]
    (release,) = MirrorSource(base, source_context).releases(build=target.build)
    assert [a.url for a in release.artifacts] == [url]
