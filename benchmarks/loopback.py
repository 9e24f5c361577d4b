"""A threaded stdlib HTTP server on 127.0.0.1 that serves a directory and logs every request.

Both tools and the shell floor download from it, so the network is the same for all of them and
never leaves the machine. Files go out with ``socket.sendfile`` so the server is not the
bottleneck being measured, and the request log lets the benchmark prove that each tool really
fetched the archive from here (and how many times).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO


@dataclass
class RequestLog:
    """Thread-safe list of ``(method, path, status)`` the handler threads append to."""

    entries: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.entries.append((method, path, status))

    def count(self, suffix: str, method: str = "GET") -> int:
        with self._lock:
            return sum(
                1 for m, p, s in self.entries if m == method and p.endswith(suffix) and s == 200
            )

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


PACE_SLICE = 64 * 1024
"""Bytes a paced server sends at a time: small enough that the rate is smooth."""


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, log: RequestLog, pace: float | None, **kwargs: Any) -> None:
        self._request_log = log
        self._pace = pace
        super().__init__(*args, **kwargs)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if str(code).isdigit() else 0
        self._request_log.add(self.command or "", self.path, status)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record, stderr would interleave with the results."""

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        self.wfile.flush()
        if self._pace is None:
            self.connection.sendfile(source)
            return
        # A paced link: never ahead of ``pace`` bytes/s since the first byte (a token bucket
        # with one slice of burst), as a download over a link of that speed arrives.
        start = time.perf_counter()
        sent = 0
        while chunk := source.read(PACE_SLICE):
            due = start + sent / self._pace
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.connection.sendall(chunk)
            sent += len(chunk)


@dataclass(frozen=True)
class Server:
    base_url: str  # "http://127.0.0.1:PORT"
    log: RequestLog


@contextmanager
def serve(directory: Path, pace: float | None = None) -> Iterator[Server]:
    """Serve ``directory`` on an ephemeral loopback port until the block exits, at no more than
    ``pace`` bytes/s per response when given (a paced link), else as fast as loopback goes."""
    log = RequestLog()
    handler = functools.partial(_Handler, directory=str(directory), log=log, pace=pace)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    try:
        host, port = httpd.server_address[:2]
        yield Server(f"http://{host!s}:{port}", log)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
