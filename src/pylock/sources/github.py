"""A GitHub-compatible releases API as a source of PBS artifacts (docs/pbs-format.md §2.3, §2.4).

Releases are listed newest first, a few per page, and pages are fetched only when the resolver
asks for the next release: a PBS release object embeds ~900 assets (~1 MB of JSON), so reading
the whole history would cost both bandwidth and, unauthenticated, most of the 60 requests an hour
GitHub allows. A pinned build is one request to ``/releases/tags/{tag}``.

Checksums come from the asset's ``digest`` (GitHub computes it for uploads since mid-2025), else
the release's ``SHA256SUMS``, else the per-asset ``.sha256`` sidecar (2022-02 … 2025-07), and
are fetched only for assets on the platforms asked for. Assets with no checksum are left out.

The token (``GITHUB_TOKEN``/``GH_TOKEN`` for api.github.com, ``GH_ENTERPRISE_TOKEN`` for any
other host: see ``sources.spec.github_token``) goes only to the API: same scheme, host and port as
the API URL and under its API root. Checksum files are downloads, which never carry it, even on
GitHub Enterprise where downloads and API share a host.

The same API serves the release's artifact attestations (``attestations``: one request per
archive digest, through the HTTP cache, rate limits reported as for releases); verifying them is
``pylock.provenance``'s job, not this module's.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from pylock.errors import ExternalError, RateLimitError
from pylock.net.http import Document, refusal
from pylock.project.platforms import Platform
from pylock.sources._common import (
    fetch,
    fetch_sha256sums,
    normalise_sha256,
    status_error,
    wanted,
)
from pylock.sources.artifacts import Artifact, AssetName, parse_asset_name
from pylock.sources.source import Release, SourceContext

# Five releases a page: ~5 MB of JSON for PBS, enough that a resolver looking a few releases
# back (a platform that lagged, an older minor version) needs one request, not one per release,
# while the common case (the answer is in the newest release) does not pull 30 MB (the default).
PER_PAGE = 5

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

_LINK = re.compile(r"<([^>]*)>([^<]*)")
_DOWNLOAD_PATH = re.compile(r"/(?P<owner>[^/]+)/(?P<name>[^/]+)/releases/download/")
_REL = re.compile(r"""rel\s*=\s*"?([^";,]*)"?""")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def next_link(header: str | None, base_url: str) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header, resolved against the page."""
    for target, params in _LINK.findall(header or ""):
        for rel in _REL.findall(params):
            if "next" in rel.split():
                return urljoin(base_url, str(target).strip())
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = -1  # an invalid port matches nothing
    return scheme, (parts.hostname or "").lower(), port


def _reset_time(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When a rate limit lifts: ``Retry-After`` (seconds or an HTTP date), else the
    ``X-RateLimit-Reset`` epoch."""
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return now + timedelta(seconds=int(retry_after))
    if retry_after:
        try:
            return email.utils.parsedate_to_datetime(retry_after).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset", "").strip()
    if reset.isdigit():
        return datetime.fromtimestamp(int(reset), tz=timezone.utc)
    return None


def _is_rate_limited(doc: Document) -> bool:
    if doc.status == 429:
        return True
    return doc.status == 403 and (
        doc.headers.get("x-ratelimit-remaining", "").strip() == "0" or "retry-after" in doc.headers
    )


def api_for_download(url: str) -> str | None:
    """The API of the github.com repository a release download URL belongs to
    (``https://github.com/O/N/releases/download/…`` -> ``https://api.github.com/repos/O/N``), or
    None for any other URL: a catalog or index names archives, not where their attestations are,
    and only github.com's layout is certain (a GitHub Enterprise host is named with
    ``github:<API URL>``, never guessed, so no enterprise token goes to a host a catalog names).
    """
    parts = urlsplit(url)
    match = _DOWNLOAD_PATH.match(parts.path)
    if parts.scheme != "https" or (parts.hostname or "").lower() != "github.com" or not match:
        return None
    return f"https://api.github.com/repos/{match['owner']}/{match['name']}"


