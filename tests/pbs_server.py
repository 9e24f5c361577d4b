"""A loopback stand-in for GitHub's releases API and download host, serving PBS-like releases.

One 127.0.0.1 port serves what pylock talks to in the wild:

- the REST API under ``/repos/astral-sh/python-build-standalone``: ``/releases`` (newest first,
  ``per_page``/``page``, a GitHub-style ``Link`` header whose targets use the
  ``/repositories/{id}/releases`` form as api.github.com does), ``/releases/tags/{tag}``,
  ``/releases/latest``; ETags with 304s; ``X-RateLimit-*`` headers;
- downloads at ``/astral-sh/python-build-standalone/releases/download/{tag}/{name}`` (where each
  asset's ``browser_download_url`` points), with ``SHA256SUMS`` and ``.sha256`` sidecars, byte
  ranges, and an nginx-style index at ``…/download/`` and ``…/download/{tag}/`` so the same
  server is also a ``mirror:`` URL.

Assets are (name, body) pairs; sha256 and size are computed from the body, so anything a test
later downloads matches what the API said. Switches make it rate-limit (403/429) or fail with
5xx N times, and every request is logged so tests can count them and inspect headers.

The attestations API, ``/repos/{owner}/{repo}/attestations/sha256:{hex}``, answers
``{"attestations": [{"bundle": …, "repository_id": …}]}`` for the digests a test attested
(``attest``) and 404 for any other, as GitHub does.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

OWNER_REPO = "astral-sh/python-build-standalone"
REPOSITORY_ID = 162334160
SAMPLE_METADATA = Path(__file__).parent / "data"
SAMPLE_METADATA_FILE = SAMPLE_METADATA / "uv-download-metadata.sample.json"

Selection = bool | Collection[str]


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _selected(selection: Selection, name: str) -> bool:
    if isinstance(selection, bool):
        return selection
    return name in selection


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake answered, with the status it answered."""

    method: str
    path: str  # percent-decoded, as the server routed it
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    status: int

    @property
    def is_api(self) -> bool:
        return self.path.startswith(("/repos/", "/repositories/"))

    @property
    def is_download(self) -> bool:
        return "/releases/download/" in self.path

    @property
    def is_attestation(self) -> bool:
        return self.is_api and "/attestations/" in self.path


@dataclass
class FakeRelease:
    """A published release. Mutable on purpose: a test may tamper with a file or a digest
    after creating it (ETags follow, since they are computed per response)."""

    tag: str
    id: int
    files: dict[str, bytes]  # every uploaded asset, in upload order: archives, SHA256SUMS, …
    digests: set[str] = field(default_factory=set)  # assets whose API object carries `digest`
    draft: bool = False

    def sha256(self, name: str) -> str:
        return sha256_hex(self.files[name])


@dataclass
class _Failure:
    remaining: int
    status: int


