"""The one HTTP client policy: timeouts, redirects, bounded retries, user agent, auth, cache.

Everything that touches the network goes through here, so the rules that matter for trust live
in one place: a token is only ever sent to the host it was meant for, retries are bounded, and
``--offline`` is enforced before any socket is opened.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from pylock import __version__
from pylock.errors import ExternalError, PylockError
from pylock.fsutil import atomic_write_bytes

USER_AGENT = f"pylock/{__version__}"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
DEFAULT_RETRIES = 3


@dataclass(frozen=True)
class HttpPolicy:
    """Knobs for one program run; tests shorten the backoff to keep the suite fast."""

    offline: bool = False
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    timeout: float = 30.0


def make_client(policy: HttpPolicy | None = None) -> httpx.Client:
    """An httpx client that follows redirects and honours proxy/CA environment variables."""
    policy = policy or HttpPolicy()
    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(policy.timeout, connect=min(policy.timeout, 10.0)),
        headers={"User-Agent": USER_AGENT},
        trust_env=True,
    )


def _refuse_offline(policy: HttpPolicy, what: str) -> None:
    """Offline is enforced here, before any socket exists, not by each caller."""
    if policy.offline:
        raise ExternalError(
            f"{what}: offline mode is on.",
            hint="Drop --offline (or unset PYLOCK_OFFLINE) to allow network access.",
        )


def _describe(url: str, exc: BaseException) -> str:
    return f"could not reach {url}: {exc.__class__.__name__}: {exc}"


@contextlib.contextmanager
def open_stream(
    client: httpx.Client,
    url: str,
    *,
    policy: HttpPolicy | None = None,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
) -> Iterator[httpx.Response]:
    """A streaming request whose status is final: connection errors and 5xx are retried with
    backoff, a bounded number of times.

    Non-retryable statuses (404, 403, ...) are returned to the caller, who knows what they mean.
    Errors after the body has started belong to the caller too (it may restart the download).
    """
    policy = policy or HttpPolicy()
    _refuse_offline(policy, f"Refusing to fetch {url}")
    delay = policy.backoff
    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries
        with contextlib.ExitStack() as stack:
            try:
                response = stack.enter_context(
                    client.stream(method, url, headers=dict(headers or {}))
                )
            except httpx.InvalidURL as exc:
                raise ExternalError(f"Cannot fetch {url!r}: {exc}.", hint="Check the URL.") from exc
            except httpx.TransportError as exc:
                if last:
                    raise ExternalError(
                        _describe(url, exc) + f" (after {policy.retries + 1} attempts).",
                        hint="Check your network, proxy (HTTPS_PROXY) and the URL, then try again.",
                    ) from exc
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    yield response
                    return
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def get(
    client: httpx.Client,
    url: str,
    *,
    policy: HttpPolicy | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A GET with the retry policy of open_stream, body read into memory."""
    with open_stream(client, url, policy=policy, headers=headers) as response:
        try:
            response.read()
        except httpx.TransportError as exc:
            raise ExternalError(_describe(url, exc) + ".", hint="Try again.") from exc
        return response


class HttpCache:
    """Conditional-request cache for small documents (API pages, catalogs, SHA256SUMS).

    An unchanged catalog costs a 304, not a download. Entries are keyed by URL and stored as a
    body file plus a small JSON with the validators; writes are atomic so a crash never leaves a
    body that does not match its ETag. Offline, a cached body is served without asking.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, url: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(url.encode()).hexdigest()
        base = self.root / "http" / digest[:2] / digest
        return base.with_suffix(".body"), base.with_suffix(".json")

    def load(self, url: str) -> tuple[bytes, dict[str, str]] | None:
        body_path, meta_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            return body_path.read_bytes(), dict(meta.get("headers", {}))
        except (OSError, ValueError):
            return None

    def store(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        body_path, meta_path = self._paths(url)
        try:
            body_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(body_path, body)
            meta = json.dumps({"url": url, "headers": dict(headers)}).encode()
            atomic_write_bytes(meta_path, meta)
        except (OSError, PylockError):
            return  # a cache that cannot be written is only a slower cache


_KEPT_HEADERS = ("etag", "last-modified", "link", "content-type")


@dataclass(frozen=True)
class Document:
    """A fetched document: status 200 (possibly from cache after a 304) or an error status."""

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    from_cache: bool = False


def fetch_document(
    client: httpx.Client,
    url: str,
    *,
    cache: HttpCache | None,
    policy: HttpPolicy | None = None,
    headers: Mapping[str, str] | None = None,
) -> Document:
    """GET a small document through the conditional cache; offline serves the cache or fails."""
    policy = policy or HttpPolicy()
    cached = cache.load(url) if cache else None
    if policy.offline:
        if cached is None:
            raise ExternalError(
                f"{url} is not in the HTTP cache and offline mode is on.",
                hint="Run once without --offline to fill the cache.",
            )
        return Document(url, 200, cached[0], cached[1], from_cache=True)
    send = dict(headers or {})
    if cached is not None:
        if "etag" in cached[1]:
            send["If-None-Match"] = cached[1]["etag"]
        if "last-modified" in cached[1]:
            send["If-Modified-Since"] = cached[1]["last-modified"]
    response = get(client, url, policy=policy, headers=send)
    if response.status_code == 304 and cached is not None:
        return Document(url, 200, cached[0], cached[1], from_cache=True)
    kept = {k: v for k in _KEPT_HEADERS if (v := response.headers.get(k)) is not None}
    if response.status_code == 200 and cache is not None:
        cache.store(url, response.content, kept)
    all_headers = {k.lower(): v for k, v in response.headers.items()}
    return Document(url, response.status_code, response.content, all_headers)
