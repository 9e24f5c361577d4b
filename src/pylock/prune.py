"""``pylock prune``: delete installs and cached archives that no kept project's lock references.

Every build pylock installs gets a directory of its own and every archive a cache entry keyed by
its sha256, so locks that move on leave old builds behind. What is still needed is exactly what
the kept projects' locks name (every target, every platform: a cache shared with other machines
keeps their archives too). Everything else under the install root that pylock made goes:
installs that no kept lock names, the archives of the cache that no kept lock names, and what
killed processes left (half-built installs, an install renamed aside, partial downloads).

A directory under the install root that is not a pylock install (no receipt) is never touched,
only reported. An install is removed under its install lock, so a sync installing it at the
same moment finishes first, and it is first renamed to a temp name that every later install
or prune deletes: a prune killed halfway never leaves a half-deleted install that still looks
installed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pylock import locations, lockfile
from pylock.cache import TEMP_PREFIX, TEMP_SUFFIX, ArchiveCache
from pylock.errors import ExternalError, InputError, PylockError
from pylock.lockfile import Lock

Kind = Literal["install", "archive", "leftover"]
STALE_DOWNLOAD_SECONDS = 3600
"""A partial download untouched this long belongs to a dead process (a live one writes to it
continuously); younger ones may be in progress and are left alone."""

_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old)-[0-9a-f]{16}")
_LOCK_FILE = re.compile(r"\.(?P<name>.+)\.lock")


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
    environ: Mapping[str, str] | None = None,
) -> PruneResult:
    """Remove what no lock of ``projects`` references (see the module docstring)."""
    env = os.environ if environ is None else environ
    locks = [_read_kept(project) for project in projects]
    names = {_install_name(t) for lock in locks for t in lock.targets}
    digests = {t.sha256.lower() for lock in locks for t in lock.targets}

    root = locations.python_dir(env)
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
        if not path.is_dir() or path.is_symlink() or not _is_install(path):
            foreign.append(path)
        elif entry in names:
            kept_installs += 1
        else:
            removals.append(Removal("install", path, _size(path), "no kept lock names it"))

    cache = ArchiveCache(locations.cache_dir(env))
    kept_archives = 0
    now = time.time()
    for entry in _entries(cache.store_dir):
        path = cache.store_dir / entry
        if entry.startswith(TEMP_PREFIX) and entry.endswith(TEMP_SUFFIX):
            if now - _mtime(path) > STALE_DOWNLOAD_SECONDS:
                removals.append(Removal("leftover", path, _size(path), "a dead download"))
        elif entry in digests:
            kept_archives += 1
        elif re.fullmatch(r"[0-9a-f]{64}", entry):
            removals.append(Removal("archive", path, _size(path), "no kept lock names it"))

    if not dry_run:
        for removal in removals:
            _remove(removal)
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
    match = _LEFTOVER.fullmatch(entry)
    if match is not None:
        dest = root / match["name"]
        if match["kind"] == "old" and not os.path.lexists(dest):
            return None  # an install renamed aside whose successor never came: the next sync
            # of it puts it back
        return Removal("leftover", root / entry, _size(root / entry), "left by a killed install")
    match = _LOCK_FILE.fullmatch(entry)
    if match is not None and not os.path.lexists(root / match["name"]):
        return Removal("leftover", root / entry, 0, "the lock file of a removed install")
    return None


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


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _remove(removal: Removal) -> None:
    path = removal.path
    try:
        if removal.kind == "install":
            with _held(path):
                if not _is_install(path):
                    return  # replaced or removed meanwhile: not ours to judge now
                doomed = path.with_name(f".{path.name}.tmp-{secrets.token_hex(8)}")
                path.rename(doomed)  # atomic: from here on it is an ordinary leftover
                shutil.rmtree(doomed)
            with contextlib.suppress(OSError):
                _lock_path(path).unlink()
        elif path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        raise ExternalError(
            f"Cannot remove {path}: {error.strerror or error}.",
            hint="Check its permissions; on Windows, stop programs running that interpreter.",
        ) from error


# -- the seam: the install root's conventions ---------------------------------------------------
# Owned by install.py/receipt.py today, imported, never restated. When store.py (the module that
# owns the install root) lands, these four become its ``install_dir_name``, ``is_pylock_install``,
# ``lock_path`` and ``hold`` (which also cleans the destination's leftovers under its lock).


def _install_name(target: lockfile.Target) -> str:
    from pylock.receipt import install_dir_name

    return install_dir_name(target)


def _is_install(path: Path) -> bool:
    from pylock.receipt import read_receipt

    return read_receipt(path) is not None


def _lock_path(dest: Path) -> Path:
    from pylock.install import lock_path

    return lock_path(dest)


@contextlib.contextmanager
def _held(dest: Path) -> Iterator[None]:
    """``dest``'s install lock, waiting for a sync installing there to finish."""
    from pylock.install import _destination_lock

    with _destination_lock(dest):
        yield
