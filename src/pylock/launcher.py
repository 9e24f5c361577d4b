"""The ``pylock`` console script: a no-op ``sync`` answered before the CLI is even imported.

Everything else (and every ``sync`` that is not provably a no-op) goes to ``pylock.cli.main``,
which parses the same command line with typer and reaches the same verdict the long way.
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
    from pylock.cli import main as full

    full(args)
