"""The ``pylock`` command: parse options, call the library, render results.

Errors are not handled per command: every command runs inside ``console.guarded`` (``main``),
which turns a PylockError into its one paragraph and exit code, and anything else into the
bug report (exit 70). The global options (``--offline``, ``--color``, ``--no-progress``) are
resolved once per command into the command's ``Settings`` (settings.py).

This is the only module that prints. It imports the library lazily inside each command, so
``pylock check`` and a no-op ``pylock sync`` never pay for httpx, tomlkit or rich.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pylock import __version__
from pylock.base.settings import color_choice
from pylock.cli.console import guarded, parse_format, warn
from pylock.cli.render import (
    describe_change,
    describe_kept,
    megabytes,
    new_bytes_warning,
    offers_text,
)
from pylock.fast.argv import (
    COLOR_CHOICES,
    GLOBAL_FLAGS,
    GLOBAL_VALUES,
    global_options,
    hoist_global_options,
)
from pylock.formats import counted

if TYPE_CHECKING:
    from typer._click import Context, HelpFormatter  # the click typer carries with it

    from pylock.base.settings import Settings


def _global_options(ctx: Context, formatter: HelpFormatter) -> None:
    """The root command's options (``-p``, ``-q``, ``--offline``, ``--color``, ...) as a "Global
    options" section of a command's own help, as uv lists them: they are accepted after the
    command too (``pylock sync -q``), so ``pylock sync -h`` must name them."""
    root = ctx.find_root()
    if root is ctx:
        return
    hoisted = {*GLOBAL_FLAGS, *GLOBAL_VALUES}  # what fast.argv moves before the command
    rows = [
        record
        for param in root.command.get_params(root)
        if hoisted.intersection(getattr(param, "opts", ()))
        and (record := param.get_help_record(root)) is not None
    ]
    if rows:
        with formatter.section("Global options"):
            formatter.write_dl(rows)


class PylockCommand(typer.core.TyperCommand):
    """A command whose help lists the global options after its own."""

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        _global_options(ctx, formatter)


class PylockGroup(typer.core.TyperGroup):
    """The command groups: each command's description in full in the list (click cuts it at
    the terminal's width with "..."; a help that reads like a sentence cut off mid-word helps
    nobody), wrapped instead; a subgroup (``export``) lists the global options too."""

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        _global_options(ctx, formatter)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    cls=PylockGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Lock, install and verify the exact python-build-standalone interpreter of a project.",
)


class State:
    """Global options, kept on the click context (no module-level state): the project, how much
    to print, and the global flags each command resolves, with its own flags, into its one
    ``Settings`` (``settings``)."""

    def __init__(
        self, project: Path, verbose: bool, quiet: bool, offline: bool, color: str, progress: bool
    ) -> None:
        self._project = project
        self.verbose = verbose
        self.quiet = quiet
        self.offline = offline
        self.color = color  # as given; ``NO_COLOR`` applies in ``color_choice``
        self.progress = progress

    @property
    def project(self) -> Path:
        """``-p``/``--project``, checked to be a directory (``console.project_directory``) when a
        command first asks for it: ``demo`` never does."""
        from pylock.cli.console import project_directory

        return project_directory(self._project)

    @property
    def color_choice(self) -> str:
        """``--color`` with ``NO_COLOR`` applied, for messages printed before or without
        Settings (the same rule ``Settings.color`` is resolved with)."""
        from pylock.base.settings import color_choice

        return color_choice(self.color, os.environ)

    def settings(
        self,
        *,
        mirror: str | None = None,
        source: str | None = None,
        http_timeout: str | None = None,
        http_deadline: str | None = None,
    ) -> Settings:
        """The command's one Settings: the global and the command's flags over ``os.environ``,
        resolved (and every value validated) once, here, for the library to take whole."""
        from pylock.base.settings import Settings

        return Settings.resolve(
            environ=os.environ,
            offline=self.offline,
            color=self.color,
            progress=self.progress,
            mirror=mirror,
            source=source,
            http_timeout=http_timeout,
            http_deadline=http_deadline,
        )


def _state(ctx: typer.Context) -> State:
    state = ctx.find_object(State)
    assert state is not None
    return state


def _say(state: State, message: str) -> None:
    if not state.quiet:
        typer.echo(message)


def _memo_key(state: State, command: str, **options: object) -> list[bytes] | None:
    """The memo key of this command line (``fast.memo.command_key``), spelled as the console
    script's parser spells its options (``fast.argv``), so a plain command line has one key
    whichever parsed it; None when there is none (the current directory is gone)."""
    from pylock.fast import memo

    given: dict[str, str | bool | None] = {
        "project": str(state.project),
        "quiet": state.quiet,
        "verbose": state.verbose,
        "offline": state.offline,
        "color": state.color,
        "no_progress": not state.progress,
    }
    for name, value in options.items():
        given[name.replace("_", "-")] = (
            value if value is None or isinstance(value, bool) else str(value)
        )
    try:
        return memo.command_key(command, given, os.environ)
    except OSError:
        return None


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"pylock {__version__}")
        raise typer.Exit()


def _color_choice(value: str | None) -> str | None:
    if value is not None and value not in COLOR_CHOICES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(COLOR_CHOICES)}.")
    return value


@app.callback()
def _main(
    ctx: typer.Context,
    project: Annotated[
        Path,
        typer.Option(
            "--project",
            "-p",
            metavar="DIR",
            help="The project directory (holding pyproject.toml and python.lock).",
        ),
    ] = Path(),
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Add the traceback to error messages.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors and requested output.")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Forbid all network access; use caches only (PYLOCK_OFFLINE=1)."
        ),
    ] = False,
    color: Annotated[
        str,
        typer.Option(
            "--color",
            help="Colour errors, check statuses and progress: auto (a terminal without NO_COLOR), "
            "always, never.",
            metavar="auto|always|never",
            callback=_color_choice,
        ),
    ] = "auto",
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Do not show download progress.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print pylock's version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    ctx.obj = State(project, verbose, quiet, offline, color, not no_progress)


HttpTimeoutOption = Annotated[
    str | None,  # the text as typed: Settings checks it and quotes it (``-5``, not ``-5.0``)
    typer.Option(
        "--http-timeout",
        metavar="SECONDS",
        help="Fail a download that is silent, or slower than 1 KiB/s, for this long "
        "(also PYLOCK_HTTP_TIMEOUT; default 30).",
    ),
]
HttpDeadlineOption = Annotated[
    str | None,  # the text as typed: Settings checks it and quotes it (``-5``, not ``-5.0``)
    typer.Option(
        "--http-deadline",
        metavar="SECONDS",
        help="Fail a download that has not finished after this long, 0 for no limit "
        "(also PYLOCK_HTTP_DEADLINE; default 1800).",
    ),
]


@functools.cache
def click_command() -> typer.core.TyperGroup:
    """The click command typer makes of ``app``, made once per process. Making it reads every
    command's signature and type hints (tens of milliseconds); a console-script run needs it
    once, but code that calls ``main`` again and again (the test suite, in-process, hundreds of
    times) would pay that each time. Whoever adds a command to ``app`` afterwards calls
    ``click_command.cache_clear()`` (and ``command_options.cache_clear()``)."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return group


