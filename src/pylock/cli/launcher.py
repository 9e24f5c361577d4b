"""The ``pylock`` console script: the commands run all day, without typer.

``sync``, ``check``, ``which``, ``run``, ``show`` and ``venv`` run on every CI job, shell start,
Makefile target and container boot, and typer (with the pydantic it now imports) costs more
than the work itself. Their command lines are parsed here (fast/argv.py), then:

1. every setting is validated, with the code ``Settings.resolve`` runs (``envvalues.read``), so
   a bad ``PYLOCK_HTTP_TIMEOUT`` is refused on this path too (by the full path, in its words);
2. the memo (fast/memo.py) replays the full path's last answer for this command line when
   everything it rested on is byte-identical: the answer is printed (``run`` executes its
   command with the remembered interpreter instead);
3. otherwise the same ``console.run_*`` the typer commands call runs, and remembers its answer.

Anything else (other commands, ``--help``, an option or spelling this parser does not know)
goes to ``pylock.cli.app.main``, which parses the same command line with typer. A test keeps
the option tables equal to the typer commands' options, and tests/test_differential.py holds
this path and typer's to the same exit code, stdout and stderr on every input of its table.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from pylock.base.settings import Settings

    Options = dict[str, str | bool]


def _text(options: Options, name: str) -> str | None:
    value = options.get(name)
    return value if isinstance(value, str) else None


def _settings(options: Options) -> Settings:
    """The command's one Settings: its flags over the environment, as the typer app resolves
    them (``State.settings``)."""
    from pylock.base.settings import Settings

    return Settings.resolve(
        environ=os.environ,
        offline=bool(options["offline"]),
        color=str(options["color"]),
        progress=not options["no_progress"],
        mirror=_text(options, "mirror"),
        http_timeout=_text(options, "http-timeout"),  # as typed: Settings checks and quotes it
        http_deadline=_text(options, "http-deadline"),
    )


def _color(options: Options) -> str:
    """``--color`` with ``NO_COLOR`` applied, for an error raised before Settings exist."""
    from pylock.base.envvalues import color_choice

    return color_choice(str(options["color"]), os.environ)


def _key(command: str, options: Options, arguments: list[str]) -> list[bytes]:
    """The memo key of this command line: ``run`` asks ``which``'s question (its command is
    not part of it), ``venv``'s PATH is an option like the others."""
    from pylock.fast import memo

    if command == "venv" and arguments:
        options = {**options, "path": arguments[0]}
    return memo.command_key("which" if command == "run" else command, options, os.environ)


def _recall(command: str, options: Options, arguments: list[str]) -> str | None:
    """The remembered answer, or None: the full path decides (and explains), also when any
    setting is invalid or anything at all goes wrong here."""
    from pylock.base import envvalues
    from pylock.fast import memo

    try:
        envvalues.read(
            os.environ,
            offline=bool(options["offline"]),
            http_timeout=_text(options, "http-timeout"),
            http_deadline=_text(options, "http-deadline"),
        )
        return memo.recall(_key(command, options, arguments), os.environ)
    except Exception:  # never a traceback from a shortcut
        return None


def _full(command: str, options: Options, arguments: list[str]) -> int:
    """The command itself, through the typer commands' own ``console.run_*``."""
    from pathlib import Path

    from pylock.cli import console

    try:
        key: list[bytes] | None = _key(command, options, arguments)
    except OSError:  # the current directory is gone: nothing to key a memo on
        key = None
    project = Path(str(options["project"]))
    quiet = bool(options["quiet"])
    platform, python = _text(options, "platform"), _text(options, "python")
    into = Path(into_text) if (into_text := _text(options, "into")) else None

    def run() -> int:
        settings = _settings(options)
        if command in ("sync", "venv"):
            from pylock.commands.sync import SyncOptions

            sync_options = SyncOptions(
                platform=platform, python=python, into=into, frozen=bool(options.get("frozen"))
            )
            if command == "sync":
                return console.run_sync(
                    project, sync_options, settings, quiet=quiet,
                    every=bool(options.get("all")), memo_key=key,
                )  # fmt: skip
            return console.run_venv(
                project, Path(arguments[0]) if arguments else None, sync_options, settings,
                clear=bool(options.get("clear")), seed=bool(options.get("seed")), quiet=quiet,
                memo_key=key,
            )  # fmt: skip
        if command == "check":
            from pylock.checking.checks import CheckOptions

            venv = _text(options, "venv")
            check_options = CheckOptions(
                installed_required=bool(options.get("installed")),
                deep=bool(options.get("deep")),
                remote=bool(options.get("remote")),
                provenance=bool(options.get("provenance")),
                platform=platform,
                python=python,
                every=bool(options.get("all")),
                into=into,
                venv=Path(venv) if venv else None,
            )
            output_format = _text(options, "format") or "text"
            return console.run_check(
                project, check_options, settings, output_format, quiet=quiet, memo_key=key
            )
        if command == "show":
            output_format = _text(options, "format") or "text"
            return console.run_show(
                project,
                settings,
                python=python,
                output_format=output_format,
                components=bool(options.get("components")),
                memo_key=key,
            )
        if command == "run":
            return console.run_command(
                project, arguments, settings, platform=platform, python=python, into=into,
                memo_key=key,
            )  # fmt: skip
        return console.run_which(
            project, settings, platform=platform, python=python, into=into, memo_key=key
        )

    return console.guarded(run, verbose=bool(options["verbose"]), color=_color(options))


