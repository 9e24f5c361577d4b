"""PBS asset names of every era, checked against uv's real download metadata and
docs/pbs-format.md §1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from packaging.version import Version

from pylock.sources.artifacts import (
    INSTALL_ONLY,
    INSTALL_ONLY_STRIPPED,
    VARIANTS,
    AssetName,
    artifact_from_url,
    asset_rank,
    flavor_rank,
    parse_asset_name,
    parse_asset_url,
)

UV_SAMPLE = Path(__file__).parent / "data" / "uv-download-metadata.sample.json"
GITHUB = "https://github.com/astral-sh/python-build-standalone/releases/download"


def _uv_entries() -> list[tuple[str, dict[str, Any]]]:
    entries: dict[str, dict[str, Any]] = json.loads(UV_SAMPLE.read_text(encoding="utf-8"))
    return sorted(entries.items())


def _uv_platform_key(entry: dict[str, Any]) -> str:
    """uv's (os, arch, libc) spelled as a pylock key, worked out here independently of pylock."""
    os_name = {"darwin": "macos"}.get(entry["os"], entry["os"])
    arch = {"i686": "x86"}.get(entry["arch"]["family"], entry["arch"]["family"])
    if entry["arch"]["variant"]:
        arch = f"{arch}_{entry['arch']['variant']}"
    return f"{os_name}-{arch}-{entry['libc']}"


# --- real data: every entry of uv's download-metadata sample -----------------------------


@pytest.mark.parametrize(("key", "entry"), _uv_entries(), ids=[k for k, _ in _uv_entries()])
def test_uv_entry(key: str, entry: dict[str, Any]) -> None:
    asset = parse_asset_url(entry["url"])
    assert asset is not None, entry["url"]
    assert asset.implementation == entry["name"]
    v = asset.version
    assert (v.major, v.minor, v.micro) == (entry["major"], entry["minor"], entry["patch"])
    prerelease = f"{v.pre[0]}{v.pre[1]}" if v.pre else ""
    assert prerelease == entry["prerelease"]
    assert asset.build == entry["build"]
    assert asset.platform.key == _uv_platform_key(entry)
    assert asset.variant == (entry["variant"] or "default")
    # The name is the URL's last segment with %2B decoded, and its suffix is the format.
    assert asset.name == unquote(entry["url"].rsplit("/", 1)[1])
    assert "%" not in asset.name
    assert asset.name.endswith("." + asset.archive_format)


def test_uv_sample_covers_every_era_and_variant() -> None:
    """Guards the test above: the sample really holds E1 and E2 names and all variants."""
    assets = [parse_asset_url(e["url"]) for _, e in _uv_entries()]
    assert all(a is not None for a in assets)
    parsed = [a for a in assets if a is not None]
    assert {a.variant for a in parsed} == set(VARIANTS)
    assert any("T" in a.name.rsplit("-", 1)[1] for a in parsed)  # E1 date-time suffix
    assert any(a.triple.endswith("-msvc-shared") for a in parsed)
    assert {a.flavor for a in parsed} >= {INSTALL_ONLY_STRIPPED, "debug-full", "pgo+lto-full"}


def test_uv_choice_is_our_best_flavor() -> None:
    """uv keeps one asset per (version, platform, variant), the best by its flavor preference
    (docs/pbs-format.md §5 step 5). Each sample entry must be what our ranking prefers among what
    such a release offers: install_only_stripped when there is one, a full archive only for debug
    variants, E1 releases, and free-threaded builds from before 20260324 (docs/pbs-format.md
    §1.3)."""
    for _, entry in _uv_entries():
        asset = parse_asset_url(entry["url"])
        assert asset is not None
        if asset.variant in ("debug", "freethreaded+debug"):
            assert asset.flavor == "debug-full"
        elif asset.archive_format == "tar.gz":
            assert asset.flavor == INSTALL_ONLY_STRIPPED
            assert flavor_rank(asset.flavor) == min(map(flavor_rank, [INSTALL_ONLY, asset.flavor]))
        else:
            e1 = f"+{asset.build}-" not in asset.name  # E1 names carry no "+tag"
            early_freethreaded = asset.variant == "freethreaded" and asset.build < "20260324"
            assert e1 or early_freethreaded, asset.name
            assert flavor_rank(asset.flavor) > flavor_rank(INSTALL_ONLY)
            assert flavor_rank(asset.flavor) < flavor_rank("debug-full")


