"""The rough edges of issue 19, end to end through the command line: advice that must work in the
state it is given, mistyped input caught at once, and what a reviewer sees of a lock change.

Most tests lock from a local mirror directory (``{mirror}/{build}/{asset}`` plus ``SHA256SUMS``,
what ``pylock mirror`` writes) holding real, installable PBS-shaped archives for this host, so
the sequences a user runs offline (lock, check, sync, which) run here for real.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archives import asset_name, build_pbs_archive
from clirun import pylock
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile

HOST = host_platform()
BUILD = "20250101"
OLDER = "20241201"
VERSIONS = ("3.12.8", "3.11.9")


def add_build(mirror: Path, build: str, versions: tuple[str, ...]) -> dict[str, bytes]:
    """One build directory of a mirror: an install_only archive per version for this host, and
    the build's SHA256SUMS. Returns {asset name: bytes}."""
    directory = mirror / build
    directory.mkdir(parents=True, exist_ok=True)
    bodies = {}
    for version in versions:
        name = asset_name(version=version, build=build, triple=HOST.triple, flavor="install_only")
        bodies[name] = build_pbs_archive(version=version, flavor="install_only")
        (directory / name).write_bytes(bodies[name])
    sums = "".join(
        f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in sorted(bodies.items())
    )
    (directory / "SHA256SUMS").write_text(sums, "utf-8")
    return bodies


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    add_build(root, BUILD, VERSIONS)
    add_build(root, OLDER, ("3.12.7",))
    return root


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.pylock]\npython = "3.12"\nplatforms = ["{HOST.key}"]\n',
        "utf-8",
    )
    return root


def run(capsys: pytest.CaptureFixture[str], proj: Path, *args: str) -> tuple[int, str, str]:
    return pylock(capsys, "-p", str(proj), *args)


# --- item 6: a mistyped source is caught on every run, without network ---------------------


def test_a_misspelled_source_on_a_current_lock_is_bad_input(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}")[0] == 0
    before = (proj / "python.lock").read_bytes()
    code, out, err = run(capsys, proj, "lock", "--source", "bogus:/x")
    assert code == 2, out + err
    assert "--source: 'bogus:/x' is not a source: unknown prefix 'bogus'" in err
    assert "up to date" not in out
    assert (proj / "python.lock").read_bytes() == before


@pytest.mark.parametrize(("typed", "meant"), [("githb", "github"), ("Github", "github")])
def test_a_keyword_typo_is_not_taken_for_a_mirror_directory(
    capsys: pytest.CaptureFixture[str], proj: Path, typed: str, meant: str
) -> None:
    code, _, err = run(capsys, proj, "lock", "--source", typed)
    assert code == 2, err
    assert f"there is no mirror directory {typed!r} in {proj}" in err
    assert f"Did you mean `{meant}`?" in err
    assert err.count("\n") == 1  # one paragraph


def test_a_directory_that_is_there_is_a_mirror_whatever_its_name(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    (mirror.rename(proj / "githb"))
    code, out, err = run(capsys, proj, "lock", "--source", "githb")
    assert code == 0, err
    assert lockfile.read(proj / "python.lock").targets[0].version == "3.12.8"
    assert "Updated python.lock" in out


@pytest.mark.parametrize("command", [["check"], ["show"], ["sync", "--reinstall"]])
def test_pylock_source_is_checked_by_every_command(
    capsys: pytest.CaptureFixture[str],
    proj: Path,
    mirror: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}")[0] == 0
    monkeypatch.setenv("PYLOCK_SOURCE", "catalg:./pbs.json")
    code, _, err = run(capsys, proj, *command)
    assert code == 2, err
    assert "PYLOCK_SOURCE: 'catalg:./pbs.json' is not a source" in err
    assert "Did you mean `catalog:`?" in err
