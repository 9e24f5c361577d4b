"""Fetch a locked archive into the cache: stream, hash and size-check before anything trusts it.

The lock pins bytes (size + sha256), not a place, so the same checks apply wherever the bytes
come from: the lock's URL, a mirror laid out as ``{mirror}/{build}/{asset}``, a ``file://`` URL
or a mirror directory. Bytes are hashed as they are written to a temp file in the cache (one
pass), and only a file whose size and digest both match is renamed into the store; anything else
is deleted before the caller could extract it.

Two kinds of failure are kept apart because they need different fixes: bytes that do not match
the lock are a VerificationError (exit 1: someone is serving a different file), while a server
that is unreachable, missing the file or cutting the transfer short is an ExternalError (exit 3:
try again, or fix the mirror). Interrupted transfers are retried a bounded number of times.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import httpx

from pylock.cache import ArchiveCache
from pylock.errors import ExternalError, InputError, VerificationError
from pylock.fsutil import CHUNK_SIZE
from pylock.http import HttpPolicy, open_stream
from pylock.lockfile import Target

ProgressCallback = Callable[[int, int | None], None]
"""Called as ``(done_bytes, total_bytes)``; ``(0, total)`` marks the start of each attempt."""


def source_url(target: Target, mirror: str | Path | None = None) -> str:
    """Where ``target`` is fetched from: the lock's URL, or its place in ``mirror``.

    A mirror URL gets ``{mirror}/{build}/{asset}`` with the asset name percent-encoded (``+`` as
    ``%2B``, as GitHub spells it); a mirror directory becomes the ``file://`` URL of that file.
    """
    if mirror is None:
        return target.url
    base = str(mirror)
    if len(urlsplit(base).scheme) > 1:  # a one-letter "scheme" is a Windows drive
        build = quote(target.build, safe="")
        return f"{base.rstrip('/')}/{build}/{quote(target.asset_name, safe='')}"
    return (Path(base).expanduser().absolute() / target.build / target.asset_name).as_uri()


def fetch_archive(
    target: Target,
    *,
    cache: ArchiveCache,
    client: httpx.Client,
    policy: HttpPolicy,
    mirror: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """The store path of ``target``'s archive, verified; downloaded first if not cached.

    Offline, only the store is consulted. Raises VerificationError when the bytes do not match
    the lock, ExternalError when they cannot be obtained, InputError for an unusable URL.
    """
    cached = cache.lookup(target.sha256, target.size)
    if cached is not None:
        return cached
    url = source_url(target, mirror)
    if policy.offline:
        raise ExternalError(
            f"The archive {target.asset_name} (sha256 {target.sha256}) is not in the cache "
            f"{cache.store_dir} and offline mode is on, so it cannot be fetched from {url}.",
            hint="Run `pylock sync` once without --offline (and without PYLOCK_OFFLINE=1) "
            "to download it into the cache.",
        )
    local = _local_path(url)
    if local is not None:
        return _copy_local(target, local, url, cache, mirror, on_progress)
    return _download(target, url, cache, client, policy, mirror, on_progress)


def _local_path(url: str) -> Path | None:
    """The file a ``file://`` URL (or bare path) names; None for http(s); InputError otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme == "file" and parts.netloc in ("", "localhost"):
        return Path(url2pathname(parts.path))
    if len(scheme) <= 1:
        return Path(url)
    raise InputError(
        f"Cannot download from {url}: only https, http and local file URLs are supported.",
        hint="Fix the URL in python.lock or the mirror setting (PYLOCK_MIRROR, [tool.pylock] "
        "mirror).",
    )


class _CutShort(Exception):
    """A transfer that ended before the body did; worth retrying."""