@functools.cache
def command_options() -> dict[str, frozenset[str]]:
    """Every command and command group name (as typer spells them, ``a_b`` -> ``a-b``), with
    its options that take a value: the table ``fast.argv.hoist_global_options`` moves global
    options around."""
    group = click_command()
    table: dict[str, frozenset[str]] = {}
    for info in app.registered_commands:
        if info.callback is not None:
            name = info.name or info.callback.__name__.lower().replace("_", "-")
            found = group.get_command(typer.Context(group), name)
            params = getattr(found, "params", [])
            table[name] = frozenset(
                o for p in params if not getattr(p, "is_flag", True) for o in p.opts
            )
    for group_info in app.registered_groups:
        if group_info.name:
            table[group_info.name] = frozenset()
    return table


@app.command(cls=PylockCommand)
def init(
    ctx: typer.Context,
    python: Annotated[
        str | None,
        typer.Option(
            "--python", metavar="REQ", help="Version request to write (default: this Python's X.Y)."
        ),
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="KEY",
            help="Platform to write, as a key or PBS triple; repeatable (default: this host).",
        ),
    ] = None,
) -> None:
    """Add a [tool.pylock] table to pyproject.toml, leaving the rest of the file untouched."""
    state = _state(ctx)
    from pylock.commands.init import default_python_request, init_pyproject
    from pylock.project.platforms import host_platform, parse_platform

    path = state.project / "pyproject.toml"
    request = python or default_python_request()
    platforms = [parse_platform(p, where="--platform").key for p in platform or ()]
    platforms = platforms or [host_platform().key]
    init_pyproject(path, python=request, platforms=platforms)
    written = ", ".join(f'"{key}"' for key in platforms)
    _say(state, f'Wrote [tool.pylock] to {path}: python = "{request}", platforms = [{written}].')
    _say(state, "Next: `pylock lock`.")