def test_proper_prefixes_of_real_names_are_not_archives() -> None:
    """The parser never raises and never accepts a truncated name."""
    for _, entry in _uv_entries():
        name = unquote(entry["url"].rsplit("/", 1)[1])
        for end in range(len(name)):
            assert parse_asset_name(name[:end]) is None, name[:end]


# --- docs/pbs-format.md §1.6 (E2) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "build", "triple", "key", "flavor", "options", "variant", "fmt"),
    [
        (
            "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz",
            "3.12.8", "20241219", "x86_64-unknown-linux-gnu", "linux-x86_64-gnu",
            "install_only", (), "default", "tar.gz",
        ),
        (
            "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz",
            "3.12.8", "20241219", "x86_64-unknown-linux-gnu", "linux-x86_64-gnu",
            "install_only_stripped", (), "default", "tar.gz",
        ),
        (
            "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-pgo+lto-full.tar.zst",
            "3.12.8", "20241219", "x86_64-unknown-linux-gnu", "linux-x86_64-gnu",
            "pgo+lto-full", ("pgo", "lto"), "default", "tar.zst",
        ),
        (
            "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-debug-full.tar.zst",
            "3.12.8", "20241219", "x86_64-unknown-linux-gnu", "linux-x86_64-gnu",
            "debug-full", ("debug",), "debug", "tar.zst",
        ),
        (
            "cpython-3.13.1+20241219-x86_64_v3-unknown-linux-gnu-freethreaded+pgo+lto-full.tar.zst",
            "3.13.1", "20241219", "x86_64_v3-unknown-linux-gnu", "linux-x86_64_v3-gnu",
            "pgo+lto-full", ("freethreaded", "pgo", "lto"), "freethreaded", "tar.zst",
        ),
        (
            "cpython-3.13.1+20241219-aarch64-apple-darwin-freethreaded+debug-full.tar.zst",
            "3.13.1", "20241219", "aarch64-apple-darwin", "macos-aarch64-none",
            "debug-full", ("freethreaded", "debug"), "freethreaded+debug", "tar.zst",
        ),
        (
            "cpython-3.12.8+20241219-x86_64-pc-windows-msvc-shared-pgo-full.tar.zst",
            "3.12.8", "20241219", "x86_64-pc-windows-msvc-shared", "windows-x86_64-none",
            "pgo-full", ("pgo",), "default", "tar.zst",
        ),
        (
            "cpython-3.12.8+20241219-x86_64-pc-windows-msvc-pgo-full.tar.zst",
            "3.12.8", "20241219", "x86_64-pc-windows-msvc", "windows-x86_64-none",
            "pgo-full", ("pgo",), "default", "tar.zst",
        ),
        (
            "cpython-3.13.2+20250317-x86_64-unknown-linux-musl-lto+static-full.tar.zst",
            "3.13.2", "20250317", "x86_64-unknown-linux-musl", "linux-x86_64-musl",
            "lto+static-full", ("lto", "static"), "default", "tar.zst",
        ),
        (
            "cpython-3.14.7+20260814-x86_64-apple-darwin-freethreaded-install_only_stripped.tar.gz",
            "3.14.7", "20260814", "x86_64-apple-darwin", "macos-x86_64-none",
            "install_only_stripped", (), "freethreaded", "tar.gz",
        ),
        (
            "cpython-3.15.0rc1+20260814-aarch64-apple-darwin-install_only_stripped.tar.gz",
            "3.15.0rc1", "20260814", "aarch64-apple-darwin", "macos-aarch64-none",
            "install_only_stripped", (), "default", "tar.gz",
        ),
        # Caveat 1: a greedy 4-part triple would swallow "freethreaded" here.
        (
            "cpython-3.14.7+20260814-aarch64-apple-darwin-freethreaded-install_only.tar.gz",
            "3.14.7", "20260814", "aarch64-apple-darwin", "macos-aarch64-none",
            "install_only", (), "freethreaded", "tar.gz",
        ),
        # Caveat 2: Windows pseudo-triples, E2 install_only and static.
        (
            "cpython-3.11.6+20231002-i686-pc-windows-msvc-static-install_only.tar.gz",
            "3.11.6", "20231002", "i686-pc-windows-msvc-static", "windows-x86-none",
            "install_only", (), "default", "tar.gz",
        ),
        (
            "cpython-3.11.6+20231002-x86_64-pc-windows-msvc-static-noopt-full.tar.zst",
            "3.11.6", "20231002", "x86_64-pc-windows-msvc-static", "windows-x86_64-none",
            "noopt-full", ("noopt",), "default", "tar.zst",
        ),
        (
            "cpython-3.11.6+20231002-x86_64-pc-windows-msvc-shared-install_only.tar.gz",
            "3.11.6", "20231002", "x86_64-pc-windows-msvc-shared", "windows-x86_64-none",
            "install_only", (), "default", "tar.gz",
        ),
        # armv7 gnueabi vs gnueabihf: the longer triple must not be cut short.
        (
            "cpython-3.12.4+20240726-armv7-unknown-linux-gnueabihf-debug-full.tar.zst",
            "3.12.4", "20240726", "armv7-unknown-linux-gnueabihf", "linux-armv7-gnueabihf",
            "debug-full", ("debug",), "debug", "tar.zst",
        ),
        (
            "cpython-3.14.0b4+20250712-x86_64-unknown-linux-musl-debug+static-full.tar.zst",
            "3.14.0b4", "20250712", "x86_64-unknown-linux-musl", "linux-x86_64-musl",
            "debug+static-full", ("debug", "static"), "debug", "tar.zst",
        ),
    ],
)  # fmt: skip
def test_e2_names(
    name: str,
    version: str,
    build: str,
    triple: str,
    key: str,
    flavor: str,
    options: tuple[str, ...],
    variant: str,
    fmt: str,
) -> None:
    asset = parse_asset_name(name)
    assert asset is not None
    assert asset == AssetName(
        name=name,
        implementation="cpython",
        version=Version(version),
        build=build,
        triple=triple,
        platform=asset.platform,
        flavor=flavor,
        options=options,
        variant=variant,
        archive_format=fmt,
    )
    assert asset.platform.key == key
    assert asset.is_full == (flavor not in (INSTALL_ONLY, INSTALL_ONLY_STRIPPED))


