"""A loopback stand-in for a company's private PBS mirror (Artifactory, Nexus, a bucket behind
a proxy): ``{base}/{build}/{asset}`` with a ``SHA256SUMS`` per build and an index page at
``{base}/``, served only to a request that carries the one ``Authorization`` value it wants.

Every request is recorded with its headers, so a test can see exactly what pylock sent where.
``redirect_archives_to`` makes the archives live elsewhere (a CDN, a presigned object-store URL):
the mirror answers an authorised archive request with a 302 to the same path on another server,
which serves it to anyone and records what it was sent.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote


def basic(user: str, password: str) -> str:
    """The ``Authorization`` value of HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def bearer(token: str) -> str:
    return f"Bearer {token}"


@dataclass(frozen=True)
class Seen:
    """One request the server answered."""

    path: str  # percent-decoded
    headers: Mapping[str, str]  # lower-case names
    status: int

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class PrivateMirror:
    """The server; ``wants`` is the exact ``Authorization`` value it accepts (None: anyone)."""

    builds: Mapping[str, Iterable[tuple[str, bytes]]]
    wants: str | None = None
    redirect_archives_to: PrivateMirror | None = None
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.files: dict[str, bytes] = {}
        for build, assets in self.builds.items():
            listed = dict(assets)
            for name, body in listed.items():
                self.files[f"/{build}/{name}"] = body
            sums = "".join(
                f"{hashlib.sha256(body).hexdigest()}  {quote(name)}\n"
                for name, body in sorted(listed.items())
            )
            self.files[f"/{build}/SHA256SUMS"] = sums.encode()
        self._lock = threading.Lock()
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, headers, body = mirror._answer(self)
                with mirror._lock:
                    seen = {k.lower(): v for k, v in self.headers.items()}
                    mirror.seen.append(Seen(unquote(self.path), seen, status))
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    def with_userinfo(self, user: str, password: str) -> str:
        """The base URL with ``user:password@`` in it, as a user would type it."""
        return self.url.replace("http://", f"http://{user}:{password}@")

    def _answer(
        self, request: http.server.BaseHTTPRequestHandler
    ) -> tuple[int, dict[str, str], bytes]:
        if self.wants is not None and request.headers.get("Authorization") != self.wants:
            challenge = "Bearer" if self.wants.startswith("Bearer") else 'Basic realm="mirror"'
            return 401, {"WWW-Authenticate": challenge}, b"credentials, please\n"
        path = unquote(request.path.split("?", 1)[0])
        if path == "/":
            links = "".join(f'<a href="{b}/">{b}/</a>\n' for b in sorted(self.builds))
            return 200, {"Content-Type": "text/html"}, f"<html><body>{links}</body></html>".encode()
        body = self.files.get(path)
        if body is None:
            return 404, {}, b"not found\n"
        if self.redirect_archives_to is not None and not path.endswith("/SHA256SUMS"):
            target = self.redirect_archives_to.url + quote(path)
            return 302, {"Location": target}, b""
        return 200, {"Content-Type": "application/octet-stream"}, body

    def archive_requests(self) -> list[Seen]:
        return [s for s in self.seen if not s.path.endswith(("/", "SHA256SUMS", ".sigstore.json"))]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
