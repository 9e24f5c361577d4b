"""A test matrix: several python requests in one python.lock, end to end through the console
script (a child process running the installed ``pylock`` executable, as CI runs it).

The 3-request, 3-platform lock resolves against the sample releases on the fake GitHub (the real
PBS asset names of uv's metadata sample); syncing side by side uses archives built by
tests/archives.py whose stand-in interpreters report their own version, so pylock's version
check holds each install to its request.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from archives import asset_name, build_pbs_archive
from clirun import console_script
from pbs_server import FakePBS
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile
from real_interpreter import BUILD, MINOR, VERSION
from test_check import SCHEMA, validate_schema

pytestmark = pytest.mark.slow  # every test runs the console script several times

THREE = ("linux-x86_64-gnu", "macos-aarch64-none", "windows-x86_64-none")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, check=False
    )


def write_manifest(project: Path, pythons: list[str], platforms: tuple[str, ...]) -> None:
    listed = ", ".join(f'"{p}"' for p in pythons)
    keys = ", ".join(f'"{p}"' for p in platforms)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.pylock]\npython = [{listed}]\nplatforms = [{keys}]\n',
        "utf-8",
    )


def blocks(text: str) -> dict[tuple[str, str], str]:
    """Each [[target]] table's text by (request, platform)."""
    found = {}
    for block in text.split("[[target]]")[1:]:
        values = dict(line.split(" = ", 1) for line in block.strip().splitlines() if " = " in line)
        found[values["request"].strip('"'), values["platform"].strip('"')] = block
    return found


@pytest.fixture
def sample(fake_pbs: FakePBS) -> FakePBS:
    fake_pbs.add_sample_releases()
    return fake_pbs