class GitHubSource:
    """Releases from ``{api_url}/releases`` of one repository."""

    def __init__(
        self,
        api_url: str,
        context: SourceContext,
        *,
        token: str | None = None,
        per_page: int = PER_PAGE,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.description = f"github:{self.api_url}"
        self._context = context
        self._token = token or None
        self._per_page = per_page
        self._origin = _origin(self.api_url)
        # The API root: "" on api.github.com, "/api/v3" on GitHub Enterprise. Pagination links
        # point at /repositories/{id}/… under it, and must be authenticated like the first page.
        path = urlsplit(self.api_url).path
        self._api_root = path[: path.find("/repos/")] if "/repos/" in path else path

    def releases(
        self, *, build: str | None = None, platforms: frozenset[Platform] | None = None
    ) -> Iterator[Release]:
        if build is not None:
            obj = self._get_json(f"{self.api_url}/releases/tags/{quote(build, safe='')}")
            if obj is not None:
                release = self._release(obj, platforms)
                if release is not None:
                    yield release
            return
        url: str | None = f"{self.api_url}/releases?per_page={self._per_page}"
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            doc = self._get_api(url)
            page = self._json(doc)
            if not isinstance(page, list):
                raise self._shape_error(doc.url, "a list of releases")
            for obj in page:
                release = self._release(obj, platforms)
                if release is not None:
                    yield release
            url = next_link(doc.headers.get("link"), doc.url)

    def attestations(self, sha256: str) -> list[bytes] | None:
        """The Sigstore bundles the repository's attestations API holds for an artifact with
        this digest (``GET {api}/attestations/sha256:{hex}``), each as JSON bytes; None when it
        holds none (404, or an empty list). Entries without an inline ``bundle`` are passed
        over. Network trouble and rate limits raise ExternalError (exit 3)."""
        url = f"{self.api_url}/attestations/sha256:{sha256}"
        doc = self._get_api(url, missing_ok=True, what="the attestations API", remember=True)
        if doc.status == 404:
            return None
        data = self._json(doc)
        entries = data.get("attestations") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise self._shape_error(doc.url, "an attestations list", "attestations")
        bundles = [
            json.dumps(entry["bundle"]).encode("utf-8")
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("bundle"), dict)
        ]
        return bundles or None

    # --- the API -------------------------------------------------------------------------

    def _sends_token_to(self, url: str) -> bool:
        if _origin(url) != self._origin:
            return False
        path = urlsplit(url).path
        root = self._api_root.rstrip("/")
        return path == root or path.startswith(root + "/")

    def _get_api(
        self,
        url: str,
        *,
        missing_ok: bool = False,
        what: str = "the releases API",
        remember: bool = False,
    ) -> Document:
        headers = dict(API_HEADERS)
        if self._token is not None and self._sends_token_to(url):
            headers["Authorization"] = f"Bearer {self._token}"
        doc = fetch(
            self._context,
            url,
            source=self.description,
            headers=headers,
            remember_missing=remember and missing_ok,
        )
        if doc.status != 200 and not (missing_ok and doc.status == 404):
            raise self._api_error(doc, what)
        return doc

    def _get_json(self, url: str) -> Any:
        """A release by tag; None when there is no such release (404)."""
        doc = self._get_api(url, missing_ok=True)
        return None if doc.status == 404 else self._json(doc)

    def _json(self, doc: Document) -> Any:
        try:
            return json.loads(doc.body)
        except ValueError as exc:
            raise ExternalError(
                f"Source {self.description}: {doc.url} did not return valid JSON ({exc}).",
                hint="Check that the source URL points at a GitHub-compatible releases API.",
            ) from exc

    def _shape_error(self, url: str, expected: str, api: str = "releases") -> ExternalError:
        return ExternalError(
            f"Source {self.description}: {url} did not return {expected} in the shape of "
            f"GitHub's {api} API.",
            hint=f"Check that the source URL points at a GitHub-compatible {api} API.",
        )

    def _api_error(self, doc: Document, what: str = "the releases API") -> ExternalError:
        if _is_rate_limited(doc):
            when = _reset_time(doc.headers, datetime.now(timezone.utc))
            resets = (
                f"it resets at {when:%Y-%m-%d %H:%M:%S} UTC"
                if when is not None
                else "it did not say when it resets"
            )
            hint = (
                "Wait until then, or use a token with a higher limit."
                if self._token
                else "Set GITHUB_TOKEN (or GH_TOKEN; GH_ENTERPRISE_TOKEN for a host other than "
                "api.github.com) to a token to raise the limit to 5,000 requests an hour, or "
                "wait until then."
            )
            return RateLimitError(
                f"Source {self.description}: the API rate limit is exhausted "
                f"(HTTP {doc.status} from {doc.url}); {resets}.",
                hint=hint,
            )
        if doc.status == 401 and self._token is not None and self._sends_token_to(doc.url):
            return ExternalError(
                f"Source {self.description}: {doc.url} rejected the token (HTTP 401).",
                hint="Check GITHUB_TOKEN / GH_TOKEN, or unset them for a public repository.",
            )
        if doc.status == 401:  # no GitHub token went: say which one would, and what did
            happened, _ = refusal(doc.url, doc.status, doc.tried)
            return ExternalError(
                f"Source {self.description}: {doc.url} answered HTTP 401: {happened}.",
                hint="Set GITHUB_TOKEN (or GH_TOKEN) for api.github.com, GH_ENTERPRISE_TOKEN for "
                "another API host, or give the host a netrc entry (docs/sources.md).",
            )
        if doc.status == 404:
            return ExternalError(
                f"Source {self.description}: {doc.url} answered 404 Not Found: there is no "
                "such repository, or it is private.",
                hint="Check the repository API URL (https://api.github.com/repos/OWNER/REPO); "
                "for a private repository set GITHUB_TOKEN.",
            )
        return status_error(self.description, doc, what)

    # --- release objects -----------------------------------------------------------------

    def _release(self, obj: Any, platforms: frozenset[Platform] | None) -> Release | None:
        if not isinstance(obj, dict) or not isinstance(obj.get("assets"), list):
            raise self._shape_error(f"{self.api_url}/releases", "release objects")
        tag = obj.get("tag_name")
        if not isinstance(tag, str) or not tag or obj.get("draft") is True:
            return None  # drafts are not published: their assets may not be downloadable
        files: dict[str, dict[str, Any]] = {
            a["name"]: a
            for a in obj["assets"]
            if isinstance(a, dict) and isinstance(a.get("name"), str)
        }
        chosen: list[tuple[AssetName, dict[str, Any]]] = []
        for name, asset in files.items():
            parsed = parse_asset_name(name, build=tag)
            if parsed is not None and wanted(parsed.platform, platforms):
                chosen.append((parsed, asset))
        sums: dict[str, str] | None = None
        artifacts: list[Artifact] = []
        for parsed, asset in chosen:
            url = asset.get("browser_download_url")
            if not isinstance(url, str) or not url:
                continue
            sha256 = _digest(asset)
            if sha256 is None:
                if sums is None:
                    sums = self._sha256sums(files.get("SHA256SUMS"))
                sha256 = sums.get(parsed.name)
            if sha256 is None:
                sha256 = self._sidecar(files.get(parsed.name + ".sha256"))
            if sha256 is None:
                continue  # never locked, so not worth offering
            size = asset.get("size")
            ok_size = isinstance(size, int) and not isinstance(size, bool) and size >= 0
            artifacts.append(Artifact(parsed, url, sha256, size if ok_size else None))
        return Release(tag, tuple(artifacts))

    def _download_url(self, asset: dict[str, Any] | None) -> str | None:
        url = asset.get("browser_download_url") if asset else None
        return url if isinstance(url, str) and url else None

    def _sha256sums(self, asset: dict[str, Any] | None) -> dict[str, str]:
        url = self._download_url(asset)
        if url is None:
            return {}
        return fetch_sha256sums(self._context, url, source=self.description) or {}

    def _sidecar(self, asset: dict[str, Any] | None) -> str | None:
        """A ``.sha256`` sidecar holds the hex digest alone (docs/pbs-format.md §2.2)."""
        url = self._download_url(asset)
        if url is None:
            return None
        doc = fetch(self._context, url, source=self.description)
        if doc.status in (404, 410):
            return None
        if doc.status != 200:
            raise status_error(self.description, doc, "a .sha256 file")
        words = doc.body.decode("utf-8", errors="replace").split()
        return normalise_sha256(words[0]) if words else None


def _digest(asset: Mapping[str, Any]) -> str | None:
    """GitHub's ``digest`` field, ``sha256:<hex>``; null for uploads before mid-2025."""
    digest = asset.get("digest")
    if not isinstance(digest, str):
        return None
    algorithm, _, value = digest.partition(":")
    return normalise_sha256(value) if algorithm.strip().lower() == "sha256" else None
