"""fetch_archive against a real loopback HTTP server, including servers that misbehave.

The server is a small threaded stdlib server so a test can script each answer per request:
serve, close early, reset mid-body, answer 500 once, redirect. It records the raw request
targets, so tests can count requests and see the exact (percent-encoded) paths asked for.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pylock.base.settings import Settings
from pylock.errors import ExternalError, InputError, VerificationError
from pylock.fetch.cache import ArchiveCache
from pylock.fetch.download import fetch_archive, source_url
from pylock.net.http import HttpPolicy, make_client
from pylock.resolution.lockfile import Target

POLICY = HttpPolicy(backoff=0.01, retries=2, timeout=10.0)
ASSET = "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
ENCODED_ASSET = ASSET.replace("+", "%2B")
# 2.5 MiB of varied bytes: several 1 MiB chunks and a partial one.
DATA = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 2 // 32) + b"tail"
SHA = hashlib.sha256(DATA).hexdigest()

Handler = http.server.BaseHTTPRequestHandler
Behaviour = Callable[[Handler], None]


# --- scripted server ------------------------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    """A client that hangs up (a download the test cut short, a keep-alive connection it
    dropped) is no error of the server's: without this, socketserver prints the reset's
    traceback, in the middle of the suite's output when it happens after the test."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Loopback:
    """A threaded HTTP/1.1 server on 127.0.0.1 whose answers are scripted per raw path.

    Each path has a list of behaviours: every request takes the next one, and the last one
    repeats. Unknown paths get 404.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, list[Behaviour]] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        loopback = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with loopback._lock:
                    loopback.requests.append(self.path)
                    script = loopback.routes.get(self.path)
                    behaviour = (
                        (script.pop(0) if len(script) > 1 else script[0]) if script else None
                    )
                (behaviour or status(404))(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def route(self, path: str, *behaviours: Behaviour) -> str:
        self.routes[path] = list(behaviours)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}{path}"

    def count(self, path: str) -> int:
        return self.requests.count(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def serve(data: bytes, *, chunked: bool = False) -> Behaviour:
    def behaviour(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for start in range(0, len(data), 300_000):
                piece = data[start : start + 300_000]
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            h.wfile.write(b"0\r\n\r\n")
        else:
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)

    return behaviour


def close_early(data: bytes, sent: int) -> Behaviour:
    """Announce the full Content-Length, send ``sent`` bytes, close cleanly (FIN)."""

    def behaviour(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[:sent])
        h.close_connection = True

    return behaviour


def close_delimited(data: bytes) -> Behaviour:
    """No Content-Length, no chunking: the body ends when the connection does."""

    def behaviour(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(data)
        h.close_connection = True

    return behaviour


def reset(data: bytes, sent: int) -> Behaviour:
    """Send part of the body, then abort the connection with a TCP reset (SO_LINGER 0)."""

    def behaviour(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[:sent])
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.rfile.close()
        h.connection.close()
        h.close_connection = True

    return behaviour


def status(code: int) -> Behaviour:
    def behaviour(h: Handler) -> None:
        h.send_response(code)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return behaviour


def redirect(location: str) -> Behaviour:
    def behaviour(h: Handler) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return behaviour


@pytest.fixture
def server() -> Iterator[Loopback]:
    loopback = Loopback()
    yield loopback
    loopback.close()


@pytest.fixture
def cache(tmp_path: Path) -> ArchiveCache:
    return ArchiveCache(tmp_path / "cache")


# --- helpers --------------------------------------------------------------------------------


def make_target(
    url: str, data: bytes = DATA, *, size: int | None = None, sha256: str | None = None
) -> Target:
    return Target(
        platform="linux-x86_64-gnu",
        triple="x86_64-unknown-linux-gnu",
        implementation="cpython",
        version="3.12.8",
        build="20241219",
        flavor="install_only_stripped",
        variant="default",
        url=url,
        size=len(data) if size is None else size,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
    )


def fetch(
    target: Target,
    cache: ArchiveCache,
    *,
    policy: HttpPolicy = POLICY,
    mirror: str | Path | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    with make_client(policy) as client:
        return fetch_archive(
            target,
            cache=cache,
            client=client,
            policy=policy,
            mirror=mirror,
            on_progress=on_progress,
        )


def leftovers(cache: ArchiveCache) -> list[Path]:
    """Files under the cache root that are not store entries (temp files, partial downloads)."""
    if not cache.root.exists():
        return []
    return sorted(
        p
        for p in cache.root.rglob("*")
        if not p.is_dir() and not re.fullmatch(r"[0-9a-f]{64}", p.name)
    )


def stored(cache: ArchiveCache) -> list[str]:
    return sorted(p.name for p in cache.store_dir.iterdir()) if cache.store_dir.exists() else []


PATH = f"/download/20241219/{ENCODED_ASSET}"


# --- success --------------------------------------------------------------------------------


def test_download_lands_in_the_store(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    path = fetch(make_target(url), cache)
    assert path == cache.root / "archives" / "sha256" / SHA
    assert path.read_bytes() == DATA
    assert server.requests == [PATH]
    assert leftovers(cache) == []


def test_chunked_download(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA, chunked=True))
    assert fetch(make_target(url), cache).read_bytes() == DATA


def test_progress_reports_every_chunk(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    calls: list[tuple[int, int | None]] = []
    fetch(make_target(url), cache, on_progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, len(DATA))
    assert calls[-1] == (len(DATA), len(DATA))
    assert len(calls) >= 4  # 2.5 MiB in chunks of at most 1 MiB
    dones = [done for done, _ in calls]
    assert dones == sorted(dones)
    assert all(total == len(DATA) for _, total in calls)


def test_redirect_is_followed(server: Loopback, cache: ArchiveCache) -> None:
    server.route(PATH, serve(DATA))
    url = server.route("/old-location", redirect(PATH))
    assert fetch(make_target(url), cache).read_bytes() == DATA
    assert server.requests == ["/old-location", PATH]


def test_cache_hit_makes_no_request(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    first = fetch(make_target(url), cache)
    second = fetch(make_target(url), cache)
    assert first == second
    assert server.requests == [PATH]


def test_corrupt_cache_entry_is_replaced(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    entry = cache.path_for(SHA)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(DATA[:-1] + b"!")  # right size, wrong bytes
    assert fetch(make_target(url), cache).read_bytes() == DATA
    assert server.requests == [PATH]


# --- bytes that do not match the lock: VerificationError, nothing stored ---------------------


def test_wrong_sha256_is_refused(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    locked = "ab" * 32
    with pytest.raises(VerificationError) as info:
        fetch(make_target(url, sha256=locked), cache)
    assert info.value.exit_code == 1
    message = str(info.value)
    assert locked in message and SHA in message and url in message
    assert server.requests == [PATH]  # a mismatch is not retried
    assert stored(cache) == [] and leftovers(cache) == []


def test_wrong_size_is_refused(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    with pytest.raises(VerificationError) as info:
        fetch(make_target(url, size=len(DATA) + 10), cache)
    message = str(info.value)
    assert f"expected {len(DATA) + 10} bytes" in message
    assert f"got {len(DATA)} bytes" in message and url in message
    assert server.requests == [PATH]
    assert stored(cache) == [] and leftovers(cache) == []


def test_body_longer_than_locked_is_cut_off(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA + b"extra", chunked=True))  # no Content-Length to warn
    with pytest.raises(VerificationError, match=f"expected {len(DATA)} bytes, got at least"):
        fetch(make_target(url), cache)
    assert stored(cache) == [] and leftovers(cache) == []


def test_complete_chunked_body_shorter_than_locked(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA[:-4], chunked=True))
    with pytest.raises(VerificationError, match=f"got {len(DATA) - 4} bytes"):
        fetch(make_target(url), cache)
    assert server.requests == [PATH]  # framing says the body was complete: not a network fault
    assert leftovers(cache) == []


# --- interrupted transfers: retried, then ExternalError --------------------------------------


def test_truncated_body_is_retried_then_fails(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, close_early(DATA, 1_500_000))
    with pytest.raises(ExternalError) as info:
        fetch(make_target(url), cache)
    assert info.value.exit_code == 3
    assert url in str(info.value) and "interrupted 3 times" in str(info.value)
    assert server.count(PATH) == POLICY.retries + 1
    assert stored(cache) == [] and leftovers(cache) == []


def test_truncated_body_then_success(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, close_early(DATA, 1_500_000), serve(DATA))
    calls: list[tuple[int, int | None]] = []
    path = fetch(make_target(url), cache, on_progress=lambda d, t: calls.append((d, t)))
    assert path.read_bytes() == DATA
    assert server.count(PATH) == 2
    assert calls.count((0, len(DATA))) == 2  # the bar restarts with the retry
    assert leftovers(cache) == []


def test_close_delimited_short_body_is_retried(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, close_delimited(DATA[:1000]), close_delimited(DATA))
    assert fetch(make_target(url), cache).read_bytes() == DATA
    assert server.count(PATH) == 2


def test_reset_mid_stream_is_retried_then_fails(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, reset(DATA, 1_200_000))
    with pytest.raises(ExternalError, match="interrupted 3 times"):
        fetch(make_target(url), cache)
    assert server.count(PATH) == POLICY.retries + 1
    assert stored(cache) == [] and leftovers(cache) == []


def test_reset_mid_stream_then_success(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, reset(DATA, 1_200_000), serve(DATA))
    assert fetch(make_target(url), cache).read_bytes() == DATA
    assert server.count(PATH) == 2
    assert leftovers(cache) == []


def test_server_error_once_is_retried(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, status(500), serve(DATA))
    assert fetch(make_target(url), cache).read_bytes() == DATA
    assert server.count(PATH) == 2


def test_persistent_server_error(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, status(503))
    with pytest.raises(ExternalError, match="HTTP 503") as info:
        fetch(make_target(url), cache)
    assert url in str(info.value)
    assert server.count(PATH) == POLICY.retries + 1
    assert leftovers(cache) == []


def test_not_found(server: Loopback, cache: ArchiveCache) -> None:
    url = server.url(PATH)  # no route: 404
    with pytest.raises(ExternalError) as info:
        fetch(make_target(url), cache)
    assert info.value.exit_code == 3
    assert "HTTP 404" in str(info.value) and url in str(info.value)
    assert server.requests == [PATH]  # a 404 is final
    assert stored(cache) == [] and leftovers(cache) == []


def test_redirect_loop(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route("/loop", redirect("/loop"))
    with pytest.raises(ExternalError, match="redirected more than 20 times"):
        fetch(make_target(url), cache)
    assert leftovers(cache) == []


def test_unreachable_server(cache: ArchiveCache) -> None:
    with socket.socket() as sock:  # bound, never listening: refused, and no one else's port
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"
        with pytest.raises(ExternalError, match="could not reach"):
            fetch(make_target(url), cache)
    assert leftovers(cache) == []


def test_interrupt_leaves_no_temp_file(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))

    def interrupt(done: int, total: int | None) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(make_target(url), cache, on_progress=interrupt)
    assert stored(cache) == [] and leftovers(cache) == []


def test_concurrent_downloads_of_the_same_archive(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    both_started = threading.Barrier(2, timeout=30)
    results: list[Path] = []
    errors: list[BaseException] = []

    def progress(done: int, total: int | None) -> None:
        if done == 0:
            both_started.wait()  # both have missed the cache and are downloading

    def run() -> None:
        try:
            results.append(fetch(make_target(url), cache, on_progress=progress))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [cache.path_for(SHA)] * 2
    assert cache.path_for(SHA).read_bytes() == DATA
    assert server.count(PATH) == 2
    assert stored(cache) == [SHA] and leftovers(cache) == []


# --- offline --------------------------------------------------------------------------------


def test_offline_uses_the_store(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    fetch(make_target(url), cache)
    offline = HttpPolicy(offline=True, backoff=0.01)
    assert fetch(make_target(url), cache, policy=offline).read_bytes() == DATA
    assert server.requests == [PATH]  # only the first, online fetch


def test_offline_without_the_archive(server: Loopback, cache: ArchiveCache) -> None:
    url = server.route(PATH, serve(DATA))
    with pytest.raises(ExternalError) as info:
        fetch(make_target(url), cache, policy=HttpPolicy(offline=True))
    message = str(info.value)
    assert ASSET in message and url in message and "--offline" in message
    assert server.requests == []


def test_offline_does_not_use_a_corrupt_entry(cache: ArchiveCache) -> None:
    entry = cache.path_for(SHA)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"junk")
    with pytest.raises(ExternalError, match="offline"):
        fetch(make_target("https://example.invalid/x"), cache, policy=HttpPolicy(offline=True))
    assert not entry.exists()


# --- mirrors and local files ----------------------------------------------------------------


def test_source_url_layout() -> None:
    target = make_target(f"https://github.com/o/r/releases/download/20241219/{ENCODED_ASSET}")
    assert source_url(target) == target.url
    expected = f"https://pbs.example/rel/20241219/{ENCODED_ASSET}"
    assert source_url(target, "https://pbs.example/rel") == expected
    assert source_url(target, "https://pbs.example/rel/") == expected
    assert source_url(target, "/srv/mirror") == f"file:///srv/mirror/20241219/{ENCODED_ASSET}"


def test_mirror_url_layout(server: Loopback, cache: ArchiveCache) -> None:
    mirror_path = f"/mirror/20241219/{ENCODED_ASSET}"
    server.route(mirror_path, serve(DATA))
    upstream = server.url(PATH)  # not served: only the mirror may be asked
    path = fetch(make_target(upstream), cache, mirror=server.url("/mirror/"))
    assert path.read_bytes() == DATA
    assert server.requests == [mirror_path]


def test_mirror_cannot_substitute_other_bytes(server: Loopback, cache: ArchiveCache) -> None:
    other = DATA[:-1] + b"?"
    server.route(f"/mirror/20241219/{ENCODED_ASSET}", serve(other))
    with pytest.raises(VerificationError, match=hashlib.sha256(other).hexdigest()):
        fetch(make_target(server.url(PATH)), cache, mirror=server.url("/mirror"))
    assert stored(cache) == [] and leftovers(cache) == []


def test_mirror_missing_the_build(server: Loopback, cache: ArchiveCache) -> None:
    with pytest.raises(ExternalError) as info:
        fetch(make_target(server.url(PATH)), cache, mirror=server.url("/mirror"))
    assert info.value.hint is not None and "20241219" in info.value.hint
    assert server.url(f"/mirror/20241219/{ENCODED_ASSET}") in str(info.value)


def write_mirror(root: Path, data: bytes = DATA) -> Path:
    (root / "20241219").mkdir(parents=True)
    (root / "20241219" / ASSET).write_bytes(data)
    return root


@pytest.mark.parametrize("as_uri", [False, True])
def test_mirror_directory(tmp_path: Path, cache: ArchiveCache, as_uri: bool) -> None:
    root = write_mirror(tmp_path / "mirror")
    mirror = root.as_uri() if as_uri else str(root)
    target = make_target(f"https://example.invalid/download/20241219/{ENCODED_ASSET}")
    calls: list[tuple[int, int | None]] = []
    path = fetch(target, cache, mirror=mirror, on_progress=lambda d, t: calls.append((d, t)))
    assert path == cache.path_for(SHA) and path.read_bytes() == DATA
    assert calls[-1] == (len(DATA), len(DATA))
    assert leftovers(cache) == []


def test_mirror_directory_with_wrong_bytes(tmp_path: Path, cache: ArchiveCache) -> None:
    root = write_mirror(tmp_path / "mirror", DATA[:-1] + b"?")
    with pytest.raises(VerificationError, match="expected sha256"):
        fetch(make_target("https://example.invalid/x/" + ENCODED_ASSET), cache, mirror=root)
    assert stored(cache) == [] and leftovers(cache) == []


def test_mirror_directory_without_the_file(tmp_path: Path, cache: ArchiveCache) -> None:
    with pytest.raises(ExternalError, match="mirror") as info:
        fetch(make_target("https://example.invalid/x/a.tar.gz"), cache, mirror=tmp_path)
    assert str(tmp_path) in str(info.value)
    assert leftovers(cache) == []


def test_file_url(tmp_path: Path, cache: ArchiveCache) -> None:
    archive = tmp_path / ASSET
    archive.write_bytes(DATA)
    assert fetch(make_target(archive.as_uri()), cache).read_bytes() == DATA


def test_file_url_with_wrong_size(tmp_path: Path, cache: ArchiveCache) -> None:
    archive = tmp_path / ASSET
    archive.write_bytes(DATA + b"more")
    with pytest.raises(VerificationError, match=f"got {len(DATA) + 4} bytes"):
        fetch(make_target(archive.as_uri()), cache)
    assert stored(cache) == [] and leftovers(cache) == []


def test_unsupported_scheme(cache: ArchiveCache) -> None:
    with pytest.raises(InputError, match="ftp://"):
        fetch(make_target("ftp://example.invalid/" + ENCODED_ASSET), cache)


# --- https: certificates are verified, with the CA bundle the environment names -------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[Loopback]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    loopback = Loopback(tls=context)
    yield loopback
    loopback.close()


def test_https_refuses_an_untrusted_certificate(tls_server: Loopback, cache: ArchiveCache) -> None:
    url = tls_server.route(PATH, serve(DATA))
    with pytest.raises(ExternalError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(make_target(url), cache)
    assert stored(cache) == [] and leftovers(cache) == []


def trusting_policy(certificate: Path) -> HttpPolicy:
    """POLICY, trusting the CA file that ``SSL_CERT_FILE`` names, as Settings resolve it."""
    resolved = Settings.resolve(environ={"SSL_CERT_FILE": str(certificate)}).http
    assert resolved.ca_file == str(certificate)
    return replace(POLICY, ca_file=resolved.ca_file)


def test_https_trusts_what_ssl_cert_file_names(
    tls_server: Loopback,
    cache: ArchiveCache,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trusting = trusting_policy(certificate[0])
    url = tls_server.route(PATH, serve(DATA))
    assert fetch(make_target(url), cache, policy=trusting).read_bytes() == DATA


@pytest.mark.parametrize("trusted", [False, True])
def test_a_redirect_from_http_to_https_is_verified(
    server: Loopback,
    tls_server: Loopback,
    cache: ArchiveCache,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    trusted: bool,
) -> None:
    policy = trusting_policy(certificate[0]) if trusted else POLICY
    url = server.route("/moved", redirect(tls_server.route(PATH, serve(DATA))))
    if trusted:
        assert fetch(make_target(url), cache, policy=policy).read_bytes() == DATA
        assert tls_server.requests == [PATH]
    else:
        with pytest.raises(ExternalError, match="CERTIFICATE_VERIFY_FAILED"):
            fetch(make_target(url), cache)
        assert tls_server.requests == []  # no request was sent over the unverified connection


# --- bounded network time ---------------------------------------------------------------------


def stall_after(data: bytes, sent: int, release: threading.Event) -> Behaviour:
    """Announce the full length, send ``sent`` bytes, then say nothing until ``release``."""

    def behaviour(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[:sent])
        h.wfile.flush()
        release.wait(10)
        h.close_connection = True

    return behaviour


def trickle(data: bytes, pause: threading.Event, every: float) -> Behaviour:
    """Send one byte every ``every`` seconds (until ``pause`` is set): never silent for long."""

    def behaviour(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        for index in range(len(data)):
            if pause.wait(every):
                break
            h.wfile.write(data[index : index + 1])
            h.wfile.flush()
        h.close_connection = True

    return behaviour


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_stalled_body_fails_once_without_retries(
    server: Loopback, cache: ArchiveCache, release: threading.Event
) -> None:
    url = server.route(PATH, stall_after(DATA, 1000, release))
    policy = HttpPolicy(backoff=0.01, retries=3, timeout=0.2)
    with pytest.raises(ExternalError) as caught:
        fetch(make_target(url), cache, policy=policy)
    message = str(caught.value)
    assert url in message
    assert "1000 bytes received" in message
    assert "PYLOCK_HTTP_TIMEOUT" in message and "--http-timeout" in message
    assert server.count(PATH) == 1  # the time is spent: a stall is not retried
    assert leftovers(cache) == [] and stored(cache) == []


def test_trickling_body_fails_the_minimum_speed(
    server: Loopback, cache: ArchiveCache, release: threading.Event
) -> None:
    url = server.route(PATH, trickle(DATA, release, 0.01))
    policy = HttpPolicy(backoff=0.01, retries=3, timeout=0.15, min_speed=10_000)
    with pytest.raises(ExternalError) as caught:
        fetch(make_target(url), cache, policy=policy)
    assert "below the minimum of 10000 bytes/s" in str(caught.value)
    assert server.count(PATH) == 1
    assert leftovers(cache) == []


def test_overall_deadline(server: Loopback, cache: ArchiveCache, release: threading.Event) -> None:
    url = server.route(PATH, trickle(DATA, release, 0.01))
    policy = HttpPolicy(backoff=0.01, timeout=5.0, min_speed=0, deadline=0.1)
    with pytest.raises(ExternalError) as caught:
        fetch(make_target(url), cache, policy=policy)
    assert "did not finish within 0.1 seconds" in str(caught.value)
    assert "PYLOCK_HTTP_DEADLINE" in str(caught.value)
    assert leftovers(cache) == []


def test_httpx_comes_without_its_command_line() -> None:
    """httpx's ``__init__`` imports its CLI (click, rich, pygments: ~40 ms) when they are
    installed, and typer installs them; pylock imports httpx without it (net/lib.py), and only
    for that one import: the CLI module stays importable afterwards."""
    program = """
import importlib.util, sys
assert importlib.util.find_spec("click") and importlib.util.find_spec("rich")
import pylock.fetch.download, pylock.sources.source
heavy = sorted(n for n in ("httpx._main", "click", "rich", "pygments") if n in sys.modules)
assert not heavy, heavy
assert not any(type(f).__module__ == "pylock.net.lib" for f in sys.meta_path), sys.meta_path
import httpx, httpx._main
assert callable(httpx._main.main)
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")
