"""``pylock lock`` from every kind of source, end to end on loopback: a catalog needs nothing but
the catalog, only the github source ever sends a token, and exclude-newer holds for all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import pylock
from index_data import catalog, fake_entries, ndjson
from pbs_server import SAMPLE_METADATA_FILE, FakePBS
from pylock.errors import InputError
from pylock.project.manifest import Manifest, Request, load, parse_exclude_newer
from pylock.resolution import lockfile
from test_check import SCHEMA, validate_schema

GITHUB_DOWNLOADS = "https://github.com/astral-sh/python-build-standalone/releases/download"
PLATFORMS = ("linux-x86_64-gnu", "macos-aarch64-none", "windows-x86_64-none")


def write_project(root: Path, *, source: str, python: str = "3.12", extra: str = "") -> None:
    keys = ", ".join(f'"{k}"' for k in PLATFORMS)
    (root / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{python}"\nplatforms = [{keys}]\nsource = "{source}"\n{extra}',
        "utf-8",
    )


def publish_document(fake: FakePBS, name: str, text: str) -> str:
    fake.add_release("documents", [(name, text.encode())], sums=False, digests=False)
    return fake.download_url("documents", name)


def test_the_real_uv_catalog_locks_with_no_request_to_the_archive_host(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """uv's real download-metadata.json, served from loopback, its archive URLs moved to the
    fake's download host (which has none of them): the only request is the catalog's."""
    text = SAMPLE_METADATA_FILE.read_text("utf-8").replace(GITHUB_DOWNLOADS, fake_pbs.download_base)
    url = publish_document(fake_pbs, "download-metadata.json", text)
    write_project(tmp_path, source=f"catalog:{url}")
    fake_pbs.log.clear()

    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock")
    assert code == 0, err
    assert [r.path.rsplit("/", 1)[-1] for r in fake_pbs.log] == ["download-metadata.json"]
    lock = lockfile.read(tmp_path / "python.lock")
    real = json.loads(SAMPLE_METADATA_FILE.read_text("utf-8"))
    by_url = {e["url"].replace(GITHUB_DOWNLOADS, fake_pbs.download_base): e for e in real.values()}
    assert [t.platform for t in lock.targets] == sorted(PLATFORMS)
    for target in lock.targets:
        assert target.sha256 == by_url[target.url]["sha256"]  # the real checksum, as uv has it
        assert (target.version, target.build, target.size) == ("3.12.8", "20250115", None)
    assert "size =" not in (tmp_path / "python.lock").read_text("utf-8")


@pytest.mark.parametrize("kind", ["catalog", "index", "mirror"])
def test_no_token_goes_to_any_source_but_github(
    kind: str,
    fake_pbs: FakePBS,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"):
        monkeypatch.setenv(variable, f"secret-{variable}")
    fake_pbs.add_sample_releases(builds={"20250115"})
    entries = fake_entries(fake_pbs)
    if kind == "catalog":
        spec = "catalog:" + publish_document(fake_pbs, "c.json", catalog(entries))
    elif kind == "index":
        spec = "index:" + publish_document(fake_pbs, "v.ndjson", ndjson(entries))
    else:
        spec = f"mirror:{fake_pbs.download_base}"
    write_project(tmp_path, source=spec)
    fake_pbs.log.clear()

    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock")
    assert code == 0, err
    assert fake_pbs.log  # the source was read over HTTP
    assert all("authorization" not in r.headers for r in fake_pbs.log)
    assert fake_pbs.api_log == []


# --- exclude-newer ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["github", "catalog", "index"])
def test_exclude_newer_holds_for_every_source(
    kind: str, fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pbs.add_sample_releases(builds={"20260325", "20250115", "20240726"})
    entries = fake_entries(fake_pbs)
    (tmp_path / "c.json").write_text(catalog(entries), "utf-8")
    (tmp_path / "v.ndjson").write_text(ndjson(entries), "utf-8")
    spec = {"github": fake_pbs.spec, "catalog": "catalog:c.json", "index": "index:v.ndjson"}[kind]
    write_project(tmp_path, source=spec)

    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock", "--exclude-newer", "20260101")
    assert code == 0, err
    lock = lockfile.read(tmp_path / "python.lock")
    assert {t.build for t in lock.targets} == {"20250115"}  # 20260325 "does not exist yet"
    assert lock.manifest.exclude_newer == "2026-01-01"
    assert 'exclude-newer = "2026-01-01"' in (tmp_path / "python.lock").read_text("utf-8")

    # The same day in the manifest: current, nothing to do, no request.
    write_project(tmp_path, source=spec, extra="exclude-newer = 2026-01-01\n")
    fake_pbs.log.clear()
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "lock")
    assert code == 0 and "up to date" in out and fake_pbs.log == []

    # An earlier day makes the lock stale, names the fix, and that fix works.
    write_project(tmp_path, source=spec, extra='exclude-newer = "2024-12-31"\n')
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "check")
    assert code == 1
    assert "exclude-newer" in out and "20250115" in out and "pylock lock" in out
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "check", "--format", "json")
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    (current,) = [c for c in report["checks"] if c["name"] == "lock-current"]
    assert current["data"]["drift"] == [
        {
            "input": "exclude-newer",
            "recorded": "20250115 (locked)",
            "current": "no build after 2024-12-31",
            "fix": "pylock lock",
        }
    ]
    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock")
    assert code == 0, err
    assert {t.build for t in lockfile.read(tmp_path / "python.lock").targets} == {"20240726"}
    assert pylock(capsys, "-p", str(tmp_path), "check")[0] == 0


def test_exclude_newer_before_every_release_is_a_resolution_error(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pbs.add_sample_releases(builds={"20250115"})
    write_project(tmp_path, source=fake_pbs.spec)
    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock", "--exclude-newer", "2020-01-01")
    assert code == 1
    assert "no build after 2020-01-01" in err
    assert "Traceback" not in err
    assert not (tmp_path / "python.lock").exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2025-01-15", "2025-01-15"), ("20250115", "2025-01-15"), (" 2025-01-15 ", "2025-01-15")],
)
def test_exclude_newer_spellings(value: str, expected: str) -> None:
    assert parse_exclude_newer(value) == expected


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("2025-02-30", "not a date"),
        ("yesterday", "not a date"),
        ("2025-01-15T10:00:00Z", "not a date and time"),
        (20250115, "not a date"),
    ],
)
def test_bad_exclude_newer_is_bad_input(value: object, what: str) -> None:
    with pytest.raises(InputError) as info:
        parse_exclude_newer(value, where="--exclude-newer")
    assert what in info.value.message and "--exclude-newer" in info.value.message


def test_manifest_exclude_newer_as_a_toml_date_or_string(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    for spelled in ("2025-01-15", '"2025-01-15"', '"20250115"'):
        path.write_text(f'[tool.pylock]\npython = "3.12"\nexclude-newer = {spelled}\n', "utf-8")
        assert load(path).exclude_newer == "2025-01-15"
    path.write_text('[tool.pylock]\npython = "3.12"\nexclude-newer = 2025-01-15T10:00:00\n')
    with pytest.raises(InputError) as info:
        load(path)
    assert "[tool.pylock].exclude-newer" in info.value.message


def test_a_pinned_build_newer_than_exclude_newer_is_refused(tmp_path: Path) -> None:
    manifest = Manifest(
        path=tmp_path / "pyproject.toml",
        python=None,
        platforms=None,
        flavor=None,
        build="20250115",
        source=None,
        mirror=None,
        exclude_newer="2025-01-14",
    )
    with pytest.raises(InputError) as info:
        Request.from_manifest(manifest, python="3.12")
    assert "20250115" in info.value.message and "2025-01-14" in info.value.message
    request = Request.from_manifest(manifest, python="3.12", exclude_newer="2025-01-15")
    assert request.newest_build == "20250115"


def test_the_lock_validates_its_recorded_exclude_newer() -> None:
    text = (
        'lock-version = 1\ncreated-by = "pylock"\n\n[manifest]\npython = "3.12"\n'
        'platforms = []\nexclude-newer = "2025-13-01"\n'
    )
    with pytest.raises(InputError) as info:
        lockfile.loads(text)
    assert "manifest.exclude-newer" in info.value.message
    good = lockfile.loads(text.replace("2025-13-01", "2025-12-01"))
    assert good.manifest.exclude_newer == "2025-12-01"
    assert lockfile.loads(lockfile.dumps(good)) == good


@pytest.mark.parametrize("value", ["2025-13-01", "soon", "2025-01-15T00:00:00Z"])
def test_a_bad_exclude_newer_option_is_a_usage_error(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, source="github")
    code, _, err = pylock(capsys, "-p", str(tmp_path), "lock", "--exclude-newer", value)
    assert code == 2
    assert "--exclude-newer" in err and "Traceback" not in err
    assert not (tmp_path / "python.lock").exists()


def test_lock_help_names_exclude_newer_and_the_index(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = pylock(capsys, "lock", "--help")
    assert code == 0
    assert "--exclude-newer" in out and "index" in out
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text("utf-8")
    # docs/cli.md titles each command `pylock NAME` (test_docs.py reads its option tables)
    assert "--exclude-newer DATE" in docs and "## `pylock mirror`" in docs
