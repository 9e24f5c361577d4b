"""Choose one PBS build for every requested platform (docs/resolution.md). Pure: no I/O.

The lock's promise is "one interpreter, the same everywhere", so the resolver picks a single
(version, build) for all platforms: the highest version satisfying the request for which one
build exists on every platform, then the newest such build. Within that build each platform
gets its best flavor (or exactly the pinned one).

Sources yield releases newest first and lazily (the GitHub source pays one API request per page
of releases), so the resolver reads only as far back as it must. When to stop is the subtle part;
it is explained in :func:`resolve`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from pylock.errors import ResolutionError
from pylock.project.manifest import PythonRequest, Request
from pylock.project.platforms import Platform
from pylock.sources.artifacts import Artifact, asset_rank

if TYPE_CHECKING:  # sources imports httpx; the resolver itself never needs it at run time
    from pylock.sources.source import Release

_Key = tuple[Version, str]  # (version, build)
_Series = tuple[int, int]  # (major, minor)


@dataclass(frozen=True)
class Resolution:
    """The chosen version and build, and one artifact (with a sha256) per requested platform."""

    version: Version
    build: str
    artifacts: tuple[Artifact, ...]  # sorted by platform key
    releases_read: int = field(default=0, compare=False)  # how far back the source was read

    def artifact_for(self, platform: Platform) -> Artifact | None:
        for artifact in self.artifacts:
            if artifact.platform == platform:
                return artifact
        return None


def _preference(artifact: Artifact) -> tuple[tuple[int, ...], str]:
    """Lower is better: uv's flavor order, then the file name so ties are deterministic."""
    return asset_rank(artifact.asset), artifact.asset.name


def _series(version: Version) -> _Series:
    return version.major, version.minor


def _may_hold_better(
    series: _Series, best: Version, ceiling: Version, python: PythonRequest
) -> bool:
    """Could a release older than those read carry a version of ``series`` above ``best`` that
    satisfies ``python``, knowing (assumption A in :func:`resolve`) that it carries none above
    ``ceiling``? Exact for final releases; any request that admits pre-releases is answered
    conservatively (yes), since those are rare and reading further is only slower, never wrong."""
    if ceiling <= best:
        return False
    if python.prereleases:
        return True
    major, minor = series
    # PBS ships final releases X.Y.0 .. X.Y.N of a series; a ceiling that is itself a pre-release
    # of X.Y.0 leaves no final release below it at all.
    for micro in range(ceiling.micro + 1):
        candidate = Version(f"{major}.{minor}.{micro}")
        if best < candidate <= ceiling and python.contains(candidate):
            return True
    return False


def resolve(
    request: Request,
    releases: Iterable[Release],
    *,
    version: Version | None = None,
    source: str = "",
) -> Resolution:
    """Pick one (version, build) that covers every platform of ``request``, reading ``releases``
    (newest first) no further back than needed.

    A candidate artifact must have a sha256 (artifacts without one are never locked), the
    request's variant, a version the python request admits (pre-releases only when it names
    one), a requested platform, the pinned flavor if any (strict) and the pinned build if any.
    ``version`` restricts candidates to that exact version: the lock command uses it to add
    platforms at an existing pin. ``source`` names the source in error messages.

    When to stop reading. A (version, build) is *complete* once it has a candidate on every
    requested platform; since all of a build's artifacts arrive in one release, completeness is
    known the moment its release is read, and the first complete build of a version is its
    newest. The answer is the highest complete version. It is certain once no unread (older)
    release can hold a higher complete version, which follows from two properties of PBS:

    A. A newer release never carries a lower patch of a minor series than an older release
       (PBS ships at most one patch per series per release, moving forward). So an older
       release carries versions of a series S no higher than the lowest version of S read so
       far, its *ceiling*.
    B. A minor series, once shipped for a platform, stays in every later release until it is
       retired, and series are retired oldest first. So a series that appears in none of the
       releases read cannot appear in an older one above a series those releases still carry.

    Hence: stop when a complete version exists and, for every series read whose ceiling is
    higher, no version between the best and that ceiling can satisfy the request. The naive rule
    "stop at the first release that completes any version" is wrong when a newer release lacks
    a platform that an older one has: if 20250115 carries 3.13.2 without windows-aarch64-none
    but 3.12.9 everywhere, an older release may still carry 3.13.1 everywhere, and 3.13.1 is the
    right answer; the 3.13 ceiling (3.13.2) keeps us reading until it is found or ruled out.
    A series that is never complete is ruled out once its ceiling is a pre-release of X.Y.0
    (no final below it), or when the source runs out. If PBS ever broke A or B, the price is a
    lower (still valid, still sha256-pinned) version than the best, never a wrong lock.

    Raises ResolutionError when nothing satisfies the request, naming the nearest versions that
    exist, or when no single build covers every platform, naming the platforms that lack the
    best candidate.
    """
    wanted = frozenset(request.platforms)
    if not wanted:
        raise ValueError("resolve() needs at least one platform")
    variant = request.variant
    newest = request.newest_build  # exclude-newer: later releases do not exist for this run
    found: dict[_Key, dict[Platform, Artifact]] = {}
    ceilings: dict[_Series, Version] = {}
    available: set[Version] = set()  # pass every filter except the version request
    unhashed: set[Version] = set()  # would be candidates but for a missing sha256
    best: _Key | None = None
    read = 0
    for release in releases:
        if newest is not None and release.build > newest:
            continue  # neither read nor counted: as if it had not been published yet
        read += 1
        touched: set[_Key] = set()
        for artifact in release.artifacts:
            if artifact.asset.implementation != "cpython":
                continue
            v = artifact.version
            series = _series(v)
            if series not in ceilings or v < ceilings[series]:
                ceilings[series] = v
            if (
                artifact.platform not in wanted
                or artifact.variant != variant
                or (request.flavor is not None and artifact.flavor != request.flavor)
                or (request.build is not None and artifact.build != request.build)
            ):
                continue
            available.add(v)
            if not request.python.contains(v) or (version is not None and v != version):
                continue
            if artifact.sha256 is None:
                unhashed.add(v)
                continue
            key = (v, artifact.build)
            slot = found.setdefault(key, {})
            current = slot.get(artifact.platform)
            if current is None or _preference(artifact) < _preference(current):
                slot[artifact.platform] = artifact
            touched.add(key)
        for key in touched:
            if len(found[key]) == len(wanted) and (best is None or key > best):
                best = key
        if best is not None and _certain(best[0], ceilings, request, version):
            break
    if best is None:
        raise _failure(request, found, available, unhashed, read, source)
    chosen = found[best]
    return Resolution(
        version=best[0],
        build=best[1],
        artifacts=tuple(chosen[p] for p in sorted(wanted)),
        releases_read=read,
    )


