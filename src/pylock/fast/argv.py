"""The command line as the fast path reads it, with the standard library alone.

The global options are accepted before or after the command (as uv does). The typer app
(``pylock.cli.app``) declares the same options and hoists them with these tables, and the
launcher parses the command lines run all day (``sync``, ``check``, ``which``, ``run``, ``show``,
``venv``) with ``parse`` before typer is imported; a test holds the tables equal to the app's
options.
"""

from __future__ import annotations

from itertools import islice

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the fast path
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

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
    "sync": ("--frozen", "--all"),
    "check": ("--installed", "--deep", "--remote", "--provenance", "--all"),
    "which": (),
    "run": (),
    "show": ("--components",),
    "venv": ("--clear", "--seed", "--frozen"),
}
COMMAND_VALUES = {
    "sync": ("--into", "--platform", "--python", "--mirror", "--http-timeout", "--http-deadline"),
    "check": (
        "--into",
        "--platform",
        "--python",
        "--mirror",
        "--format",
        "--venv",
        "--http-timeout",
        "--http-deadline",
    ),
    "which": ("--platform", "--python", "--into"),
    "run": ("--platform", "--python", "--into"),
    "show": ("--python", "--format"),
    "venv": ("--platform", "--python", "--mirror"),
}
SECONDS_VALUES = ("--http-timeout", "--http-deadline")
"""Values that must read as a number here; anything else goes the typer way, where Settings
refuses it in its own words (quoting it as typed)."""


def parse(args: list[str]) -> tuple[str, dict[str, str | bool], list[str]] | None:
    """``(command, options, arguments)`` for ``pylock [globals] COMMAND [its options and
    globals] [arguments]`` where COMMAND is one of ``COMMAND_FLAGS``, else None (typer then
    parses the command line and phrases any usage error).

    Options are keyed by their long name without dashes (``project``, ``quiet``, ``into``...).
    The arguments are ``venv``'s PATH (at most one) and ``run``'s command: everything from the
    first word that is not an option (or after ``--``) on, which must not be empty.
    """
    options: dict[str, str | bool] = dict(GLOBAL_DEFAULTS)
    command: str | None = None
    arguments: list[str] = []
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
            if not value or (name in SECONDS_VALUES and seconds(value) is None):
                return None
            options[values[name]] = value
        elif command == "run" and (token == "--" or not token.startswith("-")):
            arguments = [*([] if token == "--" else [token]), *tokens]
            if not arguments:
                return None
        elif command == "venv" and not token.startswith("-") and not arguments:
            arguments.append(token)
        else:
            return None
    if options["color"] not in COLOR_CHOICES or (command == "run" and not arguments):
        return None
    return (command, options, arguments) if command is not None else None


def seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


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


def hoist_global_options(args: list[str], commands: Mapping[str, Collection[str]]) -> list[str]:
    """``args`` with every global option moved before the command, so that typer, which knows
    them only there, also takes them after it (``pylock sync -q``), as uv does. One place for
    every command, including ones added later: ``commands`` maps each command name to its
    options that take a value (so that value is never taken for a global option). Nothing after
    ``--`` moves, nor anything from ``run``'s CMD on (``pylock run python -V`` keeps its
    ``-V``)."""
    position = _command_position(args, commands)
    if position is None:
        return list(args)
    head, command, rest = list(args[:position]), args[position], args[position + 1 :]
    takes_value = commands[command]
    moved: list[str] = []
    kept: list[str] = []
    tokens = iter(rest)
    for token in tokens:
        name = token.partition("=")[0]
        if token == "--" or (command == "run" and not token.startswith("-")):
            kept.append(token)
            kept.extend(tokens)
            break
        if token in GLOBAL_FLAGS:
            moved.append(token)
        elif name in GLOBAL_VALUES:
            moved.append(token)
            if "=" not in token:
                moved.extend(islice(tokens, 1))
        else:
            kept.append(token)
            if token in takes_value:
                kept.extend(islice(tokens, 1))
    return [*head, *moved, command, *kept]


def _command_position(args: list[str], commands: Collection[str]) -> int | None:
    """Where the command is in ``args``: the first known command name that is not the value of
    a global option (``pylock -p lock sync``: a project directory called ``lock``)."""
    skip = False
    for index, token in enumerate(args):
        if skip:
            skip = False
        elif token in GLOBAL_VALUES:
            skip = True
        elif token in commands:
            return index
    return None
