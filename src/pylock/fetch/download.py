"""Fetch a locked archive: stream it once, verifying, caching and (for sync) extracting as it comes.

The lock pins bytes (size + sha256), not a place, so the same checks apply wherever the bytes
come from: the lock's URL, a mirror laid out as ``{mirror}/{build}/{asset}``, a ``file://`` URL
or a mirror directory. The bytes pass through once: counted and hashed (``integrity.Verifier``),
written to a temp file in the cache, and handed to the caller's consumer (``installer`` extracts
them into a private temp dir as they arrive). Only at the end of the stream are size and sha256
known; only a match enters the cache (renamed from its temp file) and only a match lets the
caller go on to place an install. Anything else deletes the temp file, and the caller its temp
tree: nothing cached, nothing installed.

``pylock check --remote`` streams through the same pipeline (``verify_archive``) with nothing
kept: no cache file, no extraction; so it refuses exactly what a sync refuses, in its words.

Two kinds of failure are kept apart because they need different fixes: bytes that do not match
the lock are an ArchiveMismatch, a VerificationError (exit 1: someone is serving a different
file), while a server
that is unreachable, missing the file, too slow or cutting the transfer short is an ExternalError
(exit 3: try again, or fix the mirror). Interrupted transfers are restarted a bounded number of
times, the consumer with them. When the consumer refuses the archive, the rest of the stream is
still hashed (bounded by the locked size), so bytes that are not the locked ones are reported as
that, the more useful truth, rather than as a bad archive.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from pylock.base.fsutil import CHUNK_SIZE, file_url_path, seal, url_scheme
from pylock.errors import ExternalError, InputError, VerificationError
from pylock.extract import tarstream
from pylock.fetch.cache import ArchiveCache
from pylock.fetch.integrity import (
    CutShort,
    Oversize,
    ProgressCallback,
    Stalled,
    Verdict,
    Verifier,
    chunks,
    contradicting_length,
    status_text,
)
from pylock.net.http import HttpPolicy, attempt, open_stream, refusal
from pylock.net.lib import httpx
from pylock.resolution.lockfile import Target

if TYPE_CHECKING:
    from pylock.extract.extractor import Extractor
    from pylock.extract.record import RecordEntry

__all__ = [
    "ArchiveMismatch",
    "Download",
    "ProgressCallback",
    "fetch_archive",
    "source_url",
    "stream_archive",
    "verify_archive",
]

T = TypeVar("T")
Read = Callable[[int], bytes]
"""``read(n)``: up to ``n`` bytes of the archive, ``b""`` at its end."""


def source_url(target: Target, mirror: str | Path | None = None) -> str:
    """Where ``target`` is fetched from: the lock's URL, or its place in ``mirror``
    (``sources.mirror.mirror_path``: ``{mirror}/{build}/{asset}``, the asset name
    percent-encoded in a URL); a mirror directory gives the ``file://`` URL of that file."""
    if mirror is None:
        return target.url
    # Here, not at the top: the mirror source's module (and the HTML parser it loads for
    # directory listings) costs a cold sync without a mirror several milliseconds.
    from pylock.sources.mirror import mirror_path

    base = str(mirror)
    if url_scheme(base) is not None:
        return mirror_path(base, target.build, target.asset_name)
    directory = Path(base).expanduser().absolute()
    return mirror_path(directory, target.build, target.asset_name).as_uri()


def _local_path(url: str) -> Path | None:
    """The file a ``file:`` URL (or bare path) names (``fsutil.file_url_path``, the one rule);
    None for http(s), fetched; an InputError for anything else."""
    local = file_url_path(url)
    if local is not None or url_scheme(url) in ("http", "https"):
        return local
    raise InputError(
        f"Cannot download from {url}: only https, http and local file URLs are supported.",
        hint="Fix the URL in python.lock or the mirror setting (PYLOCK_MIRROR, [tool.pylock] "
        "mirror).",
    )


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
    _, path = stream_archive(
        target,
        lambda read: None,
        cache=cache,
        client=client,
        policy=policy,
        mirror=mirror,
        on_progress=on_progress,
    )
    return path


