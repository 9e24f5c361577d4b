"""The ``pylock`` console script: ``sync`` and ``check`` without typer.

These two run on every CI job and container start, and typer (with the pydantic it now
imports) costs more than the work itself. A plain ``sync`` or ``check`` command line is handled
here: ``sync`` first by the no-op memo (noop.py: the full path's last verdict, replayed when the
inputs are byte-identical), then by the same
``console.run_sync`` the typer command calls; ``check`` by ``console.run_check``. Anything else
(other commands, ``--help``, an option or spelling this parser does not know) goes to
``pylock.cli.app.main``, which parses the same command line with typer. A test keeps the option
tables below equal to the typer commands' options.
"""

from __future__ import annotations

import os
import sys

from pylock.fast.argv import parse, seconds

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from pylock.base.settings import Settings


def _number(options: dict[str, str | bool], name: str) -> float | None:
    value = _text(options, name)
    return None if value is None else seconds(value)


def _text(options: dict[str, str | bool], name: str) -> str | None:
    value = options.get(name)
    return value if isinstance(value, str) else None


def _settings(options: dict[str, str | bool]) -> Settings:
    """The command's one Settings: its flags over the environment, as the typer app resolves
    them (``State.settings``)."""
    from pylock.base.settings import Settings

    return Settings.resolve(
        environ=os.environ,
        offline=bool(options["offline"]),
        color=str(options["color"]),
        progress=not options["no_progress"],
        mirror=_text(options, "mirror"),
        http_timeout=_number(options, "http-timeout"),
        http_deadline=_number(options, "http-deadline"),
    )


def _color(options: dict[str, str | bool]) -> str:
    """``--color`` with ``NO_COLOR`` applied, for an error raised before Settings exist."""
    from pylock.base.settings import color_choice

    return color_choice(str(options["color"]), os.environ)


def _sync(options: dict[str, str | bool]) -> int:
    from pylock.fast import noop

    try:
        report = (
            None
            if options.get("all")  # several interpreters: the full path reports each
            else noop.check(
                str(options["project"]),
                frozen=bool(options.get("frozen")),
                into=_text(options, "into"),
                platform=_text(options, "platform"),
                python=_text(options, "python"),
                environ=os.environ,
            )
        )
    except Exception:  # never a traceback from a shortcut: the full path decides and explains
        report = None
    if report is not None:
        if not options["quiet"]:
            print(report)
        return 0

    from pathlib import Path

    from pylock.cli.console import guarded, run_sync
    from pylock.commands.sync import SyncOptions

    into = _text(options, "into")
    sync_options = SyncOptions(
        platform=_text(options, "platform"),
        python=_text(options, "python"),
        into=Path(into) if into else None,
        frozen=bool(options.get("frozen")),
    )
    project = Path(str(options["project"]))
    return guarded(
        lambda: run_sync(
            project,
            sync_options,
            _settings(options),
            quiet=bool(options["quiet"]),
            every=bool(options.get("all")),
        ),
        verbose=bool(options["verbose"]),
        color=_color(options),
    )


def _check(options: dict[str, str | bool]) -> int:
    from pathlib import Path

    from pylock.checking.checks import CheckOptions
    from pylock.cli.console import guarded, run_check

    into = _text(options, "into")
    venv = _text(options, "venv")
    check_options = CheckOptions(
        installed_required=bool(options.get("installed")),
        deep=bool(options.get("deep")),
        remote=bool(options.get("remote")),
        provenance=bool(options.get("provenance")),
        platform=_text(options, "platform"),
        python=_text(options, "python"),
        every=bool(options.get("all")),
        into=Path(into) if into else None,
        venv=Path(venv) if venv else None,
    )
    project = Path(str(options["project"]))
    output_format = _text(options, "format") or "text"
    return guarded(
        lambda: run_check(
            project,
            check_options,
            _settings(options),
            output_format,
            quiet=bool(options["quiet"]),
        ),
        verbose=bool(options["verbose"]),
        color=_color(options),
    )


def main() -> None:
    args = sys.argv[1:]
    parsed = parse(args)
    if parsed is not None:
        command, options = parsed
        sys.exit(_sync(options) if command == "sync" else _check(options))
    from pylock.cli.app import main as full

    full(args)