@app.command(cls=PylockCommand)
def lock(
    ctx: typer.Context,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            metavar="REQ",
            help="Set [tool.pylock].python in pyproject.toml to REQ (saying so), then lock it.",
        ),
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform", metavar="KEY", help="Add a platform (key or PBS triple); repeatable."
        ),
    ] = None,
    flavor: Annotated[
        str | None,
        typer.Option(
            "--flavor", metavar="FLAVOR", help="Pin a flavor for this run (e.g. install_only)."
        ),
    ] = None,
    build: Annotated[
        str | None,
        typer.Option(
            "--build", metavar="TAG", help="Pin a PBS release tag (YYYYMMDD) for this run."
        ),
    ] = None,
    exclude_newer: Annotated[
        str | None,
        typer.Option(
            "--exclude-newer",
            metavar="DATE",
            help="Resolve as if no PBS release after DATE (2025-01-15 or 20250115) existed.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            metavar="SOURCE",
            help="Read candidates from github, github:URL, catalog:URL|PATH, index[:URL|PATH] or "
            "mirror:URL|PATH.",
        ),
    ] = None,
    upgrade: Annotated[
        bool,
        typer.Option(
            "--upgrade",
            help="Re-resolve every target, ignoring existing pins (replaces an unreadable lock).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Resolve and report, but do not write python.lock.")
    ] = False,
) -> None:
    """Resolve the manifest against the PBS catalog and write python.lock."""
    state = _state(ctx)
    from pylock.resolution.locker import LockOptions, lock_project

    result = lock_project(
        state.project,
        LockOptions(
            python=python,
            platforms=tuple(platform or ()),
            flavor=flavor,
            build=build,
            exclude_newer=exclude_newer,
            upgrade=upgrade,
            dry_run=dry_run,
        ),
        settings=state.settings(source=source),
    )
    if result.replaced is not None:
        verb = "would replace" if dry_run else "replaced"
        warn(
            f"python.lock could not be read ({result.replaced}); {verb} it with a new lock.",
            color=state.color_choice,
        )
    for kept in result.kept:
        warn(describe_kept(kept), color=state.color_choice)
    if result.pinned is not None:
        was = result.pinned.was
        before = (
            "it had none"
            if not was
            else f'it was "{was[0]}"'
            if len(was) == 1
            else "it was [" + ", ".join(f'"{text}"' for text in was) + "]"
        )
        verb = "Would set" if dry_run else "Set"
        _say(
            state,
            f'{verb} [tool.pylock].python = "{result.pinned.now}" in '
            f"{state.project / 'pyproject.toml'} ({before}).",
        )
    changed = [c for c in result.changes if c.kind != "unchanged"]
    if not changed:
        _say(state, "python.lock is up to date.")
        return
    verb = "Would update" if dry_run else "Updated"
    _say(state, f"{verb} python.lock:")
    for change in changed:
        _say(state, describe_change(change))
    for change in changed:
        if change.new_bytes:
            warn(new_bytes_warning(change), color=state.color_choice)
    if result.releases:
        builds = sorted({note.build for note in result.releases}, reverse=True)
        spans = counted(len(builds), "PBS release")
        _say(state, f"The matrix spans {spans} ({', '.join(builds)}):")
        for note in result.releases:
            _say(state, f"  {note.request}: {note.build}, {note.reason}")