@dataclass(frozen=True)
class Download:
    """A locked archive to be extracted while it downloads (``installer.install`` takes one).

    ``ceiling`` bounds the bytes accepted when the lock has no size for the target.
    """

    target: Target
    cache: ArchiveCache
    client: httpx.Client
    policy: HttpPolicy
    mirror: str | Path | None = None
    on_progress: ProgressCallback | None = None
    ceiling: int | None = None

    def extract(self, fresh: Callable[[], Extractor]) -> dict[str, RecordEntry]:
        """Extract with a ``fresh()`` extractor per attempt; the archive is cached on success."""
        records, _ = stream_archive(
            self.target,
            lambda read: fresh().extract_from(read),
            cache=self.cache,
            client=self.client,
            policy=self.policy,
            mirror=self.mirror,
            on_progress=self.on_progress,
            ceiling=self.ceiling,
        )
        return records


def stream_archive(
    target: Target,
    consume: Callable[[Read], T],
    *,
    cache: ArchiveCache,
    client: httpx.Client,
    policy: HttpPolicy,
    mirror: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    ceiling: int | None = None,
) -> tuple[T, Path]:
    """Stream ``target``'s archive once through the verifier, the cache and ``consume``.

    ``consume(read)`` gets the bytes as they arrive (on whatever thread calls ``read``); what
    it returns is returned with the store path, once size and sha256 matched and the archive
    is in the store. A transfer cut short is restarted (``consume`` is called again); a
    mismatch raises ArchiveMismatch, with the temp file gone.
    """
    url = source_url(target, mirror)
    if policy.offline and _local_path(url) is None:  # a local file needs no network
        raise ExternalError(
            f"The archive {target.asset_name} (sha256 {target.sha256}) is not in the cache "
            f"{cache.store_dir} and offline mode is on, so it cannot be fetched from {url}.",
            hint="Run `pylock sync` once without --offline (and without PYLOCK_OFFLINE=1) "
            "to download it into the cache.",
        )
    result, _, stored = _transfer(
        target, url, consume, cache, client, policy, mirror, on_progress, ceiling
    )
    assert stored is not None  # a cache was given
    return result, stored


def verify_archive(
    target: Target,
    *,
    client: httpx.Client,
    policy: HttpPolicy,
    mirror: str | Path | None = None,
) -> Verdict:
    """``pylock check --remote``: stream ``target``'s archive (from ``mirror`` when given)
    through exactly the checks a sync downloads it through, keeping nothing (no cache file, no
    extraction). Returns the verdict when the bytes are the locked ones; raises what a sync
    raises for the same answer: ArchiveMismatch (other bytes), ExternalError (unreachable, an
    HTTP error status, too slow, cut short too often), InputError (an unusable URL)."""
    url = source_url(target, mirror)
    _, verifier, _ = _transfer(
        target, url, lambda read: None, None, client, policy, mirror, None, None
    )
    return verifier.verdict()


