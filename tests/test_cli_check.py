"""``pylock check`` end to end through the command line: lock → sync → check, then drift.

Each failure mode is produced the way a user would produce it (editing pyproject.toml or
python.lock by hand, touching installed files, a server changing its bytes) and must be caught
with the documented exit code and a message naming what drifted and how to fix it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import console_script, heavy_imports, pylock, run_in_new_interpreter
from conftest import SyncedTemplate
from pbs_server import FakePBS
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile
from test_check import SCHEMA, validate_schema

HOST = host_platform()
REAL = ".".join(str(part) for part in sys.version_info[:3])
MINOR = ".".join(REAL.split(".")[:2])
BUILD = "20260101"
EXAMPLE = Path(__file__).parents[1] / "examples" / "sample-project"


def statuses(out: str) -> dict[str, str]:
    """``{check name: status}`` from the text report (one ``status name summary`` line each)."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in {"pass", "fail", "skip", "error"}:
            found[parts[1]] = parts[0]
    return found


@pytest.fixture
def synced(fake_pbs: FakePBS, tmp_path: Path, synced_template: SyncedTemplate) -> Path:
    """A project locked against the fake GitHub and synced: the state CI checks."""
    assert synced_template.build == BUILD
    synced_template.publish(fake_pbs)
    return synced_template.synced(tmp_path)


