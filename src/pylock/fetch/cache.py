"""The content-addressed archive store: ``<cache root>/archives/sha256/<hex>``.

Archives are keyed by the sha256 the lock pins, never by name or URL, so a re-published asset
or a new build can never be shadowed by an old entry, and every project on the machine shares
one copy of each interpreter. Entries are written by renaming a fully verified temp file from
the same directory into place (``os.replace``), so a reader sees either nothing or a whole file,
and two processes storing the same bytes at once simply replace identical content.

Nothing in the store is trusted: ``lookup`` re-hashes an entry before handing it out, which also
makes a crash between write and rename (no fsync) harmless — a torn entry is detected, deleted
and downloaded again.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pylock.base.fsutil import hash_stream, mark_alive, remove_dead_temps
from pylock.errors import ExternalError, InputError

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ArchiveCache:
    """The archive store under ``root`` (``Settings.cache_dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_dir = root / "archives" / "sha256"

    def path_for(self, sha256: str) -> Path:
        """Where the archive with this digest lives; the digest is checked so it is a safe name."""
        digest = sha256.lower()
        if not _SHA256_HEX.fullmatch(digest):
            raise InputError(
                f"{sha256!r} is not a sha256 digest (64 hexadecimal characters).",
                hint="Fix the sha256 in python.lock, or re-create it with `pylock lock --upgrade`.",
            )
        return self.store_dir / digest

    def lookup(self, sha256: str, size: int | None) -> Path | None:
        """The stored archive if it is there *and* still has this size (when the lock states
        one) and digest.

        A corrupt entry (wrong size or digest) is deleted and reported as absent, so the caller
        downloads it again instead of installing damaged bytes.
        """
        path = self.path_for(sha256)
        try:
            with path.open("rb") as stream:
                seen = os.fstat(stream.fileno())
                intact = (size is None or seen.st_size == size) and (
                    hash_stream(stream) == sha256.lower()
                )
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ExternalError(
                f"Cannot read the cached archive {path}: {exc.strerror or exc}.",
                hint="Check the permissions of the cache directory, or delete that file.",
            ) from exc
        if intact:
            return path
        self._discard(path, seen)
        return None

    def _discard(self, path: Path, seen: os.stat_result) -> None:
        """Delete a corrupt entry, unless another process has just replaced it with a new file."""
        try:
            now = path.stat()
            if (now.st_dev, now.st_ino) == (seen.st_dev, seen.st_ino):
                path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ExternalError(
                f"The cached archive {path} is corrupt and could not be deleted: "
                f"{exc.strerror or exc}.",
                hint="Delete it by hand (or the whole cache directory) and run again.",
            ) from exc

    def discard(self, sha256: str) -> None:
        """Remove an entry whose archive was refused at install: the bytes are the locked ones,
        but nothing pylock refused is kept. A missing entry is fine."""
        with contextlib.suppress(OSError):
            self.path_for(sha256).unlink(missing_ok=True)

    @contextlib.contextmanager
    def temp_file(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A uniquely named temp file beside the store entries, removed on exit whatever happens.

        Living in the store directory keeps ``commit``'s rename on one filesystem (atomic); the
        unique name keeps concurrent downloads of the same archive from writing into each other.
        After a successful ``commit`` the name no longer exists and the cleanup is a no-op.
        """
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            self.clean_leftovers()
            fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self.store_dir)
            mark_alive(fd)
        except OSError as exc:
            raise ExternalError(
                f"Cannot write to the archive cache {self.store_dir}: {exc.strerror or exc}.",
                hint="Check its permissions and free space, or set PYLOCK_CACHE_DIR elsewhere.",
            ) from exc
        path = Path(name)
        stream = os.fdopen(fd, "wb")
        try:
            yield path, stream
        finally:
            with contextlib.suppress(OSError):
                stream.close()
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)

    def clean_leftovers(self) -> None:
        """Delete temp files whose writer died (a killed download), never a live one's
        (``fsutil.remove_dead_temps``: the rule the HTTP cache and ``pylock mirror`` share)."""
        remove_dead_temps(self.store_dir, TEMP_PREFIX, TEMP_SUFFIX)

    def commit(self, temp: Path, sha256: str, size: int | None) -> Path:
        """Move a verified, closed temp file into the store under its digest; the entry's path."""
        dest = self.path_for(sha256)
        try:
            temp.chmod(0o644)  # mkstemp's 0600 is for secrets; archives are public bytes
            temp.replace(dest)  # os.replace: atomic, overwrites
        except OSError as exc:
            # Windows cannot replace a file another process holds open; if a concurrent sync
            # already stored these bytes, use them.
            existing = self.lookup(sha256, size)
            if existing is not None:
                return existing
            raise ExternalError(
                f"Cannot store the archive in the cache as {dest}: {exc.strerror or exc}.",
                hint="Check the permissions and free space of the cache directory.",
            ) from exc
        return dest
