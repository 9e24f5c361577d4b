"""The resolver: one (version, build) for every platform, read lazily from newest-first releases."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from pylock.errors import ResolutionError
from pylock.project.manifest import Request, parse_python_request
from pylock.project.platforms import parse_platform
from pylock.resolution.resolver import Resolution, resolve
from pylock.sources.artifacts import Artifact, AssetName, artifact_from_url
from pylock.sources.source import Release

UV_SAMPLE = Path(__file__).parent / "data" / "uv-download-metadata.sample.json"

LINUX = "linux-x86_64-gnu"
MAC = "macos-aarch64-none"
WIN = "windows-x86_64-none"
WIN_ARM = "windows-aarch64-none"


def art(
    version: str,
    build: str,
    platform: str,
    flavor: str = "install_only_stripped",
    *,
    variant: str = "default",
    sha: bool = True,
    triple: str | None = None,
) -> Artifact:
    """An artifact as a source would hand it over; the name mirrors PBS's E2 spelling."""
    plat = parse_platform(platform)
    triple = triple or plat.triple
    if flavor.startswith("install_only"):
        prefix = "freethreaded-" if variant == "freethreaded" else ""
        tail = f"{prefix}{flavor}.tar.gz"
        options: tuple[str, ...] = ()
    else:
        config = flavor.removesuffix("-full")
        tokens = ["freethreaded"] if "freethreaded" in variant else []
        tokens += config.split("+")
        options = tuple(tokens)
        tail = "+".join(tokens) + "-full.tar.zst"
    name = f"cpython-{version}+{build}-{triple}-{tail}"
    asset = AssetName(
        name=name,
        implementation="cpython",
        version=Version(version),
        build=build,
        triple=triple,
        platform=plat,
        flavor=flavor,
        options=options,
        variant=variant,
        archive_format="tar.gz" if tail.endswith(".gz") else "tar.zst",
    )
    digest = hashlib.sha256(name.encode()).hexdigest() if sha else None
    return Artifact(asset=asset, url=f"https://example.test/{build}/{name}", sha256=digest, size=1)


def release(build: str, *artifacts: Artifact) -> Release:
    return Release(build=build, artifacts=artifacts)


def everywhere(version: str, build: str, *platforms: str, **kw: object) -> list[Artifact]:
    return [art(version, build, p, **kw) for p in platforms]  # type: ignore[arg-type]


def request(
    python: str,
    *platforms: str,
    flavor: str | None = None,
    build: str | None = None,
) -> Request:
    return Request(
        python=parse_python_request(python),
        platforms=tuple(sorted(parse_platform(p) for p in platforms)),
        flavor=flavor,
        build=build,
    )


class Counted:
    """An iterable of releases that records how many the resolver pulled from it."""

    def __init__(self, releases: Iterable[Release]) -> None:
        self.releases = list(releases)
        self.consumed = 0

    def __iter__(self) -> Iterator[Release]:
        for item in self.releases:
            self.consumed += 1
            yield item


def pins(resolution: Resolution) -> set[tuple[str, str, str, str]]:
    return {(a.platform.key, str(a.version), a.build, a.flavor) for a in resolution.artifacts}


# --- choosing -------------------------------------------------------------------------------


def test_picks_the_highest_version_then_the_newest_build() -> None:
    releases = [
        release("20250301", *everywhere("3.12.9", "20250301", LINUX, MAC)),
        release("20250201", *everywhere("3.12.9", "20250201", LINUX, MAC)),
        release("20250101", *everywhere("3.12.8", "20250101", LINUX, MAC)),
    ]
    result = resolve(request("3.12", LINUX, MAC), releases)
    assert (result.version, result.build) == (Version("3.12.9"), "20250301")
    assert [a.platform.key for a in result.artifacts] == [LINUX, MAC]


def test_an_exact_version_is_taken_from_its_newest_build() -> None:
    releases = Counted(
        [
            release("20250301", *everywhere("3.12.9", "20250301", LINUX)),
            release("20250201", *everywhere("3.12.8", "20250201", LINUX)),
            release("20250115", *everywhere("3.12.8", "20250115", LINUX)),
            release("20250101", *everywhere("3.12.7", "20250101", LINUX)),
        ]
    )
    result = resolve(request("3.12.8", LINUX), releases)
    assert (str(result.version), result.build) == ("3.12.8", "20250201")
    assert releases.consumed == 2


