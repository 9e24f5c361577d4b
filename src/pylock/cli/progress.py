"""Download progress, the one class ``sync``, ``venv`` and ``mirror`` share.

On a terminal: a rich bar per transfer (several at once for ``mirror``'s workers), with the bytes
done, the speed and the time left, as uv draws them. On a pipe or a CI log, where a bar redrawn
into a file is noise: one plain line as a transfer starts (or starts again, on a retry), and the
caller's own line as each one finishes. rich is imported only when there is a bar to draw.
Called from download threads, so every update takes a lock.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from pylock.cli.render import use_color

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class TransferProgress:
    """``update(name, done, total)`` as bytes arrive; ``finished(line)`` as one ends;
    ``close()`` at the end. ``quiet`` (-q or --no-progress) silences all of it, and
    ``start_lines=False`` keeps a pipe to the caller's ``finished`` lines."""

    def __init__(self, *, quiet: bool, color: str, start_lines: bool = True) -> None:
        self.quiet = quiet
        self.color = color
        self.start_lines = start_lines
        self.terminal = sys.stderr is not None and sys.stderr.isatty()
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._attempts: dict[str, int] = {}

    def callback(self, name: str) -> Callable[[int, int | None], None]:
        """``update`` for one named transfer, in the shape ``on_progress`` takes."""
        return lambda done, total: self.update(name, done, total)

    def update(self, name: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        with self._lock:
            if not self.terminal:
                if self.start_lines and done == 0:  # every attempt (a retry too) starts at 0
                    attempt = self._attempts[name] = self._attempts.get(name, 0) + 1
                    size = f" ({total / 1e6:.1f} MB)" if total else ""
                    again = " again" if attempt > 1 else ""
                    print(f"{name}{again}{size}...", file=sys.stderr)
                return
            bar = self._bar or self._start()
            if name not in self._tasks:
                self._tasks[name] = bar.add_task(name, total=total)
            bar.update(self._tasks[name], completed=done, total=total)

    def finished(self, line: str) -> None:
        """A line for a finished transfer, on a pipe only (a terminal has its bar)."""
        if self.quiet or self.terminal:
            return
        with self._lock:
            print(line, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _start(self) -> Progress:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        colored = use_color(self.color, sys.stderr)
        console = Console(file=sys.stderr, no_color=not colored, force_terminal=True)
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._bar.start()
        return self._bar