def test_percent_encoded_plus_is_the_same_asset() -> None:
    literal = (
        "cpython-3.13.1+20241219-x86_64_v3-unknown-linux-gnu-freethreaded+pgo+lto-full.tar.zst"
    )
    encoded = literal.replace("+", "%2B")
    assert parse_asset_name(encoded) == parse_asset_name(literal)
    lower = literal.replace("+", "%2b")
    assert parse_asset_name(lower) == parse_asset_name(literal)


def test_e2_tag_comes_from_the_name_not_the_argument() -> None:
    asset = parse_asset_name(
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz", build="20250101"
    )
    assert asset is not None and asset.build == "20241219"


@pytest.mark.parametrize(
    ("name", "pre"),
    [
        ("cpython-3.14.0a1+20241016-x86_64-unknown-linux-gnu-install_only.tar.gz", ("a", 1)),
        ("cpython-3.14.0b4+20250712-x86_64-unknown-linux-gnu-install_only.tar.gz", ("b", 4)),
        ("cpython-3.15.0rc1+20260814-x86_64-unknown-linux-gnu-install_only.tar.gz", ("rc", 1)),
        ("cpython-3.8.0rc1-x86_64-unknown-linux-gnu-pgo-20191001T1234.tar.zst", ("rc", 1)),
    ],
)
def test_prereleases(name: str, pre: tuple[str, int]) -> None:
    asset = parse_asset_name(name)
    assert asset is not None
    assert asset.version.pre == pre
    assert asset.version.is_prerelease


