"""``pylock prune``: delete installs and cached archives that no kept project's lock references.

Every build pylock installs gets a directory of its own and every archive a cache entry keyed by
its sha256, so locks that move on leave old builds behind. What is still needed is exactly what
the kept projects' locks name (every target, every platform: a cache shared with other machines
keeps their archives too). Everything else under the install root that pylock made goes:
installs that no kept lock names, the archives of the cache that no kept lock names (and the
verified attestation bundles kept for them, ``pylock.provenance.store``), and what killed
processes left (half-built installs, an install renamed aside, partial downloads whose writer is
dead by the cache's own rule, ``fsutil.dead_temps``).

A directory under the install root that is not a pylock install (no receipt) is never touched,
only reported. The install root's rules are store.py's, never restated here: the directory a
target installs to (``install_dir_name``), what a pylock install is (``is_pylock_install``),
what a dot entry beside the installs is (``leftover_of``), its lock (``lock_path``). Installs
and their leftovers are removed holding the install's lock (``store.hold``), so a sync
installing there at the same moment finishes first, and an install is removed by
``Slot.remove``: a prune killed halfway never leaves a half-deleted install that still looks
installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pylock.base.fsutil import dead_temps
from pylock.base.settings import Settings
from pylock.errors import ExternalError, InputError, PylockError
from pylock.fetch.cache import TEMP_PREFIX, TEMP_SUFFIX, ArchiveCache
from pylock.formats import SHA256_HEX
from pylock.install import store
from pylock.provenance.store import BundleStore
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock

Kind = Literal["install", "archive", "bundle", "leftover"]


@dataclass(frozen=True)
class Removal:
    """One thing prune removes (or, with ``--dry-run``, would remove)."""

    kind: Kind
    path: Path
    size: int  # bytes on disk (files' sizes, links not followed)
    why: str


@dataclass(frozen=True)
class PruneResult:
    removals: tuple[Removal, ...]
    foreign: tuple[Path, ...]  # directories under the install root that pylock did not make
    kept_installs: int
    kept_archives: int
    dry_run: bool

    @property
    def freed(self) -> int:
        return sum(removal.size for removal in self.removals)


def prune(
    projects: Sequence[Path],
    *,
    dry_run: bool = False,
    settings: Settings,
) -> PruneResult:
    """Remove what no lock of ``projects`` references (see the module docstring)."""
    locks = [_read_kept(project) for project in projects]
    names = {store.install_dir_name(t) for lock in locks for t in lock.targets}
    digests = {t.sha256.lower() for lock in locks for t in lock.targets}

    root = settings.python_dir
    removals: list[Removal] = []
    foreign: list[Path] = []
    kept_installs = 0
    for entry in _entries(root):
        path = root / entry
        if entry.startswith("."):
            leftover = _leftover(root, entry)
            if leftover is not None:
                removals.append(leftover)
            continue
        if not path.is_dir() or path.is_symlink() or not store.is_pylock_install(path):
            foreign.append(path)
        elif entry in names:
            kept_installs += 1
        else:
            removals.append(Removal("install", path, _size(path), "no kept lock names it"))

    cache = ArchiveCache(settings.cache_dir)
    kept_archives = 0
    dead = set(dead_temps(cache.store_dir, TEMP_PREFIX, TEMP_SUFFIX))  # the cache's own rule
    for entry in _entries(cache.store_dir):
        path = cache.store_dir / entry
        if entry.startswith(TEMP_PREFIX) and entry.endswith(TEMP_SUFFIX):
            if path in dead:
                removals.append(Removal("leftover", path, _size(path), "a dead download"))
        elif entry in digests:
            kept_archives += 1
        elif SHA256_HEX.fullmatch(entry):
            removals.append(Removal("archive", path, _size(path), "no kept lock names it"))

    for digest, path in sorted(BundleStore(settings.cache_dir).kept().items()):
        if digest not in digests:
            removals.append(Removal("bundle", path, _size(path), "no kept lock names its archive"))

    if not dry_run:
        for removal in removals:
            _remove(removal, root)
    return PruneResult(tuple(removals), tuple(foreign), kept_installs, kept_archives, dry_run)


def _read_kept(project: Path) -> Lock:
    """A kept project's lock; without it prune cannot know what the project needs, so stop."""
    path = project / lockfile.LOCK_FILENAME
    try:
        return lockfile.read(path)
    except PylockError as error:
        raise InputError(
            f"Cannot keep {project}: {error.message}",
            hint="pylock prune keeps what the kept projects' locks name, so each needs a valid "
            "python.lock (`pylock lock`); or leave that project out of --keep.",
        ) from error


def _entries(directory: Path) -> list[str]:
    try:
        with os.scandir(directory) as listing:
            return sorted(entry.name for entry in listing)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise ExternalError(
            f"Cannot list {directory}: {error.strerror or error}.",
            hint="Check its permissions.",
        ) from error


def _leftover(root: Path, entry: str) -> Removal | None:
    """A dot entry of the install root that a dead process left, or None (keep it)."""
    leftover = store.leftover_of(entry)
    if leftover is None:
        return None
    name, kind = leftover
    dest = root / name
    if kind == "lock":
        if os.path.lexists(dest):
            return None
        return Removal("leftover", root / entry, 0, "the lock file of a removed install")
    if kind == "old" and not os.path.lexists(dest):
        return None  # an install renamed aside whose successor never came: the next sync
        # of it puts it back
    return Removal("leftover", root / entry, _size(root / entry), "left by a killed install")


def _size(path: Path) -> int:
    """Bytes in ``path`` (a file, or a tree walked without following links)."""
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for top, _dirs, files in os.walk(path):  # symlinked directories are not followed
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(top) / name).lstat().st_size
    return total


def _remove(removal: Removal, root: Path) -> None:
    path = removal.path
    leftover = store.leftover_of(path.name) if path.parent == root else None
    if removal.kind == "install" or (leftover is not None and leftover[1] != "lock"):
        # An install, or what a killed install of one left: under that install's lock, so an
        # install in progress there finishes first (its temp dir is not a leftover until then).
        dest = path if leftover is None else root / leftover[0]
        with store.hold(dest) as slot:
            if removal.kind == "install":
                if slot.current() is None:
                    return  # replaced or removed meanwhile: not ours to judge now
                slot.remove()
            # hold() has already finished the leftovers of dest the store's way
        if not os.path.lexists(dest):
            with contextlib.suppress(OSError):
                store.lock_path(dest).unlink()
        return
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        raise ExternalError(
            f"Cannot remove {path}: {error.strerror or error}.",
            hint="Check its permissions.",
        ) from error
