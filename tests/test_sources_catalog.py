"""The catalog source: uv's download-metadata.json, from a path or a URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pbs_server import SAMPLE_METADATA_FILE, FakePBS
from pylock.errors import ExternalError, InputError
from pylock.project.platforms import parse_platform
from pylock.sources.catalog import CatalogSource
from pylock.sources.source import SourceContext
from pylock.sources.spec import open_source


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE_METADATA_FILE.read_text("utf-8"))
    return data


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_sample_catalog_from_a_relative_path(source_context: SourceContext, tmp_path: Path) -> None:
    data = sample()
    write(tmp_path / "metadata.json", data)
    releases = list(open_source("catalog:metadata.json", source_context).releases())

    assert [r.build for r in releases] == [
        "20260325",
        "20250115",
        "20240726",
        "20211017",
        "20200418",
    ]
    artifacts = [a for r in releases for a in r.artifacts]
    assert len(artifacts) == len(data)  # every real entry is a PBS asset we can read
    expected = {entry["url"]: entry["sha256"] for entry in data.values()}
    assert {a.url: a.sha256 for a in artifacts} == expected
    assert all(a.size is None for a in artifacts)
    for release in releases:
        assert all(a.build == release.build for a in release.artifacts)


def test_old_names_take_the_build_from_the_catalog(
    source_context: SourceContext, tmp_path: Path
) -> None:
    # An E1 name carries a build date-time (20200418T2238), not the tag; the entry says the tag.
    entry = sample()["cpython-3.8.2-darwin-x86_64-none"]
    entry["url"] = "https://mirror.example/pbs/" + entry["url"].rsplit("/", 1)[1]
    entry["build"] = "20200419"
    write(tmp_path / "c.json", {"k": entry})
    (release,) = list(CatalogSource("c.json", source_context).releases())
    assert release.build == "20200419"
    assert release.artifacts[0].build == "20200419"


def test_null_sha256_entries_are_kept_without_a_checksum(
    source_context: SourceContext, tmp_path: Path
) -> None:
    data = sample()
    key = "cpython-3.14.3-linux-x86_64-gnu"
    data[key]["sha256"] = None
    write(tmp_path / "c.json", data)
    found = [
        a
        for r in CatalogSource(str(tmp_path / "c.json"), source_context).releases()
        for a in r.artifacts
        if a.url == data[key]["url"]
    ]
    assert len(found) == 1
    assert found[0].sha256 is None


def test_other_implementations_are_ignored(source_context: SourceContext, tmp_path: Path) -> None:
    data = {
        "pypy-3.10.14-linux-x86_64-gnu": {
            "name": "pypy",
            "url": "https://downloads.python.org/pypy/pypy3.10-v7.3.17-linux64.tar.bz2",
            "sha256": "f" * 64,
            "build": None,
        },
        "cpython-3.13.12-linux-x86_64-gnu": sample()["cpython-3.13.12-linux-x86_64-gnu"],
    }
    write(tmp_path / "c.json", data)
    releases = list(CatalogSource("c.json", source_context).releases())
    assert [a.version.base_version for r in releases for a in r.artifacts] == ["3.13.12"]


def test_pinned_build_and_platform_hint(source_context: SourceContext, tmp_path: Path) -> None:
    write(tmp_path / "c.json", sample())
    catalog = CatalogSource("c.json", source_context)
    linux = frozenset({parse_platform("linux-aarch64-gnu")})
    (release,) = list(catalog.releases(build="20250115", platforms=linux))
    assert release.build == "20250115"
    assert release.artifacts
    assert {a.platform.key for a in release.artifacts} == {"linux-aarch64-gnu"}
    assert list(catalog.releases(build="20990101")) == []


def test_catalog_from_a_url_with_a_304_on_the_second_read(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    body = SAMPLE_METADATA_FILE.read_bytes()
    fake_pbs.add_release("catalogs", [("download-metadata.json", body)])
    url = fake_pbs.download_url("catalogs", "download-metadata.json")
    catalog = open_source(url, source_context)  # a bare URL ending .json is a catalog
    assert isinstance(catalog, CatalogSource)
    assert fake_pbs.log == []  # nothing is read before releases are asked for

    first = list(catalog.releases())
    second = list(open_source(f"catalog:{url}", source_context).releases())
    assert first == second
    assert len(first) == 5
    assert [r.status for r in fake_pbs.log] == [200, 304]
    assert "if-none-match" in fake_pbs.log[1].headers


def test_missing_file_is_bad_input_naming_the_path(
    source_context: SourceContext, tmp_path: Path
) -> None:
    catalog = open_source("catalog:nowhere/metadata.json", source_context, where="--source")
    with pytest.raises(InputError) as info:
        list(catalog.releases())
    assert info.value.exit_code == 2
    assert str(tmp_path / "nowhere" / "metadata.json") in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"cpython-3.12.8-linux-x86_64-gnu": 3}', "is not an object"),
        ('{"k": {"name": "cpython", "sha256": null}}', "has no url"),
        ('{"k": {"name": "cpython", "url": "https://x/y", "sha256": 5}}', "sha256"),
    ],
)
def test_malformed_catalog_is_bad_input(
    source_context: SourceContext, tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "c.json").write_text(content, "utf-8")
    with pytest.raises(InputError, match=message) as info:
        list(CatalogSource("c.json", source_context).releases())
    assert str(tmp_path / "c.json") in str(info.value)


def test_unreachable_catalog_url_is_external(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    url = fake_pbs.download_url("nothing", "download-metadata.json")
    with pytest.raises(ExternalError) as info:
        list(open_source(f"catalog:{url}", source_context).releases())
    assert info.value.exit_code == 3
    assert url in str(info.value)
    assert "404" in str(info.value)
