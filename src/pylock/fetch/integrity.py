"""The one stream verifier: what every transfer of a locked archive is held to as it arrives.

``pylock sync`` (which keeps the bytes) and ``pylock check --remote`` (which drops them) both
stream through download.py's one pipeline, which asks here of a response and its body: is the
status 200,
does a declared length contradict the lock, does the body stay under its byte ceiling, is it
complete, how fast is it coming, and, at the end, do its size and sha256 match the lock.

The ceiling is the locked size when the lock has one; a target without a size (a catalog that
lists none) is bounded by the ceiling the caller passes instead, so unverified bytes can never
fill a disk. Throughput is bounded too (``HttpPolicy.stall_timeout`` with ``min_speed``, and
``deadline``): a server that stalls or trickles fails in bounded time rather than holding the
command forever. Callers decide what each outcome means to their user (an exit code, a report
line); this module only measures.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pylock.net.http import HttpPolicy
    from pylock.net.lib import httpx

ProgressCallback = Callable[[int, int | None], None]
"""Called as ``(done_bytes, total_bytes)``; ``(0, total)`` marks the start of each attempt."""

Problem = Literal["ok", "size", "sha256"]


@dataclass(frozen=True)
class Verdict:
    """What a whole body turned out to be, against the lock."""

    size: int
    sha256: str
    problem: Problem


class Oversize(Exception):
    """More bytes arrived than the ceiling allows; ``done`` counts them (a lower bound)."""

    def __init__(self, done: int, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.done = done
        self.limit = limit


class CutShort(Exception):
    """A transfer that ended before its body did; worth retrying."""


class Stalled(Exception):
    """A transfer slower than the policy allows (stalled, trickling, or past the deadline).

    Not retried: the time is already spent, and the message names the setting to change.
    """

    def __init__(self, message: str, done: int) -> None:
        super().__init__(message)
        self.done = done


class Verifier:
    """Counts, hashes and caps the bytes of one transfer attempt; reports progress."""

    def __init__(
        self,
        sha256: str,
        expected_size: int | None,
        *,
        ceiling: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.sha256 = sha256.lower()
        self.expected_size = expected_size
        self.limit = expected_size if expected_size is not None else ceiling
        self.on_progress = on_progress
        self.digest = hashlib.sha256()
        self.done = 0
        self._ended = False

    def start(self) -> None:
        if self.on_progress is not None:
            self.on_progress(0, self.expected_size)

    def feed(self, chunk: bytes | memoryview) -> None:
        """Account for ``chunk``; Oversize (before hashing it) once past the ceiling."""
        self.done += len(chunk)
        if self.limit is not None and self.done > self.limit:
            raise Oversize(self.done, self.limit)
        self.digest.update(chunk)
        if self.on_progress is not None:
            self.on_progress(self.done, self.expected_size)

    def feed_all(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.feed(chunk)

    def verdict(self) -> Verdict:
        """Size first (a different size is a different file), then the digest. The body has
        ended: when no size was known, progress hears it now, once, as ``(done, done)``, or
        a bar would never know its transfer finished."""
        if self.expected_size is None and self.on_progress is not None and not self._ended:
            self._ended = True
            self.on_progress(self.done, self.done)
        actual = self.digest.hexdigest()
        if self.expected_size is not None and self.done != self.expected_size:
            return Verdict(self.done, actual, "size")
        if actual != self.sha256:
            return Verdict(self.done, actual, "sha256")
        return Verdict(self.done, actual, "ok")


def status_text(response: httpx.Response) -> str | None:
    """``404 Not Found`` for anything but 200 (the only status that carries the archive)."""
    if response.status_code == 200:
        return None
    return f"{response.status_code} {response.reason_phrase}".strip()


def contradicting_length(response: httpx.Response, expected_size: int | None) -> int | None:
    """The Content-Length the server announces when it is not the locked size, else None."""
    if expected_size is None:
        return None
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return None  # Content-Length then counts encoded bytes, not the archive's
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != expected_size:
        return int(declared)
    return None


def _self_delimited(response: httpx.Response) -> bool:
    """Whether the HTTP framing proves the body complete (the client raises if it was not)."""
    encoding = response.headers.get("transfer-encoding", "").lower()
    return "chunked" in encoding or "content-length" in response.headers


class Pace:
    """The throughput rule of one transfer, as curl's ``--speed-limit``/``--speed-time``.

    Every ``stall_timeout`` seconds at least ``min_speed`` bytes/s must have arrived on
    average, and the whole transfer must end within ``deadline`` seconds of its start.
    Silence is caught by the client's read timeout (the same ``stall_timeout``).
    """

    def __init__(self, policy: HttpPolicy, url: str, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.url = url
        self.clock = clock
        self.started = clock()
        self.window_start = self.started
        self.window_bytes = 0

    def check(self, done: int, added: int) -> None:
        now = self.clock()
        policy = self.policy
        if policy.deadline is not None and now - self.started > policy.deadline:
            raise Stalled(
                f"the transfer from {self.url} did not finish within {policy.deadline:g} "
                f"seconds ({done} bytes received); raise the limit with PYLOCK_HTTP_DEADLINE "
                "or --http-deadline",
                done,
            )
        self.window_bytes += added
        elapsed = now - self.window_start
        if elapsed >= policy.stall_timeout:
            if self.window_bytes < policy.min_speed * elapsed:
                raise Stalled(
                    f"the transfer from {self.url} slowed to {self.window_bytes / elapsed:.0f} "
                    f"bytes/s over {elapsed:.0f} seconds, below the minimum of "
                    f"{policy.min_speed} bytes/s ({done} bytes received); change the rule with "
                    "PYLOCK_HTTP_TIMEOUT or --http-timeout",
                    done,
                )
            self.window_start, self.window_bytes = now, 0


def chunks(
    response: httpx.Response,
    verifier: Verifier,
    policy: HttpPolicy,
    url: str,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[bytes]:
    """The body of a 200 ``response``, each chunk yielded once ``verifier`` has counted it.

    Raises Oversize past the ceiling, Stalled when too slow, CutShort when the connection broke
    or ended early (a caller may retry). The verdict is the caller's to ask for.
    """
    from pylock.net.lib import httpx

    pace = Pace(policy, url, clock)
    verifier.start()
    try:
        # Chunks as they arrive: re-chunking to a fixed size would copy every byte once more
        # through a buffer, for nothing (hashing and writing take any size).
        for chunk in response.iter_bytes():
            verifier.feed(chunk)
            pace.check(verifier.done, len(chunk))
            yield chunk
    except httpx.TimeoutException as exc:
        raise Stalled(
            f"the transfer from {url} stalled: nothing arrived for {policy.stall_timeout:g} "
            f"seconds ({verifier.done} bytes received); change the limit with "
            "PYLOCK_HTTP_TIMEOUT or --http-timeout",
            verifier.done,
        ) from exc
    except httpx.TransportError as exc:
        raise CutShort(
            f"the connection broke after {verifier.done} of {_of(verifier)} bytes: "
            f"{exc.__class__.__name__}: {exc}"
        ) from exc
    expected = verifier.expected_size
    if expected is not None and verifier.done < expected and not _self_delimited(response):
        # Without Content-Length or chunking, the end of the body is the end of the
        # connection: a short body may just be a dropped connection.
        raise CutShort(
            f"the server closed the connection after {verifier.done} of {_of(verifier)} bytes"
        )


def _of(verifier: Verifier) -> str:
    size = verifier.expected_size
    return "an unknown number of" if size is None else str(size)