def _certain(
    best: Version,
    ceilings: dict[_Series, Version],
    request: Request,
    version: Version | None,
) -> bool:
    """Whether no older release can beat ``best`` (see resolve(): properties A and B)."""
    if version is not None or request.build is not None:
        # One exact version, or one build: older releases only hold older builds (or other
        # builds), which can never win, whatever a source that ignores the pin sends next.
        return True
    return not any(
        _may_hold_better(series, best, ceiling, request.python)
        for series, ceiling in ceilings.items()
    )


# --- errors ---------------------------------------------------------------------------------


def _describe(request: Request) -> str:
    as_of = f", no build after {request.exclude_newer}" if request.exclude_newer else ""
    return (
        f"python {request.python.text!r} (variant {request.variant}, "
        f"flavor {request.flavor or 'any'}, build {request.build or 'any'}{as_of})"
    )


def _nearest(available: set[Version], python: PythonRequest, count: int = 5) -> list[Version]:
    """The available versions closest to the ones the request names, highest first."""
    anchors: list[Version] = []
    for spec in python.specifier:
        try:
            anchors.append(Version(spec.version.removesuffix(".*")))
        except InvalidVersion:
            continue

    def gap(v: Version) -> tuple[int, int, int]:
        return min(
            (
                (abs(v.major - a.major), abs(v.minor - a.minor), abs(v.micro - a.micro))
                for a in anchors
            ),
            default=(0, 0, 0),
        )

    # Highest first, then a stable sort by distance: among equally near versions the highest win.
    closest = sorted(sorted(available, reverse=True), key=gap)
    return sorted(closest[:count], reverse=True)


def _listing(request: Request, source: str) -> str:
    """The ``pylock list`` that shows what ``source`` has for ``request``'s version and platforms,
    every build (the advice when nothing was found to name)."""
    import shlex

    words = ["pylock", "list", request.python.text, "--all-builds"]
    for platform in sorted(request.platforms):
        words += ["--platform", platform.key]
    if source:
        words += ["--source", source]
    return shlex.join(words)


def _failure(
    request: Request,
    found: dict[_Key, dict[Platform, Artifact]],
    available: set[Version],
    unhashed: set[Version],
    read: int,
    source: str,
) -> ResolutionError:
    on = f" on {source}" if source else ""
    platforms = ", ".join(p.key for p in sorted(request.platforms))
    if not found:
        parts = [f"No Python build matches {_describe(request)} for {platforms}{on}."]
        listing = _listing(request, source)
        if request.build is not None and read == 0:
            parts.append(f"Release {request.build} is not known to the source.")
            hint = (
                f"Pin a release it has (`{listing}` lists them), or drop the build pin "
                "([tool.pylock].build or --build)."
            )
        elif available:
            near = ", ".join(str(v) for v in _nearest(available, request.python))
            parts.append(f"Nearest available versions: {near}.")
            hint = (
                "Relax the python request, or the flavor or build pin, to match a version "
                "listed above."
            )
        else:
            parts.append("No build of that variant and flavor exists for these platforms.")
            hint = (
                "Unpin or change the flavor, or the platforms; "
                f"`{listing}` lists what the source has."
            )
        if unhashed:
            versions = ", ".join(str(v) for v in sorted(unhashed, reverse=True)[:5])
            parts.append(f"({versions} exist only without a sha256, and are never locked.)")
        return ResolutionError(" ".join(parts), hint=hint)
    top = max(v for v, _ in found)
    # Of the best version's builds, report the one that comes closest to covering everything.
    build, covered = max(
        ((b, slot) for (v, b), slot in found.items() if v == top),
        key=lambda item: (len(item[1]), item[0]),
    )
    lacking = sorted(set(request.platforms) - set(covered))
    names = ", ".join(p.key for p in lacking)
    with_any = {p for slot in found.values() for p in slot}
    never = sorted(set(request.platforms) - with_any)
    message = (
        f"No single build{on} covers every requested platform for {_describe(request)}: "
        f"{top} ({build}) has no build for {names}."
    )
    if never:
        message += (
            f" Nothing matching the request exists for {', '.join(p.key for p in never)} at all."
        )
    return ResolutionError(
        message,
        hint=f"Drop {names} from [tool.pylock].platforms (or --platform), relax the python "
        "request, or unpin or change the flavor.",
    )
