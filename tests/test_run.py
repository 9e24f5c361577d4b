"""``pylock run`` behaves like the command itself, with real processes.

Its exit code and the signal that ends it are the command's, as a shell reports them; Ctrl-C
reaches it; stdin, stdout and stderr (a terminal included) are its own; 127 when it is not
found, 126 when it cannot be run. On POSIX it replaces pylock (exec), so the command has
pylock's process id. Each behaviour is checked through the console script twice, once taking
the full path (no memo yet: it also writes the memo) and once answered from the memo, and
through the typer app; Windows's wait-for-the-child path (``child.wait``) is run here too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import console_script
from conftest import SyncedTemplate
from pylock.fast import memo

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

PYTHON = sys.executable  # absolute: the locked bin directory's `python` is first on PATH
TYPER = "import sys\nfrom pylock.cli.app import main\nmain(sys.argv[1:])\n"
ENTRIES = ("full path", "memo", "typer app")


@pytest.fixture
def project(synced_template: SyncedTemplate, tmp_path: Path) -> Path:
    return synced_template.synced(tmp_path / "project")


@pytest.fixture(params=ENTRIES)
def pylock_run(request: pytest.FixtureRequest, project: Path) -> Iterator[list[str]]:
    """The argv prefix of ``pylock -p PROJECT run``: through the console script with no memo
    (the full path, which remembers), with the memo (the fast path, checked to be there), or
    through the typer app."""
    entry = str(request.param)
    head = ["-p", str(project), "run"]
    memos = Path(os.environ["PYLOCK_CACHE_DIR"]) / memo.MEMO_DIR
    if entry == "typer app":
        yield [sys.executable, "-c", TYPER, *head]
        return
    if entry == "memo":
        warm = subprocess.run([str(console_script()), *head, "true"], check=False)
        assert warm.returncode == 0 and any(memos.iterdir())
    else:  # a file where the memos would go: none is written or read, every run is full
        memos.parent.mkdir(parents=True, exist_ok=True)
        memos.write_bytes(b"")
    yield [str(console_script()), *head]


def test_the_exit_code_is_the_commands(pylock_run: list[str]) -> None:
    for code in (0, 1, 7, 255):
        done = subprocess.run([*pylock_run, "sh", "-c", f"exit {code}"], check=False)
        assert done.returncode == code


def test_a_command_killed_by_a_signal_is_reported_as_a_shell_would(
    pylock_run: list[str],
) -> None:
    killed = subprocess.run([*pylock_run, "sh", "-c", "kill -TERM $$"], check=False)
    assert killed.returncode == -signal.SIGTERM  # the process itself died of SIGTERM
    command = " ".join(f"'{word}'" for word in pylock_run)
    shell = subprocess.run(
        ["sh", "-c", f"{command} sh -c 'kill -TERM $$'; echo $?"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shell.stdout == "143\n"  # 128 + 15


def test_the_command_is_the_process_itself(pylock_run: list[str], project: Path) -> None:
    """Exec, not a child: the command has the pid pylock was started with."""
    started = subprocess.Popen(
        [*pylock_run, "sh", "-c", "echo $$"], stdout=subprocess.PIPE, text=True
    )
    out, _ = started.communicate()
    assert out == f"{started.pid}\n"


def test_ctrl_c_reaches_the_command(pylock_run: list[str]) -> None:
    """The terminal sends SIGINT to the foreground process group: the command handles it."""
    script = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(42)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [*pylock_run, PYTHON, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    os.killpg(child.pid, signal.SIGINT)
    assert child.stdout.read() == "interrupted\n"
    assert child.wait(timeout=30) == 42


def test_stdin_stdout_and_stderr_are_the_commands(pylock_run: list[str]) -> None:
    done = subprocess.run(
        [*pylock_run, "sh", "-c", "cat; echo to-stderr >&2"],
        input=b"from stdin\n" * 10_000,
        capture_output=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        b"from stdin\n" * 10_000,
        b"to-stderr\n",
    )


def test_a_terminal_stays_a_terminal(pylock_run: list[str]) -> None:
    import pty

    script = "import sys; print(sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty())"
    terminal, seat = pty.openpty()
    child = subprocess.Popen(
        [*pylock_run, PYTHON, "-c", script], stdin=seat, stdout=seat, stderr=seat
    )
    os.close(seat)
    output = b""
    while True:
        try:
            chunk = os.read(terminal, 1024)
        except OSError:  # EIO: every process closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(terminal)
    assert child.wait(timeout=30) == 0
    assert output.strip().splitlines()[-1] == b"True True True"


def test_a_closed_pipe_ends_the_command_as_it_would_end_alone(pylock_run: list[str]) -> None:
    """Python ignores SIGPIPE; the command gets it back at its default (it dies of it, as
    `yes | head -1` does), not an ignored signal inherited through exec."""
    child = subprocess.Popen([*pylock_run, "yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline() == b"y\n"
    child.stdout.close()
    assert child.wait(timeout=30) == -signal.SIGPIPE
    assert child.stderr.read() == b""  # no "write error: Broken pipe"


def test_the_command_runs_on_the_locked_interpreters_path(
    pylock_run: list[str], project: Path
) -> None:
    done = subprocess.run(
        [*pylock_run, "sh", "-c", 'echo "$PYLOCK_PYTHON"; command -v python'],
        capture_output=True,
        text=True,
        check=False,
    )
    interpreter, found = done.stdout.splitlines()
    assert Path(found).parent == Path(interpreter).parent
    assert Path(interpreter).is_file()


def test_not_found_is_127_and_not_executable_is_126(pylock_run: list[str], tmp_path: Path) -> None:
    missing = subprocess.run(
        [*pylock_run, "no-such-command-here"], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 127
    assert missing.stderr.startswith("error: command not found: no-such-command-here")
    plain = tmp_path / "not-executable"
    plain.write_text("echo hi\n")
    refused = subprocess.run([*pylock_run, str(plain)], capture_output=True, text=True, check=False)
    assert refused.returncode == 126
    assert refused.stderr.startswith(f"error: cannot run {plain}: Permission denied")
    garbage = tmp_path / "not-a-program"
    garbage.write_bytes(b"\x7fELF\x00garbage")
    garbage.chmod(0o755)
    unknown = subprocess.run(
        [*pylock_run, str(garbage)], capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 126
    assert unknown.stderr.startswith(f"error: cannot run {garbage}: Exec format error")
    assert "Traceback" not in missing.stderr + refused.stderr + unknown.stderr


WAIT = """
import os, signal, sys
from pylock.cli.child import environment, wait
print("ready", flush=True)
sys.exit(wait(sys.argv[1:], environment(sys.executable, os.environ), color="never"))
"""


def test_waiting_for_the_child_exits_as_it_did() -> None:
    """Where there is no exec (Windows), pylock waits: the child's exit code, its signal raised
    again (so the shell sees the same death), and Ctrl-C left to the child."""
    exited = subprocess.run([PYTHON, "-c", WAIT, "sh", "-c", "exit 5"], check=False)
    assert exited.returncode == 5
    killed = subprocess.run([PYTHON, "-c", WAIT, "sh", "-c", "kill -TERM $$"], check=False)
    assert killed.returncode == -signal.SIGTERM
    missing = subprocess.run(
        [PYTHON, "-c", WAIT, "no-such-command-here"], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 127 and "command not found" in missing.stderr
    handler = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *_: sys.exit(42))\n"
        "print('child ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    waiting = subprocess.Popen(
        [PYTHON, "-c", WAIT, PYTHON, "-c", handler],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert waiting.stdout is not None
    assert waiting.stdout.readline() == "ready\n"
    assert waiting.stdout.readline() == "child ready\n"
    os.killpg(waiting.pid, signal.SIGINT)  # the terminal's Ctrl-C: both get it
    assert waiting.wait(timeout=30) == 42  # the parent ignored it and exited as the child did


def test_a_text_file_without_a_first_line_runs_as_a_shell_script(
    pylock_run: list[str], tmp_path: Path
) -> None:
    """As execvp and every shell do: no ``#!`` line, the kernel refuses it, ``/bin/sh`` runs it
    (a binary it cannot run stays 126, above)."""
    script = tmp_path / "plain-script"
    script.write_text('echo "ran with $1"\nexit 4\n')
    script.chmod(0o755)
    done = subprocess.run([*pylock_run, str(script), "arg"], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (4, "ran with arg\n", "")


def test_what_is_missing_is_said_as_a_shell_would(pylock_run: list[str], tmp_path: Path) -> None:
    """A path that is not there, and a script whose ``#!`` names a program that is not there:
    both 127, each named for what it is, not "not on PATH"."""
    missing = subprocess.run(
        [*pylock_run, str(tmp_path / "nothing-here")], capture_output=True, text=True
    )
    assert missing.returncode == 127
    assert missing.stderr == f"error: cannot run {tmp_path / 'nothing-here'}: no such file.\n"
    script = tmp_path / "bad-first-line"
    script.write_text(f"#!{tmp_path / 'no-interpreter'}\n")
    script.chmod(0o755)
    orphan = subprocess.run([*pylock_run, str(script)], capture_output=True, text=True)
    assert orphan.returncode == 127
    assert orphan.stderr == (
        f"error: cannot run {script}: its first line (#!) names "
        f"{str(tmp_path / 'no-interpreter')!r}, which was not found.\n"
    )
    crlf = tmp_path / "saved-on-windows"
    crlf.write_bytes(b"#!/bin/sh\r\necho hi\r\n")
    crlf.chmod(0o755)
    stray = subprocess.run([*pylock_run, str(crlf)], capture_output=True, text=True)
    assert stray.returncode == 127
    assert "names '/bin/sh\\r', which was not found" in stray.stderr  # the \r shown


def test_a_directory_on_path_is_passed_over(pylock_run: list[str], tmp_path: Path) -> None:
    """A shell looks on along PATH past a directory of the command's name."""
    (tmp_path / "first" / "tool").mkdir(parents=True)
    later = tmp_path / "later"
    later.mkdir()
    (later / "tool").write_text("#!/bin/sh\necho found\n")
    (later / "tool").chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path / 'first'}{os.pathsep}{later}{os.pathsep}/bin"}
    found = subprocess.run([*pylock_run, "tool"], capture_output=True, text=True, env=env)
    assert (found.returncode, found.stdout, found.stderr) == (0, "found\n", "")
    env["PATH"] = f"{tmp_path / 'first'}{os.pathsep}/bin"
    alone = subprocess.run([*pylock_run, "tool"], capture_output=True, text=True, env=env)
    assert alone.returncode == 127
    assert alone.stderr.startswith("error: command not found: tool")


