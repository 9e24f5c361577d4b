"""The command-line habits uv users bring: --version/-V, -h, global options before or after the
command (in the typer app and in the typer-free launcher alike), -q, --color/NO_COLOR,
--no-progress; help that says what an option does for that command; init echoing what it wrote;
which/run warning on a stale lock."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
import typer

from archives import asset_name, build_pbs_archive
from clirun import console_script, pylock, typer_in_child
from pbs_server import FakePBS
from pylock import __version__
from pylock.base.settings import Settings
from pylock.cli.app import app, click_command, command_options
from pylock.cli.render import use_color
from pylock.fast.argv import hoist_global_options
from pylock.project.platforms import host_platform

HOST = host_platform()


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script (the launcher, falling back to typer) in a child process."""
    return subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, check=False, env=env
    )


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert pylock(capsys, flag) == (0, f"pylock {__version__}\n", "")


@pytest.mark.parametrize("args", [["-h"], ["sync", "-h"], ["check", "-h"], ["lock", "-h"]])
def test_short_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = pylock(capsys, *args)
    assert code == 0
    assert out.lstrip().startswith(f"Usage: pylock {args[0] if len(args) > 1 else ''}")


@pytest.mark.parametrize(
    ("args", "hoisted"),
    [
        (["sync", "-q"], ["-q", "sync"]),
        (
            ["-p", "x", "lock", "--upgrade", "--offline", "-v"],
            ["-p", "x", "--offline", "-v", "lock", "--upgrade"],
        ),
        (
            ["check", "--color", "never", "--format", "json"],
            ["--color", "never", "check", "--format", "json"],
        ),
        (["show", "--project=x"], ["--project=x", "show"]),
        # a command option's value is never taken for a global option
        (["lock", "--python", "-q"], ["lock", "--python", "-q"]),
        # run: CMD and everything after it are CMD's; so is everything after --
        (["run", "-q", "python", "-V", "-q"], ["-q", "run", "python", "-V", "-q"]),
        (["run", "--into", "d", "python", "-v"], ["run", "--into", "d", "python", "-v"]),
        (["run", "--", "tool", "-p", "x"], ["run", "--", "tool", "-p", "x"]),
        (["-q"], ["-q"]),
        (["-p", "lock", "sync", "-q"], ["-p", "lock", "-q", "sync"]),  # a directory called lock
    ],
)
def test_global_options_move_before_the_command(args: list[str], hoisted: list[str]) -> None:
    assert hoist_global_options(args, command_options()) == hoisted


def test_quiet_after_the_command_silences_success_everywhere(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = ("-p", str(synced))
    assert "is already installed" in pylock(capsys, *project, "sync")[1]  # not quiet
    for args in (["sync", "-q"], ["-q", "sync"], ["check", "-q"], ["-q", "check"], ["lock", "-q"]):
        assert pylock(capsys, *project, *args) == (0, "", ""), args
    # the console script (typer-free launcher) too
    for args in (["sync", "-q"], ["check", "--quiet"], ["-q", "check"]):
        result = script(*project, *args)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), args


def test_quiet_check_still_prints_a_failure(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = synced / "pyproject.toml"
    pyproject.write_text(pyproject.read_text("utf-8").replace('"3.12"', '">=3.99"'), "utf-8")
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "-q")
    assert code == 1
    assert "fail" in out and "did not pass" in out
    result = script("-p", str(synced), "-q", "check")
    assert (result.returncode, result.stdout) == (1, out)


def test_which_and_run_warn_on_a_stale_lock(
    synced: Path, fake_pbs: FakePBS, capsys: pytest.CaptureFixture[str]
) -> None:
    code, path, err = pylock(capsys, "-p", str(synced), "which")
    assert (code, err) == (0, "")
    pyproject = synced / "pyproject.toml"
    pyproject.write_text(pyproject.read_text("utf-8").replace('"3.12"', '">=3.99"'), "utf-8")
    code, out, err = pylock(capsys, "-p", str(synced), "which")
    assert (code, out) == (0, path)  # still usable
    assert err.startswith("warning: python.lock is out of date with ")
    assert ">=3.99" in err
    assert f"`pylock lock --source {fake_pbs.spec}`, then `pylock sync`" in err  # its source
    code, _, err = typer_in_child("-p", str(synced), "run", "--", "true")  # run execs: a child
    assert code == 0
    assert err.startswith("warning: python.lock is out of date")
    result = script("-p", str(synced), "run", "--", "true")
    assert (result.returncode, result.stderr) == (0, err)
    # -q does not hide a warning
    assert pylock(capsys, "-p", str(synced), "-q", "which")[2] == err


