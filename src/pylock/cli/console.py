"""The CLI layer's code that must not need typer: error paragraphs, download progress, and the
commands run all day (``sync``, ``check``, ``which``, ``run``, ``show``, ``venv``) themselves.

Those run on every CI job, shell start and container boot, so the console script runs them
without importing typer at all (launcher.py); the typer commands in app.py call the same
``run_*`` functions. Each takes the command line's memo key (``fast.memo.command_key``) and,
when it reaches an answer it would give again on the same inputs (exit 0, nothing on stderr),
records it with what it rested on, for the console script to replay (fast/memo.py). With the
rest of the CLI this is the only code that prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.cli.render import error_line, label
from pylock.errors import EXIT_BUG, EXIT_EXTERNAL, EXIT_INTERRUPTED, InputError, PylockError

if TYPE_CHECKING:
    from pylock.base.settings import Settings
    from pylock.checking.checks import CheckOptions
    from pylock.commands.sync import SyncOptions
    from pylock.fast.memo import Evidence

MemoKey = list[bytes]


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


def warn(message: str, *, color: str = "auto") -> None:
    """A warning paragraph on stderr; it never changes the exit code, and -q does not hide it.
    URLs in it are shown without their password, as in ``error_line``."""
    from pylock.base.credentials import redact_text

    print(f"{label('warning', '1;33', color)} {redact_text(message)}", file=sys.stderr)


def guarded(run: Callable[[], int | None], *, verbose: bool, color: str = "auto") -> int:
    """Run a command; anything it raises becomes one paragraph and an exit code (``failure``)."""
    try:
        return run() or 0
    except (Exception, KeyboardInterrupt) as error:
        return failure(error, verbose=verbose, color=color)


def failure(error: BaseException, *, verbose: bool, color: str = "auto") -> int:
    """The one paragraph and exit code of a command that raised ``error``: a PylockError's own
    words and code; Ctrl-C is 130; anything the library did not turn into a PylockError still
    gets one paragraph (after its traceback, with --verbose): an OSError is the environment's
    (exit 3), anything else is a bug (exit 70, never 3: a retry will not help). The traceback
    goes through ``print_traceback``, never Python's own printer, so it cannot show a password.
    The console script's replayed answers fail through here too (cli/launcher.py)."""
    if isinstance(error, PylockError):
        return report_error(error, verbose=verbose, color=color)
    if isinstance(error, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(error, OSError):
        if verbose:
            print_traceback(error)
        error_line(
            f"{error}. Check the path, free disk space and permissions, then try again.",
            color=color,
        )
        return EXIT_EXTERNAL
    if verbose:
        print_traceback(error)
    error_line(
        f"pylock hit an internal error ({error.__class__.__name__}: {error}). "
        "This is a bug: please report it with the output of the same command run with "
        "--verbose.",
        color=color,
    )
    return EXIT_BUG


def _evidence(memo_key: MemoKey | None) -> Evidence | None:
    """A fresh ``Evidence`` when the command's answer may be remembered."""
    if memo_key is None:
        return None
    from pylock.fast.memo import Evidence

    return Evidence()


def _remember(
    memo_key: MemoKey | None, evidence: Evidence | None, answer: str, settings: Settings
) -> None:
    if memo_key is not None and evidence is not None:
        from pylock.fast import memo

        memo.remember(memo_key, evidence, answer, settings.environ)


def project_directory(path: Path) -> Path:
    """``-p``/``--project`` (default: the current directory) names an existing directory, or
    the run stops here with one paragraph about that (exit 2), not about the files a missing
    directory cannot hold: "python.lock not found, create it with `pylock lock`" would send the
    user to a command that fails the same way. Every command but ``demo`` takes its project
    through here (``State.project``, and the ``run_*`` the console script calls)."""
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
    memo_key: MemoKey | None = None,
) -> int:
    """``pylock sync``: install, or confirm, the locked interpreter (``every``: each one of a
    matrix lock); print one line about each.

    ``quiet`` silences the lines and the progress; ``--no-progress`` (``settings.progress``)
    only the progress. The memo gets the line the next identical run prints: "already
    installed" (not ``every``: several interpreters are not one answer)."""
    from pylock.cli.progress import TransferProgress
    from pylock.commands.sync import sync_all, sync_project
    from pylock.fast.noop import already_installed

    project = project_directory(project)
    progress = TransferProgress(quiet=quiet or not settings.progress, color=settings.color)
    bar = progress.callback(DOWNLOADING)
    evidence = None if every else _evidence(memo_key)
    try:
        if every:
            results = sync_all(project, options, settings=settings, on_progress=bar)
        else:
            results = (
                sync_project(
                    project, options, settings=settings, on_progress=bar, evidence=evidence
                ),
            )
    finally:
        progress.close()
    lines = []
    for result in results:
        target = result.installation.target
        path = str(result.installation.path)
        noop = already_installed(
            target.implementation, target.version, target.build, target.flavor, path
        )
        if result.action == "unchanged":
            lines.append(noop)
        else:
            what = f"{target.implementation} {target.version} ({target.build}, {target.flavor})"
            lines.append(f"Installed {what} at {path}.")
        _remember(memo_key, evidence, "" if quiet else f"{noop}\n", settings)
    if not quiet:
        for line in lines:
            print(line)
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
    memo_key: MemoKey | None = None,
) -> int:
    """``pylock check``: one line per check (or one JSON document); the report's exit code.

    ``quiet`` prints the text report only when a check did not pass; JSON, being asked for,
    is always printed. A passing report is remembered with what it rested on."""
    from pylock.checking.checks import run_checks

    output_format = parse_format(output_format)
    evidence = _evidence(memo_key)
    report = run_checks(project_directory(project), options, settings=settings, evidence=evidence)
    if output_format == "json":
        import json

        text = json.dumps(report.to_json(), indent=2) + "\n"
    elif not (quiet and report.ok):
        from pylock.cli.render import status_painter

        paint = status_painter(settings.color, sys.stdout)  # colour on a terminal, as uv's
        text = "".join(f"{line}\n" for line in report.lines(paint))
    else:
        text = ""
    print(text, end="")  # print: nothing at all when the caller closed stdout
    if report.exit_code == 0:
        _remember(memo_key, evidence, text, settings)
    return report.exit_code


