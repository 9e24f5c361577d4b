"""``pylock demo``: the whole job, offline, through the installed console script, leaving
nothing outside its one directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from clirun import console_script, pylock
from pylock.commands import demo
from pylock.commands.demo import DemoLayout, steps
from pylock.commands.standin import Archive, build_archive
from pylock.resolution import lockfile

pytestmark = pytest.mark.slow  # builds or copies a ~25 MB archive of this interpreter


def _clean_env(home: Path, tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYLOCK_", "XDG_")) and k not in {"HOME", "TMPDIR"}
    }
    return {**env, "HOME": str(home), "TMPDIR": str(tmp)}


def test_demo_walks_the_whole_job_and_leaves_nothing_behind(tmp_path: Path) -> None:
    home, tmp, cwd = (tmp_path / name for name in ("home", "tmp", "cwd"))
    for directory in (home, tmp, cwd):
        directory.mkdir()
    result = subprocess.run(
        [str(console_script()), "demo"],
        cwd=cwd,
        env=_clean_env(home, tmp),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "STAND-IN" in out and "not a real python-build-standalone build" in out
    # every step, in order, each followed by what it printed
    commands = [line for line in out.splitlines() if line.startswith("$ pylock ")]
    assert [c.split()[2] for c in commands] == [
        "init",
        "lock",
        "sync",
        "sync",
        "which",
        "run",
        "check",
        "check",
        "sync",
        "check",
    ]
    assert "Updated python.lock:" in out and "Installed cpython " in out
    # it ends by changing a file of the install, which the deep check names (exit 1), and
    # mending it: the last check passes again
    tampered = out.split("$ pylock check --installed --deep\n", 2)
    assert "appends a line to " in tampered[0] and tampered[0].rstrip().endswith("this.py.")
    caught, mended = tampered[1], tampered[2]
    assert "fail   tree" in caught and "modified  lib/" in caught and "this.py" in caught
    assert "pylock check: tree did not pass (exit 1)." in caught
    assert "$ pylock sync --reinstall\nInstalled cpython " in caught
    assert "pass   tree" in mended and mended.split("\n\n")[0].endswith("all checks passed.")
    assert "is already installed at" in out
    assert "pylock check: all checks passed." in out
    assert "pylock init`, `pylock lock`" in out
    # the installed interpreter ran from inside the demo directory
    demo_root = Path(out.split("Removed ", 1)[1].split(".\n", 1)[0])
    assert demo_root.parent == tmp
    run_output = out.split("$ pylock run", 1)[1].splitlines()[1]
    assert run_output.startswith(str(demo_root / "python"))
    # nothing left anywhere: not in the temp dir, the home dir (caches) or the working dir
    assert [list(d.iterdir()) for d in (home, tmp, cwd)] == [[], [], []]


def test_demo_dir_is_kept_and_holds_a_real_lock_and_install(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    isolated_environment: Path,
    standin_archive: Archive,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test above builds the stand-in as the demo does; this one starts from the run's copy
    # of the same build, which build_archive reuses by its stamp instead of rebuilding.
    def prebuilt(out_dir: Path, triple: str, **options: object) -> Archive:
        shutil.copytree(standin_archive.path.parent, out_dir, dirs_exist_ok=True)
        return build_archive(out_dir, triple, compresslevel=1)

    monkeypatch.setattr(demo, "build_archive", prebuilt)
    root = tmp_path / "demo"
    code, out, err = pylock(capsys, "demo", "--dir", str(root))
    assert code == 0, out + err
    assert f"Kept {root}." in out
    layout = DemoLayout(root)
    (target,) = lockfile.read(layout.project / "python.lock").targets
    assert target.build == "20990101" and target.url.startswith("file://")
    assert sorted(p.name for p in root.iterdir()) == ["cache", "mirror", "project", "python"]
    assert not any(isolated_environment.iterdir())  # the test's own PYLOCK dirs stay untouched
    assert len(steps(layout, target.version)) == out.count("\n$ pylock ")


def test_demo_refuses_a_non_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "something").write_text("x")
    code, _, err = pylock(capsys, "demo", "--dir", str(tmp_path))
    assert code == 2
    assert "is not empty" in err and "--dir" in err
    assert [p.name for p in tmp_path.iterdir()] == ["something"]