def test_color(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = ("-p", str(synced / "nowhere"))
    _, _, err = pylock(capsys, *missing, "which", "--color", "always")
    assert err.startswith("\x1b[1;31merror\x1b[0m: ")
    _, _, err = pylock(capsys, *missing, "--color=never", "which")
    assert err.startswith("error: ")
    code, _, err = pylock(capsys, *missing, "which", "--color", "blue")
    assert code == 2 and "blue" in err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color("auto", Terminal()) and not use_color("auto", io.StringIO())
    assert use_color("always", Terminal()) and not use_color("never", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")  # applied once, when the command's Settings resolve
    _, _, err = pylock(capsys, *missing, "which")
    assert err.startswith("error: ")
    _, _, err = pylock(capsys, *missing, "--color", "always", "which")
    assert err.startswith("\x1b[1;31merror\x1b[0m: ")


@pytest.mark.parametrize("args", [[], ["--no-progress"], ["-q"]])
def test_no_progress(
    args: list[str], fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = "20260101"
    fake_pbs.add_release(
        build,
        [
            (
                asset_name(
                    version="3.12.8", build=build, triple=HOST.triple, flavor="install_only"
                ),
                build_pbs_archive(version="3.12.8", flavor="install_only"),
            )
        ],
    )
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "3.12"\nplatforms = ["{HOST.key}"]\n', "utf-8"
    )
    assert pylock(capsys, "-p", str(tmp_path), "lock", "--source", fake_pbs.spec)[0] == 0
    code, out, err = pylock(capsys, "-p", str(tmp_path), "sync", *args)
    assert code == 0
    assert ("Downloading the locked interpreter" in err) == (args == [])
    assert ("Installed cpython 3.12.8" in out) == (args != ["-q"])


def test_init_echoes_the_keys_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = pylock(
        capsys, "-p", str(tmp_path), "init", "--python", "3.12", "--platform", "x86_64-apple-darwin"
    )
    assert code == 0, err
    assert 'python = "3.12", platforms = ["macos-x86_64-none"]' in out
    assert 'platforms = ["macos-x86_64-none"]' in (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "other").mkdir()
    code, _, err = pylock(capsys, "-p", str(tmp_path / "other"), "init", "--platform", "nope")
    assert code == 2 and "--platform" in err


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("sync", "Install exactly into DIR"),
        ("which", "Use the interpreter installed with"),
        ("run", "Use the interpreter installed with"),
        ("check", "Verify the interpreter installed with"),
        ("sync", "Install this platform's target"),
        ("which", "Use this platform's target"),
        ("run", "Use this platform's target"),
        ("check", "Check this platform's target"),
    ],
)
def test_into_and_platform_say_what_they_do_for_each_command(
    command: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pylock(capsys, command, "--help")
    assert code == 0
    assert " ".join(out.split()).count(" ".join(says.split())) == 1, out


@pytest.mark.parametrize(
    "args", [["--offline", "check", "--remote"], ["check", "--remote", "--offline"]]
)
def test_offline_anywhere_refuses_check_remote(
    args: list[str], synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pylock(capsys, "-p", str(synced), *args)
    assert code == 2 and "offline mode is on" in out
    result = script("-p", str(synced), *args)
    assert (result.returncode, result.stdout) == (2, out)


def test_which_still_answers_beside_a_broken_manifest(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pylock(capsys, "-p", str(synced), "which")[1]
    (synced / "pyproject.toml").write_text("[tool.pylock]\npython = [\n", "utf-8")
    code, out, err = pylock(capsys, "-p", str(synced), "which")
    assert (code, out) == (0, path)
    assert err.startswith("warning: cannot tell whether python.lock is current: ")
    assert "pyproject.toml" in err


def test_run_leaves_options_after_the_command_to_it(synced: Path) -> None:
    """`pylock run CMD -q -V` passes -q and -V to CMD (here sh), not to pylock."""
    result = script("-p", str(synced), "run", "sh", "-c", 'echo "args: $*"', "sh", "-q", "-V")
    assert (result.returncode, result.stdout, result.stderr) == (0, "args: -q -V\n", "")


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_reach_the_commands_settings(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--offline, --color and --no-progress, before or after the command, are what the
    command's Settings holds (cli/app.py resolves them once, in the app's callback)."""
    seen: list[Settings] = []

    @app.command("settings-probe", hidden=True)
    def probe(ctx: typer.Context) -> None:
        seen.append(ctx.obj.settings())

    click_command.cache_clear()  # main() runs the click command made of app: remake it
    command_options.cache_clear()  # and hoists global options by its table of commands
    try:
        options = ["--offline", "--color", "always", "--no-progress"]
        args = [*options, "settings-probe"] if where == "before" else ["settings-probe", *options]
        code, _, err = pylock(capsys, "-p", str(tmp_path), *args)
        assert code == 0, err
    finally:
        app.registered_commands.pop()
        click_command.cache_clear()
        command_options.cache_clear()
    (settings,) = seen
    assert (settings.offline, settings.color, settings.progress) == (True, "always", False)