DownloadMirrorOption = Annotated[
    str | None,
    typer.Option(
        "--mirror",
        metavar="MIRROR",
        help="Download from {mirror}/{build}/{asset} (a URL or dir).",
    ),
]
FormatOption = Annotated[
    str, typer.Option("--format", help="text (default) or json.", metavar="text|json")
]
PlatformOption = Annotated[
    str | None,
    typer.Option(
        "--platform", metavar="KEY", help="Use this platform's target instead of this host's."
    ),
]
SyncPlatformOption = Annotated[
    str | None,
    typer.Option(
        "--platform", metavar="KEY", help="Install this platform's target instead of this host's."
    ),
]
CheckPlatformOption = Annotated[
    str | None,
    typer.Option(
        "--platform", metavar="KEY", help="Check this platform's target instead of this host's."
    ),
]
PythonOption = Annotated[
    str | None,
    typer.Option(
        "--python",
        metavar="REQ",
        help="Which interpreter of a matrix lock: a [tool.pylock].python request or a locked "
        "version (default: the first request).",
    ),
]
AllOption = Annotated[
    bool,
    typer.Option("--all", help="Every interpreter the lock names (a matrix lock) for this host."),
]
IntoOption = Annotated[
    Path | None,
    typer.Option(
        "--into", metavar="DIR", help="Install exactly into DIR (e.g. /opt/python in a Dockerfile)."
    ),
]
UseIntoOption = Annotated[
    Path | None,
    typer.Option(
        "--into", metavar="DIR", help="Use the interpreter installed with `sync --into DIR`."
    ),
]
CheckIntoOption = Annotated[
    Path | None,
    typer.Option(
        "--into", metavar="DIR", help="Verify the interpreter installed with `sync --into DIR`."
    ),
]


@app.command(cls=PylockCommand)
def sync(
    ctx: typer.Context,
    platform: SyncPlatformOption = None,
    python: PythonOption = None,
    every: AllOption = False,
    into: IntoOption = None,
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Install the locked build even if the lock is stale.")
    ] = False,
    reinstall: Annotated[
        bool, typer.Option("--reinstall", help="Download and install again even if present.")
    ] = False,
    mirror: DownloadMirrorOption = None,
    http_timeout: HttpTimeoutOption = None,
    http_deadline: HttpDeadlineOption = None,
) -> None:
    """Install exactly the interpreter python.lock names for this machine."""
    state = _state(ctx)
    from pylock.cli.console import run_sync
    from pylock.commands.sync import SyncOptions

    options = SyncOptions(
        platform=platform, python=python, into=into, frozen=frozen, reinstall=reinstall
    )
    settings = state.settings(mirror=mirror, http_timeout=http_timeout, http_deadline=http_deadline)
    key = None
    if not reinstall:  # --reinstall is no question with a remembered answer
        key = _memo_key(
            state, "sync", platform=platform, python=python, into=into, frozen=frozen,
            all=every, mirror=mirror, http_timeout=http_timeout, http_deadline=http_deadline,
        )  # fmt: skip
    raise typer.Exit(
        run_sync(state.project, options, settings, quiet=state.quiet, every=every, memo_key=key)
    )


@app.command(cls=PylockCommand)
def which(
    ctx: typer.Context,
    platform: PlatformOption = None,
    python: PythonOption = None,
    into: UseIntoOption = None,
) -> None:
    """Print the path of the locked interpreter installed for this machine."""
    from pylock.cli.console import run_which

    state = _state(ctx)
    key = _memo_key(state, "which", platform=platform, python=python, into=into)
    raise typer.Exit(
        run_which(
            state.project, state.settings(), platform=platform, python=python, into=into,
            memo_key=key,
        )
    )  # fmt: skip


@app.command(
    cls=PylockCommand,
    # Options after CMD are CMD's: `pylock run python -V` must not read -V as pylock's.
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
    },
)
def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
    platform: PlatformOption = None,
    python: PythonOption = None,
    into: UseIntoOption = None,
) -> None:
    """Run a command with the locked interpreter's bin directory first on PATH."""
    from pylock.cli.console import run_command

    state = _state(ctx)
    key = _memo_key(state, "which", platform=platform, python=python, into=into)
    raise typer.Exit(
        run_command(
            state.project, command, state.settings(), platform=platform, python=python,
            into=into, memo_key=key,
        )
    )  # fmt: skip