# --- E1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "triple", "flavor", "options", "variant", "fmt"),
    [
        (
            "cpython-3.8.2-x86_64-unknown-linux-gnu-pgo-20200418T2243.tar.zst",
            "20200418", "x86_64-unknown-linux-gnu", "pgo-full", ("pgo",), "default", "tar.zst",
        ),
        (
            "cpython-3.9.7-x86_64-pc-windows-msvc-shared-pgo-20211017T1616.tar.zst",
            "20211017", "x86_64-pc-windows-msvc-shared", "pgo-full", ("pgo",), "default", "tar.zst",
        ),
        (
            "cpython-3.9.7-x86_64-pc-windows-msvc-static-noopt-20211017T1616.tar.zst",
            "20211017", "x86_64-pc-windows-msvc-static", "noopt-full", ("noopt",), "default",
            "tar.zst",
        ),
        (
            "cpython-3.9.7-aarch64-unknown-linux-gnu-lto-20211017T1616.tar.zst",
            "20211017", "aarch64-unknown-linux-gnu", "lto-full", ("lto",), "default", "tar.zst",
        ),
        (
            "cpython-3.10.0-aarch64-apple-darwin-pgo%2Blto-20211017T1616.tar.zst",
            "20211017", "aarch64-apple-darwin", "pgo+lto-full", ("pgo", "lto"), "default",
            "tar.zst",
        ),
        (
            "cpython-3.10.0-x86_64-apple-darwin-debug-20211017T1616.tar.zst",
            "20211017", "x86_64-apple-darwin", "debug-full", ("debug",), "debug", "tar.zst",
        ),
        (
            "cpython-3.9.6-x86_64-unknown-linux-gnu-install_only-20210724T1424.tar.gz",
            "20210724", "x86_64-unknown-linux-gnu", "install_only", (), "default", "tar.gz",
        ),
        (
            "cpython-3.9.6-x86_64-pc-windows-msvc-shared-install_only-20210724T1424.tar.gz",
            "20210724", "x86_64-pc-windows-msvc-shared", "install_only", (), "default", "tar.gz",
        ),
    ],
)  # fmt: skip
def test_e1_names(
    name: str,
    build: str,
    triple: str,
    flavor: str,
    options: tuple[str, ...],
    variant: str,
    fmt: str,
) -> None:
    asset = parse_asset_name(name)
    assert asset is not None
    assert asset.name == name.replace("%2B", "+")
    assert (asset.build, asset.triple, asset.flavor) == (build, triple, flavor)
    assert (asset.options, asset.variant, asset.archive_format) == (options, variant, fmt)


def test_e1_build_argument_beats_the_datetime_suffix() -> None:
    # docs/pbs-format.md §1.1: the suffix is the build commit's date, which may differ from the tag.
    name = "cpython-3.9.0-x86_64-apple-darwin-pgo-20201019T2359.tar.zst"
    assert parse_asset_name(name, build="20201020").build == "20201020"  # type: ignore[union-attr]
    assert parse_asset_name(name).build == "20201019"  # type: ignore[union-attr]
    # A "build" that is not a tag is not trusted.
    assert parse_asset_name(name, build="latest").build == "20201019"  # type: ignore[union-attr]


def test_e1_extension_must_match_kind() -> None:
    assert (
        parse_asset_name("cpython-3.9.6-x86_64-unknown-linux-gnu-pgo-20210724T1424.tar.gz") is None
    )
    assert (
        parse_asset_name(
            "cpython-3.9.6-x86_64-unknown-linux-gnu-install_only-20210724T1424.tar.zst"
        )
        is None
    )