class _Receiver:
    """Writes chunks to the temp file while hashing and counting them, in a single pass.

    It refuses to write past the locked size, so a server sending a different (larger) file
    cannot fill the disk before the mismatch is noticed.
    """

    def __init__(
        self,
        stream: BinaryIO,
        target: Target,
        url: str,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.stream = stream
        self.target = target
        self.url = url
        self.on_progress = on_progress
        self.digest = hashlib.sha256()
        self.done = 0

    def start(self) -> None:
        if self.on_progress is not None:
            self.on_progress(0, self.target.size)

    def write(self, chunk: bytes) -> None:
        self.done += len(chunk)
        if self.target.size is not None and self.done > self.target.size:
            raise _size_mismatch(self.target, self.url, f"at least {self.done}")
        try:
            self.stream.write(chunk)
        except OSError as exc:
            raise _disk_error(exc) from exc
        self.digest.update(chunk)
        if self.on_progress is not None:
            self.on_progress(self.done, self.target.size)


def _download(
    target: Target,
    url: str,
    cache: ArchiveCache,
    client: httpx.Client,
    policy: HttpPolicy,
    mirror: str | Path | None,
    on_progress: ProgressCallback | None,
) -> Path:
    """Stream ``url`` into the store, restarting a transfer that is cut short (bounded)."""
    attempts = policy.retries + 1
    delay = policy.backoff
    last = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(delay)
            delay *= 2
        with cache.temp_file() as (temp, stream):
            receiver = _Receiver(stream, target, url, on_progress)
            try:
                _stream_once(receiver, client, url, policy, mirror)
            except _CutShort as exc:
                last = str(exc)
                continue
            return _verify_and_store(receiver, temp, cache)
    raise ExternalError(
        f"Downloading {target.asset_name} from {url} was interrupted {attempts} times "
        f"(last time: {last}).",
        hint="Check your network connection or proxy (HTTPS_PROXY) and try again.",
    )


def _stream_once(
    receiver: _Receiver,
    client: httpx.Client,
    url: str,
    policy: HttpPolicy,
    mirror: str | Path | None,
) -> None:
    target = receiver.target
    # identity: the archive's own bytes, not a re-compressed transfer of them
    headers = {"Accept-Encoding": "identity"}
    try:
        with open_stream(client, url, policy=policy, headers=headers) as response:
            _check_status(response, target, url, mirror)
            _check_declared_length(response, target, url)
            receiver.start()
            try:
                # Chunks as they arrive: re-chunking to a fixed size would copy every byte
                # once more through a buffer, for nothing (hashing and writing take any size).
                for chunk in response.iter_bytes():
                    receiver.write(chunk)
            except httpx.TransportError as exc:
                raise _CutShort(
                    f"the connection broke after {_progress(receiver.done, target)}: "
                    f"{exc.__class__.__name__}: {exc}"
                ) from exc
            short = target.size is not None and receiver.done < target.size
            if short and not _self_delimited(response):
                # Without Content-Length or chunking, the end of the body is the end of the
                # connection: a short body may just be a dropped connection.
                raise _CutShort(
                    f"the server closed the connection after {_progress(receiver.done, target)}"
                )
    except httpx.HTTPError as exc:  # too many redirects, undecodable body, ...
        raise ExternalError(
            f"Could not download {target.asset_name} from {url}: {exc.__class__.__name__}: {exc}.",
            hint="Check the URL and your network, then try again.",
        ) from exc


def _check_status(
    response: httpx.Response, target: Target, url: str, mirror: str | Path | None
) -> None:
    code = response.status_code
    if code == 200:
        return
    if code in (404, 410) and mirror is not None:
        hint = (
            f"Check that the mirror has build {target.build} laid out as "
            f"{{mirror}}/{{build}}/{{asset}}, or drop the mirror setting to download from "
            f"{target.url}."
        )
    elif code in (404, 410):
        hint = (
            "The asset may have been removed upstream: configure a mirror that has it "
            "(PYLOCK_MIRROR), or re-lock with `pylock lock --upgrade`."
        )
    elif code in (401, 403):
        hint = "The server refused access: check your proxy or credentials for that host."
    elif code >= 500:
        hint = "The server is failing; try again later."
    else:
        hint = "Check the URL and try again."
    status = f"{code} {response.reason_phrase}".strip()
    raise ExternalError(
        f"Could not download {target.asset_name}: {url} answered HTTP {status}.", hint=hint
    )


def _check_declared_length(response: httpx.Response, target: Target, url: str) -> None:
    """Refuse early when the server announces a different size than the lock."""
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return  # Content-Length then counts encoded bytes, not the archive's
    declared = response.headers.get("content-length")
    if target.size is None:
        return  # the lock states no size (a catalog gives none): the sha256 decides
    if declared is not None and declared.isdigit() and int(declared) != target.size:
        raise _size_mismatch(target, url, declared)


def _progress(done: int, target: Target) -> str:
    """``N of M bytes``, or ``N bytes`` when the lock states no size."""
    return f"{done} of {target.size} bytes" if target.size is not None else f"{done} bytes"


def _self_delimited(response: httpx.Response) -> bool:
    """Whether the HTTP framing proves the body complete (the client raises if it was not)."""
    encoding = response.headers.get("transfer-encoding", "").lower()
    return "chunked" in encoding or "content-length" in response.headers


def _copy_local(
    target: Target,
    path: Path,
    url: str,
    cache: ArchiveCache,
    mirror: str | Path | None,
    on_progress: ProgressCallback | None,
) -> Path:
    """Copy a local archive into the store with the same checks as a download."""
    try:
        source = path.open("rb")
    except OSError as exc:
        where = f"the mirror {mirror}" if mirror is not None else "python.lock"
        raise ExternalError(
            f"Cannot read {target.asset_name} at {path} (from {where}, {url}): "
            f"{exc.strerror or exc}.",
            hint="Check that the file exists and is readable, or fix the path.",
        ) from exc
    with source:
        info = os.fstat(source.fileno())
        known = target.size is not None
        if known and stat.S_ISREG(info.st_mode) and info.st_size != target.size:
            raise _size_mismatch(target, url, str(info.st_size))
        with cache.temp_file() as (temp, stream):
            receiver = _Receiver(stream, target, url, on_progress)
            receiver.start()
            try:
                while chunk := source.read(CHUNK_SIZE):
                    receiver.write(chunk)
            except OSError as exc:
                raise ExternalError(
                    f"Cannot read {path}: {exc.strerror or exc}.", hint="Check the file."
                ) from exc
            return _verify_and_store(receiver, temp, cache)


def _verify_and_store(receiver: _Receiver, temp: Path, cache: ArchiveCache) -> Path:
    """Compare size and digest with the lock; only a match enters the store."""
    target, url = receiver.target, receiver.url
    try:
        receiver.stream.close()
    except OSError as exc:
        raise _disk_error(exc) from exc
    if target.size is not None and receiver.done != target.size:
        raise _size_mismatch(target, url, str(receiver.done))
    actual = receiver.digest.hexdigest()
    if actual != target.sha256.lower():
        raise VerificationError(
            f"The archive {target.asset_name} from {url} does not match python.lock: "
            f"expected sha256 {target.sha256.lower()}, got {actual}. The bytes were "
            "discarded and nothing was installed.",
            hint=_MISMATCH_HINT,
        )
    return cache.commit(temp, target.sha256, target.size)


_MISMATCH_HINT = (
    "The server is serving a different file than the one locked. If you use a mirror, check "
    "that it serves the same files as upstream; if the release really changed, review it and "
    "re-lock with `pylock lock --upgrade`."
)


def _size_mismatch(target: Target, url: str, actual: str) -> VerificationError:
    return VerificationError(
        f"The archive {target.asset_name} from {url} does not match python.lock: expected "
        f"{target.size} bytes, got {actual} bytes. The bytes were discarded and nothing was "
        "installed.",
        hint=_MISMATCH_HINT,
    )


def _disk_error(exc: OSError) -> ExternalError:
    return ExternalError(
        f"Cannot write the download into the archive cache: {exc.strerror or exc}.",
        hint="Free some disk space or set PYLOCK_CACHE_DIR to a roomier place.",
    )