def _transfer(
    target: Target,
    url: str,
    consume: Callable[[Read], T],
    cache: ArchiveCache | None,
    client: httpx.Client,
    policy: HttpPolicy,
    mirror: str | Path | None,
    on_progress: ProgressCallback | None,
    ceiling: int | None,
) -> tuple[T, Verifier, Path | None]:
    """The one pipeline: each attempt opens the archive (``_open_local``/``_open_remote``:
    status and declared length), streams it through a fresh verifier (ceiling, completeness,
    pace) into ``consume`` and, with a ``cache``, a temp file there; at the end size and sha256
    must match (ArchiveMismatch otherwise), and only then does the temp file enter the cache."""
    local = _local_path(url)
    attempts = 1 if local is not None else policy.retries + 1
    delay = policy.backoff
    last = ""
    for number in range(attempts):
        if number:
            time.sleep(delay)
            delay *= 2
        with contextlib.ExitStack() as scope:
            temp, stream = (
                scope.enter_context(cache.temp_file()) if cache is not None else (None, None)
            )
            verifier = Verifier(
                target.sha256, target.size, ceiling=ceiling, on_progress=on_progress
            )
            sink = _drop if stream is None else _writer(stream)
            try:
                if local is not None:
                    opened = _open_local(target, local, url, mirror, verifier)
                else:
                    opened = _open_remote(target, url, client, policy, mirror, verifier)
                with opened as body:
                    result = _consume(body, sink, consume, verifier, target, url)
            except CutShort as exc:
                last = str(exc)
                continue
            except Oversize as exc:
                raise _size_mismatch(target, url, f"at least {exc.done}", exc.done) from None
            except Stalled as exc:
                raise ExternalError(
                    f"Could not download {target.asset_name}: {exc}.",
                    hint="Check your network connection or proxy (HTTPS_PROXY), or use a mirror "
                    "closer to you (PYLOCK_MIRROR).",
                ) from exc
            except httpx.HTTPError as exc:  # too many redirects, undecodable body, ...
                raise ExternalError(
                    f"Could not download {target.asset_name} from {url}: "
                    f"{exc.__class__.__name__}: {exc}.",
                    hint="Check the URL and your network, then try again.",
                ) from exc
            if cache is None or stream is None or temp is None:
                if verifier.verdict().problem != "ok":
                    raise _mismatch(verifier, target, url)
                return result, verifier, None
            return result, verifier, _verify_and_store(verifier, stream, temp, cache, target, url)
    raise ExternalError(
        f"Downloading {target.asset_name} from {url} was interrupted {attempts} times "
        f"(last time: {last}).",
        hint="Check your network connection or proxy (HTTPS_PROXY) and try again.",
    )


def _drop(chunk: bytes) -> None:
    """The sink of a transfer that keeps nothing (``verify_archive``)."""


class _Reader:
    """``read(n)`` over the verified chunks of a body.

    A chunk no bigger than ``n`` is handed over as it is (no copy); the inflater asks for 1 MiB
    and network chunks are smaller.
    """

    def __init__(self, body: Iterator[bytes]) -> None:
        self.body = body
        self.pending = b""

    def read(self, size: int) -> bytes:
        if not self.pending:
            chunk = next(self.body, None)
            if chunk is None:
                return b""
            if len(chunk) <= size:
                return chunk
            self.pending = chunk
        piece, self.pending = self.pending[:size], self.pending[size:]
        return piece

    def drain(self) -> None:
        """Read (and so verify and tee) whatever the consumer left unread."""
        while self.read(CHUNK_SIZE):
            pass


def _consume(
    body: Iterator[bytes],
    sink: Callable[[bytes], None],
    consume: Callable[[Read], T],
    verifier: Verifier,
    target: Target,
    url: str,
) -> T:
    # Three threads share the work, each mostly in code that releases the GIL: this one
    # (the network, hashing, the cache file), the inflater that ``consume`` reads on, and
    # the caller's (vetting and writing files).
    with tarstream.in_background(_teed(body, sink)) as arriving:
        reader = _Reader(arriving)
        try:
            result = consume(reader.read)
        except VerificationError as refusal:
            # Refused archive: if these are not even the locked bytes, say that instead.
            reader.drain()
            if verifier.verdict().problem != "ok":
                raise _mismatch(verifier, target, url) from refusal
            raise
        reader.drain()
    return result


def _teed(body: Iterator[bytes], sink: Callable[[bytes], None]) -> Iterator[bytes]:
    for chunk in body:
        sink(chunk)
        yield chunk


@contextlib.contextmanager
def _open_remote(
    target: Target,
    url: str,
    client: httpx.Client,
    policy: HttpPolicy,
    mirror: str | Path | None,
    verifier: Verifier,
) -> Iterator[Iterator[bytes]]:
    # identity: the archive's own bytes, not a re-compressed transfer of them
    headers = {"Accept-Encoding": "identity"}
    with open_stream(client, url, policy=policy, headers=headers) as response:
        _check_status(response, target, url, mirror)
        declared = contradicting_length(response, target.size)
        if declared is not None:
            raise _size_mismatch(target, url, str(declared), declared)
        yield chunks(response, verifier, policy, url)


