"""``pylock list`` end to end: what the fake GitHub on 127.0.0.1 offers, newest first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from archives import asset_name
from clirun import console_script, pylock
from pbs_server import FakePBS, synthetic_body
from pylock.resolution import lockfile

LINUX = "linux-x86_64-gnu"
MAC = "macos-aarch64-none"
TRIPLES = {LINUX: "x86_64-unknown-linux-gnu", MAC: "aarch64-apple-darwin"}
FLAVORS = ("install_only_stripped", "install_only")


def assets(version: str, build: str, variant: str = "default") -> list[tuple[str, bytes]]:
    names = [
        asset_name(version=version, build=build, triple=triple, flavor=flavor, variant=variant)
        for triple in TRIPLES.values()
        for flavor in FLAVORS
    ]
    return [(name, synthetic_body(name)) for name in names]


@pytest.fixture
def offered(fake_pbs: FakePBS) -> FakePBS:
    """Three releases: 3.12.8 in two builds, 3.13.1 (and its free-threaded build) in the newest."""
    fake_pbs.add_release("20250101", assets("3.12.8", "20250101"))
    fake_pbs.add_release("20250201", assets("3.12.8", "20250201") + assets("3.12.7", "20250201"))
    fake_pbs.add_release(
        "20250301", assets("3.13.1", "20250301") + assets("3.13.1", "20250301", "freethreaded")
    )
    return fake_pbs


def list_json(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> list[Any]:
    code, out, err = pylock(capsys, "-p", str(project), "list", "--format", "json", *args)
    assert code == 0, err
    rows: list[Any] = json.loads(out)
    return rows


def test_newest_first_one_build_per_version_every_flavor(
    offered: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list_json(capsys, tmp_path, "--source", offered.spec, "--platform", LINUX)
    assert [(r["version"], r["build"], r["variant"], r["flavor"]) for r in rows] == [
        ("3.13.1", "20250301", "default", "install_only_stripped"),
        ("3.13.1", "20250301", "default", "install_only"),
        ("3.13.1", "20250301", "freethreaded", "install_only_stripped"),
        ("3.13.1", "20250301", "freethreaded", "install_only"),
        ("3.12.8", "20250201", "default", "install_only_stripped"),  # not 20250101
        ("3.12.8", "20250201", "default", "install_only"),
        ("3.12.7", "20250201", "default", "install_only_stripped"),
        ("3.12.7", "20250201", "default", "install_only"),
    ]
    first = rows[0]
    assert set(first) >= {"version", "build", "platform", "flavor", "variant", "url", "sha256"}
    assert set(first) >= {"size", "locked"}
    name = asset_name(
        version="3.13.1", build="20250301", triple=TRIPLES[LINUX], flavor="install_only_stripped"
    )
    assert first["url"] == offered.download_url("20250301", name)
    assert first["sha256"] == offered.releases["20250301"].sha256(name)
    assert first["size"] == len(synthetic_body(name))
    assert not any(r["locked"] for r in rows)


def test_all_builds_request_and_platforms(
    offered: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ("--source", offered.spec)
    rows = list_json(capsys, tmp_path, "3.12.8", *spec, "--platform", LINUX, "--all-builds")
    assert [(r["build"], r["flavor"]) for r in rows] == [
        ("20250201", "install_only_stripped"),
        ("20250201", "install_only"),
        ("20250101", "install_only_stripped"),
        ("20250101", "install_only"),
    ]
    rows = list_json(capsys, tmp_path, "3.13t", *spec, "--platform", LINUX, "--platform", MAC)
    assert {(r["variant"], r["platform"]) for r in rows} == {
        ("freethreaded", LINUX),
        ("freethreaded", MAC),
    }


def test_the_locked_target_is_marked(
    offered: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "3.12"\nplatforms = ["{LINUX}"]\n', "utf-8"
    )
    assert pylock(capsys, "-p", str(tmp_path), "lock", "--source", offered.spec)[0] == 0
    [target] = lockfile.read(tmp_path / "python.lock").targets
    rows = list_json(capsys, tmp_path, "--source", offered.spec)  # the manifest's platforms
    assert {r["platform"] for r in rows} == {LINUX}
    assert [r["url"] for r in rows if r["locked"]] == [target.url]

    done = subprocess.run(
        [str(console_script()), "-p", str(tmp_path), "list", "3.12", "--source", offered.spec],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [marked] = [line for line in done.stdout.splitlines() if line.startswith("*")]
    assert target.version in marked and target.build in marked and target.flavor in marked


def test_a_catalog_has_no_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = asset_name(
        version="3.12.8", build="20250101", triple=TRIPLES[LINUX], flavor="install_only"
    )
    catalog = {
        "cpython-3.12.8-linux-x86_64-gnu": {
            "name": "cpython",
            "url": f"https://example.invalid/20250101/{name.replace('+', '%2B')}",
            "sha256": "ab" * 32,
            "build": "20250101",
        }
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog), "utf-8")
    rows = list_json(capsys, tmp_path, "--source", "catalog:catalog.json", "--platform", LINUX)
    assert [(r["version"], r["size"], r["sha256"]) for r in rows] == [("3.12.8", None, "ab" * 32)]


def test_offline_answers_from_the_http_cache(
    offered: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--source", offered.spec, "--platform", LINUX)
    online = list_json(capsys, tmp_path, *args)
    requests = len(offered.log)
    assert list_json(capsys, tmp_path, *args, "--offline") == online
    assert len(offered.log) == requests


def test_bad_input_is_one_paragraph(
    offered: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, word in [
        (("--format", "yaml"), "--format"),
        (("--platform", "linux-x86_64-gnuu"), "linux-x86_64-gnu"),
        (("3.x",), "3.x"),
        (("--source", "nope:x"), "nope"),
    ]:
        code, _, err = pylock(capsys, "-p", str(tmp_path), "list", *args)
        assert code == 2, (args, err)
        assert word in err and "Traceback" not in err
