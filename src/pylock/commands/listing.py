"""``pylock list``: what a source offers, newest first, with the locked target marked.

Like ``uv python list --all-versions``, but a PBS version is not one thing: each release (build)
re-ships it, in several flavors. So a row is one archive, and by default each version shows only
its newest build (the one ``pylock lock`` would choose), every flavor of it per platform;
``--all-builds`` shows every build. Rows come from the same ``sources`` API as ``pylock lock``,
so ``--offline`` answers from the HTTP cache as lock does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.project.platforms import Platform, host_platform, parse_platform
from pylock.project.provenance import Record, record_json
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, Target
from pylock.sources.artifacts import Artifact, asset_rank

if TYPE_CHECKING:
    from pylock.base.settings import Settings
    from pylock.project.manifest import PythonRequest


@dataclass(frozen=True)
class ListOptions:
    request: str | None = None  # a version request (as in [tool.pylock].python); None: all
    platforms: tuple[str, ...] = ()  # keys or triples; default: the manifest's, else this host
    all_builds: bool = False


@dataclass(frozen=True)
class Offer:
    """One archive the source offers."""

    version: str
    build: str
    platform: str
    flavor: str
    variant: str
    url: str
    sha256: str | None
    size: int | None  # None when the source does not say (a catalog)
    locked: bool  # python.lock pins exactly this archive
    provenance: Record | None = None  # what python.lock records about the locked one

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "build": self.build,
            "platform": self.platform,
            "flavor": self.flavor,
            "variant": self.variant,
            "url": self.url,
            "sha256": self.sha256,
            "size": self.size,
            "locked": self.locked,
            "provenance": record_json(self.provenance),
        }


def list_offers(
    project_dir: Path,
    options: ListOptions,
    *,
    settings: Settings,
) -> list[Offer]:
    """Every archive the source offers for the platforms asked for, newest version first.

    The source is chosen as for ``pylock lock`` (``Settings.source_for``: ``--source``, the
    manifest's, ``PYLOCK_SOURCE``, GitHub) and read under the same HTTP policy
    (``settings.http``: ``--offline`` or ``PYLOCK_OFFLINE`` answers from the cache)."""
    from pylock.base.sourcespec import naming_offline_routes
    from pylock.commands.sync import manifest_if_any
    from pylock.project.manifest import PYPROJECT, parse_python_request
    from pylock.resolution.locker import default_context
    from pylock.sources.spec import open_source

    pyproject = project_dir / PYPROJECT
    manifest = manifest_if_any(pyproject)
    python = parse_python_request(options.request, where="REQUEST") if options.request else None
    platforms = _platforms(options.platforms, manifest.platforms if manifest else None)
    lock = _read_lock_if_any(project_dir)
    remote = settings.remote(
        mirror=manifest.mirror if manifest else None,
        source=manifest.source if manifest else None,
        manifest_path=pyproject,
    )
    context = default_context(replace(settings, http=remote.http), base_dir=project_dir)
    try:
        source = open_source(remote.source, context, where=remote.source_where)
        with naming_offline_routes(remote.source, "pylock list"):
            releases = source.releases(platforms=frozenset(platforms))
            artifacts = [
                artifact
                for release in releases
                for artifact in release.artifacts
                if artifact.platform in platforms and (python is None or _wanted(python, artifact))
            ]
    finally:
        context.client.close()
    return _offers(artifacts, lock, all_builds=options.all_builds)


def _wanted(python: PythonRequest, artifact: Artifact) -> bool:
    freethreaded = "freethreaded" in artifact.asset.variant
    return python.contains(artifact.version) and freethreaded == python.freethreaded


def _platforms(
    spelled: Iterable[str], manifest_platforms: tuple[Platform, ...] | None
) -> set[Platform]:
    chosen = {parse_platform(text, where="--platform") for text in spelled}
    return chosen or set(manifest_platforms or ()) or {host_platform()}


def _read_lock_if_any(project_dir: Path) -> Lock | None:
    return lockfile.read_if_any(project_dir / lockfile.LOCK_FILENAME)


def _offers(artifacts: list[Artifact], lock: Lock | None, *, all_builds: bool) -> list[Offer]:
    """Newest version first, then newest build, platform, variant and uv's flavor order; without
    ``all_builds`` only the newest build of each (version, platform, variant)."""
    newest: dict[tuple[str, str, str], str] = {}
    for artifact in artifacts:
        key = (str(artifact.version), artifact.platform.key, artifact.asset.variant)
        newest[key] = max(newest.get(key, artifact.build), artifact.build)
    kept = [
        a
        for a in artifacts
        if all_builds or a.build == newest[(str(a.version), a.platform.key, a.asset.variant)]
    ]
    kept.sort(key=lambda a: (a.platform.key, a.asset.variant, asset_rank(a.asset)))
    kept.sort(key=lambda a: (a.version, a.build), reverse=True)
    locked = {(t.platform, t.build, t.url, t.sha256): t for t in lock.targets} if lock else {}
    return [
        Offer(
            version=str(a.version),
            build=a.build,
            platform=a.platform.key,
            flavor=a.asset.flavor,
            variant=a.asset.variant,
            url=a.url,
            sha256=a.sha256,
            size=a.size,
            locked=(target := _locked_target(a, locked)) is not None,
            provenance=target.provenance if target is not None else None,
        )
        for a in kept
    ]


def _locked_target(
    artifact: Artifact, locked: dict[tuple[str, str, str, str], Target]
) -> Target | None:
    """The lock's target for this archive, or None when it is not the locked one."""
    for (platform, build, url, sha256), target in locked.items():
        if (
            platform == artifact.platform.key
            and build == artifact.build
            and (url == artifact.url or sha256 == artifact.sha256)
        ):
            return target
    return None
