"""The ``pylock`` command: parse options, call the library, render results, map errors to exits.

This is the only module that prints. It imports the library lazily inside each command, so
``pylock check`` and a no-op ``pylock sync`` never pay for httpx, tomlkit or rich.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from pylock.errors import PylockError
    from pylock.locking import Change

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Lock, install and verify the exact python-build-standalone interpreter of a project.",
)

EXIT_INTERRUPTED = 130


class State:
    """Global options, kept on the click context (no module-level state)."""

    def __init__(self, project: Path, verbose: bool, quiet: bool) -> None:
        self.project = project
        self.verbose = verbose
        self.quiet = quiet


def _state(ctx: typer.Context) -> State:
    state = ctx.find_object(State)
    assert state is not None
    return state


def _say(state: State, message: str) -> None:
    if not state.quiet:
        typer.echo(message)


def _fail(error: PylockError, verbose: bool) -> NoReturn:
    """One paragraph on stderr, then the documented exit code."""
    if verbose:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(error.exit_code)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@app.callback()
def _main(
    ctx: typer.Context,
    project: Annotated[
        Path,
        typer.Option(
            "--project",
            "-p",
            help="The project directory (holding pyproject.toml and python.lock).",
            file_okay=False,
        ),
    ] = Path(),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    ctx.obj = State(project=project, verbose=verbose, quiet=quiet)


OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Forbid all network access (also PYLOCK_OFFLINE=1)."),
]


@app.command()
def init(
    ctx: typer.Context,
    python: Annotated[
        str | None, typer.Option("--python", help="Version request (default: this Python's X.Y).")
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", help="Platform key or PBS triple; repeatable (default: host)."),
    ] = None,
) -> None:
    """Add a [tool.pylock] table to pyproject.toml, leaving the rest of the file untouched."""
    state = _state(ctx)
    from pylock.errors import PylockError

    try:
        from pylock.initialize import default_python_request, init_pyproject
        from pylock.platforms import host_platform

        path = state.project / "pyproject.toml"
        request = python or default_python_request()
        platforms = platform or [host_platform().key]
        init_pyproject(path, python=request, platforms=platforms)
    except PylockError as error:
        _fail(error, state.verbose)
    _say(state, f"Wrote [tool.pylock] to {path}: python = {request!r}, platforms = {platforms}.")
    _say(state, "Next: `pylock lock`.")


def _describe_change(change: Change) -> str:
    def spell(target: object) -> str:
        version = getattr(target, "version", "?")
        build = getattr(target, "build", "?")
        flavor = getattr(target, "flavor", "?")
        return f"{version} ({build}, {flavor})"

    if change.kind == "added":
        return f"  + {change.platform}: {spell(change.new)}"
    if change.kind == "removed":
        return f"  - {change.platform}: {spell(change.old)}"
    if change.kind == "upgraded":
        return f"  ~ {change.platform}: {spell(change.old)} -> {spell(change.new)}"
    return f"    {change.platform}: {spell(change.new)}"


@app.command()
def lock(
    ctx: typer.Context,
    python: Annotated[
        str | None, typer.Option("--python", help="Override the manifest's version request.")
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", help="Add a platform (key or PBS triple); repeatable."),
    ] = None,
    flavor: Annotated[str | None, typer.Option("--flavor", help="Pin a flavor.")] = None,
    build: Annotated[str | None, typer.Option("--build", help="Pin a PBS release tag.")] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="github | github:URL | catalog:URL|PATH | mirror:URL|PATH"),
    ] = None,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", help="Re-resolve every target, ignoring existing pins.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Resolve and report, but do not write python.lock.")
    ] = False,
    offline: OfflineOption = False,
) -> None:
    """Resolve the manifest against the PBS catalog and write python.lock."""
    state = _state(ctx)
    from pylock.errors import PylockError

    try:
        from pylock.locking import LockOptions, lock_project

        result = lock_project(
            state.project,
            LockOptions(
                python=python,
                platforms=tuple(platform or ()),
                flavor=flavor,
                build=build,
                source=source,
                upgrade=upgrade,
                dry_run=dry_run,
                offline=offline or _env_flag("PYLOCK_OFFLINE"),
            ),
        )
    except PylockError as error:
        _fail(error, state.verbose)
    changed = [c for c in result.changes if c.kind != "unchanged"]
    if not changed:
        _say(state, "python.lock is up to date.")
        return
    verb = "Would update" if dry_run else "Updated"
    _say(state, f"{verb} python.lock:")
    for change in changed:
        _say(state, _describe_change(change))


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    Typer already maps usage errors to exit 2 and Ctrl-C to 130 (DESIGN §8); what is left here
    is anything the library did not turn into a PylockError, which still gets one paragraph
    instead of a traceback unless --verbose asks for it.
    """
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    try:
        app(args=args, prog_name="pylock")
    except OSError as error:
        if verbose:
            raise
        typer.echo(
            f"error: {error}. Check the path, free disk space and permissions, then try again.",
            err=True,
        )
        sys.exit(3)
    except Exception as error:
        if verbose:
            raise
        typer.echo(
            f"error: pylock hit an internal error ({error.__class__.__name__}: {error}). "
            "This is a bug: please report it with the output of the same command run with "
            "--verbose.",
            err=True,
        )
        sys.exit(3)