# --- E0 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "triple", "key", "flavor", "options", "variant"),
    [
        (
            "cpython-3.7.3-linux64-20190427T2308.tar.zst",
            "x86_64-unknown-linux-gnu", "linux-x86_64-gnu", "full", (), "default",
        ),
        (
            "cpython-3.7.3-linux64-musl-20190427T2308.tar.zst",
            "x86_64-unknown-linux-musl", "linux-x86_64-musl", "full", (), "default",
        ),
        (
            "cpython-3.7.3-linux64-debug-20190427T2308.tar.zst",
            "x86_64-unknown-linux-gnu", "linux-x86_64-gnu", "debug-full", ("debug",), "debug",
        ),
        (
            "cpython-3.7.3-linux64-pgo-20190427T2308.tar.zst",
            "x86_64-unknown-linux-gnu", "linux-x86_64-gnu", "pgo-full", ("pgo",), "default",
        ),
        (
            "cpython-3.7.3-macos-pgo-20190427T2308.tar.zst",
            "x86_64-apple-darwin", "macos-x86_64-none", "pgo-full", ("pgo",), "default",
        ),
        (
            "cpython-3.7.5-windows-amd64-20191025T0506.tar.zst",
            "x86_64-pc-windows-msvc", "windows-x86_64-none", "full", (), "default",
        ),
        (
            "cpython-3.7.5-windows-amd64-shared-pgo-20191025T0506.tar.zst",
            "x86_64-pc-windows-msvc", "windows-x86_64-none", "pgo-full", ("pgo",), "default",
        ),
        (
            "cpython-3.8.2-windows-x86-shared-20200408T0000.tar.zst",
            "i686-pc-windows-msvc", "windows-x86-none", "full", (), "default",
        ),
        (
            "cpython-3.8.2-windows-x86-static-20200408T0000.tar.zst",
            "i686-pc-windows-msvc", "windows-x86-none", "static-full", ("static",), "default",
        ),
    ],
)  # fmt: skip
def test_e0_names(
    name: str,
    triple: str,
    key: str,
    flavor: str,
    options: tuple[str, ...],
    variant: str,
) -> None:
    asset = parse_asset_name(name)
    assert asset is not None
    assert (asset.triple, asset.platform.key) == (triple, key)
    assert (asset.flavor, asset.options, asset.variant) == (flavor, options, variant)
    assert asset.archive_format == "tar.zst"
    assert asset.build == name.rsplit("-", 1)[1][:8]
    assert parse_asset_name(name, build="20200409").build == "20200409"  # type: ignore[union-attr]


# --- not interpreter archives -------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "SHA256SUMS",
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz.sha256",
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-pgo+lto-full.tar.zst.sha256",
        "cpython-3.12.8+20241219-loongarch64-unknown-linux-gnu-install_only.tar.gz",  # unknown
        "cpython-3.12.8+20241219-aarch64-apple-darwin-freethreaded-install_only.tar.gz.sig",
        "pypy3.10-v7.3.17-linux64.tar.bz2",
        "graalpy-24.1.0-linux-amd64.tar.gz",
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.zst",  # wrong format
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-pgo+lto-full.tar.gz",  # wrong format
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-fast-full.tar.zst",  # unknown option
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-debug-install_only.tar.gz",
        "cpython-3.12+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz",  # no micro
        "cpython-3.12.8+2024121-x86_64-unknown-linux-gnu-install_only.tar.gz",  # 7-digit tag
        "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu.tar.gz",
        "cpython-3.12.8-x86_64-unknown-linux-gnu-pgo.tar.zst",  # E1 without a date-time
        "dist/cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz",
        "",
        "cpython-",
        "%",
        "%zz%2",
        "\x00\uffff",
    ],
)
def test_not_an_interpreter_archive(name: str) -> None:
    assert parse_asset_name(name) is None


@pytest.mark.parametrize(
    "url",
    [
        f"{GITHUB}/20241219/SHA256SUMS",
        f"{GITHUB}/20241219/",
        "https://example.com/",
        "",
        "http://[::1/x",  # not a URL at all
        "https://pypy.org/download/pypy3.10-v7.3.17-linux64.tar.bz2",
    ],
)
def test_url_without_an_archive(url: str) -> None:
    assert parse_asset_url(url) is None


# --- URLs ---------------------------------------------------------------------------------


def test_url_github_release() -> None:
    url = (
        f"{GITHUB}/20241219/cpython-3.12.8%2B20241219-x86_64-unknown-linux-gnu-install_only.tar.gz"
    )
    asset = parse_asset_url(url)
    assert asset is not None
    assert asset.name == "cpython-3.12.8+20241219-x86_64-unknown-linux-gnu-install_only.tar.gz"
    assert asset.build == "20241219"


def test_url_e1_takes_the_tag_from_the_download_path() -> None:
    # The date-time suffix (20201019...) is the build commit's date; the release is 20201020.
    url = f"{GITHUB}/20201020/cpython-3.9.0-x86_64-apple-darwin-pgo-20201019T2359.tar.zst?x=1"
    asset = parse_asset_url(url)
    assert asset is not None and asset.build == "20201020"


