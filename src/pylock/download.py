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
from pylock.verify import (
    CutShort,
    Oversize,
    ProgressCallback,
    Stalled,
    Verifier,
    contradicting_length,
    receive,
    status_text,
)

__all__ = ["ProgressCallback", "fetch_archive", "source_url"]


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


def _writer(stream: BinaryIO) -> Callable[[bytes], object]:
    """The sink that tees verified-so-far bytes into the cache's temp file."""

    def write(chunk: bytes) -> None:
        try:
            stream.write(chunk)
        except OSError as exc:
            raise _disk_error(exc) from exc

    return write


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
            verifier = Verifier(target.sha256, target.size, on_progress=on_progress)
            try:
                _stream_once(verifier, stream, client, url, policy, target, mirror)
            except CutShort as exc:
                last = str(exc)
                continue
            return _verify_and_store(verifier, stream, temp, cache, target, url)
    raise ExternalError(
        f"Downloading {target.asset_name} from {url} was interrupted {attempts} times "
        f"(last time: {last}).",
        hint="Check your network connection or proxy (HTTPS_PROXY) and try again.",
    )


def _stream_once(
    verifier: Verifier,
    stream: BinaryIO,
    client: httpx.Client,
    url: str,
    policy: HttpPolicy,
    target: Target,
    mirror: str | Path | None,
) -> None:
    # identity: the archive's own bytes, not a re-compressed transfer of them
    headers = {"Accept-Encoding": "identity"}
    try:
        with open_stream(client, url, policy=policy, headers=headers) as response:
            _check_status(response, target, url, mirror)
            declared = contradicting_length(response, target.size)
            if declared is not None:
                raise _size_mismatch(target, url, str(declared))
            receive(response, verifier, policy, url, _writer(stream))
    except Oversize as exc:
        raise _size_mismatch(target, url, f"at least {exc.done}") from None
    except Stalled as exc:
        raise ExternalError(
            f"Could not download {target.asset_name}: {exc}.",
            hint="Check your network connection or proxy (HTTPS_PROXY), or use a mirror "
            "closer to you (PYLOCK_MIRROR).",
        ) from exc
    except httpx.HTTPError as exc:  # too many redirects, undecodable body, ...
        raise ExternalError(
            f"Could not download {target.asset_name} from {url}: {exc.__class__.__name__}: {exc}.",
            hint="Check the URL and your network, then try again.",
        ) from exc


def _check_status(
    response: httpx.Response, target: Target, url: str, mirror: str | Path | None
) -> None:
    status = status_text(response)
    if status is None:
        return
    code = response.status_code
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
    raise ExternalError(
        f"Could not download {target.asset_name}: {url} answered HTTP {status}.", hint=hint
    )


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
        if stat.S_ISREG(info.st_mode) and info.st_size != target.size:
            raise _size_mismatch(target, url, str(info.st_size))
        with cache.temp_file() as (temp, stream):
            verifier = Verifier(target.sha256, target.size, on_progress=on_progress)
            write = _writer(stream)
            verifier.start()
            try:
                while chunk := source.read(CHUNK_SIZE):
                    verifier.feed(chunk)
                    write(chunk)
            except Oversize as exc:
                raise _size_mismatch(target, url, f"at least {exc.done}") from None
            except OSError as exc:
                raise ExternalError(
                    f"Cannot read {path}: {exc.strerror or exc}.", hint="Check the file."
                ) from exc
            return _verify_and_store(verifier, stream, temp, cache, target, url)


def _verify_and_store(
    verifier: Verifier,
    stream: BinaryIO,
    temp: Path,
    cache: ArchiveCache,
    target: Target,
    url: str,
) -> Path:
    """Compare size and digest with the lock; only a match enters the store."""
    try:
        stream.close()
    except OSError as exc:
        raise _disk_error(exc) from exc
    verdict = verifier.verdict()
    if verdict.problem == "size":
        raise _size_mismatch(target, url, str(verdict.size))
    if verdict.problem == "sha256":
        raise VerificationError(
            f"The archive {target.asset_name} from {url} does not match python.lock: "
            f"expected sha256 {target.sha256.lower()}, got {verdict.sha256}. The bytes were "
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
