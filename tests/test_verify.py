"""The stream verifier and the throughput rule, fed directly (a fake clock, no waiting)."""

from __future__ import annotations

import hashlib

import pytest

from pylock.fetch.integrity import Oversize, Pace, Stalled, Verifier
from pylock.net.http import HttpPolicy

BODY = b"x" * 1000
SHA = hashlib.sha256(BODY).hexdigest()


def test_matching_body_is_ok() -> None:
    verifier = Verifier(SHA.upper(), 1000)
    verifier.feed_all([BODY[:400], BODY[400:]])
    verdict = verifier.verdict()
    assert (verdict.problem, verdict.size, verdict.sha256) == ("ok", 1000, SHA)


def test_short_body_is_a_size_problem_before_a_digest_problem() -> None:
    verifier = Verifier(SHA, 1000)
    verifier.feed(BODY[:999])
    assert verifier.verdict().problem == "size"


def test_same_size_other_bytes_is_a_digest_problem() -> None:
    verifier = Verifier(SHA, 1000)
    verifier.feed(b"y" * 1000)
    assert verifier.verdict().problem == "sha256"


def test_locked_size_is_the_ceiling() -> None:
    verifier = Verifier(SHA, 1000)
    verifier.feed(BODY)
    with pytest.raises(Oversize) as caught:
        verifier.feed(b"!")
    assert (caught.value.done, caught.value.limit) == (1001, 1000)


def test_without_a_size_the_ceiling_bounds_the_body() -> None:
    verifier = Verifier(SHA, None, ceiling=1500)
    verifier.feed(BODY)
    assert verifier.verdict().problem == "ok"  # no size to hold it to: the digest decides
    with pytest.raises(Oversize):
        verifier.feed(BODY)


def test_progress_reports_start_and_each_chunk() -> None:
    seen: list[tuple[int, int | None]] = []
    verifier = Verifier(SHA, 1000, on_progress=lambda done, total: seen.append((done, total)))
    verifier.start()
    verifier.feed_all([BODY[:600], BODY[600:]])
    assert seen == [(0, 1000), (600, 1000), (1000, 1000)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pace_allows_a_steady_body_and_refuses_a_trickle() -> None:
    clock = Clock()
    pace = Pace(HttpPolicy(timeout=10.0, min_speed=100, deadline=None), "http://x/a", clock)
    for second in range(1, 31):  # 200 bytes/s for 30 s: fine
        clock.now += 1
        pace.check(200 * second, 200)
    with pytest.raises(Stalled) as caught:
        for _ in range(10):  # then 5 bytes/s: fails once a 10 s window is over
            clock.now += 1
            pace.check(6000, 5)
    assert "below the minimum of 100 bytes/s" in str(caught.value)
    assert caught.value.done == 6000


def test_pace_deadline() -> None:
    clock = Clock()
    pace = Pace(HttpPolicy(timeout=10.0, min_speed=0, deadline=5.0), "http://x/a", clock)
    clock.now += 4.9
    pace.check(10, 10)
    clock.now += 0.2
    with pytest.raises(Stalled, match="did not finish within 5 seconds"):
        pace.check(20, 10)


def test_a_body_of_no_known_size_reports_its_end_once() -> None:
    """A progress bar cannot tell a finished transfer of no known size from a stalled one: the
    verdict, at the body's end, reports ``(done, done)``, once however often it is asked."""
    heard: list[tuple[int, int | None]] = []
    verifier = Verifier(SHA, None, on_progress=lambda done, total: heard.append((done, total)))
    verifier.start()
    verifier.feed(b"x" * 10)
    verifier.verdict()
    verifier.verdict()
    assert heard == [(0, None), (10, None), (10, 10)]
    sized: list[tuple[int, int | None]] = []
    known = Verifier(SHA, 10, on_progress=lambda done, total: sized.append((done, total)))
    known.feed(b"x" * 10)
    known.verdict()
    assert sized == [(10, 10)]  # a known size says its own end
