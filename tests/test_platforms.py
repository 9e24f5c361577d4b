"""Platform keys <-> PBS triples: every triple PBS published (docs/pbs-format.md §1.4) and host
detection."""

from __future__ import annotations

import pytest

from pylock.errors import InputError
from pylock.project.platforms import (
    KNOWN_PLATFORMS,
    KNOWN_TRIPLES,
    Platform,
    from_triple,
    host_platform,
    parse_platform,
)

# docs/pbs-format.md §1.4, row by row, with the uv key each triple must mean (docs/manifest.md,
# "platforms").
FORMAT_TRIPLES = {
    "x86_64-apple-darwin": "macos-x86_64-none",
    "aarch64-apple-darwin": "macos-aarch64-none",
    "x86_64-unknown-linux-gnu": "linux-x86_64-gnu",
    "x86_64_v2-unknown-linux-gnu": "linux-x86_64_v2-gnu",
    "x86_64_v3-unknown-linux-gnu": "linux-x86_64_v3-gnu",
    "x86_64_v4-unknown-linux-gnu": "linux-x86_64_v4-gnu",
    "i686-unknown-linux-gnu": "linux-x86-gnu",
    "aarch64-unknown-linux-gnu": "linux-aarch64-gnu",
    "armv7-unknown-linux-gnueabi": "linux-armv7-gnueabi",
    "armv7-unknown-linux-gnueabihf": "linux-armv7-gnueabihf",
    "ppc64le-unknown-linux-gnu": "linux-powerpc64le-gnu",
    "s390x-unknown-linux-gnu": "linux-s390x-gnu",
    "riscv64-unknown-linux-gnu": "linux-riscv64-gnu",
    "x86_64-unknown-linux-musl": "linux-x86_64-musl",
    "x86_64_v2-unknown-linux-musl": "linux-x86_64_v2-musl",
    "x86_64_v3-unknown-linux-musl": "linux-x86_64_v3-musl",
    "x86_64_v4-unknown-linux-musl": "linux-x86_64_v4-musl",
    "aarch64-unknown-linux-musl": "linux-aarch64-musl",
    "x86_64-pc-windows-msvc": "windows-x86_64-none",
    "i686-pc-windows-msvc": "windows-x86-none",
    "aarch64-pc-windows-msvc": "windows-aarch64-none",
    "x86_64-pc-windows-msvc-shared": "windows-x86_64-none",
    "i686-pc-windows-msvc-shared": "windows-x86-none",
    "x86_64-pc-windows-msvc-static": "windows-x86_64-none",
    "i686-pc-windows-msvc-static": "windows-x86-none",
}


@pytest.mark.parametrize(("triple", "key"), sorted(FORMAT_TRIPLES.items()))
def test_every_format_triple_maps_to_its_key(triple: str, key: str) -> None:
    platform = from_triple(triple)
    assert platform is not None
    assert platform.key == key
    assert triple in KNOWN_TRIPLES
    # The canonical triple drops the pseudo-triple suffix and nothing else.
    assert platform.triple == triple.removesuffix("-shared").removesuffix("-static")


def test_known_platforms_are_exactly_those_pbs_published() -> None:
    assert {p.key for p in KNOWN_PLATFORMS} == set(FORMAT_TRIPLES.values())


@pytest.mark.parametrize("platform", KNOWN_PLATFORMS, ids=str)
def test_key_and_triple_round_trip(platform: Platform) -> None:
    assert parse_platform(platform.key) == platform
    assert parse_platform(platform.triple) == platform
    assert from_triple(platform.triple) == platform
    assert platform.key == f"{platform.os}-{platform.arch}-{platform.libc}"
    assert str(platform) == platform.key


def test_known_triples_put_pseudo_triples_before_their_prefix() -> None:
    # A regex alternation over KNOWN_TRIPLES must try "...-msvc-shared" before "...-msvc".
    for i, triple in enumerate(KNOWN_TRIPLES):
        for later in KNOWN_TRIPLES[i + 1 :]:
            assert not later.startswith(triple), (triple, later)


def test_known_platforms_sorted_and_unique() -> None:
    assert list(KNOWN_PLATFORMS) == sorted(set(KNOWN_PLATFORMS))


def test_parse_platform_strips_whitespace() -> None:
    assert parse_platform("  linux-aarch64-musl\n").key == "linux-aarch64-musl"


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("linux-x86_64-gun", "linux-x86_64-gnu"),
        ("macos-arm64-nonee", "macos-aarch64-none"),  # read by meaning: arm64 is aarch64
        ("x86_64-unknown-linux-gnux", "x86_64-unknown-linux-gnu"),
    ],
)
def test_unknown_platform_suggests_the_closest(typo: str, suggestion: str) -> None:
    with pytest.raises(InputError) as info:
        parse_platform(typo, where="pyproject.toml [tool.pylock] platforms")
    error = info.value
    assert error.exit_code == 2
    assert repr(typo) in error.message
    assert f"Did you mean {suggestion!r}" in error.message
    assert "pyproject.toml [tool.pylock] platforms" in error.message
    assert error.hint is not None
    assert "linux-x86_64-gnu" in error.hint and "windows-x86_64-none" in error.hint


def test_unknown_platform_without_any_close_match_still_lists_valid_ones() -> None:
    with pytest.raises(InputError) as info:
        parse_platform("zz")
    assert "Did you mean" not in info.value.message
    assert info.value.hint is not None and "macos-aarch64-none" in info.value.hint


def test_from_triple_unknown_is_none() -> None:
    assert from_triple("loongarch64-unknown-linux-gnu") is None
    assert from_triple("aarch64-apple-darwin-freethreaded") is None


def test_host_platform_is_known_here() -> None:
    host = host_platform()
    assert host in KNOWN_PLATFORMS
    assert parse_platform(host.key) == host
