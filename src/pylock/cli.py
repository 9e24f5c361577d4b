"""The ``pylock`` command: parse options, call the library, render results.

Errors are not handled per command: every command runs inside ``console.guarded`` (``main``),
which turns a PylockError into its one paragraph and exit code, and anything else into the
bug report (exit 70).

This is the only module that prints. It imports the library lazily inside each command, so
``pylock check`` and a no-op ``pylock sync`` never pay for httpx, tomlkit or rich.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pylock.console import guarded

if TYPE_CHECKING:
    from pylock.locking import Change

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Lock, install and verify the exact python-build-standalone interpreter of a project.",
)


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
    from pylock.initialize import default_python_request, init_pyproject
    from pylock.platforms import host_platform

    path = state.project / "pyproject.toml"
    request = python or default_python_request()
    platforms = platform or [host_platform().key]
    init_pyproject(path, python=request, platforms=platforms)
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
            offline=offline,
        ),
    )
    changed = [c for c in result.changes if c.kind != "unchanged"]
    if not changed:
        _say(state, "python.lock is up to date.")
        return
    verb = "Would update" if dry_run else "Updated"
    _say(state, f"{verb} python.lock:")
    for change in changed:
        _say(state, _describe_change(change))


FormatOption = Annotated[
    str, typer.Option("--format", help="text (default) or json.", metavar="text|json")
]
PlatformOption = Annotated[
    str | None,
    typer.Option("--platform", help="Use this platform's target instead of this host's."),
]
IntoOption = Annotated[
    Path | None,
    typer.Option("--into", help="Install exactly into DIR (e.g. /opt/python in a Dockerfile)."),
]


@app.command()
def sync(
    ctx: typer.Context,
    platform: PlatformOption = None,
    into: IntoOption = None,
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Install the locked build even if the lock is stale.")
    ] = False,
    reinstall: Annotated[
        bool, typer.Option("--reinstall", help="Download and install again even if present.")
    ] = False,
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Download from {mirror}/{build}/{asset} (a URL or dir)."),
    ] = None,
    offline: OfflineOption = False,
) -> None:
    """Install exactly the interpreter python.lock names for this machine."""
    state = _state(ctx)
    from pylock.console import run_sync
    from pylock.syncing import SyncOptions

    options = SyncOptions(
        platform=platform,
        into=into,
        frozen=frozen,
        reinstall=reinstall,
        offline=offline,
        mirror=mirror,
    )
    raise typer.Exit(run_sync(state.project, options, quiet=state.quiet))


def _installed_interpreter(state: State, platform: str | None, into: Path | None) -> Path:
    """The locked interpreter's path, or a VerificationError (exit 1) saying to sync first."""
    from pylock.errors import VerificationError
    from pylock.syncing import find_installation

    found = find_installation(state.project, platform=platform, into=into)
    if not found.installed or found.interpreter is None:
        raise VerificationError(
            f"The locked interpreter ({found.target.version}, build {found.target.build}) "
            f"is not installed at {found.path}.",
            hint="Run `pylock sync` first.",
        )
    return found.interpreter


@app.command()
def which(ctx: typer.Context, platform: PlatformOption = None, into: IntoOption = None) -> None:
    """Print the path of the locked interpreter installed for this machine."""
    typer.echo(str(_installed_interpreter(_state(ctx), platform, into)))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
    platform: PlatformOption = None,
    into: IntoOption = None,
) -> None:
    """Run a command with the locked interpreter's bin directory first on PATH."""
    interpreter = _installed_interpreter(_state(ctx), platform, into)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(interpreter.parent), env.get("PATH", "")])
    env["PYLOCK_PYTHON"] = str(interpreter)
    import subprocess

    try:
        completed = subprocess.run(command, env=env, check=False)
    except FileNotFoundError:
        typer.echo(f"error: command not found: {command[0]}", err=True)
        raise typer.Exit(127) from None
    raise typer.Exit(completed.returncode)