def test_a_newer_build_missing_a_platform_loses_to_an_older_complete_one() -> None:
    releases = [
        release("20250201", art("3.12.9", "20250201", LINUX)),  # no macOS build this time
        release("20250101", *everywhere("3.12.9", "20250101", LINUX, MAC)),
    ]
    result = resolve(request("3.12", LINUX, MAC), releases)
    # One build for all: the Linux artifact comes from the older release too.
    assert pins(result) == {
        (LINUX, "3.12.9", "20250101", "install_only_stripped"),
        (MAC, "3.12.9", "20250101", "install_only_stripped"),
    }


def test_highest_complete_version_wins_over_a_newer_complete_lower_series() -> None:
    # The newest release lacks Windows for 3.13 but has 3.12 everywhere; an older release has
    # 3.13 everywhere. Highest version first (docs/resolution.md): 3.13.1 from the older release.
    releases = Counted(
        [
            release(
                "20250201",
                *everywhere("3.13.2", "20250201", LINUX, MAC),
                *everywhere("3.12.9", "20250201", LINUX, MAC, WIN),
            ),
            release(
                "20250115",
                *everywhere("3.13.1", "20250115", LINUX, MAC, WIN),
                *everywhere("3.12.8", "20250115", LINUX, MAC, WIN),
            ),
            release("20250101", *everywhere("3.13.1", "20250101", LINUX, MAC, WIN)),
        ]
    )
    result = resolve(request(">=3.12", LINUX, MAC, WIN), releases)
    assert (str(result.version), result.build) == ("3.13.1", "20250115")
    assert releases.consumed == 2  # 3.13.1 complete and nothing older can be higher


def test_a_series_never_complete_is_ruled_out_at_its_first_prerelease() -> None:
    releases = Counted(
        [
            release(
                "20250201",
                art("3.13.1", "20250201", LINUX),
                *everywhere("3.12.9", "20250201", LINUX, WIN_ARM),
            ),
            release(
                "20250115",
                art("3.13.0", "20250115", LINUX),
                *everywhere("3.12.8", "20250115", LINUX, WIN_ARM),
            ),
            release(
                "20241001",
                art("3.13.0rc3", "20241001", LINUX),
                *everywhere("3.12.7", "20241001", LINUX, WIN_ARM),
            ),
            release("20240901", *everywhere("3.12.6", "20240901", LINUX, WIN_ARM)),
        ]
    )
    result = resolve(request(">=3.12", LINUX, WIN_ARM), releases)
    assert (str(result.version), result.build) == ("3.12.9", "20250201")
    # 3.13 might still have been complete in an older release until one carried only its rc.
    assert releases.consumed == 3


def test_reads_one_release_when_the_newest_answers_everything() -> None:
    releases = Counted(
        release(
            build,
            *everywhere(f"3.12.{n}", build, LINUX, MAC, WIN),
            *everywhere(f"3.11.{n + 3}", build, LINUX, MAC, WIN),
            *everywhere("3.14.0rc1", build, LINUX, MAC, WIN),
        )
        for n in range(9, 0, -1)
        for build in [f"202501{10 + n}"]
    )
    assert resolve(request("3.12", LINUX, MAC, WIN), releases).version == Version("3.12.9")
    assert releases.consumed == 1
    releases.consumed = 0
    # Other series and a pre-release in the same release do not make the answer less certain.
    assert resolve(request(">=3.11", LINUX, MAC, WIN), releases).version == Version("3.12.9")
    assert releases.consumed == 1


def test_reads_everything_when_nothing_matches() -> None:
    releases = Counted(
        release(f"2025010{d}", art(f"3.12.{d}", f"2025010{d}", LINUX)) for d in (3, 2, 1)
    )
    with pytest.raises(ResolutionError):
        resolve(request("3.11", LINUX), releases)
    assert releases.consumed == 3


def test_version_restriction_adds_platforms_at_a_pin() -> None:
    releases = [release("20250115", *everywhere("3.12.8", "20250115", LINUX, MAC, WIN))]
    result = resolve(request(">=3.12", WIN, build="20250115"), releases, version=Version("3.12.8"))
    assert pins(result) == {(WIN, "3.12.8", "20250115", "install_only_stripped")}


