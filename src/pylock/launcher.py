"""The ``pylock`` console script: ``sync`` and ``check`` without typer.

These two run on every CI job and container start, and typer (with the pydantic it now
imports) costs more than the work itself. A plain ``sync`` or ``check`` command line is handled
here: ``sync`` first by the no-op memo (noop.py: the full path's last verdict, replayed when the
inputs are byte-identical), then by the same
``console.run_sync`` the typer command calls; ``check`` by ``console.run_check``. Anything else
(other commands, ``--help``, an option or spelling this parser does not know) goes to
``pylock.cli.main``, which parses the same command line with typer. A test keeps the option
tables below equal to the typer commands' options.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from pylock.settings import Settings

# The global options, accepted before or after the command (as uv does). cli.py declares them on
# the typer app and moves them there from after the command (hoist_global_options) using these
# tables; a test holds the tables equal to the app's options.
GLOBAL_FLAGS = {
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
    "--offline": "offline",
    "--no-progress": "no_progress",
}
GLOBAL_VALUES = {"-p": "project", "--project": "project", "--color": "color"}
GLOBAL_DEFAULTS: dict[str, str | bool] = {
    "project": ".",
    "quiet": False,
    "verbose": False,
    "offline": False,
    "no_progress": False,
    "color": "auto",
}
COLOR_CHOICES = ("auto", "always", "never")
COMMAND_FLAGS = {
    "sync": ("--frozen",),
    "check": ("--installed", "--deep", "--remote"),
}
COMMAND_VALUES = {
    "sync": ("--into", "--platform", "--mirror", "--http-timeout", "--http-deadline"),
    "check": (
        "--into",
        "--platform",
        "--mirror",
        "--format",
        "--venv",
        "--http-timeout",
        "--http-deadline",
    ),
}
SECONDS_VALUES = ("--http-timeout", "--http-deadline")
"""Values that must read as a number; anything else is left to typer's usage error."""


def parse(args: list[str]) -> tuple[str, dict[str, str | bool]] | None:
    """``(command, options)`` for ``pylock [globals] sync|check [its options and globals]``,
    else None (typer then parses the command line and phrases any usage error).

    Options are keyed by their long name without dashes (``project``, ``quiet``, ``into``...).
    """
    options: dict[str, str | bool] = dict(GLOBAL_DEFAULTS)
    command: str | None = None
    tokens = iter(args)
    for token in tokens:
        name, has_value, inline = token.partition("=")
        flags, values = dict(GLOBAL_FLAGS), dict(GLOBAL_VALUES)
        if command is not None:
            flags.update({flag: flag[2:] for flag in COMMAND_FLAGS[command]})
            values.update({option: option[2:] for option in COMMAND_VALUES[command]})
        if command is None and token in COMMAND_FLAGS:
            command = token
        elif token in flags:
            options[flags[token]] = True
        elif name in values:
            value = inline if has_value else next(tokens, None)
            if not value or (name in SECONDS_VALUES and _seconds(value) is None):
                return None
            options[values[name]] = value
        else:
            return None
    if options["color"] not in COLOR_CHOICES:
        return None
    return (command, options) if command is not None else None


def _seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _number(options: dict[str, str | bool], name: str) -> float | None:
    value = _text(options, name)
    return None if value is None else _seconds(value)


def global_options(args: list[str]) -> dict[str, str | bool]:
    """The global options anywhere on a command line (up to ``--``), for what must be known
    before typer has parsed it: whether an unexpected error shows its traceback, and colour."""
    options: dict[str, str | bool] = dict(GLOBAL_DEFAULTS)
    tokens = iter(args)
    for token in tokens:
        name, has_value, inline = token.partition("=")
        if token == "--":
            break
        if token in GLOBAL_FLAGS:
            options[GLOBAL_FLAGS[token]] = True
        elif name in GLOBAL_VALUES:
            options[GLOBAL_VALUES[name]] = inline if has_value else next(tokens, "")
    return options


def _text(options: dict[str, str | bool], name: str) -> str | None:
    value = options.get(name)
    return value if isinstance(value, str) else None


def _settings(options: dict[str, str | bool]) -> Settings:
    """The command's one Settings: --offline, --color and --no-progress over the environment,
    as cli.py resolves them for the typer commands."""
    from pylock.settings import Settings

    return Settings.resolve(
        offline=bool(options["offline"]),
        color=str(options["color"]),
        progress=not options["no_progress"],
    )


def _sync(options: dict[str, str | bool]) -> int:
    from pylock import noop

    try:
        report = noop.check(
            str(options["project"]),
            frozen=bool(options.get("frozen")),
            into=_text(options, "into"),
            platform=_text(options, "platform"),
        )
    except Exception:  # never a traceback from a shortcut: the full path decides and explains
        report = None
    if report is not None:
        if not options["quiet"]:
            print(report)
        return 0

    from pathlib import Path

    from pylock.console import guarded, run_sync
    from pylock.syncing import SyncOptions

    settings = _settings(options)
    into = _text(options, "into")
    sync_options = SyncOptions(
        platform=_text(options, "platform"),
        into=Path(into) if into else None,
        frozen=bool(options.get("frozen")),
        offline=settings.offline,
        mirror=_text(options, "mirror"),
        http_timeout=_number(options, "http-timeout"),
        http_deadline=_number(options, "http-deadline"),
    )
    project = Path(str(options["project"]))
    return guarded(
        lambda: run_sync(
            project,
            sync_options,
            quiet=bool(options["quiet"]),
            progress=settings.progress,
            color=settings.color,
        ),
        verbose=bool(options["verbose"]),
        color=settings.color,
    )


def _check(options: dict[str, str | bool]) -> int:
    from pathlib import Path

    from pylock.check import CheckOptions
    from pylock.console import guarded, run_check

    settings = _settings(options)
    into = _text(options, "into")
    venv = _text(options, "venv")
    check_options = CheckOptions(
        installed_required=bool(options.get("installed")),
        deep=bool(options.get("deep")),
        remote=bool(options.get("remote")),
        platform=_text(options, "platform"),
        into=Path(into) if into else None,
        mirror=_text(options, "mirror"),
        http_timeout=_number(options, "http-timeout"),
        http_deadline=_number(options, "http-deadline"),
        offline=settings.offline,
        venv=Path(venv) if venv else None,
    )
    project = Path(str(options["project"]))
    output_format = _text(options, "format") or "text"
    return guarded(
        lambda: run_check(project, check_options, output_format, quiet=bool(options["quiet"])),
        verbose=bool(options["verbose"]),
        color=settings.color,
    )


def main() -> None:
    args = sys.argv[1:]
    parsed = parse(args)
    if parsed is not None:
        command, options = parsed
        sys.exit(_sync(options) if command == "sync" else _check(options))
    from pylock.cli import main as full

    full(args)