@app.command()
def show(ctx: typer.Context, output_format: FormatOption = "text") -> None:
    """List every locked target and where (and whether) it is installed."""
    state = _state(ctx)
    from pylock.console import OUTPUT_FORMATS
    from pylock.errors import InputError
    from pylock.settings import Settings
    from pylock.syncing import read_lock

    if output_format not in OUTPUT_FORMATS:
        raise InputError(
            f"Unknown --format {output_format!r}.", hint="Use --format text or --format json."
        )
    lock_ = read_lock(state.project)
    rows = []
    store = Settings.resolve().store()
    for target in lock_.targets:
        found = store.find(target)
        installed, path = found.installed, found.path
        rows.append(
            {
                "platform": target.platform,
                "version": target.version,
                "build": target.build,
                "flavor": target.flavor,
                "variant": target.variant,
                "sha256": target.sha256,
                "installed": installed,
                "path": str(path) if installed else None,
            }
        )
    if output_format == "json":
        import json

        typer.echo(json.dumps({"targets": rows}, indent=2))
        return
    for row in rows:
        where = row["path"] if row["installed"] else "not installed"
        typer.echo(
            f"{row['platform']:<24} {row['version']:<10} {row['build']}  {row['flavor']:<22} "
            f"{str(row['sha256'])[:12]}  {where}"
        )


@app.command()
def check(
    ctx: typer.Context,
    installed: Annotated[
        bool, typer.Option("--installed", help="Fail when this host's target is not installed.")
    ] = False,
    deep: Annotated[
        bool, typer.Option("--deep", help="Re-hash every installed file against the receipt.")
    ] = False,
    remote: Annotated[
        bool, typer.Option("--remote", help="Download every locked URL and verify its bytes.")
    ] = False,
    platform: PlatformOption = None,
    into: IntoOption = None,
    mirror: Annotated[
        str | None, typer.Option("--mirror", help="With --remote: verify the mirror's copies.")
    ] = None,
    output_format: FormatOption = "text",
    venv: Annotated[
        Path | None,
        typer.Option("--venv", help="Check this virtual environment (default: .venv if present)."),
    ] = None,
) -> None:
    """Verify that python.lock is sound, current, and what is installed is what it locks."""
    state = _state(ctx)
    from pylock.check import CheckOptions
    from pylock.console import run_check

    options = CheckOptions(
        installed_required=installed,
        deep=deep,
        remote=remote,
        platform=platform,
        into=into,
        mirror=mirror,
        venv=venv,
    )
    raise typer.Exit(run_check(state.project, options, output_format))


export_app = typer.Typer(
    no_args_is_help=True,
    help="Write the lock in another tool's format.",
)
app.add_typer(export_app, name="export")


@export_app.command("uv")
def export_uv(
    ctx: typer.Context,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write (default: python-downloads.json by python.lock; - for stdout).",
            metavar="FILE",
        ),
    ] = None,
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Point the URLs at {mirror}/{build}/{asset} (URL or dir)."),
    ] = None,
) -> None:
    """Write the locked archives as a uv downloads JSON, and the settings that make uv use it."""
    state = _state(ctx)
    from pylock.export import STDOUT, export_uv

    result = export_uv(state.project, output, mirror=mirror)
    if output == STDOUT:
        typer.echo(result.text(), nl=False)
        typer.echo(
            "Save this as a file and set UV_PYTHON_DOWNLOADS_JSON_URL to its path, and "
            f"UV_PYTHON_CPYTHON_BUILD={result.build}.",
            err=True,
        )
        return
    _say(state, f"Wrote {result.path} ({len(result.document)} locked targets). For uv, set:")
    for name, value in result.settings().items():
        typer.echo(f"{name}={value}")
    if len(result.builds) > 1:
        _say(
            state,
            f"python.lock mixes builds ({', '.join(result.builds)}); uv takes one "
            f"UV_PYTHON_CPYTHON_BUILD, so set it per platform.",
        )