@app.command(cls=PylockCommand)
def show(
    ctx: typer.Context,
    python: PythonOption = None,
    components: Annotated[
        bool,
        typer.Option(
            "--components",
            help="Also list the libraries bundled into each installed interpreter (OpenSSL, "
            "SQLite, zlib, ...) with their versions, as recorded at install.",
        ),
    ] = False,
    output_format: FormatOption = "text",
) -> None:
    """List every locked target (or those of one --python request) and where (and whether)
    it is installed."""
    state = _state(ctx)
    from pylock.cli.console import run_show

    key = _memo_key(state, "show", python=python, format=output_format, components=components)
    raise typer.Exit(
        run_show(
            state.project,
            state.settings(),
            python=python,
            output_format=output_format,
            components=components,
            memo_key=key,
        )
    )


@app.command(cls=PylockCommand)
def sbom(
    ctx: typer.Context,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            metavar="REQ",
            help="The interpreters of this request of a matrix lock (a request or a locked "
            "version; default: the first request).",
        ),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="The interpreters of every request the lock names.")
    ] = False,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here (default: stdout)."),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="cyclonedx-json (the default and only one)."
        ),
    ] = "cyclonedx-json",
) -> None:
    """Write a CycloneDX 1.6 SBOM of the locked interpreters and the libraries bundled into
    them (OpenSSL, SQLite, zlib, expat, ...), for vulnerability scanners."""
    state = _state(ctx)
    from pylock.commands.sbom import SbomOptions, write_sbom

    result = write_sbom(
        state.project,
        SbomOptions(python=python, every=every, output=output, output_format=output_format),
        settings=state.settings(),
    )
    for inventory in result.inventories:
        if not inventory.known:
            target = inventory.installation.target
            warn(
                f"{target.implementation} {target.version} ({target.platform}): components "
                f"unknown: {inventory.note}.",
                color=state.color_choice,
            )
    if result.path is None:
        typer.echo(result.text, nl=False)
        return
    listed = len(result.inventories)
    interpreters = counted(listed, "locked interpreter")
    _say(state, f"Wrote {result.path} (CycloneDX 1.6, {interpreters}).")


@app.command(cls=PylockCommand)
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
    provenance: Annotated[
        bool,
        typer.Option(
            "--provenance",
            help="Re-verify every locked archive's attestation against [tool.pylock.provenance].",
        ),
    ] = False,
    platform: CheckPlatformOption = None,
    python: PythonOption = None,
    every: Annotated[
        bool,
        typer.Option(
            "--all", help="Check the install of every interpreter the lock names, not one."
        ),
    ] = False,
    into: CheckIntoOption = None,
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            metavar="MIRROR",
            help="With --remote: verify the mirror's copies; with --provenance: read bundles "
            "there first.",
        ),
    ] = None,
    output_format: FormatOption = "text",
    http_timeout: HttpTimeoutOption = None,
    http_deadline: HttpDeadlineOption = None,
    venv: Annotated[
        Path | None,
        typer.Option(
            "--venv",
            metavar="PATH",
            help="Check this virtual environment (default: .venv if present).",
        ),
    ] = None,
) -> None:
    """Verify that python.lock is sound, current, and what is installed is what it locks."""
    state = _state(ctx)
    from pylock.checking.checks import CheckOptions
    from pylock.cli.console import run_check

    options = CheckOptions(
        installed_required=installed,
        deep=deep,
        remote=remote,
        provenance=provenance,
        platform=platform,
        python=python,
        every=every,
        into=into,
        venv=venv,
    )
    settings = state.settings(mirror=mirror, http_timeout=http_timeout, http_deadline=http_deadline)
    key = _memo_key(
        state, "check", installed=installed, deep=deep, remote=remote, platform=platform,
        python=python, all=every, into=into, mirror=mirror, format=output_format,
        http_timeout=http_timeout, http_deadline=http_deadline, venv=venv,
    )  # fmt: skip
    raise typer.Exit(
        run_check(state.project, options, settings, output_format, quiet=state.quiet, memo_key=key)
    )


