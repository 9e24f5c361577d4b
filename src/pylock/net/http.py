"""The one HTTP client policy: timeouts, redirects, bounded retries, user agent, auth, cache.

Everything that touches the network goes through here, so the rules that matter for trust live
in one place: a credential is only ever sent to the origin it was meant for, retries are bounded,
and ``--offline`` is enforced before any socket is opened.

Credentials (base/credentials.py) are attached here, per request, by origin: ``open_stream``
asks the policy's ``Credentials`` which one the first request of a fetch may carry (unless the
caller brings its own ``Authorization``, as the GitHub source does with its token), and follows
redirects itself so that a hop to another origin (a CDN, a presigned object-store URL) carries
neither that credential nor the caller's header. A URL's own user information never goes to
httpx: it is taken off every request URL, so no library can send it or print it. What the
request carried (or why nothing) is kept on the response (``attempt``) for the 401/403 message
(``refusal``), which names the host and the ways to give a credential, never a value.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pylock import __version__
from pylock.base.credentials import (
    WAYS,
    may_follow,
    origin,
    redact_url,
    without_userinfo,
)
from pylock.base.fsutil import (
    CHUNK_SIZE,
    atomic_write_bytes,
    mark_alive,
    remove_dead_temps,
    seal,
)
from pylock.base.settings import HttpPolicy as HttpPolicy
from pylock.errors import ExternalError, PylockError
from pylock.net.lib import httpx

if TYPE_CHECKING:
    import ssl

USER_AGENT = f"pylock/{__version__}"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
MAX_REDIRECTS = 20  # httpx's default
_ATTEMPT = "pylock-attempt"  # a response's extensions key: what its request carried


def make_client(policy: HttpPolicy | None = None) -> httpx.Client:
    """An httpx client that honours the proxy variables (httpx reads them) and the policy's CA
    bundle (``SSL_CERT_FILE``/``SSL_CERT_DIR``, resolved into Settings). Redirects are followed
    by ``open_stream``, which decides each hop's credential; httpx reads no netrc."""
    policy = policy or HttpPolicy()
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(policy.timeout, connect=min(policy.timeout, 10.0)),
        headers={"User-Agent": USER_AGENT},
        trust_env=True,
        verify=_tls_context(policy.ca_file, policy.ca_dir),
    )


@functools.lru_cache(maxsize=4)
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """The TLS context httpx would build (SSL_CERT_FILE, SSL_CERT_DIR, else certifi's bundle),
    built once per CA setting: loading the CA bundle takes ~30 ms, and every client paid it
    again. An SSLContext is safe to share between clients and threads."""
    import ssl

    if cert_file:
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir:
        return ssl.create_default_context(capath=cert_dir)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _refuse_offline(policy: HttpPolicy, what: str) -> None:
    """Offline is enforced here, before any socket exists, not by each caller."""
    if policy.offline:
        raise ExternalError(
            f"{what}: offline mode is on.",
            hint="Drop --offline (or unset PYLOCK_OFFLINE) to allow network access.",
        )


def _describe(url: str, exc: BaseException) -> str:
    return f"could not reach {redact_url(url)}: {exc.__class__.__name__}: {exc}"


def attempt(response: httpx.Response) -> str:
    """What the request behind ``response`` carried, as ``open_stream`` noted it: "the netrc
    entry for HOST in ~/.netrc", "no credential: …" (never a value)."""
    note = response.extensions.get(_ATTEMPT)
    return note if isinstance(note, str) else "no credential"


def _host(url: str) -> str:
    found = origin(url)
    if found is None:
        return redact_url(url)
    scheme, host, port = found
    shown = f"[{host}]" if ":" in host else host
    return shown if port == {"http": 80, "https": 443}[scheme] else f"{shown}:{port}"


