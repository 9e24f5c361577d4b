"""The library behind ``pylock sync``, ``which``, ``run`` and ``show``: lock -> installed tree.

Sync never resolves and never writes python.lock. Its common case is a no-op (the locked build
is already installed), so that path reads the lock, the manifest and one small receipt, and
imports nothing heavier than packaging: httpx, tomlkit and rich load only when bytes must move.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pylock import locations, lockfile
from pylock.errors import InputError, VerificationError
from pylock.lockfile import Lock, Target
from pylock.platforms import host_platform, parse_platform
from pylock.receipt import Receipt, install_dir_name, read_receipt

if TYPE_CHECKING:
    from pylock.download import ProgressCallback
    from pylock.manifest import Manifest


@dataclass(frozen=True)
class SyncOptions:
    platform: str | None = None  # a key or triple; default: this host
    into: Path | None = None  # install exactly here instead of the per-build data dir
    frozen: bool = False  # install what the lock says even if the manifest moved on
    reinstall: bool = False
    offline: bool = False
    mirror: str | None = None  # --mirror; beats PYLOCK_MIRROR, which beats the manifest


@dataclass(frozen=True)
class Installation:
    target: Target
    path: Path  # the install directory
    receipt: Receipt | None  # None: not installed (or not by pylock)

    @property
    def installed(self) -> bool:
        return self.receipt is not None and self.receipt.target == self.target

    @property
    def interpreter(self) -> Path | None:
        if self.receipt is None:
            return None
        return self.path / self.receipt.interpreter


@dataclass(frozen=True)
class SyncResult:
    installation: Installation
    action: str  # "unchanged" | "installed"


def read_lock(project_dir: Path) -> Lock:
    return lockfile.read(project_dir / lockfile.LOCK_FILENAME)


def choose_target(lock: Lock, platform: str | None) -> Target:
    """The lock's entry for ``platform`` (default: this host), or an error naming the fix."""
    wanted = parse_platform(platform, where="--platform") if platform else host_platform()
    target = lock.target_for(wanted.key)
    if target is None:
        have = ", ".join(t.platform for t in lock.targets) or "none"
        raise InputError(
            f"python.lock has no target for {wanted.key} (it has: {have}).",
            hint=f"Add one with `pylock lock --platform {wanted.key}`.",
        )
    return target


def install_location(
    target: Target, into: Path | None, environ: Mapping[str, str] | None = None
) -> Path:
    if into is not None:
        return into
    return locations.python_dir(environ) / install_dir_name(target)


def find_installation(
    project_dir: Path,
    *,
    platform: str | None = None,
    into: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Installation:
    target = choose_target(read_lock(project_dir), platform)
    path = install_location(target, into, environ)
    return Installation(target, path, read_receipt(path))


def _load_manifest(pyproject: Path) -> Manifest | None:
    """The manifest, or None when the lock travels alone (e.g. copied into a Docker build)."""
    if not pyproject.exists():
        return None
    from pylock import manifest as manifest_mod

    return manifest_mod.load(pyproject)


def _drift_summary(manifest: Manifest, lock: Lock) -> str | None:
    """How the lock fails the manifest ("; "-joined), or None when it satisfies it."""
    from pylock import manifest as manifest_mod

    request = manifest_mod.Request.from_manifest(manifest, default_platforms=())
    drifts = manifest_mod.drift(lock, request)
    return "; ".join(str(d) for d in drifts) if drifts else None


def staleness(project_dir: Path) -> str | None:
    """Why python.lock no longer satisfies the project's manifest, or None (also when there is
    no pyproject.toml): ``which`` and ``run`` warn with it where ``sync`` refuses."""
    manifest = _load_manifest(project_dir / "pyproject.toml")
    return None if manifest is None else _drift_summary(manifest, read_lock(project_dir))


def _ensure_current(manifest: Manifest, lock: Lock) -> None:
    """Refuse to install from a lock that no longer satisfies the manifest (exit 1)."""
    listed = _drift_summary(manifest, lock)
    if listed:
        raise VerificationError(
            f"python.lock is out of date with {manifest.path}: {listed}.",
            hint="Run `pylock lock` to update it, or `pylock sync --frozen` to install the "
            "locked build anyway.",
        )


def sync_project(
    project_dir: Path,
    options: SyncOptions,
    *,
    environ: Mapping[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> SyncResult:
    env = os.environ if environ is None else environ
    lock = read_lock(project_dir)
    pyproject = project_dir / "pyproject.toml"
    manifest = None if options.frozen else _load_manifest(pyproject)
    if manifest is not None:
        _ensure_current(manifest, lock)
    target = choose_target(lock, options.platform)
    path = install_location(target, options.into, env)
    existing = Installation(target, path, read_receipt(path))
    if existing.installed and not options.reinstall:
        return SyncResult(existing, "unchanged")

    # Something must be installed. A cached archive (re-verified by lookup) needs no network
    # stack at all; only a download pays for importing httpx and making a client.
    from pylock.cache import ArchiveCache
    from pylock.install import install

    cache = ArchiveCache(locations.cache_dir(env))
    archive = cache.lookup(target.sha256, target.size)
    if archive is None:
        from pylock.download import fetch_archive
        from pylock.http import HttpPolicy, make_client
        from pylock.manifest import effective_mirror

        if manifest is None:
            manifest = _load_manifest(pyproject)  # --frozen: read only for its mirror

        policy = HttpPolicy(offline=options.offline)
        with make_client(policy) as client:
            archive = fetch_archive(
                target,
                cache=cache,
                client=client,
                policy=policy,
                mirror=effective_mirror(options.mirror, env, manifest),
                on_progress=on_progress,
            )
    outcome = install(archive, target, path, reinstall=options.reinstall)
    action = "installed" if outcome.installed else "unchanged"
    return SyncResult(Installation(target, path, outcome.receipt), action)