@pytest.mark.parametrize("closed", [1, 2])
def test_a_closed_stdout_or_stderr_is_the_commands_to_live_with(
    pylock_run: list[str], closed: int
) -> None:
    """``pylock run -- cmd >&-`` runs ``cmd`` with stdout closed, as the shell would: pylock
    itself has no stdout then (Python's ``sys.stdout`` is None) and must not fail on it."""
    other = 3 - closed
    command = [*pylock_run, "sh", "-c", f"echo ran >&{other}; exit 3"]
    done = subprocess.run(
        ["sh", "-c", f'"$@" {closed}>&-', "sh", *command], capture_output=True, text=True
    )
    assert done.returncode == 3
    assert (done.stdout, done.stderr) == (("", "ran\n") if closed == 1 else ("ran\n", ""))


def test_a_found_command_whose_interpreter_is_missing_is_named_when_nothing_else_runs(
    pylock_run: list[str], tmp_path: Path
) -> None:
    """A script on PATH with a stale ``#!`` line (a venv's console script after its Python
    went): as ``execvp``, dash and uv, a later ``PATH`` entry of that name runs instead; when
    there is none, the error names that file and its ``#!`` line (127), not "command not
    found"."""
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir(), later.mkdir()
    (first / "tool").write_text(f"#!{tmp_path / 'gone' / 'python'}\n")
    (later / "tool").write_text("#!/bin/sh\necho the later tool\n")
    for script in (first / "tool", later / "tool"):
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{first}{os.pathsep}{later}{os.pathsep}/bin"}
    passed_over = subprocess.run([*pylock_run, "tool"], capture_output=True, text=True, env=env)
    assert (passed_over.returncode, passed_over.stdout) == (0, "the later tool\n")
    env["PATH"] = f"{first}{os.pathsep}/bin"
    stale = subprocess.run([*pylock_run, "tool"], capture_output=True, text=True, env=env)
    assert (stale.returncode, stale.stdout) == (127, "")
    assert stale.stderr == (
        f"error: cannot run {first / 'tool'}: its first line (#!) names "
        f"{str(tmp_path / 'gone' / 'python')!r}, which was not found.\n"
    )