# --- flavors and variants -------------------------------------------------------------------


def test_flavor_preference_per_platform() -> None:
    b = "20250115"
    releases = [
        release(
            b,
            art("3.12.8", b, LINUX, "pgo+lto-full"),
            art("3.12.8", b, LINUX, "install_only"),
            art("3.12.8", b, LINUX, "install_only_stripped"),
            art("3.12.8", b, LINUX, "debug-full", variant="debug"),
            art("3.12.8", b, MAC, "debug-full"),
            art("3.12.8", b, MAC, "lto+static-full"),
            art("3.12.8", b, MAC, "lto-full"),
            art("3.12.8", b, WIN, "pgo-full"),
            art("3.12.8", b, WIN, "install_only"),
        )
    ]
    result = resolve(request("3.12", LINUX, MAC, WIN), releases)
    assert {(a.platform.key, a.flavor) for a in result.artifacts} == {
        (LINUX, "install_only_stripped"),
        (MAC, "lto-full"),
        (WIN, "install_only"),
    }


def test_a_pinned_flavor_is_strict() -> None:
    b = "20250115"
    releases = [
        release(
            b,
            art("3.12.8", b, LINUX, "install_only_stripped"),
            art("3.12.8", b, LINUX, "install_only"),
            art("3.12.8", b, MAC, "install_only_stripped"),
        )
    ]
    result = resolve(request("3.12", LINUX, flavor="install_only"), releases)
    assert pins(result) == {(LINUX, "3.12.8", b, "install_only")}
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.12", LINUX, MAC, flavor="install_only"), releases)
    assert "has no build for macos-aarch64-none" in str(info.value)
    assert "flavor install_only" in str(info.value)


def test_windows_pseudo_triple_loses_the_tie_to_the_bare_triple() -> None:
    b = "20240415"
    shared = art("3.12.3", b, WIN, "install_only", triple="x86_64-pc-windows-msvc-shared")
    bare = art("3.12.3", b, WIN, "install_only")
    for order in ([shared, bare], [bare, shared]):
        result = resolve(request("3.12", WIN), [release(b, *order)])
        assert result.artifacts[0].asset.triple == "x86_64-pc-windows-msvc"


def test_free_threaded_request_takes_only_free_threaded_builds() -> None:
    b = "20250115"
    releases = [
        release(
            b,
            *everywhere("3.13.1", b, LINUX, MAC),
            *everywhere("3.13.1", b, LINUX, MAC, flavor="pgo+lto-full", variant="freethreaded"),
            art("3.13.1", b, LINUX, "debug-full", variant="freethreaded+debug"),
        )
    ]
    result = resolve(request("3.13t", LINUX, MAC), releases)
    assert {(a.variant, a.flavor) for a in result.artifacts} == {("freethreaded", "pgo+lto-full")}
    plain = resolve(request("3.13", LINUX, MAC), releases)
    assert {a.variant for a in plain.artifacts} == {"default"}
    debug = resolve(request("3.13t", LINUX, flavor="debug-full"), releases)
    assert debug.artifacts[0].variant == "freethreaded+debug"


def test_free_threaded_missing_is_an_error_not_a_fallback() -> None:
    b = "20250115"
    releases = [release(b, *everywhere("3.12.8", b, LINUX))]
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.12t", LINUX), releases)
    assert "variant freethreaded" in str(info.value)


# --- pins, pre-releases, checksums ----------------------------------------------------------


def test_a_pinned_build_filters_releases() -> None:
    releases = Counted(
        [
            release("20250301", *everywhere("3.12.9", "20250301", LINUX)),
            release("20250201", *everywhere("3.12.9", "20250201", LINUX)),
            release("20250101", *everywhere("3.12.8", "20250101", LINUX)),
        ]
    )
    result = resolve(request("3.12", LINUX, build="20250201"), releases)
    assert (str(result.version), result.build) == ("3.12.9", "20250201")
    assert releases.consumed == 2  # a source honouring the pin would only send that one


def test_unknown_pinned_build_says_so() -> None:
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.12", LINUX, build="20991231"), [], source="github")
    message = str(info.value)
    assert "Release 20991231 is not known" in message
    assert "on github" in message