def install_dir(project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, _ = pylock(capsys, "-p", str(project), "which")
    assert code == 0
    interpreter = Path(out.strip())
    return interpreter.parent.parent


def test_a_fresh_sync_passes_every_local_check(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pylock(capsys, "-p", str(synced), "check", "--installed", "--deep")
    assert code == 0, out + err
    assert statuses(out) == {
        "lock-valid": "pass",
        "lock-current": "pass",
        "installed": "pass",
        "tree": "pass",
        "remote": "skip",
        "provenance": "skip",
        "venv": "skip",
    }


def test_not_installed_is_skipped_unless_required(
    fake_pbs: FakePBS, synced: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--into", str(tmp_path / "none"))
    assert code == 0
    assert statuses(out)["installed"] == "skip"
    code, out, _ = pylock(
        capsys, "-p", str(synced), "check", "--installed", "--into", str(tmp_path / "none")
    )
    assert code == 1
    assert statuses(out)["installed"] == "fail"
    assert "pylock sync" in out


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('python = ">=3.99"', ">=3.99"),
        (f'python = "{MINOR}"\nflavor = "install_only"', "install_only"),
        (f'python = "{MINOR}"\nbuild = "20991231"', "20991231"),
    ],
    ids=["python", "flavor-pin", "build-pin"],
)
def test_manifest_edits_fail_lock_current_with_the_fix(
    synced: Path, capsys: pytest.CaptureFixture[str], table: str, needle: str
) -> None:
    (synced / "pyproject.toml").write_text(
        f'[tool.pylock]\n{table}\nplatforms = ["{HOST.key}"]\n', "utf-8"
    )
    code, out, _ = pylock(capsys, "-p", str(synced), "check")
    assert code == 1
    assert statuses(out)["lock-current"] == "fail"
    assert needle in out
    assert "pylock lock" in out


def test_a_new_platform_fails_lock_current(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "windows-x86_64-none" if HOST.os != "windows" else "linux-x86_64-gnu"
    (synced / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{MINOR}"\nplatforms = ["{HOST.key}", "{other}"]\n', "utf-8"
    )
    code, out, _ = pylock(capsys, "-p", str(synced), "check")
    assert code == 1
    assert other in out


def test_satisfiable_edits_still_pass(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (synced / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = ">={MINOR}"\nplatforms = ["{HOST.triple}"]\n'
        'source = "mirror:https://pbs.internal.example/releases/download"\n'
        'mirror = "https://pbs.internal.example/releases/download"\n',
        "utf-8",
    )
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--installed")
    assert code == 0, out


def test_a_hand_edited_lock_fails_lock_valid_naming_target_and_key(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = synced / "python.lock"
    text = path.read_text("utf-8")
    path.write_text(text.replace(f'version = "{REAL}"', 'version = "3.99.0"', 1), "utf-8")
    code, out, _ = pylock(capsys, "-p", str(synced), "check")
    assert code == 2
    assert statuses(out)["lock-valid"] == "fail"
    assert f"target[0] ({HOST.key}).version: '3.99.0' disagrees with the URL" in out


def test_deep_lists_modified_added_and_removed_files(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = install_dir(synced, capsys)
    os_py = next(root.glob("lib/python3*/os.py"))
    os_py.write_text(os_py.read_text() + "# tampered\n")
    (root / "lib" / "added.txt").write_text("new\n")
    patchlevel = next(root.glob("include/python3*/patchlevel.h"))
    patchlevel.unlink()
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--deep")
    assert code == 1
    assert statuses(out)["tree"] == "fail"
    assert str(os_py.relative_to(root)) in out
    assert "lib/added.txt" in out
    assert str(patchlevel.relative_to(root)) in out
    # Without --deep the receipt still matches: only the tree check sees file changes.
    assert pylock(capsys, "-p", str(synced), "check", "--installed")[0] == 0


def test_a_receipt_from_another_build_fails_installed(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = install_dir(synced, capsys)
    receipt_path = root / ".pylock" / "receipt.json"
    receipt = json.loads(receipt_path.read_text())
    receipt["target"]["build"] = "20250101"
    receipt["target"]["url"] = receipt["target"]["url"].replace(BUILD, "20250101")
    receipt["target"]["sha256"] = "0" * 64
    receipt_path.write_text(json.dumps(receipt))
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--installed", "--into", str(root))
    assert code == 1
    assert statuses(out)["installed"] == "fail"
    assert "build" in out and "sha256" in out


def test_remote_passes_then_fails_on_other_bytes_and_404(
    fake_pbs: FakePBS, synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--remote")
    assert code == 0, out
    assert statuses(out)["remote"] == "pass"

    (target,) = lockfile.read(synced / "python.lock").targets
    files = fake_pbs.releases[BUILD].files
    original = files[target.asset_name]
    files[target.asset_name] = bytes(reversed(original))
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--remote")
    assert code == 1
    assert statuses(out)["remote"] == "fail"
    assert HOST.key in out

    del files[target.asset_name]
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--remote")
    assert code == 3
    assert "404" in out


def test_json_report_follows_the_documented_schema(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pylock(
        capsys, "-p", str(synced), "check", "--installed", "--deep", "--format", "json"
    )
    assert code == 0
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    assert [c["name"] for c in report["checks"]] == [
        "lock-valid",
        "lock-current",
        "installed",
        "tree",
        "remote",
        "provenance",
        "venv",
    ]
    assert report["ok"] is True

    (synced / "pyproject.toml").write_text('[tool.pylock]\npython = ">=3.99"\n', "utf-8")
    code, out, _ = pylock(capsys, "-p", str(synced), "check", "--format", "json")
    assert code == 1
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    assert report["exit_code"] == 1
    assert report["checks"][1]["status"] == "fail"


def test_missing_lock_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pylock]\npython = "3.12"\n', "utf-8")
    code, out, err = pylock(capsys, "-p", str(tmp_path), "check")
    assert code == 2
    assert "pylock lock" in out + err


def test_the_sample_project_lock_always_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/sample-project must never rot: its committed lock is valid and current."""
    code, out, _ = pylock(capsys, "-p", str(EXAMPLE), "check")
    assert code == 0, out
    assert statuses(out)["lock-valid"] == "pass"
    assert statuses(out)["lock-current"] == "pass"
    lock = lockfile.read(EXAMPLE / "python.lock")
    assert len(lock.targets) == 3


def test_the_sample_project_lock_holds_real_values() -> None:
    """Every target is an entry of uv's real catalog (tests/data), its URL and sha256 verbatim."""
    import json

    catalog = json.loads(
        (Path(__file__).parent / "data" / "uv-download-metadata.sample.json").read_text("utf-8")
    )
    real = {entry["url"]: entry["sha256"] for entry in catalog.values()}
    for target in lockfile.read(EXAMPLE / "python.lock").targets:
        assert real[target.url] == target.sha256
        assert target.url.startswith("https://github.com/astral-sh/python-build-standalone/")
        assert target.size is None  # the catalog states none


def test_the_ci_example_runs_the_commands_the_tests_exercise() -> None:
    """docs/ci.md and the sample workflow run exactly `pylock sync` then the deep check."""
    docs = (Path(__file__).parents[1] / "docs" / "ci.md").read_text("utf-8")
    workflow = (EXAMPLE / ".github" / "workflows" / "python.yml").read_text("utf-8")
    for text in (docs, workflow):
        sync_at = text.index("pylock sync")
        assert text.index("pylock check --installed --deep") > sync_at


def test_check_starts_without_network_or_toml_writer_imports(synced: Path) -> None:
    assert heavy_imports("-p", str(synced), "check", "--installed", "--deep") == (0, [])


def test_console_script_check_matches_the_typer_command(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The launcher answers `pylock check` without typer, with the same report and exit code."""
    args = ["-p", str(synced), "check", "--installed", "--deep", "--format", "json"]
    code, typer_out, _ = pylock(capsys, *args)
    script = subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, check=False
    )
    assert (script.returncode, code) == (0, 0)
    assert json.loads(script.stdout)["checks"] == json.loads(typer_out)["checks"]
    code, _, imported = run_in_new_interpreter(*args, watch=["typer", "httpx"], script=True)
    assert (code, imported) == (0, [])


def test_the_venv_check_adds_no_imports_to_check(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The venv check runs on every `pylock check`; reading pyvenv.cfg must not pull in what
    making a venv needs (shutil, with bz2 and lzma, and subprocess)."""
    code, out, _ = pylock(capsys, "-p", str(synced), "which")
    assert code == 0
    home = Path(out.strip()).parent
    (synced / ".venv").mkdir()
    (synced / ".venv" / "pyvenv.cfg").write_text(f"home = {home}\nversion = {REAL}\n", "utf-8")
    watch = ["shutil", "subprocess", "bz2", "lzma"]
    code, printed, imported = run_in_new_interpreter(
        "-p", str(synced), "check", "--installed", watch=watch, script=True
    )
    assert statuses("\n".join(printed))["venv"] == "pass", printed
    assert (code, imported) == (0, [])


@pytest.mark.parametrize("via_script", [False, True])
def test_unknown_format_is_a_usage_error(
    synced: Path, capsys: pytest.CaptureFixture[str], via_script: bool
) -> None:
    args = ["-p", str(synced), "check", "--format", "yaml"]
    if via_script:
        result = subprocess.run(
            [str(console_script()), *args], capture_output=True, text=True, check=False
        )
        code, err = result.returncode, result.stderr
    else:
        code, _, err = pylock(capsys, *args)
    assert code == 2
    assert "--format text or --format json" in err


def test_show_refuses_an_unknown_format_like_check(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `show --format jsno` used to print the text table with exit 0, which a script parsing
    # JSON would only notice later; `check` already refused it.
    code, out, err = pylock(capsys, "-p", str(synced), "show", "--format", "jsno")
    assert code == 2
    assert out == ""
    assert "'jsno'" in err and "--format text or --format json" in err
    code, out, _ = pylock(capsys, "-p", str(synced), "show", "--format", "json")
    assert code == 0
    assert [t["installed"] for t in json.loads(out)["targets"]] == [True]


def test_remote_against_a_stalling_mirror_is_an_error_in_bounded_time(
    fake_pbs: FakePBS, synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    import time
    from urllib.parse import quote

    from test_download import Loopback, stall_after

    (target,) = lockfile.read(synced / "python.lock").targets
    archive = fake_pbs.releases[BUILD].files[target.asset_name]
    release = threading.Event()
    mirror = Loopback()
    try:
        path = f"/m/{BUILD}/{quote(target.asset_name, safe='')}"
        mirror.route(path, stall_after(archive, len(archive) // 2, release))
        started = time.monotonic()
        code, out, _ = pylock(
            capsys, "-p", str(synced), "check", "--remote", "--mirror", mirror.url("/m"),
            "--http-timeout", "0.3",
        )  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        release.set()
        mirror.close()
    assert code == 3, out
    assert statuses(out)["remote"] == "error"
    assert "stalled" in out and f"{len(archive) // 2} bytes received" in out
    assert elapsed < 5


@pytest.mark.parametrize(
    ("serve", "code"),
    [
        (lambda body: bytes(reversed(body)), 1),  # the same size, other bytes
        (lambda body: body + b"trailing", 1),  # a Content-Length that is not the locked size
        (None, 3),  # gone: 404
    ],
    ids=["other-bytes", "other-size", "404"],
)
def test_check_remote_and_sync_say_the_same_about_the_same_answer(
    fake_pbs: FakePBS,
    synced_template: SyncedTemplate,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    serve: object,
    code: int,
) -> None:
    """One fetch pipeline: `check --remote` streams the archive through the checks `sync`
    downloads it through, so the same answer of the server is refused in the same words."""
    synced_template.publish(fake_pbs)
    project = synced_template.locked(tmp_path)  # nothing installed, nothing cached
    (target,) = lockfile.read(project / "python.lock").targets
    files = fake_pbs.releases[BUILD].files
    if callable(serve):
        files[target.asset_name] = serve(files[target.asset_name])
    else:
        del files[target.asset_name]

    archives = Path(os.environ["PYLOCK_CACHE_DIR"]) / "archives"

    def kept() -> list[Path]:
        return [p for p in archives.rglob("*") if p.is_file()]

    checked, out, _ = pylock(capsys, "-p", str(project), "check", "--remote", "--format", "json")
    (row,) = next(c for c in json.loads(out)["checks"] if c["name"] == "remote")["data"]["targets"]
    assert kept() == []  # check --remote never writes into the cache
    synced_code, _, err = pylock(capsys, "-p", str(project), "sync")

    assert checked == synced_code == code
    assert target.asset_name in row["message"] and target.url in row["message"]
    assert f"\nerror: {row['message']} " in f"\n{err}", err
    assert kept() == []  # nor does a refused sync
