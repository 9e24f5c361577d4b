"""``pylock venv`` and the ``venv`` check: a virtual environment on the locked interpreter.

The check's verdicts are tested on ``pyvenv.cfg`` files written the way ``python -m venv`` and
uv write them; the command end to end on a real interpreter (this CPython repackaged as a PBS
archive, served from 127.0.0.1), through the installed console script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import console_script
from pbs_server import FakePBS
from pylock.commands.venv import INCOMPLETE, read_pyvenv_cfg
from real_interpreter import VERSION, lock_real, publish_real
from test_check import check, default_dir, environ, fake_install, make_target, project

__all__ = ["environ", "project"]  # fixtures used by the tests below

LINUX = "linux-x86_64-gnu"


def write_cfg(venv: Path, **values: str) -> Path:
    venv.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} = {value}" for key, value in values.items()]
    (venv / "pyvenv.cfg").write_text("\n".join(lines) + "\n", "utf-8")
    return venv


def installed_home(environ: dict[str, str]) -> Path:
    target = make_target(LINUX)
    fake_install(default_dir(environ, target), target)
    return default_dir(environ, target) / "bin"


def test_a_venv_made_by_python_on_the_locked_install_passes(
    project: Path, environ: dict[str, str]
) -> None:
    home = installed_home(environ)
    write_cfg(project / ".venv", home=str(home), executable=str(home), version="3.12.8")
    report = check(project, environ, platform=LINUX)
    venv = report.get("venv")
    assert venv.status == "pass", venv
    assert venv.data["home"] == str(home)
    assert venv.data["expected_home"] == str(home)
    assert venv.data["expected_version"] == "3.12.8"
    assert report.exit_code == 0


def test_a_venv_made_by_uv_on_the_locked_install_passes(
    project: Path, environ: dict[str, str]
) -> None:
    home = installed_home(environ)
    # uv writes version_info, and may spell home through a symlink.
    link = project / "link-to-bin"
    link.symlink_to(home, target_is_directory=True)
    write_cfg(project / ".venv", home=str(link), implementation="CPython", version_info="3.12.8")
    assert check(project, environ, platform=LINUX).get("venv").status == "pass"


def test_a_venv_from_another_interpreter_fails_naming_both(
    project: Path, environ: dict[str, str]
) -> None:
    home = installed_home(environ)
    other = Path(sys.base_prefix) / "bin"
    write_cfg(project / ".venv", home=str(other), version="3.12.8")
    report = check(project, environ, platform=LINUX)
    venv = report.get("venv")
    assert (venv.status, venv.exit_code, report.exit_code) == ("fail", 1, 1)
    assert str(other) in venv.summary and str(home) in venv.summary
    assert "pylock venv --clear" in venv.summary
    text = "\n".join(report.lines())
    assert "venv" in text.splitlines()[-1]


def test_an_incomplete_venv_fails(project: Path, environ: dict[str, str]) -> None:
    home = installed_home(environ)
    write_cfg(project / ".venv", home=str(home), version="3.12.8")
    (project / ".venv" / INCOMPLETE).write_bytes(b"")
    venv = check(project, environ, platform=LINUX).get("venv")
    assert (venv.status, venv.exit_code) == ("fail", 1)
    assert "incomplete" in venv.summary


def test_a_venv_of_another_version_fails(project: Path, environ: dict[str, str]) -> None:
    home = installed_home(environ)
    write_cfg(project / ".venv", home=str(home), version="3.12.7")
    venv = check(project, environ, platform=LINUX).get("venv")
    assert venv.status == "fail"
    assert "3.12.7" in venv.summary and "3.12.8" in venv.summary


def test_a_venv_without_the_interpreter_installed_fails(
    project: Path, environ: dict[str, str]
) -> None:
    write_cfg(project / ".venv", home="/somewhere/bin", version="3.12.8")
    venv = check(project, environ, platform=LINUX).get("venv")
    assert (venv.status, venv.exit_code) == ("fail", 1)
    assert "pylock sync" in venv.summary


def test_venv_option_names_the_venv_and_must_be_one(
    project: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    home = installed_home(environ)
    elsewhere = write_cfg(tmp_path / "env", home=str(home), version="3.12.8")
    write_cfg(project / ".venv", home="/usr/bin", version="3.12.8")  # not looked at
    assert check(project, environ, platform=LINUX, venv=elsewhere).get("venv").status == "pass"
    missing = check(project, environ, platform=LINUX, venv=tmp_path / "none").get("venv")
    assert (missing.status, missing.exit_code) == ("error", 2)


def test_pyvenv_cfg_versions_are_normalised(tmp_path: Path) -> None:
    cases = {"3.12.8": "3.12.8", "3.15.0.candidate.1": "3.15.0rc1", "3.13.1.final.0": "3.13.1"}
    for spelled, normal in cases.items():
        config = read_pyvenv_cfg(write_cfg(tmp_path / spelled, version_info=spelled))
        assert config is not None and config.version == normal
    assert read_pyvenv_cfg(tmp_path / "nothing") is None


# --- pylock venv, end to end ------------------------------------------------------------------


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_venv_refuses_a_directory_that_is_not_a_venv(tmp_path: Path) -> None:
    # The refusal comes before anything is read or downloaded: there is no lock at all.
    keep = tmp_path / "not-a-venv" / "keep.txt"
    keep.parent.mkdir()
    keep.write_text("precious\n", "utf-8")
    for extra in ([], ["--clear"]):
        done = run("-p", str(tmp_path), "venv", str(keep.parent), *extra)
        assert done.returncode == 2, done.stderr
        assert "not a virtual environment" in done.stderr and "Traceback" not in done.stderr
    assert keep.read_text("utf-8") == "precious\n"
    done = run("-p", str(tmp_path), "venv", str(keep))
    assert done.returncode == 2 and "not a directory" in done.stderr


def uv(root: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real uv, isolated in ``root`` and never downloading an interpreter of its own."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(root / "uv-home"),
        UV_CACHE_DIR=str(root / "uv-cache"),
        UV_PYTHON_INSTALL_DIR=str(root / "uv-python"),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
    )
    argv = [str(Path(sys.executable).with_name("uv")), *args]
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)


def venv_facts(venv: Path) -> dict[str, str]:
    probe = "import json, sys; print(json.dumps({'prefix': sys.prefix, 'base': sys.base_prefix}))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    facts: dict[str, str] = json.loads(done.stdout)
    return facts


@pytest.mark.slow
def test_venv_syncs_makes_a_real_venv_and_check_follows_it(
    fake_pbs: FakePBS,
    real_archive: tuple[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish_real(fake_pbs, real_archive)
    project = tmp_path / "project"
    project.mkdir()
    lock_real(project, fake_pbs, capsys)

    made = run("-p", str(project), "venv")
    assert made.returncode == 0, made.stderr
    assert "Installed the locked interpreter" in made.stdout
    assert "Created virtual environment" in made.stdout
    interpreter = Path(run("-p", str(project), "which").stdout.strip())
    venv = project / ".venv"
    config = read_pyvenv_cfg(venv)
    assert config is not None and config.home == str(interpreter.parent)
    assert config.version == VERSION
    facts = venv_facts(venv)
    assert Path(facts["base"]) == interpreter.parent.parent
    assert Path(facts["prefix"]) == venv

    checked = run("-p", str(project), "check", "--installed", "--format", "json")
    assert checked.returncode == 0, checked.stdout
    [venv_check] = [c for c in json.loads(checked.stdout)["checks"] if c["name"] == "venv"]
    assert venv_check["status"] == "pass"

    again = run("-p", str(project), "venv")
    assert again.returncode == 0 and "Already up to date" in again.stdout

    # uv keeps that venv: `uv sync` installs into it and the check still passes. And a venv made
    # by `uv venv --python "$(pylock which)"` passes the check as well.
    with (project / "pyproject.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('[project]\nname = "demo"\nversion = "0"\ndependencies = []\n')
    cfg_before = (venv / "pyvenv.cfg").read_bytes()
    synced = uv(tmp_path, "sync", "--offline", cwd=project)
    assert synced.returncode == 0, synced.stderr
    assert (venv / "pyvenv.cfg").read_bytes() == cfg_before
    assert run("-p", str(project), "check").returncode == 0
    made_by_uv = uv(tmp_path, "venv", "--python", str(interpreter), "uv-venv", cwd=project)
    assert made_by_uv.returncode == 0, made_by_uv.stderr
    checked = run("-p", str(project), "check", "--venv", str(project / "uv-venv"))
    assert checked.returncode == 0, checked.stdout
    assert "uv-venv is on the locked interpreter" in checked.stdout

    # A venv made by another interpreter (this one) fails the check, naming both homes.
    subprocess.run(
        [sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], check=True
    )
    checked = run("-p", str(project), "check")
    assert checked.returncode == 1
    foreign = read_pyvenv_cfg(venv)
    assert foreign is not None and foreign.home is not None
    assert foreign.home in checked.stdout and str(interpreter.parent) in checked.stdout

    refused = run("-p", str(project), "venv")
    assert refused.returncode == 2 and "--clear" in refused.stderr
    replaced = run("-p", str(project), "venv", "--clear")
    assert replaced.returncode == 0, replaced.stderr
    assert "Replaced virtual environment" in replaced.stdout
    assert run("-p", str(project), "check").returncode == 0

    # A --clear killed between moving the old venv aside and making the new one: the next run
    # puts the old one back instead of losing it.
    aside = project / "..venv.pylock-replaced-4194304"
    venv.replace(aside)
    recovered = run("-p", str(project), "venv")
    assert recovered.returncode == 0, recovered.stderr
    assert "Already up to date" in recovered.stdout
    assert not aside.exists() and read_pyvenv_cfg(venv) is not None

    # A run killed while `-m venv` was writing leaves a venv marked incomplete: the next run
    # replaces it without --clear, and the new one is complete (no mark, an interpreter).
    (venv / "bin" / "python").unlink()
    (venv / INCOMPLETE).write_bytes(b"")
    remade = run("-p", str(project), "venv")
    assert remade.returncode == 0, remade.stderr
    assert "Created virtual environment" in remade.stdout
    assert not (venv / INCOMPLETE).exists() and venv_facts(venv)["prefix"] == str(venv)