def test_prereleases_only_when_the_request_names_one() -> None:
    b = "20250115"
    releases = [release(b, *everywhere("3.14.0rc1", b, LINUX), *everywhere("3.13.1", b, LINUX))]
    assert resolve(request(">=3.13", LINUX), releases).version == Version("3.13.1")
    assert resolve(request("3.14.0rc1", LINUX), releases).version == Version("3.14.0rc1")
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.14", LINUX), releases)
    assert "3.14.0rc1" in str(info.value)  # listed among the nearest available versions


def test_artifacts_without_sha256_are_never_locked() -> None:
    releases = [
        release("20250201", *everywhere("3.12.9", "20250201", LINUX, sha=False)),
        release("20250101", *everywhere("3.12.8", "20250101", LINUX)),
    ]
    result = resolve(request("3.12", LINUX), releases)
    assert (str(result.version), result.build) == ("3.12.8", "20250101")
    assert all(a.sha256 for a in result.artifacts)
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.12.9", LINUX), releases)
    assert "without a sha256" in str(info.value)


# --- errors ---------------------------------------------------------------------------------


def test_error_names_the_platforms_lacking_the_best_candidate() -> None:
    b = "20250115"
    releases = [release(b, *everywhere("3.13.1", b, LINUX, MAC))]
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.13", LINUX, MAC, WIN_ARM), releases)
    error = info.value
    assert error.exit_code == 1
    assert "3.13.1 (20250115) has no build for windows-aarch64-none" in error.message
    assert error.hint is not None and "windows-aarch64-none" in error.hint


def test_error_when_no_version_satisfies_lists_the_nearest() -> None:
    releases = [
        release(
            "20250115",
            *everywhere("3.13.1", "20250115", LINUX),
            *everywhere("3.12.8", "20250115", LINUX),
            *everywhere("3.9.21", "20250115", LINUX),
        ),
        release("20241201", *everywhere("3.12.7", "20241201", LINUX)),
    ]
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.12.99", LINUX, flavor="install_only_stripped"), releases)
    message = info.value.message
    assert "'3.12.99'" in message
    assert "variant default" in message and "flavor install_only_stripped" in message
    assert "build any" in message
    assert "Nearest available versions: 3.13.1, 3.12.8, 3.12.7, 3.9.21." in message


# --- real data --------------------------------------------------------------------------------


def uv_sample_releases() -> list[Release]:
    """uv's real download metadata (five PBS releases), grouped into releases newest first."""
    data = json.loads(UV_SAMPLE.read_text("utf-8"))
    by_build: dict[str, list[Artifact]] = defaultdict(list)
    for entry in data.values():
        found = artifact_from_url(entry["url"], sha256=entry["sha256"], size=None)
        if found is not None:
            by_build[found.build].append(found)
    return [Release(b, tuple(by_build[b])) for b in sorted(by_build, reverse=True)]


@pytest.mark.skipif(not UV_SAMPLE.exists(), reason="PBS sample data not available")
def test_real_uv_metadata() -> None:
    releases = Counted(uv_sample_releases())
    three = (LINUX, MAC, WIN)
    latest = resolve(request(">=3.12", *three), releases)
    assert (str(latest.version), latest.build) == ("3.14.3", "20260325")
    assert releases.consumed == 1  # 3.15.0a7 is a pre-release: not asked for
    assert {a.flavor for a in latest.artifacts} == {"install_only_stripped"}
    assert latest.artifact_for(parse_platform(MAC)) is not None
    releases.consumed = 0
    older = resolve(request("3.12", *three), releases)
    assert (str(older.version), older.build) == ("3.12.8", "20250115")
    assert releases.consumed == 2
    assert resolve(request("3.13t", *three), releases).version == Version("3.13.12")
    legacy = resolve(request("3.10", LINUX, "linux-x86-gnu"), releases)
    assert (str(legacy.version), legacy.build) == ("3.10.0", "20211017")
    with pytest.raises(ResolutionError) as info:
        resolve(request("3.12", LINUX, WIN_ARM), releases)
    assert "3.12.8 (20250115) has no build for windows-aarch64-none" in str(info.value)
