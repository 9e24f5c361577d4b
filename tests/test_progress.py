"""The download progress (cli/progress.py): plain lines on a pipe, bars on a terminal.

The bars are checked on what is really written to the stream (cursor moves and all), with a
clock the test moves; the commands' own terminal runs are in test_cli_sync.py and
test_mirror.py (a real pseudo-terminal).
"""

from __future__ import annotations

import io
import re

import pytest

from pylock.cli.progress import REDRAW, TransferProgress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drawn_lines(text: str) -> list[str]:
    """What the last draw shows: the text after the last return to the first line."""
    last = re.split(r"\r(?:\x1b\[\d+A)?", text)[-1]
    return [ANSI.sub("", line) for line in last.split("\n")]


@pytest.fixture
def columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")


def test_a_pipe_gets_a_line_per_attempt_and_the_callers_lines() -> None:
    log = io.StringIO()
    progress = TransferProgress(quiet=False, color="never", stream=log)
    progress.update("a.tar.gz", 0, 2_000_000)
    progress.update("a.tar.gz", 1_000_000, 2_000_000)
    progress.update("a.tar.gz", 0, 2_000_000)  # a retry starts again at 0
    progress.finished("downloaded a.tar.gz")
    progress.close()
    assert log.getvalue() == (
        "a.tar.gz (2.0 MB)...\na.tar.gz again (2.0 MB)...\ndownloaded a.tar.gz\n"
    )


@pytest.mark.usefixtures("columns")
def test_a_terminal_gets_a_bar_redrawn_at_most_every_tenth_of_a_second() -> None:
    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("cpython", 0, 10_000_000)
    first = screen.getvalue()
    assert first.startswith("\x1b[2Kcpython ")  # drawn where the cursor is, on a clean line
    assert drawn_lines(first) == [f"cpython {'─' * 40} 0.0/10.0 MB 0 bytes/s -:--:--"]
    clock.now += REDRAW / 2
    progress.update("cpython", 2_000_000, 10_000_000)
    assert screen.getvalue() == first  # too soon: not drawn
    clock.now += REDRAW  # 1.5 redraw intervals since the first draw
    progress.update("cpython", 6_000_000, 10_000_000)
    assert drawn_lines(screen.getvalue()) == [
        f"cpython {'━' * 24}{'─' * 16} 6.0/10.0 MB 40.0 MB/s 0:00:00"
    ]
    clock.now += 0.01
    progress.update("cpython", 10_000_000, 10_000_000)  # the end is always drawn
    assert drawn_lines(screen.getvalue())[0].startswith(f"cpython {'━' * 40} 10.0/10.0 MB")
    progress.finished("not on a terminal: the bar said it")
    progress.close()
    assert screen.getvalue().endswith("\r\x1b[J")  # erased
    assert "not on a terminal" not in screen.getvalue()


@pytest.mark.usefixtures("columns")
def test_several_transfers_are_a_line_each_redrawn_in_place() -> None:
    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("one", 0, 1_000_000)
    clock.now += 2 * REDRAW
    progress.update("two", 0, 2_000_000)
    clock.now += 2 * REDRAW
    progress.update("one", 1_000_000, 1_000_000)
    text = screen.getvalue()
    assert "\r\x1b[1A" in text  # back up over the two lines before drawing them again
    shown = drawn_lines(text)
    assert [line.split()[0] for line in shown] == ["one", "two"]
    assert "1.0/1.0 MB" in shown[0] and "0.0/2.0 MB" in shown[1]
    progress.close()
    assert text + "\r\x1b[1A\x1b[J" == screen.getvalue()