@app.command()
def venv(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where to make it (default: .venv in the project directory).", metavar="PATH"
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Replace an existing virtual environment.")
    ] = False,
    seed: Annotated[bool, typer.Option("--seed", help="Install pip into it too.")] = False,
    platform: PlatformOption = None,
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Use the locked build even if the lock is stale.")
    ] = False,
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Download from {mirror}/{build}/{asset} (a URL or dir)."),
    ] = None,
    offline: OfflineOption = False,
) -> None:
    """Make a virtual environment on the locked interpreter, syncing it first if needed."""
    state = _state(ctx)
    from pylock.console import DownloadProgress
    from pylock.syncing import SyncOptions
    from pylock.venv import make_venv

    options = SyncOptions(platform=platform, frozen=frozen, offline=offline, mirror=mirror)
    progress = DownloadProgress("Downloading the locked interpreter", quiet=state.quiet)
    try:
        result = make_venv(
            state.project, path, options, clear=clear, seed=seed, on_progress=progress
        )
    finally:
        progress.close()
    what = f"{result.version} ({result.build})"
    if result.synced:
        _say(
            state, f"Installed the locked interpreter {what} at {result.interpreter.parent.parent}."
        )
    verb = {"created": "Created", "replaced": "Replaced", "unchanged": "Already up to date:"}
    _say(state, f"{verb[result.action]} virtual environment at {result.path} on {what}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    request: Annotated[
        str | None,
        typer.Argument(help="A version request (3.12, 3.13t, >=3.11,<3.13); default: all."),
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform", help="Platform key or PBS triple; repeatable (default: the manifest's)."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="github | github:URL | catalog:URL|PATH | mirror:URL|PATH"),
    ] = None,
    all_builds: Annotated[
        bool, typer.Option("--all-builds", help="Every build of each version, not the newest.")
    ] = False,
    output_format: FormatOption = "text",
    offline: OfflineOption = False,
) -> None:
    """List what the source offers, newest first, with the locked target marked."""
    state = _state(ctx)
    from pylock.console import OUTPUT_FORMATS
    from pylock.errors import InputError
    from pylock.listing import ListOptions, list_offers

    if output_format not in OUTPUT_FORMATS:
        raise InputError(
            f"Unknown --format {output_format!r}.", hint="Use --format text or --format json."
        )
    offers = list_offers(
        state.project,
        ListOptions(
            request=request,
            platforms=tuple(platform or ()),
            source=source,
            all_builds=all_builds,
            offline=offline,
        ),
    )
    if output_format == "json":
        import json

        typer.echo(json.dumps([offer.to_json() for offer in offers], indent=2))
        return
    if not offers:
        _say(state, "The source offers nothing that matches.")
        return
    for offer in offers:
        mark = "*" if offer.locked else " "
        size = f"{offer.size / 1e6:7.1f} MB" if offer.size is not None else "        ?"
        typer.echo(
            f"{mark} {offer.version:<10} {offer.build}  {offer.platform:<24} "
            f"{offer.variant:<18} {offer.flavor:<22} {size}"
        )
    if any(offer.locked for offer in offers):
        _say(state, "(* marks the build python.lock pins.)")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@app.command()
def prune(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be removed; remove nothing.")
    ] = False,
    keep: Annotated[
        list[Path] | None,
        typer.Option(
            "--keep",
            help="Keep what this project's python.lock names; repeatable (default: this project).",
            file_okay=False,
            metavar="PROJECT",
        ),
    ] = None,
) -> None:
    """Remove installs and cached archives that no kept project's lock references."""
    state = _state(ctx)
    from pylock.prune import prune as run_prune

    result = run_prune(keep or [state.project], dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for removal in result.removals:
        _say(
            state,
            f"{verb} {removal.kind} {removal.path} ({_megabytes(removal.size)}; {removal.why})",
        )
    for path in result.foreign:
        _say(state, f"Left alone {path}: not a pylock install.")
    kept = f"kept {result.kept_installs} installs and {result.kept_archives} archives"
    freed = _megabytes(result.freed)
    _say(state, f"{'Would free' if dry_run else 'Freed'} {freed}; {kept}.")


def main(argv: list[str] | None = None) -> None:
    """Run the typer app. Typer maps usage errors to exit 2 and Ctrl-C to 130 (docs/cli.md);
    ``guarded`` gives anything else one paragraph instead of a traceback."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    sys.exit(guarded(lambda: app(args=args, prog_name="pylock"), verbose=verbose))