@app.command(cls=PylockCommand)
def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="Run in DIR (new or empty) and keep it, instead of a temporary directory that "
            "is removed at the end.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Show the whole job offline: init, lock, sync, run and check a fresh project against a
    local stand-in for a PBS release built from this Python, all inside one directory."""
    state = _state(ctx)
    import shutil
    import tempfile

    from pylock.commands.demo import run_demo

    root = directory or Path(tempfile.mkdtemp(prefix="pylock-demo-"))
    try:
        code = run_demo(root.absolute(), lambda line: _say(state, line), environ=os.environ)
    finally:
        if directory is None:
            shutil.rmtree(root, ignore_errors=True)
    _say(state, "")
    _say(state, f"Kept {root}." if directory is not None else f"Removed {root}.")
    if code == 0:
        _say(state, "With network, in your own project: `pylock init`, `pylock lock`, then")
        _say(state, "`pylock sync` on every machine (and `pylock check --installed` in CI).")
    raise typer.Exit(code)


export_app = typer.Typer(
    cls=PylockGroup,
    no_args_is_help=True,
    help="Write the lock in another tool's format.",
)
app.add_typer(export_app, name="export")


@export_app.command("uv", cls=PylockCommand)
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
        typer.Option(
            "--mirror",
            metavar="MIRROR",
            help="Point the URLs at {mirror}/{build}/{asset} (URL or dir).",
        ),
    ] = None,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            metavar="REQ",
            help="Only this interpreter of a matrix lock (a request or a locked version; "
            "default: every one).",
        ),
    ] = None,
) -> None:
    """Write the locked archives as a uv downloads JSON, and the settings that make uv use it."""
    state = _state(ctx)
    from pylock.commands.export import STDOUT, export_uv

    result = export_uv(state.project, output, settings=state.settings(mirror=mirror), python=python)
    if output == STDOUT:
        typer.echo(result.text(), nl=False)
        typer.echo(
            "Save this as a file and set UV_PYTHON_DOWNLOADS_JSON_URL to its path, and "
            f"UV_PYTHON_CPYTHON_BUILD={result.build}.",
            err=True,
        )
        return
    targets = counted(len(result.document), "locked target")
    _say(state, f"Wrote {result.path} ({targets}). For uv, set:")
    for name, value in result.settings().items():
        typer.echo(f"{name}={value}")
    if len(result.builds) > 1:
        _say(
            state,
            f"python.lock mixes builds ({', '.join(result.builds)}); uv takes one "
            f"UV_PYTHON_CPYTHON_BUILD, so set it per platform.",
        )


@app.command(cls=PylockCommand)
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
    python: PythonOption = None,
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Use the locked build even if the lock is stale.")
    ] = False,
    mirror: DownloadMirrorOption = None,
) -> None:
    """Make a virtual environment on the locked interpreter, syncing it first if needed."""
    state = _state(ctx)
    from pylock.cli.console import run_venv
    from pylock.commands.sync import SyncOptions

    options = SyncOptions(platform=platform, python=python, frozen=frozen)
    key = _memo_key(
        state, "venv", path=path, clear=clear, seed=seed, platform=platform, python=python,
        frozen=frozen, mirror=mirror,
    )  # fmt: skip
    raise typer.Exit(
        run_venv(
            state.project, path, options, state.settings(mirror=mirror), clear=clear,
            seed=seed, quiet=state.quiet, memo_key=key,
        )
    )  # fmt: skip


@app.command("list", cls=PylockCommand)
def list_(
    ctx: typer.Context,
    request: Annotated[
        str | None,
        typer.Argument(help="A version request (3.12, 3.13t, >=3.11,<3.13); default: all."),
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="KEY",
            help="Platform key or PBS triple; repeatable (default: the manifest's).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            metavar="SOURCE",
            help="github | github:URL | catalog:URL|PATH | mirror:URL|PATH | index[:URL|PATH]",
        ),
    ] = None,
    all_builds: Annotated[
        bool, typer.Option("--all-builds", help="Every build of each version, not the newest.")
    ] = False,
    output_format: FormatOption = "text",
) -> None:
    """List what the source offers, newest first, with the locked target marked."""
    state = _state(ctx)
    from pylock.commands.listing import ListOptions, list_offers

    parse_format(output_format)
    offers = list_offers(
        state.project,
        ListOptions(
            request=request,
            platforms=tuple(platform or ()),
            all_builds=all_builds,
        ),
        settings=state.settings(source=source),
    )
    if output_format == "json":
        import json

        typer.echo(json.dumps([offer.to_json() for offer in offers], indent=2))
        return
    if not offers:
        _say(state, "The source offers nothing that matches.")
        return
    typer.echo(offers_text(offers), nl=False)
    if any(offer.locked for offer in offers):
        _say(state, "(* marks the build python.lock pins.)")


@app.command(cls=PylockCommand)
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
    from pylock.commands.prune import prune as run_prune

    result = run_prune(keep or [state.project], dry_run=dry_run, settings=state.settings())
    verb = "Would remove" if dry_run else "Removed"
    for removal in result.removals:
        _say(
            state,
            f"{verb} {removal.kind} {removal.path} ({megabytes(removal.size)}; {removal.why})",
        )
    for path in result.foreign:
        _say(state, f"Left alone {path}: not a pylock install.")
    kept = (
        f"kept {counted(result.kept_installs, 'install')} and "
        f"{counted(result.kept_archives, 'archive')}"
    )
    freed = megabytes(result.freed)
    _say(state, f"{'Would free' if dry_run else 'Freed'} {freed}; {kept}.")


@app.command(cls=PylockCommand)
def mirror(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(
            help="Fill this directory as {DIR}/{build}/{asset} plus {DIR}/{build}/SHA256SUMS.",
            metavar="DIR",
            file_okay=False,
        ),
    ],
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="KEY",
            help="Only this locked platform; repeatable (default: all).",
        ),
    ] = None,
    mirror_from: DownloadMirrorOption = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", metavar="N", help="Downloads at once (default 4).")
    ] = 4,
    http_timeout: HttpTimeoutOption = None,
    http_deadline: HttpDeadlineOption = None,
) -> None:
    """Fill DIR with every locked archive, verified, laid out as a mirror for pylock, uv, mise."""
    state = _state(ctx)
    from pylock.cli.progress import TransferProgress
    from pylock.commands.mirror import MirrorOptions, fill_mirror

    settings = state.settings(
        mirror=mirror_from, http_timeout=http_timeout, http_deadline=http_deadline
    )
    progress = TransferProgress(
        quiet=state.quiet or not settings.progress, color=settings.color, start_lines=False
    )
    try:
        result = fill_mirror(
            state.project,
            MirrorOptions(
                directory=directory,
                platforms=tuple(platform or ()),
                jobs=jobs,
            ),
            settings=settings,
            on_progress=progress.update,
            on_done=lambda archive: progress.finished(f"  {archive.action:<10} {archive.path}"),
        )
    finally:
        progress.close()
    counts = {a: sum(1 for x in result.archives if x.action == a) for a in ("downloaded", "copied")}
    present = len(result.archives) - sum(counts.values())
    _say(
        state,
        f"Mirrored {counted(len(result.archives), 'archive')} into {directory}: "
        f"{counts['downloaded']} downloaded, {counts['copied']} copied from the cache, "
        f"{present} already present; "
        f"{counted(len(result.bundles), 'verified attestation bundle')} beside them.",
    )


def main(argv: list[str] | None = None) -> None:
    """Run the typer app inside ``guarded``: a PylockError from any command becomes its one
    paragraph and exit code, anything unexpected the bug report (exit 70). Typer maps usage
    errors to exit 2 and Ctrl-C to 130 (docs/cli.md). --verbose and --color are read from the
    whole command line, so they apply wherever they were given."""
    args = sys.argv[1:] if argv is None else argv
    seen = global_options(args)

    sys.exit(
        guarded(
            lambda: click_command()(
                args=hoist_global_options(args, command_options()), prog_name="pylock"
            ),
            verbose=bool(seen["verbose"]),
            color=color_choice(str(seen["color"]), os.environ),
        )
    )
