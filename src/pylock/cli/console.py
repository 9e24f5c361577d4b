"""The CLI layer's code that must not need typer: error paragraphs, download progress, and the
``sync`` and ``check`` commands themselves.

``pylock sync`` and ``pylock check`` run on every CI job and container start, so the console
script runs them without importing typer at all (launcher.py); the typer commands in app.py call
the same ``run_sync`` and ``run_check``. With the rest of the CLI this is the only code that
prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pylock.errors import EXIT_BUG, EXIT_EXTERNAL, EXIT_INTERRUPTED, PylockError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from pylock.base.settings import Settings
    from pylock.check.checks import CheckOptions
    from pylock.commands.sync import SyncOptions


def use_color(choice: str, stream: TextIO) -> bool:
    """``--color`` as resolved (``Settings.color``: ``NO_COLOR`` already applied to ``auto`` by
    ``color_choice``, once): ``always``, ``never``, or ``auto`` = a terminal."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return stream.isatty()


def _label(word: str, code: str, color: str) -> str:
    """``error:``/``warning:``, coloured (ANSI ``code``) when ``--color`` says so for stderr."""
    return f"\x1b[{code}m{word}\x1b[0m:" if use_color(color, sys.stderr) else f"{word}:"


def report_error(error: PylockError, *, verbose: bool, color: str = "auto") -> int:
    """One paragraph on stderr (the traceback too with --verbose); returns the exit code."""
    if verbose:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    print(f"{_label('error', '1;31', color)} {error}", file=sys.stderr)
    return error.exit_code


def warn(message: str, *, color: str = "auto") -> None:
    """A warning paragraph on stderr; it never changes the exit code, and -q does not hide it."""
    print(f"{_label('warning', '1;33', color)} {message}", file=sys.stderr)


def guarded(run: Callable[[], int | None], *, verbose: bool, color: str = "auto") -> int:
    """Run a command; anything the library did not turn into a PylockError still gets one
    paragraph instead of a traceback unless --verbose asks for it: an OSError is the
    environment's (exit 3), anything else is a bug (exit 70, never 3: a retry will not help)."""
    try:
        return run() or 0
    except PylockError as error:
        return report_error(error, verbose=verbose, color=color)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as error:
        if verbose:
            raise
        print(
            f"error: {error}. Check the path, free disk space and permissions, then try again.",
            file=sys.stderr,
        )
        return EXIT_EXTERNAL
    except Exception as error:
        if verbose:
            raise
        print(
            f"error: pylock hit an internal error ({error.__class__.__name__}: {error}). "
            "This is a bug: please report it with the output of the same command run with "
            "--verbose.",
            file=sys.stderr,
        )
        return EXIT_BUG


class DownloadProgress:
    """A rich progress bar on a terminal; on a pipe or CI log, one plain line when a download
    (or a retry of it) starts, since a bar redrawn into a log file is noise. rich is imported
    only when there is a download and a terminal to draw it on."""

    def __init__(self, label: str, *, quiet: bool, color: str = "auto") -> None:
        self.label = label
        self.quiet = quiet
        self.color = color
        self.terminal = sys.stderr.isatty()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._attempts = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if not self.terminal:
            if done == 0:  # every attempt (a retry too) starts at zero
                self._attempts += 1
                size = f" ({total / 1e6:.1f} MB)" if total else ""
                again = " again" if self._attempts > 1 else ""
                print(f"{self.label}{again}{size}...", file=sys.stderr)
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import Progress

            colored = use_color(self.color, sys.stderr)
            console = Console(file=sys.stderr, no_color=not colored, force_terminal=True)
            self._bar = Progress(console=console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total)
        assert self._task is not None
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def run_sync(
    project: Path,
    options: SyncOptions,
    settings: Settings,
    *,
    quiet: bool,
    every: bool = False,
) -> int:
    """``pylock sync``: install, or confirm, the locked interpreter (``every``: each one of a
    matrix lock); print one line about each.

    ``quiet`` silences the lines and the progress; ``--no-progress`` (``settings.progress``)
    only the progress."""
    from pylock.commands.sync import sync_all, sync_project
    from pylock.fast.noop import already_installed

    bar = DownloadProgress(
        "Downloading the locked interpreter",
        quiet=quiet or not settings.progress,
        color=settings.color,
    )
    try:
        if every:
            results = sync_all(project, options, settings=settings, on_progress=bar)
        else:
            results = (sync_project(project, options, settings=settings, on_progress=bar),)
    finally:
        bar.close()
    if quiet:
        return 0
    for result in results:
        target = result.installation.target
        path = str(result.installation.path)
        if result.action == "unchanged":
            print(
                already_installed(
                    target.implementation, target.version, target.build, target.flavor, path
                )
            )
        else:
            what = f"{target.implementation} {target.version} ({target.build}, {target.flavor})"
            print(f"Installed {what} at {path}.")
    return 0


OUTPUT_FORMATS = ("text", "json")


def run_check(
    project: Path,
    options: CheckOptions,
    settings: Settings,
    output_format: str,
    *,
    quiet: bool = False,
) -> int:
    """``pylock check``: one line per check (or one JSON document); the report's exit code.

    ``quiet`` prints the text report only when a check did not pass; JSON, being asked for,
    is always printed."""
    from pylock.check.checks import run_checks
    from pylock.errors import InputError

    if output_format not in OUTPUT_FORMATS:
        raise InputError(
            f"Unknown --format {output_format!r}.", hint="Use --format text or --format json."
        )
    report = run_checks(project, options, settings=settings)
    if output_format == "json":
        import json

        print(json.dumps(report.to_json(), indent=2))
    elif not (quiet and report.ok):
        for line in report.lines():
            print(line)
    return report.exit_code
