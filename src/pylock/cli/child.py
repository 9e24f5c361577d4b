"""``pylock run``'s command, run as if it had been run by itself.

On POSIX the command replaces pylock (``os.execvpe``): nothing of pylock stays between the
command and whoever started it, so its exit status and the signal that ends it are what the
shell sees (a command killed by SIGTERM is reported as 143, the shell's 128 + 15), Ctrl-C
reaches it from the terminal as it would reach the command itself, and stdin, stdout and stderr
are its own. Nothing runs after the command, so nothing is lost by not waiting for it. Before
the exec, pylock's own output is flushed, and SIGPIPE and SIGXFSZ go back to their defaults:
Python ignores them, an ignored signal stays ignored across exec, and ``pylock run -- yes |
head -1`` would then see write errors instead of ending quietly (subprocess's
``restore_signals`` does the same for its children).

Windows has no exec that keeps the process, so there the command runs as a child: pylock
ignores Ctrl-C while it waits (the console delivers it to the command, which decides) and exits
with the command's status (``wait``).

Exit codes, as a shell gives them (docs/cli.md): the command's own; 127 when it is not found on
the new ``PATH``; 126 when it is found but cannot be run (not executable, not a program).

Imports only ``os`` and ``sys`` until something fails: the console script runs a remembered
``pylock run`` through here without loading the rest of pylock.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the fast path
if TYPE_CHECKING:
    from collections.abc import Mapping

NOT_FOUND = 127
CANNOT_RUN = 126
_DEFAULT_SIGNALS = ("SIGPIPE", "SIGXFSZ")


def environment(interpreter: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the interpreter's directory first on ``PATH`` (the system's default
    search path after it when there is no ``PATH`` at all) and ``PYLOCK_PYTHON`` naming it."""
    env = dict(environ)
    path = env.get("PATH")
    env["PATH"] = os.pathsep.join(
        [os.path.dirname(interpreter), os.defpath if path is None else path]
    )
    env["PYLOCK_PYTHON"] = interpreter
    return env


def run(interpreter: str, command: list[str], environ: Mapping[str, str], *, color: str) -> int:
    """Run ``command`` on the interpreter's ``PATH``: on POSIX it replaces this process and this
    returns only when it could not be started (126 or 127, the error said on stderr)."""
    env = environment(interpreter, environ)
    if os.name == "nt":
        return wait(command, env, color=color)
    flush_output()
    _default_signals()
    try:
        _execvpe(command[0], command, env)
    except OSError as error:
        return _not_started(command[0], error, color)
    raise AssertionError("unreachable: execve returned")  # pragma: no cover


def _execvpe(name: str, argv: list[str], env: dict[str, str]) -> None:
    """``os.execvpe``'s search, as the stdlib does it (each ``PATH`` entry tried in turn; the
    first error that is not "no such file" is the one raised, else the last), without the
    ``warnings`` module its ``get_exec_path`` loads for bytes paths this never has; and as a
    shell searches, a directory of that name is passed over, not "permission denied". A file
    found that fails as missing (its ``#!`` interpreter or its loader is) is passed over too,
    as by ``execvp``, dash and uv (bash stops there), but when nothing later runs, it is the
    error said: "command not found" would send the user looking for a file that is there."""
    if os.path.dirname(name):
        _execve(name, argv, env)
    first: OSError | None = None
    last: OSError = FileNotFoundError(2, "No such file or directory", name)
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(directory, name)
        try:
            _execve(path, argv, env)
        except (FileNotFoundError, NotADirectoryError) as error:
            if os.path.isfile(path):  # found, and what it needs is missing (_not_started)
                first = first or error
            last = error
        except OSError as error:
            if isinstance(error, PermissionError) and os.path.isdir(path):
                continue
            last = error
            first = first or error
    raise first or last


def _execve(path: str, argv: list[str], env: dict[str, str]) -> None:
    """``os.execve``; a text file the kernel cannot run as a program (no ``#!`` line) runs as a
    ``/bin/sh`` script, as POSIX ``execvp`` and the shells do. A binary it cannot run stays
    "Exec format error": like bash, a NUL byte in the first 80 bytes means binary."""
    try:
        os.execve(path, argv, env)
    except OSError as error:
        import errno

        if error.errno != errno.ENOEXEC or _binary(path):
            raise
        os.execve("/bin/sh", ["/bin/sh", path, *argv[1:]], env)


def _binary(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            return b"\0" in file.read(80)
    except OSError:
        return True


def wait(command: list[str], env: Mapping[str, str], *, color: str) -> int:
    """Run ``command`` as a child and exit as it did: its exit code, or, when a signal ended
    it, that signal raised again here (so a shell sees the same death), else 128 + the signal.
    Ctrl-C is ignored here while it runs: the child receives it and decides."""
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as error:
            return _not_started(command[0], error, color)
        code = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if code >= 0:
        return code
    flush_output()
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)  # dies here, as the child did, unless the signal is harmless
    return 128 - code


def flush_output() -> None:
    """Flush pylock's stdout and stderr, those the caller left open: a command run with
    ``>&-`` or ``2>&-`` has None for that stream, and runs all the same, as in a shell."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def _default_signals() -> None:
    try:  # the C module signal.py wraps: the same calls, without building its enums
        import _signal as signals  # type: ignore[import-not-found]  # no stubs: signal's
    except ImportError:  # pragma: no cover - an interpreter without it
        import signal as signals

    for name in _DEFAULT_SIGNALS:
        number = getattr(signals, name, None)
        if number is not None:
            signals.signal(number, signals.SIG_DFL)


def _not_started(name: str, error: OSError, color: str) -> int:
    """Say why ``name`` did not start, as a shell would, and return the shell's exit code."""
    from pylock.cli.render import error_line

    if isinstance(error, (FileNotFoundError, NotADirectoryError)):
        path = error.filename  # where exec found it (Windows's Popen names no file)
        if isinstance(path, str) and os.path.isfile(path):  # there, but not what it needs
            why = f"cannot run {path}: {_missing_part(path)}."
        elif not os.path.dirname(name):
            why = f"command not found: {name} (not on PATH, which starts with the locked "
            why += "interpreter's directory)."
        else:
            why = f"cannot run {name}: no such file."
        error_line(why, color=color)
        return NOT_FOUND
    why = error.strerror or str(error)
    error_line(f"cannot run {name}: {why}.", color=color)
    return CANNOT_RUN


def _missing_part(path: str) -> str:
    """What a file the kernel found but could not start lacks: a script the program its ``#!``
    line names (quoted as Python does, so a stray carriage return of a file saved with CRLF
    line ends shows); a program its dynamic loader (built for another system, or its libc
    gone)."""
    try:
        with open(path, "rb") as file:
            head = file.readline(4096)
    except OSError:
        head = b""
    if head.startswith(b"#!"):
        named = head[2:].rstrip(b"\n").lstrip(b" \t").split(b" ")[0].split(b"\t")[0]
        return f"its first line (#!) names {os.fsdecode(named)!r}, which was not found"
    return (
        "the dynamic loader it was built for (another system's, or one not installed here) "
        "was not found"
    )
