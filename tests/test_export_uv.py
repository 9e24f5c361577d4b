"""``pylock export uv``: uv's downloads JSON from the lock, checked against uv's own file and run
through the real ``uv python install`` against a loopback server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from archives import build_pbs_archive, make_target
from clirun import console_script, pylock
from pbs_server import SAMPLE_METADATA_FILE, FakePBS
from pylock.base.settings import Settings
from pylock.commands.export import (
    BUILD_VARIABLE,
    DOWNLOADS_URL_VARIABLE,
    export_uv,
    uv_entry,
    uv_key,
)
from pylock.errors import InputError
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, LockedManifest, Target
from pylock.sources.artifacts import artifact_from_url
from real_interpreter import BUILD, MINOR, VERSION, lock_real, publish_real

UV = Path(sys.executable).with_name("uv")


def sample_targets() -> list[tuple[str, dict[str, Any], Target]]:
    """Every CPython entry of uv's real download-metadata.json with a checksum, and the lock
    entry pylock would write for the same archive."""
    data: dict[str, dict[str, Any]] = json.loads(SAMPLE_METADATA_FILE.read_text("utf-8"))
    found = []
    for key, entry in data.items():
        if entry["name"] != "cpython" or entry["sha256"] is None:
            continue
        artifact = artifact_from_url(entry["url"], sha256=entry["sha256"], size=None)
        assert artifact is not None, entry["url"]
        target = Target(
            platform=artifact.platform.key,
            triple=artifact.asset.triple,
            implementation="cpython",
            version=str(artifact.version),
            build=entry["build"],
            flavor=artifact.asset.flavor,
            variant=artifact.asset.variant,
            url=entry["url"],
            size=1,
            sha256=entry["sha256"],
        )
        found.append((key, entry, target))
    return found


def test_every_sample_entry_is_written_exactly_as_uv_writes_it() -> None:
    samples = sample_targets()
    assert len(samples) > 100
    kinds = {(t.variant, t.platform.split("-")[0], bool(e["prerelease"])) for _, e, t in samples}
    assert ("freethreaded", "linux", False) in kinds  # the sample covers what matters
    assert ("default", "macos", True) in kinds
    for key, entry, target in samples:
        assert uv_key(target) == key
        assert uv_entry(target, entry["url"]) == entry, key


def lock_of(*targets: Target) -> Lock:
    return Lock(LockedManifest(python="3.12"), tuple(sorted(targets, key=lambda t: t.platform)))


def write_lock(project: Path, lock: Lock) -> None:
    lockfile.write(project / lockfile.LOCK_FILENAME, lock)


def test_export_holds_every_target_and_mirror_urls(tmp_path: Path) -> None:
    data = build_pbs_archive()
    linux = make_target(data, platform="linux-x86_64-gnu")
    mac = make_target(data, platform="macos-aarch64-none", flavor="install_only_stripped")
    write_lock(tmp_path, lock_of(linux, mac))
    result = export_uv(
        tmp_path,
        settings=Settings.resolve(environ=os.environ, mirror="https://mirror.example/pbs/"),
    )
    written = json.loads((tmp_path / "python-downloads.json").read_text("utf-8"))
    assert written == result.document
    assert list(written) == [
        "cpython-3.12.8-darwin-aarch64-none",
        "cpython-3.12.8-linux-x86_64-gnu",
    ]
    assert written["cpython-3.12.8-darwin-aarch64-none"]["url"] == (
        f"https://mirror.example/pbs/{mac.build}/{mac.url.rsplit('/', 1)[1]}"
    )
    assert {e["sha256"] for e in written.values()} == {linux.sha256}
    assert result.settings()[DOWNLOADS_URL_VARIABLE] == str(tmp_path / "python-downloads.json")


def test_the_build_pin_is_the_host_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build_pbs_archive()
    here = make_target(data, build="20250101")
    there = make_target(data, build="20250301", platform="windows-aarch64-none")
    if here.platform == there.platform:
        pytest.skip("this host is the other platform")
    write_lock(tmp_path, lock_of(here, there))
    assert (
        export_uv(tmp_path, settings=Settings.resolve(environ=os.environ)).build == "20250101"
    )  # not the newer build of another platform
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "export", "uv")
    assert code == 0
    assert f"{BUILD_VARIABLE}=20250101" in out.splitlines()
    assert "mixes builds (20250101, 20250301)" in out
    write_lock(tmp_path, lock_of(there))  # no target for this host: the newest locked build
    assert export_uv(tmp_path, settings=Settings.resolve(environ=os.environ)).build == "20250301"


def test_export_without_targets_is_bad_input(tmp_path: Path) -> None:
    write_lock(tmp_path, lock_of())
    with pytest.raises(InputError, match="no targets"):
        export_uv(tmp_path, settings=Settings.resolve(environ=os.environ))


def test_cli_stdout_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = build_pbs_archive()
    write_lock(tmp_path, lock_of(make_target(data)))
    code, out, err = pylock(capsys, "-p", str(tmp_path), "export", "uv", "-o", "-")
    assert code == 0
    assert set(json.loads(out)) == {uv_key(make_target(data))}
    assert f"{BUILD_VARIABLE}=" in err
    assert not (tmp_path / "python-downloads.json").exists()

    code, _, err = pylock(capsys, "-p", str(tmp_path / "nowhere"), "export", "uv")
    assert code == 2
    assert "python.lock" in err and "Traceback" not in err

    code, _, err = pylock(capsys, "-p", str(tmp_path), "export", "uv", "-o", "no/such/dir.json")
    assert code == 3
    assert "dir.json" in err and "Traceback" not in err


# --- the real peer -----------------------------------------------------------------------------


def uv_env(root: Path, **settings: str) -> dict[str, str]:
    """uv isolated in ``root``: its own install dir, cache, bin dir and home; no config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYLOCK_", "PYTHON"))}
    env.update(
        HOME=str(root / "home"),
        UV_PYTHON_INSTALL_DIR=str(root / "python"),
        UV_CACHE_DIR=str(root / "cache"),
        UV_PYTHON_BIN_DIR=str(root / "bin"),
        UV_NO_CONFIG="1",
        **settings,
    )
    return env