def _with_missing_loader(program: Path, into: Path) -> bool:
    """A copy of the ELF64 ``program`` whose PT_INTERP names a loader that does not exist."""
    import struct

    data = bytearray(program.read_bytes())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:  # ELF64, little-endian
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    size, count = struct.unpack_from("<HH", data, 0x36)
    for index in range(count):
        header = phoff + index * size
        if struct.unpack_from("<I", data, header)[0] == 3:  # PT_INTERP
            (offset,) = struct.unpack_from("<Q", data, header + 8)
            (length,) = struct.unpack_from("<Q", data, header + 32)
            name = b"/nonexistent/ld.so"[: length - 1]
            data[offset : offset + length] = name.ljust(length, b"\0")
            into.write_bytes(bytes(data))
            into.chmod(0o755)
            return True
    return False


def test_a_program_whose_loader_is_missing_says_so(pylock_run: list[str], tmp_path: Path) -> None:
    """A real program built against a loader this system lacks: 127, and named for that, not
    as a script with a bad ``#!`` line."""
    program = tmp_path / "foreign-program"
    if not sys.platform.startswith("linux") or not _with_missing_loader(Path("/bin/true"), program):
        pytest.skip("needs a dynamically linked ELF64 /bin/true")
    done = subprocess.run([*pylock_run, str(program)], capture_output=True, text=True)
    assert done.returncode == 127
    assert done.stderr == (
        f"error: cannot run {program}: the dynamic loader it was built for (another system's, "
        "or one not installed here) was not found.\n"
    )
