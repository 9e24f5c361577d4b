"""PBS asset file names -> Artifact values, for every naming era (docs/pbs-format.md §1).

INTERFACE (fixed; other modules depend on it).

PBS has named its archives three ways (docs/pbs-format.md §1.1): E0
(``cpython-3.7.3-linux64-…``), E1
(``cpython-3.9.7-x86_64-unknown-linux-gnu-pgo-20211017T1616.tar.zst``) and E2
(``cpython-3.12.8+20241219-…-install_only.tar.gz``). Triples are matched against the list of
known triples, longest first, never with an "N dash-separated words" pattern: macOS triples have
three parts and Windows once had ``-shared``/``-static`` pseudo-triples with five (pitfalls 1, 2).
A name we cannot read is not an error, just not an interpreter we know: the parsers return None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import unquote, urlsplit

from packaging.version import Version

from pylock.base.credentials import without_userinfo
from pylock.project.platforms import KNOWN_TRIPLES, Platform, from_triple

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
    """One downloadable interpreter archive a source knows of.

    Its ``url`` never carries user information: it is what python.lock records and what
    ``pylock list`` shows, so a mirror URL's ``user:password@`` (or its display form) is taken
    off here, once, for every source; the credential itself travels in the HTTP policy.
    """

    asset: AssetName
    url: str
    sha256: str | None  # 64 lowercase hex, or None when the source has no checksum
    size: int | None  # bytes, when the source says

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", without_userinfo(self.url))

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


# --- grammar (docs/pbs-format.md §1.2) ---------------------------------------------------

_VERSION = r"(?P<version>\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)"
# Alternation order is KNOWN_TRIPLES' order (longest first), so "…-msvc-shared" wins over "…-msvc".
_TRIPLE = "(?P<triple>" + "|".join(re.escape(t) for t in KNOWN_TRIPLES) + ")"
_OPTION = r"(?:freethreaded|debug|noopt|lto|pgo|static)"
_OPTIONS = rf"(?P<opts>{_OPTION}(?:\+{_OPTION})*)"
_DATETIME = r"(?P<dt>\d{8}T\d{4})"

# E2: cpython-3.12.8+20241219-<triple>-<opts>-full.tar.zst
#     cpython-3.12.8+20241219-<triple>-[freethreaded-]install_only[_stripped].tar.gz
# An optional "+N" before the tag is accepted, as PBS's own metadata regex does
# (docs/pbs-format.md §1.2, pitfall 6).
_E2 = re.compile(
    rf"cpython-{_VERSION}\+(?:\d+\+)?(?P<tag>\d{{8}})-{_TRIPLE}-"
    rf"(?:{_OPTIONS}-full\.tar\.zst"
    r"|(?P<ft>freethreaded-)?(?P<io>install_only(?:_stripped)?)\.tar\.gz)"
)
# E1: cpython-3.9.7-<triple>-<config>-20211017T1616.tar.zst
#     cpython-3.9.6-<triple>-install_only-20210724T1424.tar.gz
_E1 = re.compile(
    rf"cpython-{_VERSION}-{_TRIPLE}-(?:(?:{_OPTIONS}|(?P<io>install_only))-)?{_DATETIME}"
    r"\.(?P<ext>tar\.zst|tar\.gz)"
)
# E0: cpython-3.7.3-linux64[-debug|-pgo]-20190427T2308.tar.zst,
#     cpython-3.7.5-windows-amd64[-static|-shared|-shared-pgo]-20191025T0506.tar.zst
_E0_TRIPLES = {
    "linux64-musl": "x86_64-unknown-linux-musl",
    "linux64": "x86_64-unknown-linux-gnu",
    "macos": "x86_64-apple-darwin",
    "windows-amd64": "x86_64-pc-windows-msvc",
    "windows-x86": "i686-pc-windows-msvc",
}
_E0 = re.compile(
    rf"cpython-{_VERSION}-(?P<plat>linux64-musl|linux64|macos|windows-amd64|windows-x86)"
    rf"(?P<tokens>(?:-{_OPTION}|-shared)*)-{_DATETIME}\.tar\.zst"
)
_BUILD_TAG = re.compile(r"\d{8}")


def _variant(options: tuple[str, ...], *, freethreaded: bool = False) -> str:
    """uv's variant rule (docs/pbs-format.md §5, step 4): debug and free-threading are the only
    axes."""
    freethreaded = freethreaded or "freethreaded" in options
    debug = "debug" in options
    if freethreaded and debug:
        return "freethreaded+debug"
    if freethreaded:
        return "freethreaded"
    if debug:
        return "debug"
    return "default"


def _full_flavor(options: tuple[str, ...]) -> str:
    """``pgo+lto-full`` from ``("freethreaded", "pgo", "lto")``: the variant is kept apart."""
    config = "+".join(o for o in options if o != "freethreaded")
    return f"{config}-full" if config else "full"


def _asset(
    name: str,
    version: str,
    build: str,
    triple: str,
    *,
    options: tuple[str, ...] = (),
    install_only: str | None = None,
    freethreaded: bool = False,
    archive_format: str,
) -> AssetName | None:
    platform = from_triple(triple)
    if platform is None:  # unreachable through the regexes, kept so a typo cannot crash
        return None
    return AssetName(
        name=name,
        implementation="cpython",
        version=Version(version),
        build=build,
        triple=triple,
        platform=platform,
        flavor=install_only if install_only else _full_flavor(options),
        options=options,
        variant=_variant(options, freethreaded=freethreaded),
        archive_format=archive_format,
    )


def parse_asset_name(name: str, *, build: str | None = None) -> AssetName | None:
    """Parse a PBS asset file name (literal ``+`` or ``%2B``) of any era.

    ``build`` is the release tag the asset was found under (the URL path, the release object):
    it is authoritative for E0/E1 names, whose date-time suffix is not the tag; without it the
    first 8 digits of that suffix are used. Returns None for names that are not interpreter
    archives (``SHA256SUMS``, ``*.sha256`` sidecars, unknown triples, other files).
    """
    if "%" in name:
        name = unquote(name)
    if not name.startswith("cpython-"):
        return None
    given = build if build is not None and _BUILD_TAG.fullmatch(build) else None

    m = _E2.fullmatch(name)
    if m is not None:
        if m["io"]:
            return _asset(
                name,
                m["version"],
                m["tag"],
                m["triple"],
                install_only=m["io"],
                freethreaded=bool(m["ft"]),
                archive_format="tar.gz",
            )
        return _asset(
            name,
            m["version"],
            m["tag"],
            m["triple"],
            options=tuple(m["opts"].split("+")),
            archive_format="tar.zst",
        )

    m = _E1.fullmatch(name)
    if m is not None:
        # install_only was repacked as .tar.gz; every other E1 archive is a full .tar.zst.
        if bool(m["io"]) != (m["ext"] == "tar.gz"):
            return None
        return _asset(
            name,
            m["version"],
            given or m["dt"][:8],
            m["triple"],
            options=tuple(m["opts"].split("+")) if m["opts"] else (),
            install_only=INSTALL_ONLY if m["io"] else None,
            archive_format=m["ext"],
        )

    m = _E0.fullmatch(name)
    if m is not None:
        # "shared" was the Windows default and names no build option; the rest are options.
        tokens = tuple(t for t in m["tokens"].split("-") if t and t != "shared")
        return _asset(
            name,
            m["version"],
            given or m["dt"][:8],
            _E0_TRIPLES[m["plat"]],
            options=tokens,
            archive_format="tar.zst",
        )
    return None


def _build_from_path(directories: list[str]) -> str | None:
    """The release tag in ``…/download/<tag>/<asset>``, or a mirror's ``{base}/{tag}/{asset}``.

    ``directories`` are the URL path's segments without the asset name.
    """
    for before, after in pairwise(directories):
        if before == "download" and _BUILD_TAG.fullmatch(after):
            return after
    if directories and _BUILD_TAG.fullmatch(directories[-1]):
        return directories[-1]
    return None


def parse_asset_url(url: str) -> AssetName | None:
    """Parse the last path segment of a download URL; the tag comes from ``.../download/<tag>/``."""
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. an invalid IPv6 host: not a URL we can read
        return None
    segments = [unquote(s) for s in path.split("/")]
    if not segments or not segments[-1]:
        return None
    return parse_asset_name(segments[-1], build=_build_from_path(segments[:-1]))


_SHA256 = re.compile(r"[0-9a-f]{64}")


def artifact_from_url(url: str, *, sha256: str | None, size: int | None) -> Artifact | None:
    """An Artifact for an interpreter archive URL, or None when the URL names no archive we know.

    The checksum is normalised to 64 lowercase hex; GitHub's ``sha256:`` digest prefix is
    accepted. A checksum that is not a sha256 at all is dropped (None) rather than trusted:
    artifacts without one are never locked, so a garbled value can only make a build unlockable,
    never let wrong bytes through.
    """
    asset = parse_asset_url(url)
    if asset is None:
        return None
    digest = sha256.strip().lower().removeprefix("sha256:") if sha256 else None
    if digest is not None and not _SHA256.fullmatch(digest):
        digest = None
    return Artifact(asset=asset, url=url, sha256=digest, size=size)


# --- preference (docs/pbs-format.md §5 step 5, docs/resolution.md rule 2) ----------------

_CONFIG_ORDER = (
    frozenset({"pgo", "lto"}),
    frozenset({"pgo"}),
    frozenset({"lto"}),
    frozenset({"noopt"}),
    frozenset({"debug"}),
)


def flavor_rank(flavor: str) -> tuple[int, ...]:
    """Sort key: lower is preferred. install_only_stripped < install_only < full archives from
    the best optimised down (pgo+lto < pgo < lto < noopt < debug), non-static before static."""
    if flavor == INSTALL_ONLY_STRIPPED:
        return (0,)
    if flavor == INSTALL_ONLY:
        return (1,)
    if flavor == "full":  # E0 names with no config: we cannot tell how it was built
        return (3,)
    if not flavor.endswith("-full"):
        return (4,)  # not a flavor PBS publishes; sorts last rather than failing
    tokens = frozenset(flavor.removesuffix("-full").split("+"))
    static = "static" in tokens
    config = tokens - {"static", "freethreaded"}
    known = _CONFIG_ORDER.index(config) if config in _CONFIG_ORDER else len(_CONFIG_ORDER)
    # Static builds cannot load extension modules; uv never picks them, so they come after
    # every non-static full archive, whatever their optimisation.
    return (2, int(static), known)


def asset_rank(asset: AssetName) -> tuple[int, ...]:
    """flavor_rank refined by the Windows pseudo-triples of releases before 20250311.

    A ``…-msvc-static`` build comes after every shared one, whatever its flavor (uv drops them),
    and when a release published both ``…-msvc-shared`` and the bare triple (20240415–20250212)
    the bare one wins the tie, so the choice between identical builds is deterministic.
    """
    return (
        int(asset.triple.endswith("-static")),
        *flavor_rank(asset.flavor),
        int(asset.triple.endswith("-shared")),
    )
