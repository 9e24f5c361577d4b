"""Download progress, the one class ``sync``, ``venv`` and ``mirror`` share.

On a terminal: a bar per transfer in flight (several at once for ``mirror``'s workers), with the
bytes done, the speed and the time left, as uv draws them; a finished transfer is drawn once
complete, then its line goes, so a ``mirror`` of many archives never holds more lines than the
terminal has rows (the rest are counted on one line); all of it erased when the command ends.
A transfer of no known size finishes when its body ends (``integrity.Verifier.verdict``).
On a pipe or a CI log, where a bar redrawn into a file is noise: one plain line as a transfer
starts (or starts again, on a retry), and the caller's own line as each one finishes.

The bars are drawn here, with a few ANSI sequences, not with rich: importing rich costs
40-70 ms, and it happened on the download thread at the first chunk, where it held up the
stream and the extraction both; rich's refresh thread then took the interpreter lock ten
times a second. Here a redraw happens in ``update``, on the thread that reports the bytes, at
most every ``REDRAW`` seconds, and costs a format and one write (benchmarks/README.md).
Called from download threads, so every update takes a lock.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from pylock.cli.render import use_color

REDRAW = 0.1
"""Seconds between two redraws of the bars (rich's default refresh is ten a second too)."""
BAR, MIN_BAR = 40, 10
"""The widest a bar is drawn, in cells, and the narrowest (the name is shortened first)."""
_CLEAR_LINE, _CLEAR_BELOW = "\x1b[2K", "\x1b[J"
# The cursor is left visible: a pylock killed mid-download (SIGTERM, SIGKILL) leaves no
# terminal behind with its cursor hidden. A terminal resized while the bars are drawn may
# reflow them, and the next redraw then leaves a stray line above: as with uv's and rich's.
_GLYPHS = {"utf": ("━", "─", "…"), "ascii": ("#", "-", "...")}
"""The bar's cells, done and to do, and the mark of a shortened name: ASCII on a stream that
cannot encode the others (``PYTHONIOENCODING=latin-1``), where they would fail every redraw."""


@dataclass
class _Transfer:
    started: float
    done: int = 0
    total: int | None = None
    complete: bool = False  # drawn once more, complete, then dropped


class TransferProgress:
    """``update(name, done, total)`` as bytes arrive; ``finished(line)`` as one ends;
    ``close()`` at the end. ``quiet`` (-q or --no-progress) silences all of it, and
    ``start_lines=False`` keeps a pipe to the caller's ``finished`` lines. ``stream`` and
    ``clock`` are for tests: stderr (a terminal or not, as it says) and the monotonic clock."""

    def __init__(
        self,
        *,
        quiet: bool,
        color: str,
        start_lines: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet = quiet
        self.color = color
        self.start_lines = start_lines
        self.stream: TextIO = sys.stderr if stream is None else stream
        self.terminal = self.stream.isatty() and _draws_ansi(self.stream)
        self.glyphs = _GLYPHS["utf" if _encodes(self.stream, "".join(_GLYPHS["utf"])) else "ascii"]
        self.clock = clock
        self._lock = threading.Lock()
        self._transfers: dict[str, _Transfer] = {}
        self._attempts: dict[str, int] = {}
        self._drawn_at: float | None = None
        self._lines = 0  # how many lines the last draw left on the terminal

    def callback(self, name: str) -> Callable[[int, int | None], None]:
        """``update`` for one named transfer, in the shape ``on_progress`` takes."""
        return lambda done, total: self.update(name, done, total)

    def update(self, name: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        with self._lock:
            complete = total is not None and done >= total
            if not self.terminal:
                if self.start_lines and done == 0:  # every attempt (a retry too) starts at 0
                    attempt = self._attempts[name] = self._attempts.get(name, 0) + 1
                    size = f" ({total / 1e6:.1f} MB)" if total else ""
                    again = " again" if attempt > 1 else ""
                    print(f"{name}{again}{size}...", file=self.stream)
                if complete:  # the next transfer of that name is a new one, not a retry
                    self._attempts.pop(name, None)
                return
            now = self.clock()
            new = name not in self._transfers
            if new or done == 0:  # a retry starts at 0 too: its speed counts afresh
                self._transfers[name] = _Transfer(started=now)
            transfer = self._transfers[name]
            transfer.done, transfer.total, transfer.complete = done, total, complete
            # A transfer is drawn as it starts and as it ends, however fast; in between, at
            # most every REDRAW seconds.
            if new or complete or self._drawn_at is None or now - self._drawn_at >= REDRAW:
                self._draw(now)

    def finished(self, line: str) -> None:
        """A line for a finished transfer, on a pipe only (a terminal has its bar)."""
        if self.quiet or self.terminal:
            return
        with self._lock:
            print(line, file=self.stream)

    def close(self) -> None:
        """Erase the bars: they are progress, not a record."""
        with self._lock:
            if self._drawn_at is None:
                return
            self._write(f"{self._home()}{_CLEAR_BELOW}")
            self._drawn_at, self._lines = None, 0

    def _draw(self, now: float) -> None:
        """Every transfer's line, over the ones drawn last time, and no more lines than the
        terminal has rows (a line scrolled off the top cannot be drawn over; the last line
        ends without a newline, so ``rows`` lines fit): the transfers that do not fit are
        counted on the last line. A completed transfer is drawn this once, then dropped."""
        width, rows = self._size()
        colored = use_color(self.color, self.stream)
        shown = list(self._transfers.items())
        room = max(rows, 1)
        keep = len(shown) if len(shown) <= room else max(room - 1, 1)
        lines = [
            _line(name, transfer, now, width, colored, self.glyphs)
            for name, transfer in shown[:keep]
        ]
        if keep < len(shown) and keep < room:  # a one-row terminal shows the first bar alone
            more = f"{self.glyphs[2]} and {len(shown) - keep} more"
            lines.append(_fit(more, width - 1, self.glyphs))
        for name, transfer in shown:
            if transfer.complete:
                del self._transfers[name]
        home = "" if self._drawn_at is None else self._home()
        self._drawn_at, self._lines = now, len(lines)
        self._write(home + "\n".join(f"{_CLEAR_LINE}{line}" for line in lines) + _CLEAR_BELOW)

    def _home(self) -> str:
        """Back to the start of the first line drawn."""
        up = self._lines - 1
        return f"\r\x1b[{up}A" if up > 0 else "\r"

    def _size(self) -> tuple[int, int]:
        """Columns and rows: ``COLUMNS`` and ``LINES`` when set, else the terminal's, else 80
        and 24 (a terminal that does not know its size says 0), as ``shutil.get_terminal_size``
        does for stdout."""
        try:
            terminal = os.get_terminal_size(self.stream.fileno())
        except (AttributeError, OSError, ValueError):  # not a real terminal (a test's)
            terminal = os.terminal_size((0, 0))
        sizes = []
        for variable, measured, default in (
            ("COLUMNS", terminal.columns, 80),
            ("LINES", terminal.lines, 24),
        ):
            try:
                size = int(os.environ.get(variable, ""))
            except ValueError:
                size = measured
            sizes.append(size if size > 0 else default)
        return sizes[0], sizes[1]

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _draws_ansi(stream: TextIO) -> bool:
    """Whether a terminal acts on the bar's escape sequences: always on POSIX; on Windows once
    its console is switched to them (``ENABLE_VIRTUAL_TERMINAL_PROCESSING``, Windows 10 and
    later), else the plain lines are written, as to a pipe. The console keeps that mode after
    pylock exits, as it does after uv: it only adds the sequences every modern console reads."""
    if sys.platform != "win32":
        return True
    import ctypes
    import msvcrt

    try:
        handle = msvcrt.get_osfhandle(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    kernel32 = ctypes.windll.kernel32
    mode = ctypes.c_ulong()
    if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
        return False
    return bool(kernel32.SetConsoleMode(handle, mode.value | 0x0004))


def _encodes(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"  # a StringIO has none: any text
    try:
        text.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def _line(
    name: str,
    transfer: _Transfer,
    now: float,
    width: int,
    colored: bool,
    glyphs: tuple[str, str, str],
) -> str:
    """``NAME ━━━━━━━━━━━━─────── 12.3/23.8 MB 150.2 MB/s 0:00:01``, fitted to ``width`` - 1
    cells (the last column wraps on some terminals): the name is shortened before the bar goes.
    Without a total: no bar, no time left."""
    done, total = transfer.done, transfer.total
    elapsed = now - transfer.started
    speed = done / elapsed if elapsed > 0 else 0.0
    scale, unit = _unit(total or done)
    amount = f"{done / scale:.{_places(scale)}f}"
    if total:
        amount += f"/{total / scale:.{_places(scale)}f}"
    speed_scale, speed_unit = _unit(int(speed))
    facts = [f"{amount} {unit}", f"{speed / speed_scale:.{_places(speed_scale)}f} {speed_unit}/s"]
    if total:
        facts.append(_clock((total - done) / speed) if speed > 0 else "-:--:--")
    tail = " ".join(facts)
    room = width - 1 - len(tail) - 1  # for "NAME BAR"
    if not total or room < MIN_BAR + 2:
        return _fit(f"{name} {tail}", width - 1, glyphs)
    cells = min(BAR, max(MIN_BAR, room - len(name) - 1))
    filled = min(cells, cells * done // total)
    full, empty, _ = glyphs
    if colored:
        bar = f"\x1b[35m{full * filled}\x1b[2m{full * (cells - filled)}\x1b[0m"
    else:
        bar = full * filled + empty * (cells - filled)
    return f"{_fit(name, room - cells - 1, glyphs)} {bar} {tail}"


def _unit(size: int) -> tuple[float, str]:
    """Decimal units, as rich's ``DownloadColumn`` showed them in pylock's earlier bars and as
    PBS's release pages give sizes: 950 bytes, 12.3 kB, 23.8 MB, 1.2 GB."""
    for scale, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if size >= scale:
            return scale, unit
    return 1.0, "bytes"


def _places(scale: float) -> int:
    return 0 if scale == 1.0 else 1


def _fit(text: str, cells: int, glyphs: tuple[str, str, str]) -> str:
    mark = glyphs[2]
    return text if len(text) <= cells else text[: max(cells - len(mark), 0)] + mark


def _clock(seconds: float) -> str:
    whole = int(seconds + 0.5)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
