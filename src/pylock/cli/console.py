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
from typing import TYPE_CHECKING

from pylock.cli.render import label
from pylock.errors import EXIT_BUG, EXIT_EXTERNAL, EXIT_INTERRUPTED, InputError, PylockError

if TYPE_CHECKING:
    from pylock.base.settings import Settings
    from pylock.checking.checks import CheckOptions
    from pylock.commands.sync import SyncOptions


def report_error(error: PylockError, *, verbose: bool, color: str = "auto") -> int:
    """One paragraph on stderr (the traceback too with --verbose); returns the exit code."""
    if verbose:
        print_traceback(error)
    error_line(str(error), color=color)
    return error.exit_code


def print_traceback(error: BaseException) -> None:
    """``--verbose``'s traceback on stderr, every URL in it shown without its password
    (``credentials.redact_text``): an exception from a library may quote the URL it failed on."""
    import traceback

    from pylock.base.credentials import redact_text

    text = "".join(traceback.format_exception(error))
    print(redact_text(text), end="", file=sys.stderr)


def error_line(message: str, *, color: str = "auto") -> None:
    """``error: message`` on stderr, the label coloured as ``--color`` says: every error path
    (a PylockError, an OSError, a bug, ``run``'s missing command) prints through here, and
    every URL in the message is shown without its password (``credentials.redact_text``)."""
    from pylock.base.credentials import redact_text

    print(f"{label('error', '1;31', color)} {redact_text(message)}", file=sys.stderr)


def warn(message: str, *, color: str = "auto") -> None:
    """A warning paragraph on stderr; it never changes the exit code, and -q does not hide it.
    URLs in it are shown without their password, as in ``error_line``."""
    from pylock.base.credentials import redact_text

    print(f"{label('warning', '1;33', color)} {redact_text(message)}", file=sys.stderr)


def guarded(run: Callable[[], int | None], *, verbose: bool, color: str = "auto") -> int:
    """Run a command; anything the library did not turn into a PylockError still gets one
    paragraph (after its traceback, with --verbose): an OSError is the environment's (exit 3),
    anything else is a bug (exit 70, never 3: a retry will not help). The traceback goes through
    ``print_traceback``, never Python's own printer, so it cannot show a password."""
    try:
        return run() or 0
    except PylockError as error:
        return report_error(error, verbose=verbose, color=color)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as error:
        if verbose:
            print_traceback(error)
        error_line(
            f"{error}. Check the path, free disk space and permissions, then try again.",
            color=color,
        )
        return EXIT_EXTERNAL
    except Exception as error:
        if verbose:
            print_traceback(error)
        error_line(
            f"pylock hit an internal error ({error.__class__.__name__}: {error}). "
            "This is a bug: please report it with the output of the same command run with "
            "--verbose.",
            color=color,
        )
        return EXIT_BUG


def project_directory(path: Path) -> Path:
    """``-p``/``--project`` (default: the current directory) names an existing directory, or
    the run stops here with one paragraph about that (exit 2), not about the files a missing
    directory cannot hold: "python.lock not found, create it with `pylock lock`" would send the
    user to a command that fails the same way. Every command but ``demo`` takes its project
    through here (``State.project``, ``run_sync``, ``run_check``)."""
    if path.is_dir():
        return path
    if path.exists() or path.is_symlink():
        what = "is not a directory" if path.exists() else "is a symbolic link to nothing"
        raise InputError(
            f"The project directory {path} (-p/--project) {what}.",
            hint="Pass -p/--project the directory that holds pyproject.toml and python.lock.",
        )
    raise InputError(
        f"The project directory {path} (-p/--project) does not exist.",
        hint="Pass -p/--project the directory that holds pyproject.toml and python.lock "
        "(default: the current directory); for a new project, create the directory first, then "
        "run `pylock init` in it.",
    )


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
    from pylock.cli.progress import TransferProgress
    from pylock.commands.sync import sync_all, sync_project
    from pylock.fast.noop import already_installed

    project = project_directory(project)
    progress = TransferProgress(quiet=quiet or not settings.progress, color=settings.color)
    bar = progress.callback(DOWNLOADING)
    try:
        if every:
            results = sync_all(project, options, settings=settings, on_progress=bar)
        else:
            results = (sync_project(project, options, settings=settings, on_progress=bar),)
    finally:
        progress.close()
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
DOWNLOADING = "Downloading the locked interpreter"


def parse_format(value: str) -> str:
    """``--format``, checked the one way ``check``, ``show`` and ``list`` (and the launcher's
    ``check``) all check it: an unknown one is bad input (exit 2)."""
    if value not in OUTPUT_FORMATS:
        raise InputError(f"Unknown --format {value!r}.", hint="Use --format text or --format json.")
    return value


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
    from pylock.checking.checks import run_checks

    output_format = parse_format(output_format)
    report = run_checks(project_directory(project), options, settings=settings)
    if output_format == "json":
        import json

        print(json.dumps(report.to_json(), indent=2))
    elif not (quiet and report.ok):
        for line in report.lines():
            print(line)
    return report.exit_code