class FakePBS:
    """The fake GitHub for one test; see the module docstring. Start it with ``serve``."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.url = f"http://{server.host}:{server.port}"
        self.api_url = f"{self.url}/repos/{OWNER_REPO}"
        self.spec = f"github:{self.api_url}"
        self.download_base = f"{self.url}/{OWNER_REPO}/releases/download"
        self.releases: dict[str, FakeRelease] = {}
        self.log: list[LoggedRequest] = []
        self._rate_limit: tuple[int, int, int | None] | None = None
        self._failure: _Failure | None = None
        self._next_id = 1000
        self.attestations: dict[str, list[dict[str, Any]]] = {}  # sha256 -> bundles (JSON)
        self._lock = threading.Lock()
        server.expect_request(re.compile(r".*")).respond_with_handler(self._handle)

    # --- building releases ---------------------------------------------------------------

    def add_release(
        self,
        tag: str,
        assets: Iterable[tuple[str, bytes]],
        *,
        digests: Selection = True,
        sums: Selection = True,
        sidecars: Selection = False,
    ) -> FakeRelease:
        """Publish ``assets`` under ``tag``. ``digests``/``sums``/``sidecars`` choose which
        archives get a GitHub ``digest``, a ``SHA256SUMS`` line, a ``.sha256`` sidecar:
        True for all, False for none, or a collection of names."""
        files = dict(assets)
        archives = list(files)
        listed = sorted(n for n in archives if _selected(sums, n))
        if listed:
            files["SHA256SUMS"] = "".join(f"{sha256_hex(files[n])}  {n}\n" for n in listed).encode()
        for name in archives:
            if _selected(sidecars, name):
                files[f"{name}.sha256"] = f"{sha256_hex(files[name])}\n".encode()
        chosen = {n for n in files if _selected(digests, n)}
        self._next_id += 1
        release = FakeRelease(tag, self._next_id, files, chosen)
        self.releases[tag] = release
        return release

    def add_sample_releases(
        self,
        *,
        builds: Collection[str] | None = None,
        body_for: Callable[[str, str], bytes | None] | None = None,
    ) -> list[FakeRelease]:
        """Releases built from the real asset names in uv's download metadata sample, plus the
        neighbouring flavors PBS published beside them (see ``sample_release_assets``), with
        each era's checksum publishing: digest + SHA256SUMS since 20250711, SHA256SUMS +
        sidecars from 20220227, nothing before. ``body_for(tag, name)`` may supply real bytes.
        """
        made = []
        for tag, names in sample_release_assets().items():
            if builds is not None and tag not in builds:
                continue
            bodies = [
                (n, (body_for(tag, n) if body_for else None) or synthetic_body(n)) for n in names
            ]
            if tag >= "20250711":
                made.append(self.add_release(tag, bodies, digests=True, sums=True))
            elif tag >= "20220227":
                made.append(self.add_release(tag, bodies, digests=False, sidecars=True))
            else:
                made.append(self.add_release(tag, bodies, digests=False, sums=False))
        return made

    def attest(self, sha256: str, *bundles: bytes | dict[str, Any]) -> None:
        """Serve ``bundles`` (JSON bytes or parsed) from the attestations API for ``sha256``."""
        self.attestations.setdefault(sha256, []).extend(
            json.loads(b) if isinstance(b, bytes) else b for b in bundles
        )

    def download_url(self, tag: str, name: str) -> str:
        return f"{self.download_base}/{tag}/{quote(name, safe='')}"

    # --- switches ------------------------------------------------------------------------

    def rate_limit(
        self, *, status: int = 403, reset: int = 1_900_000_000, retry_after: int | None = None
    ) -> None:
        """Refuse every API request as rate limited until ``clear_rate_limit``."""
        self._rate_limit = (status, reset, retry_after)

    def clear_rate_limit(self) -> None:
        self._rate_limit = None

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests (API or download) with ``status``."""
        self._failure = _Failure(count, status)

    # --- the request log -----------------------------------------------------------------

    @property
    def api_log(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.is_api]

    @property
    def download_log(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.is_download]

    @property
    def attestation_log(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.is_attestation]

    @property
    def release_log(self) -> list[LoggedRequest]:
        """The API requests about releases (every API request but attestation look-ups)."""
        return [r for r in self.log if r.is_api and not r.is_attestation]

    # --- serving -------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        with self._lock:
            response = self._route(request)
            self.log.append(
                LoggedRequest(
                    method=request.method,
                    path=request.path,
                    query=dict(request.args.items()),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    status=response.status_code,
                )
            )
            return response

    def _route(self, request: Request) -> Response:
        if self._failure is not None and self._failure.remaining > 0:
            self._failure.remaining -= 1
            return Response("server error\n", status=self._failure.status)
        path = request.path
        api_prefixes = (f"/repos/{OWNER_REPO}", f"/repositories/{REPOSITORY_ID}")
        for prefix in api_prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return self._api(request, path[len(prefix) :])
        if path.startswith(("/repos/", "/repositories/")):
            return self._json_response(request, _not_found(), status=404)
        download = f"/{OWNER_REPO}/releases/download"
        if path == download or path.startswith(download + "/"):
            return self._download(request, path[len(download) :].strip("/"))
        return Response("not found\n", status=404)

    def _api(self, request: Request, rest: str) -> Response:
        if self._rate_limit is not None:
            status, reset, retry_after = self._rate_limit
            headers = {
                "X-RateLimit-Limit": "60",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Used": "60",
                "X-RateLimit-Reset": str(reset),
            }
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            body = {
                "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                "Authenticated requests get a higher rate limit.)",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits",
            }
            return Response(
                json.dumps(body), status=status, headers=headers, mimetype="application/json"
            )
        published = [r for r in sorted(self.releases.values(), key=lambda r: r.tag, reverse=True)]
        published = [r for r in published if not r.draft]
        if rest == "/releases":
            return self._list(request, published)
        if rest == "/releases/latest":
            if not published:
                return self._json_response(request, _not_found(), status=404)
            return self._json_response(request, self._release_json(published[0]))
        if rest.startswith("/releases/tags/"):
            release = self.releases.get(rest[len("/releases/tags/") :])
            if release is None or release.draft:
                return self._json_response(request, _not_found(), status=404)
            return self._json_response(request, self._release_json(release))
        if rest == "":
            return self._json_response(
                request, {"id": REPOSITORY_ID, "full_name": OWNER_REPO, "private": False}
            )
        if rest.startswith("/attestations/sha256:"):
            bundles = self.attestations.get(rest[len("/attestations/sha256:") :].lower())
            if not bundles:
                return self._json_response(request, _not_found(), status=404)
            entries = [{"bundle": b, "repository_id": REPOSITORY_ID} for b in bundles]
            return self._json_response(request, {"attestations": entries})
        return self._json_response(request, _not_found(), status=404)

    def _list(self, request: Request, published: list[FakeRelease]) -> Response:
        per_page = min(max(_int(request.args.get("per_page"), 30), 1), 100)
        page = max(_int(request.args.get("page"), 1), 1)
        last = max((len(published) + per_page - 1) // per_page, 1)
        chunk = published[(page - 1) * per_page : page * per_page]
        links = []
        base = f"{self.url}/repositories/{REPOSITORY_ID}/releases?per_page={per_page}&page="
        if page > 1:
            links.append(f'<{base}{min(page - 1, last)}>; rel="prev"')
        if page < last:
            links.append(f'<{base}{page + 1}>; rel="next"')
            links.append(f'<{base}{last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}1>; rel="first"')
        headers = {"Link": ", ".join(links)} if links else {}
        return self._json_response(request, [self._release_json(r) for r in chunk], headers=headers)

    def _json_response(
        self,
        request: Request,
        data: Any,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        body = json.dumps(data).encode()
        all_headers = {
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "59",
            "X-RateLimit-Reset": "1900000000",
            **(headers or {}),
        }
        if status == 200:
            return _conditional(request, body, all_headers, "application/json")
        return Response(body, status=status, headers=all_headers, mimetype="application/json")

    def _release_json(self, release: FakeRelease) -> dict[str, Any]:
        html_base = f"{self.url}/{OWNER_REPO}/releases"
        assets = []
        for index, (name, body) in enumerate(release.files.items()):
            assets.append(
                {
                    "url": f"{self.api_url}/releases/assets/{release.id * 10_000 + index}",
                    "id": release.id * 10_000 + index,
                    "node_id": f"RA_{release.id}_{index}",
                    "name": name,
                    "label": "",
                    "content_type": "application/octet-stream",
                    "state": "uploaded",
                    "size": len(body),
                    "digest": f"sha256:{sha256_hex(body)}" if name in release.digests else None,
                    "download_count": 0,
                    "created_at": _date(release.tag),
                    "updated_at": _date(release.tag),
                    "browser_download_url": self.download_url(release.tag, name),
                }
            )
        return {
            "url": f"{self.api_url}/releases/{release.id}",
            "assets_url": f"{self.api_url}/releases/{release.id}/assets",
            "html_url": f"{html_base}/tag/{release.tag}",
            "id": release.id,
            "node_id": f"RE_{release.id}",
            "tag_name": release.tag,
            "target_commitish": "main",
            "name": release.tag,
            "draft": release.draft,
            "prerelease": False,
            "created_at": _date(release.tag),
            "published_at": _date(release.tag),
            "assets": assets,
            "tarball_url": f"{self.api_url}/tarball/{release.tag}",
            "zipball_url": f"{self.api_url}/zipball/{release.tag}",
            "body": "",
        }

    def _download(self, request: Request, rest: str) -> Response:
        if rest == "":
            return _index([f"{tag}/" for tag in sorted(self.releases)])
        tag, _, name = rest.partition("/")
        release = self.releases.get(tag)
        if release is None:
            return Response("not found\n", status=404)
        if name == "":
            return _index(list(release.files))
        body = release.files.get(name)
        if body is None:
            return Response("not found\n", status=404)
        match = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", ""))
        if match and int(match.group(1)) < len(body):
            start = int(match.group(1))
            return Response(
                body[start:],
                status=206,
                headers={"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"},
                mimetype="application/octet-stream",
            )
        return _conditional(request, body, {}, "application/octet-stream")


def _conditional(
    request: Request, body: bytes, headers: Mapping[str, str], mimetype: str
) -> Response:
    """A 200 with an ETag, or a 304 when the client already holds this body."""
    etag = f'W/"{sha256_hex(body)[:40]}"'
    sent = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if etag in sent:
        return Response(status=304, headers={**headers, "ETag": etag})
    return Response(body, headers={**headers, "ETag": etag}, mimetype=mimetype)


def _index(names: list[str]) -> Response:
    """An nginx-style autoindex page."""
    rows = "".join(f'<a href="{quote(n)}">{html.escape(n)}</a>\n' for n in names)
    page = f'<html><body><h1>Index</h1><hr><pre><a href="../">../</a>\n{rows}</pre></body></html>'
    return Response(page, mimetype="text/html")


def _not_found() -> dict[str, str]:
    return {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/releases/releases",
        "status": "404",
    }


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _date(tag: str) -> str:
    if re.fullmatch(r"\d{8}", tag):
        return f"{tag[:4]}-{tag[4:6]}-{tag[6:]}T12:00:00Z"
    return "2025-01-01T12:00:00Z"


def _body(body_for: Callable[[str, str], bytes | None] | None, tag: str, name: str) -> bytes:
    supplied = body_for(tag, name) if body_for is not None else None
    return supplied if supplied is not None else synthetic_body(name)


def synthetic_body(name: str) -> bytes:
    """Small, distinct bytes standing in for an archive nobody extracts."""
    return f"synthetic PBS asset {name}\n".encode()


# --- realistic releases from real names ----------------------------------------------------

_TRIPLE_RE = (
    r"(?P<triple>(?:x86_64_v[234]|x86_64|aarch64|i686|armv7|ppc64le|s390x|riscv64)-"
    r"(?:apple-darwin|pc-windows-msvc(?:-shared|-static)?|"
    r"unknown-linux-(?:gnueabihf|gnueabi|gnu|musl)))"
)
_E2_NAME = re.compile(rf"cpython-(?P<ver>[^+]+)\+(?P<tag>\d{{8}})-{_TRIPLE_RE}-(?P<tail>.+)")
_E1_NAME = re.compile(
    rf"cpython-(?P<ver>[^-]+)-{_TRIPLE_RE}-(?P<tail>.+)-(?P<dt>\d{{8}}T\d{{4}})\.tar\.(?:zst|gz)"
)


def _full_configs(triple: str, tag: str) -> list[str]:
    """The full-archive build configs PBS published for a triple in a release
    (docs/pbs-format.md §1.5)."""
    if "windows" in triple:
        return ["pgo"]
    # x86_64_v4 joined the optimised builds in 20250115.
    fast_x86 = r"x86_64(?:_v[23])?" if tag < "20250115" else r"x86_64(?:_v[234])?"
    if triple.endswith("apple-darwin") or re.fullmatch(f"{fast_x86}-unknown-linux-gnu", triple):
        if tag >= "20250115":
            return ["pgo+lto", "debug"]
        if tag >= "20240415":
            return ["pgo", "pgo+lto", "debug"]
        return ["lto", "pgo", "pgo+lto", "debug"]
    if triple == "aarch64-unknown-linux-gnu" and tag >= "20250708":
        return ["pgo+lto", "debug"]
    configs = ["lto", "noopt", "debug"]
    if triple.endswith("musl") and tag >= "20250317":
        configs += ["lto+static", "noopt+static", "debug+static"]
    return configs


def _e2_neighbours(version: str, tag: str, triple: str) -> list[str]:
    head = f"cpython-{version}+{tag}-{triple}"
    names = [f"{head}-install_only.tar.gz"]
    if tag >= "20240726":
        names.append(f"{head}-install_only_stripped.tar.gz")
    configs = _full_configs(triple, tag)
    names += [f"{head}-{c}-full.tar.zst" for c in configs]
    minor = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    if minor >= (3, 13) and tag >= "20241008":
        names += [f"{head}-freethreaded+{c}-full.tar.zst" for c in configs if "static" not in c]
        if tag >= "20260324":
            names += [
                f"{head}-freethreaded-install_only.tar.gz",
                f"{head}-freethreaded-install_only_stripped.tar.gz",
            ]
    if triple.endswith("pc-windows-msvc") and "20240415" <= tag < "20250311":
        # PBS double-published Windows builds under the old "-shared" pseudo-triple
        # (docs/pbs-format.md §1.3).
        names += [
            f"{head}-shared-pgo-full.tar.zst",
            f"{head}-shared-install_only.tar.gz",
        ]
    return names


def _e1_neighbours(version: str, triple: str, dt: str) -> list[str]:
    tag = dt[:8]
    if tag < "20210724":
        return []  # install_only archives start with 20210724
    if "windows" in triple:
        base = triple if triple.endswith(("-shared", "-static")) else f"{triple}-shared"
        return [f"cpython-{version}-{base}-install_only-{dt}.tar.gz"]
    return [f"cpython-{version}-{triple}-install_only-{dt}.tar.gz"]


def sample_release_assets(path: Path = SAMPLE_METADATA_FILE) -> dict[str, list[str]]:
    """``{tag: asset names}``, newest tag first: every real name in the uv sample, plus the
    flavors PBS published beside it (install_only next to install_only_stripped, the full
    ``pgo+lto``/``lto``/``noopt``/``debug`` archives, free-threaded ones for 3.13+, Windows
    ``-shared`` duplicates, E1 ``install_only``), so a resolver must choose among realistic
    neighbours rather than the one asset uv already picked."""
    data = json.loads(path.read_text("utf-8"))
    by_tag: dict[str, dict[str, None]] = {}
    for entry in data.values():
        if entry.get("name") != "cpython":
            continue
        name = entry["url"].rsplit("/", 1)[1].replace("%2B", "+")
        tag = entry["build"]
        names = by_tag.setdefault(tag, {})
        names[name] = None
        if m := _E2_NAME.fullmatch(name):
            neighbours = _e2_neighbours(m["ver"], m["tag"], m["triple"])
        elif m := _E1_NAME.fullmatch(name):
            neighbours = _e1_neighbours(m["ver"], m["triple"], m["dt"])
        else:
            neighbours = []
        for neighbour in neighbours:
            names.setdefault(neighbour, None)
    return {tag: sorted(by_tag[tag]) for tag in sorted(by_tag, reverse=True)}
