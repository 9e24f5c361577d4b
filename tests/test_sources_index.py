"""The index source: the PBS versions index (NDJSON), from a path or a URL, and the promise
that ``index:``, ``github`` and ``catalog:`` resolve alike wherever their data agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index_data import catalog, fake_entries, ndjson, sample_entries
from pbs_server import SAMPLE_METADATA, SAMPLE_METADATA_FILE, FakePBS
from pylock.errors import ExternalError, InputError, ResolutionError
from pylock.net.http import HttpPolicy
from pylock.project.manifest import Request, parse_python_request
from pylock.project.platforms import parse_platform
from pylock.resolution.resolver import resolve
from pylock.sources.artifacts import parse_asset_url
from pylock.sources.index import DEFAULT_INDEX_URL, IndexSource, index_platform, index_variant
from pylock.sources.source import Release, SourceContext
from pylock.sources.spec import open_source

EXCERPT = SAMPLE_METADATA / "versions-excerpt.ndjson"


def excerpt_artifacts() -> list[dict[str, Any]]:
    (line,) = EXCERPT.read_text("utf-8").splitlines()
    artifacts: list[dict[str, Any]] = json.loads(line)["artifacts"]
    return artifacts


def publish_file(fake: FakePBS, name: str, body: bytes) -> str:
    """Serve ``body`` from the fake with ETags (its download host answers 304s)."""
    fake.add_release("documents", [(name, body)], sums=False, digests=False)
    return fake.download_url("documents", name)


# --- the real excerpt -------------------------------------------------------------------------


def test_the_real_excerpt_is_read_whole(source_context: SourceContext) -> None:
    (release,) = list(open_source(f"index:{EXCERPT}", source_context).releases())
    raw = excerpt_artifacts()
    assert release.build == "20260310"
    assert {a.url: a.sha256 for a in release.artifacts} == {e["url"]: e["sha256"] for e in raw}
    assert all(a.size is None for a in release.artifacts)  # the index states no sizes


def test_variant_and_platform_spellings_match_the_real_excerpt() -> None:
    for entry in excerpt_artifacts():
        asset = parse_asset_url(entry["url"])
        assert asset is not None, entry["url"]
        assert index_variant(asset) == entry["variant"]
        assert index_platform(entry["platform"]) == asset.platform


def test_macos_platform_suffixes_are_undone() -> None:
    mac = parse_platform("macos-aarch64-none")
    assert index_platform("aarch64-apple-darwin-freethreaded") == mac
    assert index_platform("aarch64-apple-darwin-debug") == mac
    assert index_platform("x86_64-unknown-linux-gnu-debug") is None  # only macOS has it


def line(version: str, *artifacts: dict[str, Any]) -> str:
    return json.dumps({"version": version, "date": "2026-03-10T00:00:00Z", "artifacts": artifacts})


def artifact(name: str, platform: str, variant: str) -> dict[str, Any]:
    tag = name.split("+")[1][:8]
    return {
        "platform": platform,
        "variant": variant,
        "url": f"https://github.com/o/r/releases/download/{tag}/{name.replace('+', '%2B')}",
        "archive_format": "tar.zst" if name.endswith("zst") else "tar.gz",
        "sha256": "ab" * 32,
    }


def test_an_artifact_whose_fields_contradict_its_name_is_left_out(
    source_context: SourceContext, tmp_path: Path
) -> None:
    ft = "cpython-3.14.3+20260310-aarch64-apple-darwin-freethreaded+pgo+lto-full.tar.zst"
    plain = "cpython-3.14.3+20260310-x86_64-unknown-linux-gnu-install_only.tar.gz"
    (tmp_path / "v.ndjson").write_text(
        line(
            "3.14.3+20260310",
            artifact(ft, "aarch64-apple-darwin-freethreaded", "freethreaded+pgo+lto+full"),
            artifact(plain, "x86_64-unknown-linux-gnu", "install_only_stripped"),  # wrong
            artifact(plain, "aarch64-unknown-linux-gnu", "install_only"),  # wrong platform
        )
        + "\n\n",  # a blank line is nothing
        "utf-8",
    )
    source = open_source("v.ndjson", source_context)  # a bare .ndjson is an index
    assert isinstance(source, IndexSource)
    (release,) = list(source.releases())
    assert [a.asset.name for a in release.artifacts] == [ft]
    assert release.artifacts[0].variant == "freethreaded"


def test_lines_of_one_build_make_one_release_and_a_pin_reads_only_it(
    source_context: SourceContext, tmp_path: Path
) -> None:
    def io(version: str, tag: str) -> dict[str, Any]:
        name = f"cpython-{version}+{tag}-x86_64-unknown-linux-gnu-install_only.tar.gz"
        return artifact(name, "x86_64-unknown-linux-gnu", "install_only")

    text = "\n".join(
        [
            line("3.13.2+20250205", io("3.13.2", "20250205")),
            line("3.12.9+20250205", io("3.12.9", "20250205")),
            line("3.13.1+20250115", io("3.13.1", "20250115")),
            line("0.1.0", io("3.13.1", "20250115")),  # not a PBS build: passed over
        ]
    )
    (tmp_path / "v.ndjson").write_text(text, "utf-8")
    source = open_source("index:v.ndjson", source_context)
    releases = list(source.releases())
    assert [(r.build, len(r.artifacts)) for r in releases] == [("20250205", 2), ("20250115", 1)]
    assert [r.build for r in source.releases(build="20250115")] == ["20250115"]
    hinted = list(source.releases(platforms=frozenset({parse_platform("macos-aarch64-none")})))
    assert [len(r.artifacts) for r in hinted] == [0, 0]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"version": "3.12.8+20241219"}', '"artifacts"'),
        ('{"version": "3.12.8+20241219", "artifacts": [1]}', "not an object"),
    ],
)
def test_a_malformed_line_is_bad_input_naming_the_line(
    source_context: SourceContext, tmp_path: Path, text: str, what: str
) -> None:
    (tmp_path / "v.ndjson").write_text(EXCERPT.read_text("utf-8") + text + "\n", "utf-8")
    with pytest.raises(InputError) as info:
        list(open_source("index:v.ndjson", source_context).releases())
    assert "line 2" in info.value.message and what in info.value.message
    assert "index:v.ndjson" in info.value.message


def test_a_missing_file_is_bad_input(source_context: SourceContext, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        list(open_source("index:nope.ndjson", source_context).releases())
    assert str(tmp_path / "nope.ndjson") in info.value.message


def test_plain_index_is_the_published_url_and_opening_reads_nothing(
    source_context: SourceContext,
) -> None:
    source = open_source("index", source_context)
    assert isinstance(source, IndexSource)
    assert source.description == f"index:{DEFAULT_INDEX_URL}"
    assert DEFAULT_INDEX_URL == (
        "https://releases.astral.sh/github/versions/main/v1/python-build-standalone.ndjson"
    )
    with pytest.raises(InputError) as info:
        open_source("index:", source_context)
    assert "nothing follows index:" in info.value.message


# --- over HTTP: one request, a 304 when unchanged, streaming ------------------------------------


def test_an_unchanged_index_costs_a_304_even_after_an_early_stop(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    fake_pbs.add_sample_releases()
    body = ndjson(fake_entries(fake_pbs)).encode()
    url = publish_file(fake_pbs, "versions.ndjson", body)
    fake_pbs.log.clear()

    releases = open_source(f"index:{url}", source_context).releases()
    first = next(releases)  # the resolver has its answer: it stops here
    releases.close()  # what locking does: the rest is read into the cache, not parsed
    assert first.build == "20260325"
    assert [(r.method, r.status) for r in fake_pbs.log] == [("GET", 200)]

    again = list(open_source(f"index:{url}", source_context).releases())
    assert again[0] == first
    assert [r.build for r in again] == sorted(fake_pbs.releases.keys() - {"documents"})[::-1]
    assert [r.status for r in fake_pbs.log] == [200, 304]
    assert "if-none-match" in fake_pbs.log[1].headers

    offline = SourceContext(
        client=source_context.client,
        cache=source_context.cache,
        policy=HttpPolicy(offline=True),
        base_dir=source_context.base_dir,
    )
    assert list(open_source(f"index:{url}", offline).releases()) == again
    assert len(fake_pbs.log) == 2  # offline: the cache answered


def test_an_error_while_parsing_keeps_no_partial_copy_in_the_cache(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    # The first line is broken; megabytes follow, so the error comes long before the end.
    rest = EXCERPT.read_bytes() * (3 * 1024 * 1024 // EXCERPT.stat().st_size)
    url = publish_file(fake_pbs, "bad.ndjson", b"{broken\n" + rest)
    for _ in range(2):
        with pytest.raises(InputError):
            list(open_source(f"index:{url}", source_context).releases())
    assert [r.status for r in fake_pbs.log] == [200, 200]  # no validators kept, no 304
    assert source_context.cache is not None
    http_dir = source_context.cache.root / "http"
    assert [p for p in http_dir.rglob("*") if p.is_file()] == []  # no temp file left either


def test_a_dead_process_partial_body_is_removed_by_the_next_fetch(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    """A body a killed lock left half-written a moment ago goes at once; one a live process is
    writing stays (fsutil.dead_temps, the archive cache's rule too)."""
    from temps import dead_writers_file, live_writer

    url = publish_file(fake_pbs, "versions.ndjson", EXCERPT.read_bytes())
    assert source_context.cache is not None
    folder = source_context.cache.body_path(url).parent
    stale = dead_writers_file(folder / ".tmp-dead.part", b"half a body")
    with live_writer(folder / ".tmp-live.part") as live:
        assert len(list(open_source(f"index:{url}", source_context).releases())) == 1
        assert not stale.exists() and live.exists()


def test_http_errors_name_the_source(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    url = f"{fake_pbs.download_base}/documents/missing.ndjson"
    with pytest.raises(ExternalError) as info:
        list(open_source(f"index:{url}", source_context).releases())
    assert f"index:{url}" in info.value.message and "404" in info.value.message


# --- one data set, three sources, one answer ----------------------------------------------------

PLATFORM_SETS = (
    ("macos-aarch64-none",),
    ("windows-x86_64-none",),
    ("linux-aarch64-musl",),
    ("linux-x86_64-gnu", "macos-aarch64-none", "windows-x86_64-none"),
)
PYTHONS = ("3", "3.8", "3.10", "3.12", "3.13t", "3.14", ">=3.9,<3.12", "3.15.0a7")
FLAVORS = (None, "install_only", "pgo+lto-full", "debug-full")
DAYS = (None, "2025-01-15", "2021-01-01")


def answers(releases: list[Release]) -> dict[tuple[object, ...], object]:
    """Every request of the matrix -> (version, build, [(platform, url, sha256)]) or the
    error's class name."""
    out: dict[tuple[object, ...], object] = {}
    for keys in PLATFORM_SETS:
        for python in PYTHONS:
            for flavor in FLAVORS:
                for day in DAYS:
                    request = Request(
                        python=parse_python_request(python),
                        platforms=tuple(sorted(parse_platform(k) for k in keys)),
                        flavor=flavor,
                        build=None,
                        exclude_newer=day,
                    )
                    try:
                        got = resolve(request, iter(releases))
                    except ResolutionError:
                        out[keys, python, flavor, day] = "ResolutionError"
                        continue
                    out[keys, python, flavor, day] = (
                        str(got.version),
                        got.build,
                        [(a.platform.key, a.url, a.sha256) for a in got.artifacts],
                    )
    return out


def test_index_github_and_catalog_resolve_alike_on_one_data_set(
    fake_pbs: FakePBS, source_context: SourceContext, tmp_path: Path
) -> None:
    fake_pbs.add_sample_releases()
    entries = fake_entries(fake_pbs)
    (tmp_path / "versions.ndjson").write_text(ndjson(entries), "utf-8")
    (tmp_path / "catalog.json").write_text(catalog(entries), "utf-8")

    github = list(open_source(fake_pbs.spec, source_context).releases())
    index = list(open_source("index:versions.ndjson", source_context).releases())
    uv_catalog = list(open_source("catalog:catalog.json", source_context).releases())
    assert [r.build for r in github] == [r.build for r in index] == [r.build for r in uv_catalog]

    expected = answers(github)
    resolved = [v for v in expected.values() if v != "ResolutionError"]
    assert len(resolved) > 60  # the matrix is not vacuous
    assert {v[1] for v in resolved if isinstance(v, tuple)} >= {"20260325", "20250115"}
    assert answers(index) == expected
    assert answers(uv_catalog) == expected


def test_the_real_catalog_sample_as_an_index_resolves_like_the_catalog(
    source_context: SourceContext, tmp_path: Path
) -> None:
    (tmp_path / "versions.ndjson").write_text(ndjson(sample_entries(SAMPLE_METADATA_FILE)), "utf-8")
    index = list(open_source("index:versions.ndjson", source_context).releases())
    uv_catalog = list(open_source(f"catalog:{SAMPLE_METADATA_FILE}", source_context).releases())
    assert sum(len(r.artifacts) for r in index) == sum(len(r.artifacts) for r in uv_catalog)
    assert answers(index) == answers(uv_catalog)
