"""Verified bundles kept in the cache: ``<cache>/provenance/sha256/<archive sha256>.sigstore.json``.

Keyed by the digest of the archive the bundle was verified for, like the archive store, so a
second ``lock``, ``check --provenance`` or ``sync`` under "require" needs no network, and a
project that moves behind a firewall keeps verifying what it verified before. Nothing here is
trusted: a bundle read back is verified again (it is cheap), and one that no longer verifies is
discarded and fetched afresh. Writes are atomic (``fsutil.atomic_write_bytes``); a cache that
cannot be written is only a slower cache.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from pylock.base.fsutil import atomic_write_bytes
from pylock.errors import PylockError
from pylock.formats import SHA256_HEX
from pylock.sources.mirror import BUNDLE_SUFFIX


class BundleStore:
    """The verified bundles under ``root`` (``Settings.cache_dir``)."""

    def __init__(self, root: Path) -> None:
        self.directory = root / "provenance" / "sha256"

    def path_for(self, sha256: str) -> Path | None:
        """Where the bundle for this archive digest lives (None for a digest that is not one)."""
        digest = sha256.lower()
        return self.directory / f"{digest}{BUNDLE_SUFFIX}" if SHA256_HEX.fullmatch(digest) else None

    def kept(self) -> dict[str, Path]:
        """Every bundle kept, by archive digest (``pylock prune`` removes the unneeded ones)."""
        try:
            names = [p.name for p in self.directory.iterdir()]
        except OSError:
            return {}
        found = {}
        for name in names:
            digest = name.removesuffix(BUNDLE_SUFFIX)
            if name.endswith(BUNDLE_SUFFIX) and SHA256_HEX.fullmatch(digest):
                found[digest] = self.directory / name
        return found

    def load(self, sha256: str) -> bytes | None:
        path = self.path_for(sha256)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def save(self, sha256: str, bundle: bytes) -> None:
        path = self.path_for(sha256)
        if path is None:
            return
        with contextlib.suppress(OSError, PylockError):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, bundle)

    def discard(self, sha256: str) -> None:
        path = self.path_for(sha256)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