def refusal(url: str, status: int, tried: str) -> tuple[str, str]:
    """(what happened, what to do) for a 401 or 403 from ``url``: the host, what pylock sent
    it (``attempt``), and the ways to give it a credential. Every 401/403 message says this."""
    host = _host(url)
    meaning = "wants a credential" if status == 401 else "refused access"
    give = (
        f"Give pylock a credential for {host}"
        if tried.startswith("no credential")
        else f"Check that credential (is it current, may it read this?), or give {host} another"
    )
    return (
        f"{host} {meaning}; pylock sent {tried}",
        f'{give}: {WAYS}. See docs/sources.md, "Credentials".',
    )


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    headers: Mapping[str, str],
    policy: HttpPolicy,
) -> httpx.Response:
    """One request, redirects followed here: the credential goes to the first request's
    origin only (``credentials.may_follow``), and no hop's URL carries user information.
    Returns the final response, streaming (the caller closes it)."""
    hop = without_userinfo(url)
    start = origin(hop)
    own = any(name.lower() == "authorization" for name in headers)
    if own:
        credential, tried = None, "the token given for this API"
    else:
        credential, tried = policy.credentials.for_request(url)
    for _ in range(MAX_REDIRECTS + 1):
        follows = may_follow(start, origin(hop))
        send = {k: v for k, v in headers.items() if follows or k.lower() != "authorization"}
        if follows and credential is not None:
            send["Authorization"] = credential.header
        request = client.build_request(method, hop, headers=send)
        response = client.send(request, stream=True, follow_redirects=False)
        response.extensions[_ATTEMPT] = (
            tried
            if follows
            else f"no credential: a redirect from {_host(url)} to {_host(hop)} carries none"
        )
        redirect = response.next_request
        if redirect is None:
            return response
        try:
            response.read()
        finally:
            response.close()
        hop, method = without_userinfo(str(redirect.url)), redirect.method
    raise ExternalError(
        f"{redact_url(url)} redirected more than {MAX_REDIRECTS} times.",
        hint="Check the URL; the server may be redirecting in a loop.",
    )


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
    _refuse_offline(policy, f"Refusing to fetch {redact_url(url)}")
    delay = policy.backoff
    for number in range(policy.retries + 1):
        last = number == policy.retries
        with contextlib.ExitStack() as stack:
            try:
                response = _send(client, method, url, headers or {}, policy)
                stack.callback(response.close)
            except httpx.InvalidURL as exc:
                raise ExternalError(
                    f"Cannot fetch {redact_url(url)!r}: {exc}.", hint="Check the URL."
                ) from exc
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
    body that does not match its ETag. Offline, a cached body is served without asking. The key
    and the record hold the URL without user information (``credentials.without_userinfo``):
    a cache is a file on disk, and a file keeps no secret.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, url: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(without_userinfo(url).encode()).hexdigest()
        base = self.root / "http" / digest[:2] / digest
        return base.with_suffix(".body"), base.with_suffix(".json")

    def load_headers(self, url: str) -> dict[str, str] | None:
        """The validators of a cached body that is there, without reading the body."""
        body_path, meta_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return dict(meta.get("headers", {})) if body_path.is_file() else None

    def load(self, url: str) -> tuple[bytes, dict[str, str]] | None:
        body_path, meta_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            return body_path.read_bytes(), dict(meta.get("headers", {}))
        except (OSError, ValueError):
            return None

    def body_path(self, url: str) -> Path:
        """Where ``url``'s cached body lives (it may not exist)."""
        return self._paths(url)[0]

    def store_file(self, url: str, temp: Path, headers: Mapping[str, str]) -> None:
        """Adopt a complete body already written to ``temp`` (beside ``body_path``), then its
        validators: the body is renamed first, so validators never describe a missing body."""
        body_path, meta_path = self._paths(url)
        try:
            temp.replace(body_path)
            meta = json.dumps({"url": without_userinfo(url), "headers": dict(headers)}).encode()
            atomic_write_bytes(meta_path, meta)
        except (OSError, PylockError):
            return  # a cache that cannot be written is only a slower cache

    def store(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        body_path, meta_path = self._paths(url)
        try:
            body_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(body_path, body)
            meta = json.dumps({"url": without_userinfo(url), "headers": dict(headers)}).encode()
            atomic_write_bytes(meta_path, meta)
        except (OSError, PylockError):
            return  # a cache that cannot be written is only a slower cache


_KEPT_HEADERS = ("etag", "last-modified", "link", "content-type")
_STATUS_HEADER = "x-pylock-status"
"""Marks a cached answer that was not a 200 (``remember_missing``): its status, no body."""
MISSING_STATUSES = frozenset({404, 410})


@dataclass(frozen=True)
class Document:
    """A fetched document: status 200 (possibly from cache after a 304) or an error status."""

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    from_cache: bool = False
    tried: str = "no credential"  # what the request carried (``attempt``), for a 401/403


def fetch_document(
    client: httpx.Client,
    url: str,
    *,
    cache: HttpCache | None,
    policy: HttpPolicy | None = None,
    headers: Mapping[str, str] | None = None,
    remember_missing: bool = False,
) -> Document:
    """GET a small document through the conditional cache; offline serves the cache or fails.

    ``remember_missing``: a 404 or 410 is cached too (as its status alone), so that offline a
    document known to be absent is answered as absent rather than as unknown (an attestation
    that does not exist); online it is always asked again.
    """
    policy = policy or HttpPolicy()
    cached = cache.load(url) if cache else None
    missing = cached is not None and _STATUS_HEADER in cached[1]
    if policy.offline:
        if cached is None or (missing and not remember_missing):
            raise ExternalError(
                f"{redact_url(url)} is not in the HTTP cache and offline mode is on.",
                hint="Run once without --offline to fill the cache.",
            )
        status = int(cached[1][_STATUS_HEADER]) if missing else 200
        return Document(url, status, cached[0], cached[1], from_cache=True)
    if missing:
        cached = None
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
    elif remember_missing and response.status_code in MISSING_STATUSES and cache is not None:
        cache.store(url, b"", {_STATUS_HEADER: str(response.status_code)})
    all_headers = {k.lower(): v for k, v in response.headers.items()}
    return Document(
        url, response.status_code, response.content, all_headers, tried=attempt(response)
    )


@dataclass(frozen=True)
class StreamedDocument:
    """A large document read as it arrives: ``status`` and the body in ``chunks``.

    Made by :func:`stream_document`; the chunks come from the network or, after a 304 (or
    offline), from the cached body file.
    """

    url: str
    status: int
    chunks: Iterator[bytes]
    from_cache: bool = False
    tried: str = "no credential"  # what the request carried (``attempt``), for a 401/403


_TEMP_PREFIX, _TEMP_SUFFIX = ".tmp-", ".part"


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


class _Tee:
    """The network body, copied into a temp file beside the cache entry as it is read."""

    def __init__(self, response: httpx.Response, url: str, cache: HttpCache | None) -> None:
        self.response = response
        self.url = url
        self.cache = cache
        self.temp: Path | None = None
        self.sink: BinaryIO | None = None
        self.complete = False
        if cache is not None:
            target = cache.body_path(url)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                remove_dead_temps(target.parent, _TEMP_PREFIX, _TEMP_SUFFIX)
                fd, name = tempfile.mkstemp(
                    prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=target.parent
                )
                mark_alive(fd)  # a second process leaves this body alone while we write it
                self.temp, self.sink = Path(name), os.fdopen(fd, "wb")
            except OSError:
                self.temp = self.sink = None  # an unwritable cache is only a slower cache

    def chunks(self) -> Iterator[bytes]:
        try:
            for chunk in self.response.iter_bytes(CHUNK_SIZE):
                if self.sink is not None:
                    try:
                        self.sink.write(chunk)
                    except OSError:
                        self.discard()
                yield chunk
        except httpx.HTTPError as exc:
            raise ExternalError(
                _describe(self.url, exc) + " (while reading it).", hint="Try again."
            ) from exc
        self.complete = True

    def finish(self, rest: Iterator[bytes], *, drain: bool) -> None:
        """Keep the body when it was read to the end (reading the rest first when ``drain``);
        otherwise drop the partial copy."""
        if drain and not self.complete:
            with contextlib.suppress(PylockError):
                for _ in rest:
                    pass
        sink, temp, cache = self.sink, self.temp, self.cache
        if self.complete and sink is not None and temp is not None and cache is not None:
            try:
                seal(sink)  # flushed, and still locked until renamed (fsutil.dead_temps)
            except OSError:
                self.discard()
                return
            kept = {k: v for k in _KEPT_HEADERS if (v := self.response.headers.get(k)) is not None}
            cache.store_file(self.url, temp, kept)
        self.discard()

    def discard(self) -> None:
        if self.sink is not None:
            with contextlib.suppress(OSError):
                self.sink.close()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink(missing_ok=True)
        self.sink = None


@contextlib.contextmanager
def stream_document(
    client: httpx.Client,
    url: str,
    *,
    cache: HttpCache | None,
    policy: HttpPolicy | None = None,
) -> Iterator[StreamedDocument]:
    """:func:`fetch_document` for a document too large to hold (the ~12 MB PBS versions
    index): the same conditional request (an unchanged document costs a 304 and is read from
    the cache), but the body is handed over chunk by chunk as it arrives and copied into the
    cache on the way.

    A caller may stop reading early (a resolver that has its answer): leaving the block then
    reads the rest, so the cache holds the whole document and the next run gets its 304. An
    error inside the block drops the partial copy; the cache only ever holds whole bodies.
    """
    policy = policy or HttpPolicy()
    cached = cache.load_headers(url) if cache is not None else None
    if policy.offline:
        if cached is None or cache is None:
            raise ExternalError(
                f"{redact_url(url)} is not in the HTTP cache and offline mode is on.",
                hint="Run once without --offline to fill the cache.",
            )
        yield StreamedDocument(url, 200, _file_chunks(cache.body_path(url)), from_cache=True)
        return
    send: dict[str, str] = {}
    if cached is not None:
        if "etag" in cached:
            send["If-None-Match"] = cached["etag"]
        if "last-modified" in cached:
            send["If-Modified-Since"] = cached["last-modified"]
    with open_stream(client, url, policy=policy, headers=send) as response:
        if response.status_code == 304 and cached is not None and cache is not None:
            chunks = _file_chunks(cache.body_path(url))
            yield StreamedDocument(url, 200, chunks, from_cache=True)
            return
        if response.status_code != 200:
            yield StreamedDocument(url, response.status_code, iter(()), tried=attempt(response))
            return
        tee = _Tee(response, url, cache)
        chunks = tee.chunks()
        try:
            yield StreamedDocument(url, 200, chunks)
        except GeneratorExit:
            tee.finish(chunks, drain=True)  # the reader stopped early: keep the whole body
            raise
        except BaseException:
            tee.finish(chunks, drain=False)
            raise
        tee.finish(chunks, drain=True)