def test_three_requests_three_platforms(
    sample: FakePBS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_manifest(tmp_path, ["3.13", "3.12", "3.13t"], THREE)
    monkeypatch.setenv("PYLOCK_SOURCE", sample.spec)  # a lock that records no --source
    done = cli("-p", str(tmp_path), "lock")
    assert done.returncode == 0, done.stderr
    lock = lockfile.read(tmp_path / "python.lock")
    assert lock.manifest.pythons == ("3.13", "3.12", "3.13t")
    # Request order (the default first), then platform order: deterministic.
    assert [(t.request, t.platform) for t in lock.targets] == [
        (request, platform) for request in ("3.13", "3.12", "3.13t") for platform in THREE
    ]
    answers = {(t.request, t.version, t.build, t.variant) for t in lock.targets}
    # Each request resolves as it would alone: the newest release with it on every platform.
    assert answers == {
        ("3.13", "3.13.12", "20260325", "default"),
        ("3.12", "3.12.8", "20250115", "default"),
        ("3.13t", "3.13.12", "20260325", "freethreaded"),
    }
    text = (tmp_path / "python.lock").read_text("utf-8")
    assert 'python = ["3.13", "3.12", "3.13t"]' in text
    # a matrix needs lock-version 2, and the provenance records (none: the fake attests
    # nothing) version 3 (docs/lockfile.md)
    assert "lock-version = 3" in text and text.count('provenance = "none"') == 9
    # The matrix spans two releases, and the command says which and why.
    assert "The matrix spans 2 PBS releases (20260325, 20250115):" in done.stdout
    assert "3.12: 20250115, the newest release with a 3.12 build for every platform" in (
        done.stdout
    )
    assert "+ 3.12 linux-x86_64-gnu: 3.12.8 (20250115, install_only_stripped)" in done.stdout

    # Locking again changes nothing and says so; the check passes.
    again = cli("-p", str(tmp_path), "lock", "--source", sample.spec)
    assert (again.returncode, again.stdout.strip()) == (0, "python.lock is up to date.")
    assert (tmp_path / "python.lock").read_text("utf-8") == text
    checked = cli("-p", str(tmp_path), "check")
    assert checked.returncode == 0, checked.stdout


def test_editing_one_request_re_resolves_only_its_targets(sample: FakePBS, tmp_path: Path) -> None:
    write_manifest(tmp_path, ["3.13", "3.12", "3.13t"], THREE)
    assert cli("-p", str(tmp_path), "lock", "--source", sample.spec).returncode == 0
    before = (tmp_path / "python.lock").read_text("utf-8")

    write_manifest(tmp_path, ["3.13", "3.12", "3.14t"], THREE)
    # Stale: sync refuses and check fails, each naming the request that moved.
    stale = cli("-p", str(tmp_path), "check")
    assert stale.returncode == 1
    assert "python of 3.14t" in stale.stdout
    assert "request 3.14t: python: 3.13.12t (locked) -> 3.14t" in stale.stdout
    report = json.loads(cli("-p", str(tmp_path), "check", "--format", "json").stdout)
    validate_schema(report, SCHEMA)
    current = {c["name"]: c for c in report["checks"]}["lock-current"]
    assert [(d["request"], d["input"]) for d in current["data"]["drift"]] == [("3.14t", "python")]
    refused = cli("-p", str(tmp_path), "sync", "--platform", "linux-x86_64-gnu")
    assert refused.returncode == 1
    assert "request 3.14t: python" in refused.stderr

    done = cli("-p", str(tmp_path), "lock", "--source", sample.spec)
    assert done.returncode == 0, done.stderr
    after = (tmp_path / "python.lock").read_text("utf-8")
    old, new = blocks(before), blocks(after)
    for request in ("3.13", "3.12"):
        for platform in THREE:
            assert new[request, platform] == old[request, platform]  # byte for byte
    lock = lockfile.read(tmp_path / "python.lock")
    assert {(t.version, t.variant) for t in lock.view("3.14t").targets} == {
        ("3.14.3", "freethreaded")
    }
    assert "~ 3.14t linux-x86_64-gnu: 3.13.12 (20260325" in done.stdout
    lines = done.stdout.splitlines()
    changed = [line.split(":")[0] for line in lines if line.startswith(("  ~", "  +", "  -"))]
    assert changed == [f"  ~ 3.14t {platform}" for platform in THREE]  # nothing else moved
    assert cli("-p", str(tmp_path), "check").returncode == 0


def test_an_exact_pin_keeps_its_release_and_the_others_stay(
    sample: FakePBS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYLOCK_SOURCE", sample.spec)  # a lock that records no --source
    write_manifest(tmp_path, ["3.13", "3.12.4"], ("linux-x86_64-gnu",))
    done = cli("-p", str(tmp_path), "lock")
    assert done.returncode == 0, done.stderr
    assert "3.12.4: 20240726, the newest release with a 3.12.4 build" in done.stdout
    # Dropping a request removes its targets; one request left is a plain single lock again.
    write_manifest(tmp_path, ["3.13"], ("linux-x86_64-gnu",))
    done = cli("-p", str(tmp_path), "lock")
    assert done.returncode == 0, done.stderr
    assert "- 3.12.4 linux-x86_64-gnu: 3.12.4" in done.stdout
    text = (tmp_path / "python.lock").read_text("utf-8")
    assert "lock-version = 3" in text and "request =" not in text
    assert 'python = "3.13"' in text


@pytest.fixture
def two_interpreters(fake_pbs: FakePBS, tmp_path: Path) -> Path:
    """A project locking 3.13 (default) and 3.12 for this host, archives that really install."""
    host = host_platform()
    build = "20250115"
    assets = [
        (
            asset_name(
                version=version, build=build, triple=host.triple, flavor="install_only_stripped"
            ),
            build_pbs_archive(version=version, flavor="install_only_stripped"),
        )
        for version in ("3.13.1", "3.12.8")
    ]
    fake_pbs.add_release(build, assets)
    project = tmp_path / "project"
    project.mkdir()
    write_manifest(project, ["3.13", "3.12"], (host.key,))
    done = cli("-p", str(project), "lock", "--source", fake_pbs.spec)
    assert done.returncode == 0, done.stderr
    return project


def test_sync_two_interpreters_side_by_side(two_interpreters: Path) -> None:
    project = str(two_interpreters)
    # Nothing installed: `check --all --installed` fails for each, naming them.
    missing = cli("-p", project, "check", "--all", "--installed", "--format", "json")
    assert missing.returncode == 1
    validate_schema(json.loads(missing.stdout), SCHEMA)
    installed = {c["name"]: c for c in json.loads(missing.stdout)["checks"]}["installed"]
    assert [(r["request"], r["status"]) for r in installed["data"]["requests"]] == [
        ("3.13", "fail"),
        ("3.12", "fail"),
    ]

    first = cli("-p", project, "sync", "--python", "3.12")
    assert first.returncode == 0, first.stderr
    assert "Installed cpython 3.12.8" in first.stdout
    # The no-op memo is keyed by --python: the default request is not "already installed".
    default = cli("-p", project, "sync")
    assert default.returncode == 0, default.stderr
    assert "Installed cpython 3.13.1" in default.stdout
    again = cli("-p", project, "sync", "--python", "3.12")
    assert again.stdout.startswith("cpython 3.12.8 (20250115, install_only_stripped) is already")
    every = cli("-p", project, "sync", "--all")
    assert every.returncode == 0, every.stderr
    assert [line.split(" (")[0] for line in every.stdout.splitlines()] == [
        "cpython 3.13.1",
        "cpython 3.12.8",
    ]

    paths = {}
    for request in ("3.13", "3.12", "3.12.8"):
        which = cli("-p", project, "which", "--python", request)
        assert which.returncode == 0, which.stderr
        paths[request] = Path(which.stdout.strip())
    assert paths["3.12"] == paths["3.12.8"]  # a locked version names its request too
    assert paths["3.13"] != paths["3.12"]
    assert cli("-p", project, "which").stdout.strip() == str(paths["3.13"])
    assert "cpython-3.13.1+20250115-" in str(paths["3.13"])
    assert "cpython-3.12.8+20250115-" in str(paths["3.12"])
    ran = subprocess.run([str(paths["3.12"]), "-V"], capture_output=True, text=True, check=False)
    assert ran.stdout.strip() == "Python 3.12.8"

    checked = cli("-p", project, "check", "--all", "--installed", "--deep")
    assert checked.returncode == 0, checked.stdout
    assert "2 of 2 requested interpreters pass." in checked.stdout
    report = json.loads(cli("-p", project, "check", "--all", "--deep", "--format", "json").stdout)
    validate_schema(report, SCHEMA)
    tree = {c["name"]: c for c in report["checks"]}["tree"]
    assert [(r["request"], r["status"]) for r in tree["data"]["requests"]] == [
        ("3.13", "pass"),
        ("3.12", "pass"),
    ]
    one = cli("-p", project, "check", "--installed", "--python", "3.12")
    assert one.returncode == 0, one.stdout
    assert "3.12.8 (20250115, install_only_stripped)" in one.stdout

    shown = json.loads(cli("-p", project, "show", "--format", "json").stdout)
    assert [(row["request"], row["installed"]) for row in shown["targets"]] == [
        ("3.13", True),
        ("3.12", True),
    ]


def test_unknown_python_selection_is_a_clear_error(two_interpreters: Path) -> None:
    done = cli("-p", str(two_interpreters), "sync", "--python", "3.11")
    assert done.returncode == 2
    assert "--python '3.11'" in done.stderr and "3.13, 3.12" in done.stderr
    assert "Traceback" not in done.stderr
    done = cli("-p", str(two_interpreters), "which", "--python", "3.11")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_venv_run_and_export_follow_python(
    fake_pbs: FakePBS, real_archive: tuple[str, bytes], tmp_path: Path
) -> None:
    """The default request is a stand-in 3.8.20; ``--python MINOR`` picks this real CPython,
    which ``-m venv`` and uv can run."""
    host = host_platform()
    stand_in = asset_name(
        version="3.8.20", build=BUILD, triple=host.triple, flavor="install_only_stripped"
    )
    fake_pbs.add_release(
        BUILD,
        [
            real_archive,
            (stand_in, build_pbs_archive(version="3.8.20", flavor="install_only_stripped")),
        ],
    )
    project = tmp_path / "project"
    project.mkdir()
    write_manifest(project, ["3.8", MINOR], (host.key,))
    assert cli("-p", str(project), "lock", "--source", fake_pbs.spec).returncode == 0

    made = cli("-p", str(project), "venv", "--python", MINOR)
    assert made.returncode == 0, made.stderr
    assert f"Installed the locked interpreter {VERSION}" in made.stdout
    config = (project / ".venv" / "pyvenv.cfg").read_text("utf-8")
    assert f"version = {VERSION}" in config or f"version_info = {VERSION}" in config

    # The venv check follows --python: on MINOR it passes; the default (3.8) is not installed.
    on_real = json.loads(
        cli("-p", str(project), "check", "--python", MINOR, "--format", "json").stdout
    )
    assert {c["name"]: c["status"] for c in on_real["checks"]}["venv"] == "pass"
    on_default = cli("-p", str(project), "check")
    assert on_default.returncode == 1
    assert "the venv at" in on_default.stdout and "not installed as locked" in on_default.stdout

    ran = cli(
        "-p",
        str(project),
        "run",
        "--python",
        MINOR,
        "--",
        "python",
        "-c",
        "import platform; print(platform.python_version())",
    )
    assert (ran.returncode, ran.stdout.strip()) == (0, VERSION)
    not_synced = cli("-p", str(project), "run", "--python", "3.8", "--", "python", "-V")
    assert not_synced.returncode == 1
    assert "pylock sync --python 3.8" in not_synced.stderr

    exported = cli("-p", str(project), "export", "uv", "--python", "3.8", "-o", "-")
    assert exported.returncode == 0, exported.stderr
    assert [entry["patch"] for entry in json.loads(exported.stdout).values()] == [20]
    everything = cli("-p", str(project), "export", "uv", "-o", "-")
    assert len(json.loads(everything.stdout)) == 2
