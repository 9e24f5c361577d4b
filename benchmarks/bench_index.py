"""Time the ``index:`` source on an index the size of the real one (about 12 MB).

Run by hand: ``.venv/bin/python benchmarks/bench_index.py``. It writes a synthetic PBS versions
index in the real shape (one line per version+build, newest first, ~60 artifacts a line), serves
it from 127.0.0.1 with an ETag, and times: resolving ``3.12`` for three platforms on a cold
HTTP cache (one 200: the answer comes from the first lines, the rest is only read into the
cache), the same on a warm cache (one 304), and parsing every line of the file.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from pylock.net.http import HttpCache, HttpPolicy, make_client
from pylock.project.manifest import Request, parse_python_request
from pylock.project.platforms import parse_platform
from pylock.resolution.resolver import resolve
from pylock.sources.index import IndexSource
from pylock.sources.source import SourceContext

TRIPLES = (
    "aarch64-apple-darwin", "x86_64-apple-darwin", "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-gnu", "x86_64_v2-unknown-linux-gnu", "x86_64_v3-unknown-linux-gnu",
    "x86_64-unknown-linux-musl", "x86_64-pc-windows-msvc", "i686-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
)  # fmt: skip
TAILS = (
    ("install_only", "install_only.tar.gz"),
    ("install_only_stripped", "install_only_stripped.tar.gz"),
    ("pgo+lto+full", "pgo%2Blto-full.tar.zst"),
    ("debug+full", "debug-full.tar.zst"),
    ("freethreaded+pgo+lto+full", "freethreaded%2Bpgo%2Blto-full.tar.zst"),
    ("freethreaded+install_only", "freethreaded-install_only.tar.gz"),
)
BASE = "https://github.com/astral-sh/python-build-standalone/releases/download"


def synthetic_index() -> bytes:
    lines = []
    for week in range(130):  # builds, newest first
        tag = time.strftime("%Y%m%d", time.gmtime(1_790_000_000 - week * 7 * 86400))
        for minor, patch in ((15, 0), (14, 3), (13, 9), (12, 12), (11, 14), (10, 19)):
            version = f"3.{minor}.{max(patch - week // 8, 0)}"
            artifacts = []
            for triple in TRIPLES:
                for variant, tail in TAILS:
                    name = f"cpython-{version}%2B{tag}-{triple}-{tail}"
                    artifacts.append(
                        {
                            "platform": triple,
                            "variant": variant,
                            "url": f"{BASE}/{tag}/{name}",
                            "archive_format": "tar.gz" if tail.endswith("gz") else "tar.zst",
                            "sha256": hashlib.sha256(name.encode()).hexdigest(),
                        }
                    )
            line = {"version": f"{version}+{tag}", "date": "", "artifacts": artifacts}
            lines.append(json.dumps(line, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def serve(body: bytes) -> tuple[http.server.ThreadingHTTPServer, str]:
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.ndjson"


def main() -> None:
    body = synthetic_index()
    lines = body.count(b"\n")
    print(f"index: {len(body) / 1e6:.1f} MB, {lines} lines")
    server, url = serve(body)
    request = Request(
        python=parse_python_request("3.12"),
        platforms=tuple(
            sorted(
                parse_platform(k)
                for k in ("linux-x86_64-gnu", "macos-aarch64-none", "windows-x86_64-none")
            )
        ),
        flavor=None,
        build=None,
    )
    cold, warm, full = [], [], []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as scratch, make_client(HttpPolicy()) as client:
            context = SourceContext(client, HttpCache(Path(scratch)), HttpPolicy(), Path(scratch))
            for samples in (cold, warm):
                start = time.perf_counter()
                releases = IndexSource(url, context).releases(
                    platforms=frozenset(request.platforms)
                )
                try:
                    got = resolve(request, releases)
                finally:
                    releases.close()  # as locking does: the rest goes to the cache
                samples.append(time.perf_counter() - start)
            (Path(scratch) / "index.ndjson").write_bytes(body)
            start = time.perf_counter()
            count = sum(len(r.artifacts) for r in IndexSource("index.ndjson", context).releases())
            full.append(time.perf_counter() - start)
    server.shutdown()
    print(f"resolved {got.version} ({got.build}); {count} artifacts in the whole file")
    print(f"cold lock (200, stream + cache fill): {statistics.median(cold) * 1000:.0f} ms")
    print(f"warm lock (304, from cache):          {statistics.median(warm) * 1000:.0f} ms")
    print(f"parse every line (local file):        {statistics.median(full) * 1000:.0f} ms")
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