@pytest.mark.parametrize("width", [20, 40, 60, 200])
def test_a_line_always_fits_the_terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """One cell short of the width (the last column wraps on some terminals), the name cut
    before the bar; a line that wrapped would break every redraw after it."""
    monkeypatch.setenv("COLUMNS", str(width))
    screen = Terminal()
    progress = TransferProgress(quiet=False, color="always", stream=screen, clock=Clock())
    name = "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz"
    progress.update(name, 123_456_789, 987_654_321)
    (line,) = drawn_lines(screen.getvalue())
    assert len(line) <= width - 1
    assert line.startswith(name[:5])


@pytest.mark.usefixtures("columns")
@pytest.mark.parametrize(
    ("done", "total", "said"),
    [
        (512, 900, "512/900 bytes 512 bytes/s"),
        (12_345, 45_000, "12.3/45.0 kB 12.3 kB/s"),
        (1_500_000_000, 2_000_000_000, "1.5/2.0 GB 1.5 GB/s"),
    ],
)
def test_sizes_are_in_the_units_of_the_total(done: int, total: int, said: str) -> None:
    """Decimal units picked by the total, as rich's bars showed them."""
    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("a", 0, total)
    clock.now += 1
    progress.update("a", done, total)
    assert said in drawn_lines(screen.getvalue())[0]


def test_no_total_is_bytes_and_speed_without_a_bar(columns: None) -> None:
    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("x", 0, None)
    clock.now += 1
    progress.update("x", 3_000_000, None)
    assert drawn_lines(screen.getvalue()) == ["x 3.0 MB 3.0 MB/s"]


def test_quiet_says_nothing() -> None:
    screen = Terminal()
    quiet = TransferProgress(quiet=True, color="never", stream=screen)
    quiet.update("a", 0, 10)
    quiet.finished("done")
    quiet.close()
    assert screen.getvalue() == ""  # a closed stderr: test_noop.py, through the console script


def seen(text: str, columns: int = 100, rows: int = 24) -> list[str]:
    """What a terminal of that size shows after ``text`` (pyte, a VT100 emulator: the cursor
    moves and erasures as a terminal carries them out), and what scrolled off its top: the
    non-blank lines of both, scrollback first."""
    import pyte

    screen = pyte.HistoryScreen(columns, rows, history=1000)
    screen.set_mode(pyte.modes.LNM)  # a newline returns the carriage too, as a tty's onlcr
    pyte.Stream(screen).feed(text)
    gone = ["".join(cell.data for cell in line.values()) for line in screen.history.top]
    return [line.rstrip() for line in gone + screen.display if line.strip()]


@pytest.mark.usefixtures("columns")
def test_a_finished_transfer_is_drawn_complete_once_then_its_line_goes() -> None:
    """As uv's bars: a transfer in flight has a line; one done is shown done, then makes room
    for the others, and the screen holds no stale line of it."""
    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("one", 0, 2_000_000)
    progress.update("two", 0, 8_000_000)
    clock.now += 1
    progress.update("one", 2_000_000, 2_000_000)
    shown = seen(screen.getvalue())
    assert [line.split()[0] for line in shown] == ["one", "two"]
    assert "2.0/2.0 MB 2.0 MB/s 0:00:00" in shown[0]
    clock.now += 1
    progress.update("two", 4_000_000, 8_000_000)
    (line,) = seen(screen.getvalue())
    assert line.startswith("two ") and "4.0/8.0 MB 2.0 MB/s 0:00:02" in line
    progress.close()
    assert seen(screen.getvalue()) == []


def test_more_transfers_than_rows_are_counted_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line scrolled off the top of the terminal can never be drawn over: ``mirror`` with
    more workers than rows would fill the scrollback with stale bars."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "5")
    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    for index in range(12):
        progress.update(f"archive-{index}", 0, 1_000_000)
    shown = seen(screen.getvalue(), rows=5)
    assert [line.split()[0] for line in shown[:-1]] == [f"archive-{i}" for i in range(4)]
    assert shown[-1] == "… and 8 more"
    for index in range(11):
        clock.now += 2 * REDRAW
        progress.update(f"archive-{index}", 1_000_000, 1_000_000)
        assert len(seen(screen.getvalue(), rows=5)) <= 5  # nothing ever scrolled away
    shown = seen(screen.getvalue(), rows=5)
    assert [line.split()[0] for line in shown] == ["archive-10", "archive-11"]  # 10 done
    clock.now += 2 * REDRAW
    progress.update("archive-11", 500_000, 1_000_000)
    assert [line.split()[0] for line in seen(screen.getvalue(), rows=5)] == ["archive-11"]
    progress.close()
    assert seen(screen.getvalue(), rows=5) == []


