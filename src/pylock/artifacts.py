"""PBS asset file names -> Artifact values, for every naming era (FORMAT.md §1).

INTERFACE (fixed; other modules depend on it). Implementation: see the functions below.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from pylock.platforms import Platform

INSTALL_ONLY = "install_only"
INSTALL_ONLY_STRIPPED = "install_only_stripped"

VARIANTS = ("default", "freethreaded", "debug", "freethreaded+debug")


@dataclass(frozen=True)
class AssetName:
    """What a PBS asset file name says, before any checksum or URL is known.

    ``flavor`` is ``install_only``, ``install_only_stripped``, or for full archives the build
    options without the variant tokens, plus ``-full``: ``pgo+lto-full``, ``lto-full``,
    ``lto+static-full``, ``debug-full`` (variant debug), ``pgo-full``, ``noopt-full``.
    E1/E0 full archives (no ``-full`` in the name) get the same spelling. A full archive whose
    name gives no config at all is ``full``.
    ``variant`` is one of VARIANTS. ``options`` are all ``+``-separated build options the name
    states, in name order (``("freethreaded", "pgo", "lto")``), empty for install_only kinds.
    """

    name: str  # the literal file name, with "+" (not %2B)
    implementation: str  # "cpython"
    version: Version
    build: str  # PBS release tag YYYYMMDD
    triple: str  # as in the name; may be a Windows pseudo-triple ("...-msvc-shared")
    platform: Platform
    flavor: str
    options: tuple[str, ...]
    variant: str
    archive_format: str  # "tar.gz" | "tar.zst"

    @property
    def is_full(self) -> bool:
        return self.flavor not in (INSTALL_ONLY, INSTALL_ONLY_STRIPPED)


@dataclass(frozen=True)
class Artifact:
    """One downloadable interpreter archive a source knows of."""

    asset: AssetName
    url: str
    sha256: str | None  # 64 lowercase hex, or None when the source has no checksum
    size: int | None  # bytes, when the source says

    # Convenience accessors so callers rarely reach into .asset
    @property
    def version(self) -> Version:
        return self.asset.version

    @property
    def build(self) -> str:
        return self.asset.build

    @property
    def platform(self) -> Platform:
        return self.asset.platform

    @property
    def flavor(self) -> str:
        return self.asset.flavor

    @property
    def variant(self) -> str:
        return self.asset.variant


def parse_asset_name(name: str, *, build: str | None = None) -> AssetName | None:
    """Parse a PBS asset file name (literal ``+`` or ``%2B``) of any era.

    ``build`` is the release tag the asset was found under (the URL path, the release object):
    it is authoritative for E0/E1 names, whose date-time suffix is not the tag; without it the
    first 8 digits of that suffix are used. Returns None for names that are not interpreter
    archives (``SHA256SUMS``, ``*.sha256`` sidecars, unknown triples, other files).
    """
    raise NotImplementedError


def parse_asset_url(url: str) -> AssetName | None:
    """Parse the last path segment of a download URL; the tag comes from ``.../download/<tag>/``."""
    raise NotImplementedError


def flavor_rank(flavor: str) -> tuple[int, ...]:
    """Sort key: lower is preferred. install_only_stripped < install_only < full archives from
    the best optimised down (pgo+lto < pgo < lto < noopt < debug), non-static before static."""
    raise NotImplementedError
