"""Drift: every way a lock fails to satisfy the manifest (docs/lockfile.md §8).

One rule shared by ``lock`` (nothing to do when there is no drift), ``sync`` (refuse a stale
lock) and ``check`` (``lock-current``). It lives with the lock, not the manifest, because it
reads both and the manifest must not know the lock's shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from packaging.version import Version

from pylock.project.manifest import Request, is_debug_flavor
from pylock.project.platforms import Platform
from pylock.project.provenance import UNATTESTED, Proof
from pylock.resolution.lockfile import Lock, LockedManifest, Target, relock_command


def locked_manifest(
    request: Request, manifest_platforms: tuple[Platform, ...] | None
) -> LockedManifest:
    """The lock's [manifest] table for ``request``: the normalised inputs, platforms as the
    manifest lists."""
    return LockedManifest(
        python=request.python.text,
        platforms=tuple(sorted({p.key for p in manifest_platforms or ()})),
        flavor=request.flavor,
        build=request.build,
        exclude_newer=request.exclude_newer,
    )


@dataclass(frozen=True)
class Drift:
    """One input the lock no longer satisfies: ``recorded -> current`` and the fixing command."""

    input: str  # "python", "platforms", "flavor", "build", "exclude-newer", "provenance"
    recorded: str
    current: str
    fix: str  # "pylock lock" (``lockfile.relock_command``: with --source when the lock records it)
    request: str | None = None  # in a matrix: the manifest request whose targets drifted

    def __str__(self) -> str:
        said = f"{self.input}: {self.recorded} -> {self.current} (run `{self.fix}`)"
        return f"request {self.request}: {said}" if self.request is not None else said


def pair_requests(locked: Sequence[str], wanted: Sequence[str]) -> list[int | None]:
    """For each wanted request, the index of the locked request that answers it, or None.

    Same text pairs first; the rest pair in order, so an edited request (3.11 -> 3.10) is judged
    against the targets it used to have, and a reworded one its pins still satisfy stays locked.
    """
    pairs: list[int | None] = [locked.index(text) if text in locked else None for text in wanted]
    free = [i for i in range(len(locked)) if i not in pairs]
    for position, index in enumerate(pairs):
        if index is None and free:
            pairs[position] = free.pop(0)
    return pairs


def matrix_drift(lock: Lock, requests: Sequence[Request]) -> list[Drift]:
    """``drift`` for every request of the manifest, each naming its request when there are
    several; a lock whose requests are not the manifest's (added, removed, reordered) drifts too.
    Empty exactly when ``pylock lock`` would leave the lock alone."""
    locked = lock.manifest.pythons
    wanted = [r.python.text for r in requests]
    pairs = pair_requests(locked, wanted)
    matrix = len(requests) > 1 or lock.is_matrix
    found: list[Drift] = []
    if pairs != list(range(len(locked))):
        found.append(
            Drift(
                "python", f"{', '.join(locked)} (locked)", ", ".join(wanted), relock_command(lock)
            )
        )
    for request, index in zip(requests, pairs, strict=True):
        if index is None:
            continue
        for each in drift(lock.view(locked[index]), request):
            found.append(replace(each, request=request.python.text) if matrix else each)
    return found


def _distinct(values: Iterable[str]) -> str:
    """Values in first-seen order without repeats, comma-joined (targets usually agree)."""
    return ", ".join(dict.fromkeys(values))


def drift(lock: Lock, request: Request) -> list[Drift]:
    """Every way ``lock`` fails to satisfy ``request`` (docs/lockfile.md §8); empty means current.

    Current when every requested platform has a target, every target's version and variant
    satisfy the python request, a pinned flavor/build equals every target's, no target's
    build is newer than exclude-newer, and every target's recorded provenance satisfies the
    provenance policy (``ProvenancePolicy.accepts``). Extra targets are fine; source and mirror
    never matter.
    """
    found: list[Drift] = []
    fix = relock_command(lock)  # `pylock lock`, with --source when the lock records one
    locked_keys = [target.platform for target in lock.targets]
    locked = f"{', '.join(locked_keys)} (locked)" if locked_keys else "no targets (locked)"
    missing = [p.key for p in request.platforms if p.key not in locked_keys]
    if missing:
        requested = ", ".join(p.key for p in request.platforms)
        found.append(Drift("platforms", locked, f"{requested}; missing {', '.join(missing)}", fix))
    elif not request.platforms and not lock.targets:
        found.append(Drift("platforms", locked, "at least one platform", fix))

    # The free-threaded half of the variant comes from the python request ("t"), the debug half
    # from the flavor, so a variant mismatch is reported against the input that asked for it.
    wants_ft = request.python.freethreaded
    wants_debug = is_debug_flavor(request.flavor)
    bad_python = [
        t
        for t in lock.targets
        if not request.python.contains(Version(t.version))
        or ("freethreaded" in t.variant.split("+")) != wants_ft
    ]
    if bad_python:
        versions = _distinct(
            t.version + ("t" if "freethreaded" in t.variant.split("+") else "") for t in bad_python
        )
        found.append(Drift("python", f"{versions} (locked)", request.python.text, fix))

    if request.flavor is not None:
        bad_flavor = [t for t in lock.targets if t.flavor != request.flavor]
        current_flavor = request.flavor
    else:
        bad_flavor = [t for t in lock.targets if ("debug" in t.variant.split("+")) != wants_debug]
        current_flavor = "unpinned (a non-debug build)"
    if bad_flavor:
        flavors = _distinct(t.flavor for t in bad_flavor)
        found.append(Drift("flavor", f"{flavors} (locked)", current_flavor, fix))

    if request.build is not None:
        bad_build = [t for t in lock.targets if t.build != request.build]
        if bad_build:
            builds = _distinct(t.build for t in bad_build)
            found.append(Drift("build", f"{builds} (locked)", request.build, fix))

    newest = request.newest_build
    if newest is not None:
        too_new = [t for t in lock.targets if t.build > newest]
        if too_new:
            builds = _distinct(t.build for t in too_new)
            found.append(
                Drift(
                    "exclude-newer",
                    f"{builds} (locked)",
                    f"no build after {request.exclude_newer}",
                    fix,
                )
            )

    unproved = [t for t in lock.targets if not request.provenance.accepts(t.provenance)]
    if unproved:
        recorded = _distinct(f"{t.platform} {_recorded(t)}" for t in unproved)
        found.append(
            Drift("provenance", f"{recorded} (locked)", request.provenance.describe(), fix)
        )
    return found


def _recorded(target: Target) -> str:
    """A target's recorded provenance as a drift finding says it."""
    record = target.provenance
    if isinstance(record, Proof):
        return f"signed by {record.signer} (source {record.repository}, issuer {record.issuer})"
    return "with no attestation" if record == UNATTESTED else "never verified"