@contextlib.contextmanager
def _open_local(
    target: Target, path: Path, url: str, mirror: str | Path | None, verifier: Verifier
) -> Iterator[Iterator[bytes]]:
    """A local archive, read with the same checks as a download."""
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
        if stat.S_ISREG(info.st_mode) and target.size is not None and info.st_size != target.size:
            raise _size_mismatch(target, url, str(info.st_size), info.st_size)

        def body() -> Iterator[bytes]:
            verifier.start()
            while True:
                try:
                    chunk = source.read(CHUNK_SIZE)
                except OSError as exc:
                    raise ExternalError(
                        f"Cannot read {path}: {exc.strerror or exc}.", hint="Check the file."
                    ) from exc
                if not chunk:
                    return
                verifier.feed(chunk)
                yield chunk

        yield body()


def _writer(stream: BinaryIO) -> Callable[[bytes], None]:
    """The sink that tees counted bytes into the cache's temp file."""

    def write(chunk: bytes) -> None:
        try:
            stream.write(chunk)
        except OSError as exc:
            raise _disk_error(exc) from exc

    return write


def _verify_and_store(
    verifier: Verifier,
    stream: BinaryIO,
    temp: Path,
    cache: ArchiveCache,
    target: Target,
    url: str,
) -> Path:
    """Compare size and digest with the lock; only a match enters the store. The temp file
    stays open, and so locked, until it is renamed into the store (``fsutil.seal``); the cache's
    ``temp_file`` closes it."""
    try:
        seal(stream)
    except OSError as exc:
        raise _disk_error(exc) from exc
    if verifier.verdict().problem != "ok":
        raise _mismatch(verifier, target, url)
    return cache.commit(temp, target.sha256, verifier.done)


class ArchiveMismatch(VerificationError):
    """The bytes served are not the locked ones (exit 1). ``size`` is how many were seen (or
    announced, or a lower bound when reading stopped at the ceiling), ``sha256`` their digest
    when the whole body was read: ``check --remote`` reports both."""

    def __init__(
        self, message: str, *, hint: str, size: int | None = None, sha256: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.size = size
        self.sha256 = sha256


def _mismatch(verifier: Verifier, target: Target, url: str) -> ArchiveMismatch:
    verdict = verifier.verdict()
    if verdict.problem == "size":
        return _size_mismatch(target, url, str(verdict.size), verdict.size, verdict.sha256)
    return ArchiveMismatch(
        f"The archive {target.asset_name} from {url} does not match python.lock: "
        f"expected sha256 {target.sha256.lower()}, got {verdict.sha256}. {_DISCARDED}",
        hint=_MISMATCH_HINT,
        size=verdict.size,
        sha256=verdict.sha256,
    )


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
        happened, hint = refusal(url, code, attempt(response))
        raise ExternalError(
            f"Could not download {target.asset_name}: {url} answered HTTP {status}: {happened}.",
            hint=hint,
        )
    elif code >= 500:
        hint = "The server is failing; try again later."
    else:
        hint = "Check the URL and try again."
    raise ExternalError(
        f"Could not download {target.asset_name}: {url} answered HTTP {status}.", hint=hint
    )


_MISMATCH_HINT = (
    "The server is serving a different file than the one locked. If you use a mirror, check "
    "that it serves the same files as upstream; if the release really changed, review it and "
    "re-lock with `pylock lock --upgrade`."
)


_DISCARDED = "The bytes were discarded: nothing was cached or installed."


def _size_mismatch(
    target: Target, url: str, actual: str, size: int, sha256: str | None = None
) -> ArchiveMismatch:
    if target.size is None:  # no locked size: the ceiling was crossed
        return ArchiveMismatch(
            f"The archive {target.asset_name} from {url} is larger than any archive pylock "
            f"accepts without a locked size ({actual} bytes). {_DISCARDED}",
            hint="If the archive really is that large, raise PYLOCK_MAX_INSTALL_BYTES; "
            "otherwise check the source.",
            size=size,
        )
    return ArchiveMismatch(
        f"The archive {target.asset_name} from {url} does not match python.lock: expected "
        f"{target.size} bytes, got {actual} bytes. {_DISCARDED}",
        hint=_MISMATCH_HINT,
        size=size,
        sha256=sha256,
    )


def _disk_error(exc: OSError) -> ExternalError:
    return ExternalError(
        f"Cannot write the download into the archive cache: {exc.strerror or exc}.",
        hint="Free some disk space or set PYLOCK_CACHE_DIR to a roomier place.",
    )
