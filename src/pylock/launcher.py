"""The ``pylock`` console script: ``pylock sync`` without typer.

A plain ``sync`` command line is answered here: first by the stdlib-only no-op proof (noop.py),
then, if there is work to do, by the same ``console.run_sync`` the typer command calls. Anything
else (other commands, ``--help``, options this parser does not know) goes to ``pylock.cli.main``,
which parses the same command line with typer.
"""

from __future__ import annotations

import sys


def _noop_sync_options(args: list[str]) -> dict[str, object] | None:
    """The options of ``pylock [-p DIR] [-q] [-v] sync [--frozen] [--offline] [--into DIR]
    [--platform KEY] [--mirror M]``, or None for any other command line (help, typos, ...)."""
    options: dict[str, object] = {"project": ".", "quiet": False}
    tokens = iter(args)
    command_seen = False
    for token in tokens:
        name, has_value, inline = token.partition("=")
        if not command_seen:
            if token == "sync":
                command_seen = True
            elif name in ("-p", "--project"):
                value = inline if has_value else next(tokens, None)
                if not value:
                    return None
                options["project"] = value
            elif token in ("-q", "--quiet"):
                options["quiet"] = True
            elif token not in ("-v", "--verbose"):
                return None
        elif token in ("--frozen", "--offline"):
            options[token[2:]] = True
        elif name in ("--into", "--platform", "--mirror"):
            value = inline if has_value else next(tokens, None)
            if not value:
                return None
            options[name[2:]] = value
        else:
            return None
    return options if command_seen else None


def main() -> None:
    args = sys.argv[1:]
    options = _noop_sync_options(args)
    if options is not None:
        from pylock import noop

        into, platform = options.get("into"), options.get("platform")
        report = noop.check(
            str(options["project"]),
            frozen=bool(options.get("frozen")),
            into=into if isinstance(into, str) else None,
            platform=platform if isinstance(platform, str) else None,
        )
        if report is not None:
            if not options["quiet"]:
                print(report)
            sys.exit(0)
        sys.exit(_sync(options, verbose="-v" in args or "--verbose" in args))
    from pylock.cli import main as full

    full(args)


def _sync(options: dict[str, object], *, verbose: bool) -> int:
    """A sync with something to do (or to refuse): the same code the typer command runs."""
    from pathlib import Path

    from pylock.console import env_flag, guarded, run_sync
    from pylock.syncing import SyncOptions

    def string(name: str) -> str | None:
        value = options.get(name)
        return value if isinstance(value, str) else None

    into = string("into")
    sync_options = SyncOptions(
        platform=string("platform"),
        into=Path(into) if into else None,
        frozen=bool(options.get("frozen")),
        offline=bool(options.get("offline")) or env_flag("PYLOCK_OFFLINE"),
        mirror=string("mirror"),
    )
    project = Path(str(options["project"]))
    return guarded(
        lambda: run_sync(project, sync_options, quiet=bool(options["quiet"])), verbose=verbose
    )
