"""The library behind ``pylock sync``, ``which``, ``run`` and ``show``: lock -> installed tree.

Sync never resolves and never writes python.lock. Its common case is a no-op (the locked build
is already installed), so that path reads the lock, the manifest and one small receipt, and
imports nothing heavier than packaging: httpx, tomlkit and rich load only when bytes must move.

Sync trusts the lock's sha256. Under ``[tool.pylock.provenance] policy = "require"`` it also
proves the archive it is about to install (``pylock.provenance``: the bundle from the cache, a
mirror or the API, verified against the policy), before anything is downloaded or placed, so a
hand-edited sha256 is refused; sigstore is imported only then.

``sync_project``, ``installed_interpreter`` and ``staleness`` take an optional ``evidence``
(fast/memo.py): they note there exactly what their verdict rested on (the bytes of python.lock
and pyproject.toml they parsed, the install's receipt and interpreter), so the CLI can record
the verdict for the console script to replay while those hold.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pylock.base.settings import Settings
from pylock.errors import InputError, VerificationError
from pylock.install.store import Installation, Store
from pylock.resolution import lockfile
from pylock.resolution.drift import matrix_drift
from pylock.resolution.lockfile import Lock, Target
from pylock.resolution.selection import choose_target, read_lock

if TYPE_CHECKING:
    from pylock.extract.extractor import Limits
    from pylock.fast.memo import Evidence
    from pylock.fetch.cache import ArchiveCache
    from pylock.fetch.download import ProgressCallback
    from pylock.install.installer import InstallOutcome
    from pylock.project.manifest import Manifest


SyncAction = Literal["unchanged", "installed"]
"""What a sync did: nothing (the locked build was there), or installed it."""


@dataclass(frozen=True)
class SyncOptions:
    platform: str | None = None  # a key or triple; default: this host
    python: str | None = None  # --python: which request of a matrix lock; default: the first
    into: Path | None = None  # install exactly here instead of the per-build data dir
    frozen: bool = False  # install what the lock says even if the manifest moved on
    reinstall: bool = False


@dataclass(frozen=True)
class SyncResult:
    installation: Installation
    action: SyncAction


def installed_interpreter(
    project_dir: Path,
    *,
    platform: str | None = None,
    python: str | None = None,
    into: Path | None = None,
    settings: Settings,
    evidence: Evidence | None = None,
) -> Path:
    """``pylock which`` (and ``run``): the locked interpreter installed for ``platform`` and
    ``python``, by the store's one rule for "installed", or a VerificationError (exit 1) that
    says which sync installs it. A stale lock is not refused: it must not lock anyone out of
    their interpreter (the CLI warns)."""
    lock = read_lock(project_dir, evidence)
    target = choose_target(lock, platform, python)
    found = Store(settings.python_dir).find(target, into)
    if evidence is not None:
        found.note(evidence)
    if not found.installed or found.interpreter is None:
        words = ["pylock", "sync"]
        for option, value in (("--python", python), ("--platform", platform), ("--into", into)):
            if value is not None:
                words += [option, os.fspath(value)]
        import shlex

        sync = shlex.join(words)
        stale = staleness(project_dir)  # then sync refuses the lock: say what it takes
        hint = (
            f"Run `{sync}` first."
            if stale is None
            else f"python.lock is also out of date ({stale.summary}), which `pylock sync` "
            f"refuses: run `{stale.fix}`, then `{sync}`; or `{shlex.join([*words, '--frozen'])}` "
            "to install the locked build as it is."
        )
        raise VerificationError(
            f"The locked interpreter ({target.version}, build {target.build}) "
            f"is not installed at {found.path}.",
            hint=hint,
        )
    return found.interpreter


def manifest_if_any(pyproject: Path) -> Manifest | None:
    """The manifest, or None when the lock travels alone (e.g. copied into a Docker build).
    Commands that read the lock (sync, venv, export uv, list) read the manifest this way."""
    return _read_manifest(pyproject)[0]


def _read_manifest(pyproject: Path) -> tuple[Manifest | None, bytes | None]:
    """The manifest and the exact bytes it was read from (None, None: there is none)."""
    from pylock.project.manifest import load_if_any

    return load_if_any(pyproject)


@dataclass(frozen=True)
class Stale:
    """How a lock fails its manifest: the findings ("; "-joined) and the command that mends it
    (``lockfile.relock_command``: ``pylock lock``, naming the source the lock records)."""

    summary: str
    fix: str


def _stale(manifest: Manifest, lock: Lock) -> Stale | None:
    """How the lock fails the manifest, or None when it satisfies it."""
    from pylock.project import manifest as manifest_mod

    requests = manifest_mod.Request.matrix(manifest, default_platforms=())
    drifts = matrix_drift(lock, requests)
    if not drifts:
        return None
    return Stale("; ".join(str(d) for d in drifts), lockfile.relock_command(lock))


def staleness(project_dir: Path, evidence: Evidence | None = None) -> Stale | None:
    """Why python.lock no longer satisfies the project's manifest, or None (also when there is
    no pyproject.toml): ``which`` and ``run`` warn with it where ``sync`` refuses."""
    pyproject = project_dir / "pyproject.toml"
    manifest, raw = _read_manifest(pyproject)
    if evidence is not None:
        evidence.content(pyproject, raw)
    if manifest is None:
        return None
    return _stale(manifest, read_lock(project_dir, evidence))


def _ensure_current(manifest: Manifest, lock: Lock) -> None:
    """Refuse to install from a lock that no longer satisfies the manifest (exit 1)."""
    stale = _stale(manifest, lock)
    if stale is not None:
        raise VerificationError(
            f"python.lock is out of date with {manifest.path}: {stale.summary}.",
            hint=f"Run `{stale.fix}` to update it, or `pylock sync --frozen` to install the "
            "locked build anyway.",
        )


def sync_project(
    project_dir: Path,
    options: SyncOptions,
    *,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
    evidence: Evidence | None = None,
) -> SyncResult:
    """Install (or confirm) the locked interpreter, as ``settings`` say (offline, mirror, HTTP
    policy, directories, install ceilings). ``evidence`` gets what the verdict rests on: the
    lock and manifest bytes read, and the install as it now is (the next run finds it so)."""
    lock = read_lock(project_dir, evidence)
    with lockfile.relock_hints(lock):  # a refused archive's advice names its source
        pyproject = project_dir / "pyproject.toml"
        manifest, manifest_raw = (None, None) if options.frozen else _read_manifest(pyproject)
        if evidence is not None and not options.frozen:
            evidence.content(pyproject, manifest_raw)  # None: there is none
        if manifest is not None:
            _ensure_current(manifest, lock)
        target = choose_target(lock, options.platform, options.python)
        existing = Store(settings.python_dir).find(target, options.into)
        path = existing.path

        def accepted(result: SyncResult) -> SyncResult:
            if evidence is not None:
                result.installation.note(evidence)
            return result

        if existing.installed and not options.reinstall:
            return accepted(SyncResult(existing, "unchanged"))

        # Something must be installed: under "require", only what is proved (docs/provenance.md).
        # --frozen reads the manifest only for its provenance policy and its mirror.
        wanted = manifest if manifest is not None else manifest_if_any(pyproject)
        if wanted is not None and wanted.provenance.mode == "require":
            from pylock.provenance.prover import open_prover

            with open_prover(settings, project_dir, wanted) as prover:
                prover.prove(target, wanted.provenance)

        # A cached archive (re-verified by lookup) needs no network stack at all; only a download
        # pays for importing httpx and making a client.
        from pylock.extract.extractor import Limits
        from pylock.fetch.cache import ArchiveCache
        from pylock.install.installer import install

        cache = ArchiveCache(settings.cache_dir)
        limits = Limits.for_archive(
            target.size,
            max_bytes=settings.max_install_bytes,
            max_members=settings.max_install_members,
        )
        archive = cache.lookup(target.sha256, target.size)
        try:
            if archive is not None:
                outcome = install(archive, target, path, reinstall=options.reinstall, limits=limits)
            else:
                outcome = _download_and_install(
                    target, path, cache, limits, wanted, pyproject, options, settings, on_progress
                )
        except VerificationError:
            cache.discard(target.sha256)  # refused bytes are kept nowhere, not even the cache
            raise
        action: SyncAction = "installed" if outcome.installed else "unchanged"
        return accepted(SyncResult(Installation(target, path, outcome.receipt), action))


def sync_all(
    project_dir: Path,
    options: SyncOptions,
    *,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
) -> tuple[SyncResult, ...]:
    """``pylock sync --all``: every request of the lock, in order, each as ``--python`` would
    sync it (side by side: each build has its own install directory)."""
    if options.into is not None:
        raise InputError(
            "--all and --into cannot be combined: one directory holds one interpreter.",
            hint="Run `pylock sync --python REQ --into DIR` once per request instead.",
        )
    lock = read_lock(project_dir)
    return tuple(
        sync_project(
            project_dir,
            replace(options, python=python),
            settings=settings,
            on_progress=on_progress,
        )
        for python in lock.manifest.pythons
    )


def _download_and_install(
    target: Target,
    path: Path,
    cache: ArchiveCache,
    limits: Limits,
    manifest: Manifest | None,
    pyproject: Path,
    options: SyncOptions,
    settings: Settings,
    on_progress: ProgressCallback | None,
) -> InstallOutcome:
    """Stream the archive into the install's temp tree while it downloads (one pass)."""
    from pylock.fetch.download import Download
    from pylock.install.installer import install
    from pylock.net.http import make_client

    if manifest is None:
        manifest = manifest_if_any(pyproject)  # --frozen: read only for its mirror and source
    remote = settings.remote(
        mirror=manifest.mirror if manifest else None,
        source=manifest.source if manifest else None,
        manifest_path=pyproject,
    )
    policy = remote.http
    with make_client(policy) as client:
        download = Download(
            target,
            cache,
            client,
            policy,
            mirror=remote.mirror,
            on_progress=on_progress,
            ceiling=limits.max_bytes,
        )
        return install(download, target, path, reinstall=options.reinstall, limits=limits)
