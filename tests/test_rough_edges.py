"""The rough edges of issue 19, end to end through the command line: advice that must work in the
state it is given, mistyped input caught at once, and what a reviewer sees of a lock change.

Most tests lock from a local mirror directory (``{mirror}/{build}/{asset}`` plus ``SHA256SUMS``,
what ``pylock mirror`` writes) holding real, installable PBS-shaped archives for this host, so
the sequences a user runs offline (lock, check, sync, which) run here for real.
"""

from __future__ import annotations

import hashlib
import sys
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
    mirror.rename(proj / "githb")
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


# --- item 3: a lock resolved from a non-default source says so, and every re-lock hint names it


def edit_python(proj: Path, python: str) -> None:
    path = proj / "pyproject.toml"
    text = path.read_text("utf-8")
    path.write_text(text.replace('python = "3.12"', f'python = "{python}"'), "utf-8")


def test_a_lock_from_a_mirror_records_it_and_every_relock_hint_names_it(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    source = f"mirror:{mirror}"
    assert run(capsys, proj, "lock", "--source", source)[0] == 0
    text = (proj / "python.lock").read_text("utf-8")
    assert "lock-version = 3" in text and f'source = "{source}"' in text
    assert run(capsys, proj, "sync")[0] == 0
    relock = f"pylock lock --source {source}"
    code, _, err = run(capsys, proj, "which", "--platform", "windows-x86_64-none")
    assert code == 2
    assert f"`pylock lock --platform windows-x86_64-none --source {source}`" in err

    edit_python(proj, "3.11")  # the manifest moves on: every command now says how to re-lock
    code, out, _ = run(capsys, proj, "check")
    assert code == 1 and f"(run `{relock}`)" in out
    code, _, err = run(capsys, proj, "sync")
    assert code == 1 and f"Run `{relock}` to update it" in err
    code, _, err = run(capsys, proj, "which")
    assert code == 0 and f"Run `{relock}`, then `pylock sync`." in err

    # ... and the advice works as given, with no network at all
    code, out, err = run(capsys, proj, "--offline", *relock.split()[1:])
    assert code == 0, err
    assert "3.11.9" in out
    assert run(capsys, proj, "--offline", "sync")[0] == 0
    assert run(capsys, proj, "check", "--installed")[0] == 0


def test_a_refused_download_advises_relocking_from_the_recorded_source(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    """Advice written below the lock's reach (the download only knows the target) names the
    lock's source too."""
    source = f"mirror:{mirror}"
    assert run(capsys, proj, "lock", "--source", source)[0] == 0
    (target,) = lockfile.read(proj / "python.lock").targets
    (mirror / BUILD / target.asset_name).write_bytes(b"re-uploaded bytes")
    code, _, err = run(capsys, proj, "sync")
    assert code == 1, err
    assert f"re-lock with `pylock lock --upgrade --source {source}`" in err


def test_the_projects_own_source_is_not_recorded(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    manifest = proj / "pyproject.toml"
    manifest.write_text(manifest.read_text("utf-8") + f'source = "mirror:{mirror}"\n', "utf-8")
    assert run(capsys, proj, "lock")[0] == 0
    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}", "--upgrade")[0] == 0
    text = (proj / "python.lock").read_text("utf-8")
    # no recorded source (the lock is version 3 all the same: it records that no attestation
    # was found, under the default provenance policy)
    assert "source =" not in text and 'provenance = "none"' in text
    edit_python(proj, "3.11")
    assert "(run `pylock lock`)" in run(capsys, proj, "check")[1]


def test_a_recorded_source_keeps_no_credential() -> None:
    from pylock.base.settings import Settings

    settings = Settings.resolve(environ={}, source="mirror:https://ci:s3cret@pbs.example/m")
    assert settings.source is not None
    assert lockfile.persisted_source(settings.source) == "mirror:https://pbs.example/m"
    assert lockfile.persisted_source("catalog:./pbs.json") == "catalog:./pbs.json"


# --- item 8: a file: URL needs no network, so --offline allows it ---------------------------


def test_offline_sync_and_check_remote_read_a_locked_file_url(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}")[0] == 0
    (target,) = lockfile.read(proj / "python.lock").targets
    assert target.url.startswith("file://")
    code, out, err = run(capsys, proj, "--offline", "sync")  # nothing cached: read from the file
    assert code == 0, err
    assert "Installed cpython 3.12.8" in out
    code, out, _ = run(capsys, proj, "--offline", "check", "--remote")
    assert code == 0, out
    assert "pass   remote" in out


# --- item 2: `lock --python` sets the manifest's request, so no documented sequence loops -----


def test_lock_python_sets_the_manifest_and_every_command_agrees(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    manifest = proj / "pyproject.toml"
    manifest.write_text(manifest.read_text("utf-8") + "# the team's notes stay\n", "utf-8")
    code, out, err = run(capsys, proj, "lock", "--python", "3.11", "--source", f"mirror:{mirror}")
    assert code == 0, err
    assert f'Set [tool.pylock].python = "3.11" in {manifest} (it was "3.12").' in out
    assert manifest.read_text("utf-8") == (
        f'[project]\nname = "demo"\n\n[tool.pylock]\npython = "3.11"\n'
        f'platforms = ["{HOST.key}"]\n# the team\'s notes stay\n'
    )
    assert lockfile.read(proj / "python.lock").targets[0].version == "3.11.9"
    assert run(capsys, proj, "check")[0] == 0  # not "python: 3.11.9 (locked) -> 3.12"
    code, out, err = run(capsys, proj, "sync")
    assert code == 0, err
    assert "Installed cpython 3.11.9" in out
    code, out, err = run(capsys, proj, "which")
    assert (code, err) == (0, "")
    assert "3.11.9" in out
    assert run(capsys, proj, "lock")[1] == "python.lock is up to date.\n"


def test_lock_python_dry_run_and_a_failed_lock_change_nothing(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    before = (proj / "pyproject.toml").read_bytes()
    args = ("--source", f"mirror:{mirror}")
    code, out, _ = run(capsys, proj, "lock", "--python", "3.11", "--dry-run", *args)
    assert code == 0 and 'Would set [tool.pylock].python = "3.11"' in out
    assert not (proj / "python.lock").exists()
    assert run(capsys, proj, "lock", "--python", "3.99", *args)[0] == 1  # nothing matches
    assert (proj / "pyproject.toml").read_bytes() == before
    assert not (proj / "python.lock").exists()


def test_lock_python_replaces_a_matrix_and_says_what_it_was(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    manifest = proj / "pyproject.toml"
    manifest.write_text(manifest.read_text("utf-8").replace('"3.12"', '["3.12", "3.11"]'), "utf-8")
    args = ("--source", f"mirror:{mirror}")
    assert run(capsys, proj, "lock", *args)[0] == 0
    code, out, _ = run(capsys, proj, "lock", "--python", "3.11", *args)
    assert code == 0
    assert 'Set [tool.pylock].python = "3.11" in' in out and '(it was ["3.12", "3.11"])' in out
    assert 'python = "3.11"\n' in manifest.read_text("utf-8")
    assert run(capsys, proj, "check")[0] == 0


def test_the_stale_lock_sequence_ends(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    """The manifest moves on before anything is installed: `which` advises what works in that
    state (lock, then sync: a plain sync would refuse the stale lock), and doing it ends well."""
    source = f"mirror:{mirror}"
    assert run(capsys, proj, "lock", "--source", source)[0] == 0
    edit_python(proj, "3.11")
    code, _, err = run(capsys, proj, "which")
    assert code == 1
    assert f"run `pylock lock --source {source}`, then `pylock sync`" in err
    assert "or `pylock sync --frozen`" in err
    assert run(capsys, proj, "sync")[0] == 1  # the advice was right not to say only this
    assert run(capsys, proj, "lock", "--source", source)[0] == 0
    assert run(capsys, proj, "sync")[0] == 0
    code, out, err = run(capsys, proj, "which")
    assert (code, err) == (0, "") and "3.11.9" in out


# --- item 4: no network: the error names the sources that need none --------------------------


def test_lock_with_no_network_names_the_offline_routes(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    code, _, err = run(capsys, proj, "--offline", "lock")  # github, nothing in the HTTP cache
    assert code == 3, err
    assert "offline mode is on" in err
    assert "`pylock lock --source catalog:FILE`" in err and "`--source mirror:DIR`" in err
    assert "docs/sources.md" in err
    assert err.count("\n") == 1


def test_an_unreachable_source_names_the_offline_routes_and_a_local_one_does_not(
    proj: Path, mirror: Path
) -> None:
    from pylock.base.settings import Settings
    from pylock.errors import ExternalError
    from pylock.net.http import HttpPolicy
    from pylock.resolution.locker import LockOptions, lock_project

    quick = HttpPolicy(retries=0, backoff=0.0, timeout=2.0)
    closed = "github:http://127.0.0.1:1/repos/astral-sh/python-build-standalone"  # refused
    settings = Settings.resolve(environ={}, source=closed, http=quick)
    with pytest.raises(ExternalError) as info:
        lock_project(proj, LockOptions(), settings=settings)
    assert "Check your network" in str(info.value)
    assert "--source catalog:FILE" in str(info.value)

    from pylock.base.sourcespec import naming_offline_routes

    for spec in (f"mirror:{mirror}", "catalog:./pbs.json", "index:file:///srv/v.ndjson"):
        with pytest.raises(ExternalError) as local, naming_offline_routes(spec, "pylock lock"):
            raise ExternalError("Cannot read it: Input/output error.", hint="Check the disk.")
        assert local.value.hint == "Check the disk."  # a local source needs no network anyway


# --- item 5: a resolution error never points at a list that is not there ---------------------


def test_an_unknown_release_names_how_to_see_the_releases_the_source_has(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    source = f"mirror:{mirror}"
    code, _, err = run(capsys, proj, "lock", "--build", "20250102", "--source", source)
    assert code == 1, err
    assert "Release 20250102 is not known to the source." in err
    assert "listed above" not in err
    listing = f"pylock list 3.12 --all-builds --platform {HOST.key} --source {source}"
    assert f"Pin a release it has (`{listing}` lists them), or drop the build pin" in err
    code, out, _ = run(capsys, proj, *listing.split()[1:])  # the advice works as given
    assert code == 0
    assert BUILD in out and OLDER in out


def test_a_flavor_nobody_has_is_not_told_to_match_a_version_listed_above(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    code, _, err = run(capsys, proj, "lock", "--flavor", "pgo-full", "--source", f"mirror:{mirror}")
    assert code == 1, err
    assert "No build of that variant and flavor exists" in err
    assert "listed above" not in err and "lists what the source has" in err


# --- item 7: every setting is checked on every full run, quoted as given, naming its source --


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--http-timeout", "-5"), "--http-timeout is '-5', which is not a positive number"),
        (("--http-timeout", "0"), "--http-timeout is '0', which is not a positive number"),
        (("--http-timeout", "1e400"), "--http-timeout is '1e400', which is not a finite number"),
        (("--http-timeout", "soon"), "--http-timeout is 'soon', which is not a number of seconds"),
        (("--http-deadline", "-1"), "--http-deadline is '-1', which is negative"),
        (
            ("--mirror", "ftp://pbs.example/m"),
            "--mirror is 'ftp://pbs.example/m', which is neither",
        ),
    ],
)
def test_a_bad_option_value_is_quoted_as_typed(
    capsys: pytest.CaptureFixture[str], proj: Path, args: tuple[str, ...], words: str
) -> None:
    code, _, err = run(capsys, proj, "check", *args)
    assert code == 2, err
    assert words in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("PYLOCK_HTTP_TIMEOUT", "abc", "PYLOCK_HTTP_TIMEOUT is 'abc', which is not a number"),
        ("PYLOCK_OFFLINE", "maybe", "PYLOCK_OFFLINE is 'maybe', which is neither on nor off"),
        ("PYLOCK_MAX_INSTALL_MEMBERS", "0", "PYLOCK_MAX_INSTALL_MEMBERS is '0'"),
        (
            "PYLOCK_MIRROR",
            "s3://ci:secret@bucket/pbs",
            "PYLOCK_MIRROR is 's3://ci:****@bucket/pbs'",
        ),
        ("PYLOCK_SOURCE", "bogus:/x", "PYLOCK_SOURCE: 'bogus:/x' is not a source"),
    ],
)
@pytest.mark.parametrize("command", [("lock",), ("check",), ("sync",), ("which",)])
def test_a_bad_environment_value_stops_a_run_that_needs_no_download(
    capsys: pytest.CaptureFixture[str],
    proj: Path,
    mirror: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    variable: str,
    value: str,
    words: str,
) -> None:
    """The lock is current and the archive cached (sync takes the full path here, typer's):
    nothing would be fetched, and the bad value is an error all the same."""
    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}")[0] == 0
    assert run(capsys, proj, "sync")[0] == 0
    monkeypatch.setenv(variable, value)
    code, _, err = run(capsys, proj, *command)
    assert code == 2, err
    assert words in err and "secret" not in err


def test_the_console_scripts_memo_never_replays_under_a_misspelled_source_or_mirror(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    """The memo answers `check` and `which` without Settings; a value Settings would refuse is
    refused there too (it is part of the memo's key, so the full path runs and refuses it)."""
    import os
    import subprocess

    from clirun import console_script

    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}")[0] == 0
    assert run(capsys, proj, "sync")[0] == 0

    def script(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(console_script()), "-p", str(proj), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=False,
        )

    for command in ("check", "which"):
        assert script(command).returncode == 0  # remembered
        assert script(command).returncode == 0  # replayed
        for variable, value in (("PYLOCK_SOURCE", "bogus:/x"), ("PYLOCK_MIRROR", "ftp://x/m")):
            done = script(command, **{variable: value})
            assert done.returncode == 2, (command, variable, done.stdout + done.stderr)
            assert variable in done.stderr


# --- item 8: the project directory, platform aliases ------------------------------------------


@pytest.mark.parametrize("command", ["sync", "check", "lock", "which", "show", "init"])
def test_a_missing_project_directory_is_named_on_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    missing = tmp_path / "nowhere"
    code, _, err = pylock(capsys, "-p", str(missing), command)
    assert code == 2, err
    assert f"The project directory {missing} (-p/--project) does not exist." in err
    assert "Create it with `pylock lock`" not in err  # the advice that did not work
    assert err.count("\n") == 1


def test_the_console_script_names_a_missing_project_directory_too(tmp_path: Path) -> None:
    import subprocess

    from clirun import console_script

    for command in ("sync", "check"):  # the launcher's typer-free path
        done = subprocess.run(
            [str(console_script()), "-p", str(tmp_path / "nowhere"), command],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "(-p/--project) does not exist" in done.stderr


def test_a_pyproject_that_is_a_directory_is_not_called_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").mkdir()
    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock")
    assert code == 2
    assert "pyproject.toml is a directory, not a file." in err and "not found" not in err


@pytest.mark.parametrize(
    ("spelled", "key"),
    [
        ("linux-amd64", "linux-x86_64-gnu"),
        ("linux-x86_64", "linux-x86_64-gnu"),
        ("linux-arm64-musl", "linux-aarch64-musl"),
        ("macos-arm64", "macos-aarch64-none"),
        ("darwin-arm64", "macos-aarch64-none"),
        ("windows-x64", "windows-x86_64-none"),
    ],
)
def test_common_platform_aliases_are_read_as_the_key_they_mean(
    capsys: pytest.CaptureFixture[str], proj: Path, spelled: str, key: str
) -> None:
    (proj / "pyproject.toml").unlink()
    code, out, err = run(capsys, proj, "init", "--python", "3.12", "--platform", spelled)
    assert code == 0, err
    assert f'platforms = ["{key}"]' in out
    assert f'"{key}"' in (proj / "pyproject.toml").read_text("utf-8")


def test_an_unknown_platform_is_suggested_by_meaning(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    code, _, err = run(capsys, proj, "lock", "--platform", "linux-amd64-glibc")
    assert code == 2
    assert "Did you mean 'linux-x86_64-gnu'?" in err


# --- item 9: the same build with new bytes ------------------------------------------------


def republish(mirror: Path, version: str = "3.12.8") -> str:
    """The mirror's archive of ``version`` replaced by other bytes under the same name (one more
    file in the tree), its SHA256SUMS updated: what a re-uploaded release asset looks like."""
    name = asset_name(version=version, build=BUILD, triple=HOST.triple, flavor="install_only")
    from archives import file

    body = build_pbs_archive(
        version=version, flavor="install_only", extra_members=[file("python/NOTICE", b"v2\n")]
    )
    (mirror / BUILD / name).write_bytes(body)
    sums = mirror / BUILD / "SHA256SUMS"
    lines = [line for line in sums.read_text("utf-8").splitlines() if not line.endswith(name)]
    sums.write_text("\n".join([*lines, f"{hashlib.sha256(body).hexdigest()}  {name}"]) + "\n")
    return hashlib.sha256(body).hexdigest()


def test_a_build_with_new_bytes_is_shown_and_warned_about(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    source = f"mirror:{mirror}"
    assert run(capsys, proj, "lock", "--source", source)[0] == 0
    (before,) = lockfile.read(proj / "python.lock").targets
    after = republish(mirror)
    code, out, err = run(capsys, proj, "lock", "--upgrade", "--source", source)
    assert code == 0, err
    assert (
        f"  ~ {HOST.key}: 3.12.8 ({BUILD}, install_only), new bytes: "
        f"sha256 {before.sha256[:12]}… -> {after[:12]}…"
    ) in out
    assert "3.12.8 (20250101, install_only) -> 3.12.8" not in out
    assert err.startswith("warning: ")
    assert f"the same build 3.12.8 ({BUILD}, install_only) now has other bytes" in err
    assert before.sha256[:12] in err and after[:12] in err


def test_check_reports_an_install_of_the_same_build_with_other_bytes(
    capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path
) -> None:
    import json

    from test_check import SCHEMA, validate_schema

    source = f"mirror:{mirror}"
    assert run(capsys, proj, "lock", "--source", source)[0] == 0
    assert run(capsys, proj, "sync")[0] == 0
    (installed,) = lockfile.read(proj / "python.lock").targets
    after = republish(mirror)
    assert run(capsys, proj, "lock", "--upgrade", "--source", source)[0] == 0

    code, out, _ = run(capsys, proj, "check", "--installed", "--format", "json")
    assert code == 1
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    (check,) = [c for c in report["checks"] if c["name"] == "installed"]
    (entry,) = check["data"]["same_build_new_bytes"]
    assert entry["installed_sha256"] == installed.sha256 and entry["locked_sha256"] == after
    assert any(d.startswith("warning: the same build 3.12.8") for d in check["details"])
    code, out, _ = run(capsys, proj, "check", "--installed")
    assert code == 1 and "with other bytes (sha256" in out


# --- item 10: what a terminal user sees --------------------------------------------------------


def in_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``args`` run with stdin, stdout and stderr on a real pseudo-terminal (120 columns): its
    exit code and everything it wrote there."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        args, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(), b"".join(chunks).decode("utf-8", "replace")


def script_env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    return {**env, "TERM": "xterm-256color", **extra}


@pytest.fixture
def checked(capsys: pytest.CaptureFixture[str], proj: Path, mirror: Path) -> Path:
    assert run(capsys, proj, "lock", "--source", f"mirror:{mirror}")[0] == 0
    assert run(capsys, proj, "sync")[0] == 0
    return proj


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_check_is_coloured_on_a_terminal_and_plain_when_told_or_piped(checked: Path) -> None:
    import subprocess

    from clirun import console_script

    check = [str(console_script()), "-p", str(checked), "check"]
    for _ in range(2):  # the full path, then the memo's replay: both coloured on a terminal
        code, out = in_a_terminal(check, script_env())
        assert code == 0, out
        assert "\x1b[32mpass \x1b[0m  lock-valid" in out
        assert "\x1b[33mskip \x1b[0m  tree" in out
    for told in (script_env(NO_COLOR="1"), script_env()):
        args = check if "NO_COLOR" in told else [*check, "--color", "never"]
        code, out = in_a_terminal(args, told)
        assert code == 0 and "\x1b[" not in out and "pass   lock-valid" in out, out
    piped = subprocess.run(check, capture_output=True, text=True, env=script_env(), check=False)
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout  # not the terminal's memo
    forced = subprocess.run(
        [*check, "--color", "always"], capture_output=True, text=True, env=script_env()
    )
    assert "\x1b[32mpass" in forced.stdout

    (checked / "pyproject.toml").write_text(
        (checked / "pyproject.toml").read_text("utf-8").replace('"3.12"', '"3.11"'), "utf-8"
    )
    code, out = in_a_terminal(check, script_env())
    assert code == 1
    assert "\x1b[1;31mfail \x1b[0m  lock-current" in out


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_the_progress_bar_shows_bytes_and_speed_on_a_terminal(proj: Path, mirror: Path) -> None:
    """A download that takes a second, from a loopback mirror that sends the archive in
    pieces: the bar drawn on the terminal says how many bytes of how many, and how fast."""
    import re
    import threading
    import time
    from urllib.parse import quote

    from clirun import console_script
    from test_download import Handler, Loopback

    lock_script = [str(console_script()), "-p", str(proj)]
    assert (
        in_a_terminal([*lock_script, "lock", "--source", f"mirror:{mirror}"], script_env())[0] == 0
    )
    (target,) = lockfile.read(proj / "python.lock").targets
    body = (mirror / BUILD / target.asset_name).read_bytes()
    done = threading.Event()

    def slowly(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        pieces = 12
        for index in range(pieces):
            h.wfile.write(body[index * len(body) // pieces : (index + 1) * len(body) // pieces])
            h.wfile.flush()
            if done.wait(0.1):
                break
        h.close_connection = True

    server = Loopback()
    try:
        server.route(f"/m/{BUILD}/{quote(target.asset_name, safe='')}", slowly)
        started = time.monotonic()
        code, out = in_a_terminal(
            [*lock_script, "sync", "--mirror", server.url("/m")], script_env()
        )
    finally:
        done.set()
        server.close()
    assert code == 0, out
    assert time.monotonic() - started > 1.0
    unit = r"(bytes|[kMG]B)"
    assert re.search(rf"(?<![\d.])0\.[1-9]/\d+(\.\d+)? {unit}", out), out  # bytes done of the total
    assert re.search(rf"\d+(\.\d+)? {unit}/s", out), out  # the speed
    assert "Installed cpython 3.12.8" in out


def test_show_and_list_tables_have_a_header_row(
    capsys: pytest.CaptureFixture[str], checked: Path, mirror: Path
) -> None:
    code, out, _ = run(capsys, checked, "show")
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.split() == ["PLATFORM", "VERSION", "BUILD", "FLAVOR", "SHA256", "INSTALLED", "AT"]
    assert row.split()[0] == HOST.key
    assert header.index("VERSION") == row.index("3.12.8")  # the columns line up
    code, out, _ = run(capsys, checked, "list", "--source", f"mirror:{mirror}")
    assert code == 0
    header, first = out.splitlines()[:2]
    assert header.split() == ["VERSION", "BUILD", "PLATFORM", "VARIANT", "FLAVOR", "SIZE"]
    assert header.index("BUILD") == first.index(BUILD)
    assert header.rindex("SIZE") + len("SIZE") == first.rindex("MB") + len("MB")


def test_counts_read_as_english(
    capsys: pytest.CaptureFixture[str], checked: Path, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, checked, "mirror", str(tmp_path / "copy"))
    assert code == 0 and f"Mirrored 1 archive into {tmp_path / 'copy'}" in out, out
    code, out, _ = run(capsys, checked, "export", "uv", "-o", str(tmp_path / "d.json"))
    assert code == 0 and "(1 locked target)" in out, out
    assert "(s)" not in out
    code, out, _ = run(capsys, checked, "check")
    assert "python.lock is valid (1 target)." in out


def test_help_lists_every_command_in_full_and_each_command_the_global_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    os.environ["COLUMNS"] = "80"
    try:
        code, out, _ = pylock(capsys, "--help")
    finally:
        del os.environ["COLUMNS"]
    assert code == 0
    listed = " ".join(out.split("Commands:", 1)[1].split())
    from pylock.cli.app import click_command

    for name, command in click_command().commands.items():
        sentence = " ".join((command.help or "").split(". ")[0].split()).rstrip(".") + "."
        assert f"{name} {sentence}" in listed, name  # in full, however long
    assert "Install exactly the interpreter python.lock names for this machine." in listed
    assert not any(
        row.rstrip().endswith("...") for row in out.split("Commands:", 1)[1].splitlines()
    )
    for command in (["sync"], ["check"], ["export", "uv"]):
        code, out, _ = pylock(capsys, *command, "-h")
        assert code == 0
        own, common = out.split("Global options:")
        assert "-p, --project DIR" in common and "--offline" in common and "--quiet" in common
        assert "--offline" not in own