def uv_install(root: Path, downloads: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    argv = [str(UV), "python", "install", VERSION, "--no-progress"]
    argv += ["--python-downloads-json-url", str(downloads)]
    return subprocess.run(
        argv, env=uv_env(root, **settings), capture_output=True, text=True, check=False
    )


def uv_installs(root: Path) -> list[Path]:
    """The interpreters uv installed under ``root`` (not its X.Y links to them)."""
    installs = root / "python"
    if not installs.is_dir():
        return []
    return [p for p in installs.iterdir() if (p / "BUILD").is_file() and not p.is_symlink()]


@pytest.mark.slow
def test_uv_installs_exactly_the_locked_build_from_the_export(
    fake_pbs: FakePBS,
    real_archive: tuple[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert UV.exists(), "uv is a test dependency: pip install -e '.[test]'"
    url = publish_real(fake_pbs, real_archive)
    (tmp_path / "project").mkdir()
    project = lock_real(tmp_path / "project", fake_pbs, capsys)

    done = subprocess.run(
        [str(console_script()), "-p", str(project), "export", "uv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    settings = dict(
        line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("UV_")
    )
    downloads = Path(settings[DOWNLOADS_URL_VARIABLE])
    assert downloads == project / "python-downloads.json"
    assert settings[BUILD_VARIABLE] == BUILD
    [target] = lockfile.read(project / "python.lock").targets
    entry = json.loads(downloads.read_text("utf-8"))[uv_key(target)]
    assert entry["url"] == url

    before = len(fake_pbs.download_log)
    uv_root = tmp_path / "uv"
    installed = uv_install(uv_root, downloads, **{BUILD_VARIABLE: settings[BUILD_VARIABLE]})
    assert installed.returncode == 0, installed.stderr
    assert len(fake_pbs.download_log) > before  # uv fetched the locked archive from loopback
    [install] = uv_installs(uv_root)
    assert (install / "BUILD").read_text("utf-8").strip() == BUILD
    probe = "import platform, sys; print(platform.python_version(), sys.prefix)"
    ran = subprocess.run(
        [str(install / "bin" / f"python{MINOR}"), "-I", "-c", probe],
        env=uv_env(uv_root),
        capture_output=True,
        text=True,
        check=True,
    )
    version, prefix = ran.stdout.split()
    assert version == VERSION
    assert Path(prefix).resolve() == install.resolve()  # the served archive, not this Python

    # A pin the file does not hold: uv finds nothing to install rather than another build.
    other = uv_install(tmp_path / "uv-other", downloads, **{BUILD_VARIABLE: "20990102"})
    assert other.returncode != 0
    assert uv_installs(tmp_path / "uv-other") == []

    # With a mirror directory (an internal copy of the release assets), the URLs are file: URLs
    # into it, and uv installs from there without the server.
    name, data = real_archive
    (tmp_path / "mirror" / BUILD).mkdir(parents=True)
    (tmp_path / "mirror" / BUILD / name).write_bytes(data)
    mirrored = tmp_path / "mirrored.json"
    mirror_args = ("--mirror", str(tmp_path / "mirror"), "-o", str(mirrored))
    code, _, err = pylock(capsys, "-p", str(project), "export", "uv", *mirror_args)
    assert code == 0, err
    assert json.loads(mirrored.read_text("utf-8"))[uv_key(target)]["url"].startswith("file:")
    served = len(fake_pbs.download_log)
    from_mirror = uv_install(tmp_path / "uv-mirror", mirrored, **{BUILD_VARIABLE: BUILD})
    assert from_mirror.returncode == 0, from_mirror.stderr
    assert len(fake_pbs.download_log) == served
    [install] = uv_installs(tmp_path / "uv-mirror")
    assert (install / "BUILD").read_text("utf-8").strip() == BUILD

    # The sha256 is what uv checks: alter it and uv refuses the same bytes.
    document = json.loads(downloads.read_text("utf-8"))
    for value in document.values():
        value["sha256"] = ("0" if value["sha256"][0] != "0" else "1") + value["sha256"][1:]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document), "utf-8")
    refused = uv_install(tmp_path / "uv-tampered", tampered, **{BUILD_VARIABLE: BUILD})
    assert refused.returncode != 0
    assert "hash mismatch" in refused.stderr.lower(), refused.stderr
    assert uv_installs(tmp_path / "uv-tampered") == []