def main(*, exit_now: bool = False) -> None:
    """``pylock`` with ``sys.argv``; exits (SystemExit) with the command's code.

    ``exit_now`` (the installed console script, ``console``): once one of the commands this
    module runs has finished, the process ends at once (``_exit_now``), skipping the
    interpreter's finalization, which costs more than a replayed answer and about 30 ms after
    a cold sync (hundreds of modules torn down). A test calls ``main()`` in its own process,
    which must live on."""
    _collect_less()
    _nowhere_without_stderr()
    try:
        code = _command(sys.argv[1:])
    except KeyboardInterrupt as interrupt:  # Ctrl-C before a command's own guard took over
        from pylock.cli.console import failure

        code = failure(interrupt, verbose=False)
    if exit_now:
        _exit_now(code)
    sys.exit(code)


def _nowhere_without_stderr() -> None:
    """With stderr closed by the caller (``2>&-``), Python's ``sys.stderr`` is None, and
    ``print(..., file=sys.stderr)`` then writes to *stdout* (click's usage errors too), where
    ``$(pylock which 2>&-)`` would take an error for the answer: here, once for every path, it
    becomes a stream that keeps what it is given to itself. ``pylock run``'s command still
    gets the closed descriptor: only Python's object is replaced."""
    if sys.stderr is None:
        import io

        sys.stderr = io.StringIO()


def _command(args: list[str]) -> int:
    """Run the command line ``args``; its exit code."""
    from pylock.fast.argv import parse

    parsed = parse(args)
    if parsed is None:
        from pylock.cli.app import main as full

        full(args)  # typer's: exits itself
        return 0
    command, options, arguments = parsed
    answer = _recall(command, options, arguments)
    if answer is None:
        return _full(command, options, arguments)
    if command == "run":
        from pylock.cli.child import run

        return run(answer[:-1], arguments, os.environ, color=_color(options))
    return _replay(answer, options)


def _replay(answer: str, options: Options) -> int:
    """Print a remembered answer. A write that fails (a full disk, a closed pipe) is reported
    in the full path's words and code (``console.failure``); with no stdout at all (closed by
    the caller) there is nothing to print, as ``print`` on the full path does."""
    if sys.stdout is None:
        return 0
    try:
        sys.stdout.write(answer)
        sys.stdout.flush()
    except OSError as error:
        from pylock.cli.console import failure

        return failure(error, verbose=bool(options["verbose"]), color=_color(options))
    return 0


GC_THRESHOLD = 100_000
"""Allocations between two young-generation garbage collections in one command (Python's
default is 700)."""


def _collect_less() -> None:
    """A command allocates in bursts (its imports, then objects per archive member) and frees
    almost nothing until it ends: at Python's default threshold a cold sync runs about 50
    collections that free a few hundred objects in all, 10-20 ms. A collection every
    ``GC_THRESHOLD`` allocations still bounds what cycles can hold, without that cost."""
    import gc

    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def _exit_now(code: int) -> None:
    """End the process with ``code`` as Python's exit would, without finalizing modules: flush
    stdout and stderr, run the exit handlers (what ``atexit`` holds: logging's flush, ...),
    then ``os._exit``. Python's own exit is used instead when there is anything it would wait
    for (a thread that is not a daemon) or report (a flush that fails: a closed pipe)."""
    threading = sys.modules.get("threading")
    if threading is not None and any(
        not thread.daemon and thread is not threading.main_thread()
        for thread in threading.enumerate()
    ):
        sys.exit(code)
    try:
        from pylock.cli.child import flush_output

        flush_output()
    except BaseException:  # a closed pipe, or a second Ctrl-C: Python's own exit says so
        sys.exit(code)
    atexit = sys.modules.get("atexit")
    if atexit is not None:
        atexit._run_exitfuncs()
        flush_output()
    os._exit(code)


def console() -> None:
    """The installed ``pylock`` executable (pyproject.toml ``[project.scripts]``)."""
    main(exit_now=True)