def _warn_if_stale(project: Path, settings: Settings, evidence: Evidence | None) -> bool:
    """``which`` and ``run`` use what is installed even when the lock no longer satisfies the
    manifest (a stale lock must not lock anyone out of their interpreter), but they say so on
    stderr, where ``sync`` refuses such a lock. Whether it warned."""
    from pylock.commands.sync import staleness

    try:
        problems = staleness(project, evidence)
    except PylockError as error:  # a broken pyproject.toml must not hide the interpreter
        warn(f"cannot tell whether python.lock is current: {error}", color=settings.color)
        return True
    if problems is not None:
        warn(
            f"python.lock is out of date with {project / 'pyproject.toml'}: "
            f"{problems.summary}; this is the interpreter the old lock names. Run "
            f"`{problems.fix}`, then `pylock sync`.",
            color=settings.color,
        )
        return True
    return False


def locate(
    project: Path,
    settings: Settings,
    *,
    platform: str | None = None,
    python: str | None = None,
    into: Path | None = None,
    memo_key: MemoKey | None = None,
) -> Path:
    """The locked interpreter's path for ``which`` and ``run``, or a VerificationError (exit 1)
    saying to sync first; warns (without failing) when the lock is stale. Without a warning,
    ``which``'s answer (the path and a newline) is remembered: ``run`` replays it too."""
    from pylock.commands.sync import installed_interpreter

    project = project_directory(project)
    evidence = _evidence(memo_key)
    interpreter = installed_interpreter(
        project, platform=platform, python=python, into=into, settings=settings, evidence=evidence
    )
    if not _warn_if_stale(project, settings, evidence):
        _remember(memo_key, evidence, f"{interpreter}\n", settings)
    return interpreter


def run_which(
    project: Path,
    settings: Settings,
    *,
    platform: str | None = None,
    python: str | None = None,
    into: Path | None = None,
    memo_key: MemoKey | None = None,
) -> int:
    """``pylock which``: the locked interpreter's path."""
    interpreter = locate(
        project, settings, platform=platform, python=python, into=into, memo_key=memo_key
    )
    print(interpreter)
    return 0


def run_command(
    project: Path,
    command: list[str],
    settings: Settings,
    *,
    platform: str | None = None,
    python: str | None = None,
    into: Path | None = None,
    memo_key: MemoKey | None = None,
) -> int:
    """``pylock run``: ``command`` on the locked interpreter's ``PATH``, as if run by itself
    (child.py: exec on POSIX); returns only when it could not be started (126, 127)."""
    from pylock.cli.child import run

    interpreter = locate(
        project, settings, platform=platform, python=python, into=into, memo_key=memo_key
    )
    return run(str(interpreter), command, settings.environ, color=settings.color)


def run_show(
    project: Path,
    settings: Settings,
    *,
    python: str | None = None,
    output_format: str = "text",
    components: bool = False,
    memo_key: MemoKey | None = None,
) -> int:
    """``pylock show``: every locked target (or those of one ``--python`` request) and where
    (and whether) it is installed, as a table or JSON; with ``components``, each install's
    bundled libraries as its receipt records them (the receipts are in the evidence)."""
    from pylock.cli.render import show_rows, show_text
    from pylock.commands.show import inventories, show_installations

    parse_format(output_format)
    evidence = _evidence(memo_key)
    shown = show_installations(
        project_directory(project), settings=settings, python=python, evidence=evidence
    )
    rows = show_rows(shown, inventories(shown) if components else None)
    if output_format == "json":
        import json

        text = json.dumps({"targets": rows}, indent=2) + "\n"
    else:
        text = show_text(rows, matrix=shown.matrix)
    print(text, end="")  # print: nothing at all when the caller closed stdout
    _remember(memo_key, evidence, text, settings)
    return 0


def run_venv(
    project: Path,
    path: Path | None,
    options: SyncOptions,
    settings: Settings,
    *,
    clear: bool = False,
    seed: bool = False,
    quiet: bool = False,
    memo_key: MemoKey | None = None,
) -> int:
    """``pylock venv``: a virtual environment on the locked interpreter, synced first if need
    be. A venv found already up to date is remembered."""
    from pylock.cli.progress import TransferProgress
    from pylock.commands.venv import make_venv

    progress = TransferProgress(quiet=quiet or not settings.progress, color=settings.color)
    evidence = _evidence(memo_key)
    try:
        result = make_venv(
            project_directory(project),
            path,
            options,
            clear=clear,
            seed=seed,
            settings=settings,
            on_progress=progress.callback(DOWNLOADING),
            evidence=evidence,
        )
    finally:
        progress.close()
    what = f"{result.version} ({result.build})"
    lines = []
    if result.synced:
        where = result.interpreter.parent.parent
        lines.append(f"Installed the locked interpreter {what} at {where}.")
    verb = {"created": "Created", "replaced": "Replaced", "unchanged": "Already up to date:"}
    lines.append(f"{verb[result.action]} virtual environment at {result.path} on {what}.")
    text = "" if quiet else "".join(f"{line}\n" for line in lines)
    print(text, end="")  # print: nothing at all when the caller closed stdout
    if result.action == "unchanged" and not result.synced:
        _remember(memo_key, evidence, text, settings)
    return 0