def test_url_mirror_layout_and_file_url() -> None:
    name = "cpython-3.8.2-x86_64-unknown-linux-gnu-pgo-20200417T2243.tar.zst"
    mirrored = parse_asset_url(f"https://pbs.internal.example/pbs/20200418/{name}")
    assert mirrored is not None and mirrored.build == "20200418"
    local = parse_asset_url(f"file:///srv/mirror/20200418/{name}")
    assert local is not None and local.build == "20200418"
    flat = parse_asset_url(f"https://pbs.internal.example/pbs/{name}")
    assert flat is not None and flat.build == "20200417"


def test_artifact_from_url() -> None:
    url = f"{GITHUB}/20241219/cpython-3.12.8%2B20241219-aarch64-apple-darwin-install_only.tar.gz"
    digest = "AB" * 32
    artifact = artifact_from_url(url, sha256=f"sha256:{digest}", size=123)
    assert artifact is not None
    assert artifact.url == url
    assert artifact.sha256 == digest.lower()
    assert artifact.size == 123
    assert artifact.platform.key == "macos-aarch64-none"
    assert (artifact.version, artifact.build) == (Version("3.12.8"), "20241219")
    assert (artifact.flavor, artifact.variant) == (INSTALL_ONLY, "default")
    assert artifact_from_url(url, sha256=None, size=None).sha256 is None  # type: ignore[union-attr]
    assert artifact_from_url(url, sha256="nothex", size=None).sha256 is None  # type: ignore[union-attr]
    assert artifact_from_url(f"{GITHUB}/20241219/SHA256SUMS", sha256=digest, size=1) is None


# --- preference ---------------------------------------------------------------------------


def test_flavor_rank_order() -> None:
    preferred_first = [
        "install_only_stripped",
        "install_only",
        "pgo+lto-full",
        "pgo-full",
        "lto-full",
        "noopt-full",
        "debug-full",
        "lto+static-full",
        "noopt+static-full",
        "debug+static-full",
        "full",
    ]
    shuffled = sorted(preferred_first, key=lambda f: f[::-1])  # any order but the answer
    assert shuffled != preferred_first
    assert sorted(shuffled, key=flavor_rank) == preferred_first
    assert len({flavor_rank(f) for f in preferred_first}) == len(preferred_first)


def test_flavor_rank_of_parsed_names_matches_uv_choice() -> None:
    """uv (docs/pbs-format.md §5 step 5) picks install_only_stripped, then pgo+lto over lto for a
    full."""
    names = [
        "cpython-3.13.1+20250115-aarch64-apple-darwin-freethreaded+debug-full.tar.zst",
        "cpython-3.13.1+20250115-aarch64-apple-darwin-freethreaded+pgo+lto-full.tar.zst",
        "cpython-3.13.1+20250115-aarch64-apple-darwin-install_only.tar.gz",
        "cpython-3.13.1+20250115-aarch64-apple-darwin-install_only_stripped.tar.gz",
        "cpython-3.13.1+20250115-aarch64-apple-darwin-pgo+lto-full.tar.zst",
    ]
    assets = [a for a in map(parse_asset_name, names) if a is not None]
    assert len(assets) == len(names)
    by_variant: dict[str, list[AssetName]] = {}
    for asset in assets:
        by_variant.setdefault(asset.variant, []).append(asset)
    best = {
        v: min(group, key=lambda a: flavor_rank(a.flavor)).flavor for v, group in by_variant.items()
    }
    assert best == {
        "default": INSTALL_ONLY_STRIPPED,
        "freethreaded": "pgo+lto-full",
        "freethreaded+debug": "debug-full",
    }


def test_asset_rank_windows_pseudo_triples() -> None:
    def rank(name: str) -> tuple[int, ...]:
        asset = parse_asset_name(name)
        assert asset is not None
        return asset_rank(asset)

    bare = rank("cpython-3.12.3+20240415-x86_64-pc-windows-msvc-install_only.tar.gz")
    shared = rank("cpython-3.12.3+20240415-x86_64-pc-windows-msvc-shared-install_only.tar.gz")
    shared_full = rank("cpython-3.11.6+20231002-x86_64-pc-windows-msvc-shared-pgo-full.tar.zst")
    static = rank("cpython-3.11.6+20231002-x86_64-pc-windows-msvc-static-install_only.tar.gz")
    assert bare < shared < shared_full < static