@pytest.mark.parametrize("rows", [1, 2])
def test_a_terminal_of_one_or_two_rows_still_shows_a_bar(
    monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", str(rows))
    screen = Terminal()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=Clock())
    progress.update("only", 0, 1_000)
    assert [line.split()[0] for line in seen(screen.getvalue(), rows=rows)] == ["only"]
    progress.update("next", 0, 1_000)
    progress.update("last", 0, 1_000)
    shown = seen(screen.getvalue(), rows=rows)
    assert shown[0].startswith("only ") and len(shown) == rows
    assert shown[1:] == ([] if rows == 1 else ["… and 2 more"])


@pytest.mark.usefixtures("columns")
def test_a_transfer_of_no_known_size_goes_when_its_body_ends() -> None:
    """Without a size the bar cannot see the end: the download's own verifier says it, as
    ``(done, done)`` at its verdict (test_verify.py), and the line goes as any finished one."""
    import hashlib

    from pylock.fetch.integrity import Verifier

    screen, clock = Terminal(), Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("sized", 0, 9_000_000)
    body = b"x" * 3_000_000
    verifier = Verifier(
        hashlib.sha256(body).hexdigest(), None, on_progress=progress.callback("unsized")
    )
    verifier.start()
    clock.now += 1
    verifier.feed(body)
    assert verifier.verdict().problem == "ok"
    clock.now += 1
    progress.update("sized", 1_000_000, 9_000_000)
    assert [line.split()[0] for line in seen(screen.getvalue())] == ["sized"]


def test_a_new_transfer_of_a_finished_ones_name_is_not_a_retry() -> None:
    """``sync --all`` downloads each interpreter under the one name: on a pipe, the second is
    not "again" (a retry restarts a transfer that did not finish)."""
    log = io.StringIO()
    progress = TransferProgress(quiet=False, color="never", stream=log)
    for _ in range(2):
        progress.update("Downloading", 0, 1_000_000)
        progress.update("Downloading", 1_000_000, 1_000_000)
    progress.update("Downloading", 0, 2_000_000)
    progress.update("Downloading", 0, 2_000_000)  # this one was retried
    assert log.getvalue().splitlines() == [
        "Downloading (1.0 MB)...",
        "Downloading (1.0 MB)...",
        "Downloading (2.0 MB)...",
        "Downloading again (2.0 MB)...",
    ]


def test_a_terminal_that_cannot_show_the_bar_glyphs_gets_ascii(columns: None) -> None:
    """``PYTHONIOENCODING=latin-1`` (or an old locale): "━" cannot be encoded, and every
    redraw would fail; the same bar in ASCII instead."""
    raw = io.BytesIO()
    screen = io.TextIOWrapper(raw, encoding="latin-1", write_through=True)
    screen.isatty = lambda: True  # type: ignore[method-assign]
    clock = Clock()
    progress = TransferProgress(quiet=False, color="never", stream=screen, clock=clock)
    progress.update("x" * 120, 0, 4_000_000)
    clock.now += 1
    progress.update("x" * 120, 1_000_000, 4_000_000)
    (line,) = drawn_lines(raw.getvalue().decode("latin-1"))
    assert f" {'#' * 2}{'-' * 8} 1.0/4.0 MB" in line  # the narrowest bar: the name is long
    assert line.startswith("xxx") and "..." in line and len(line) <= 99
