"""The install receipt and the installed-tree digest.

INTERFACE (fixed; install.py writes these, check.py and the no-op sync read them).

Kept apart from install.py so that ``pylock check`` and a no-op ``pylock sync`` import only this
and the stdlib: reading one small JSON file is the whole fast path.

Layout inside an install directory:
  ``BUILD``                 the PBS build tag and a newline (as uv writes it)
  ``.pylock/receipt.json``  the Receipt (small; the only file a no-op sync reads)
  ``.pylock/RECORD``        one line per installed file: ``<path>\t<mode octal>\t<sha256 or link target>``
                            sorted by path; the receipt's ``tree_digest`` is the sha256 of this file.
``.pylock/`` itself and ``BUILD`` are not part of the tree; neither are ``__pycache__`` dirs, which the
interpreter writes as it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pylock.lockfile import Target

META_DIR = ".pylock"
RECEIPT_NAME = "receipt.json"
RECORD_NAME = "RECORD"
BUILD_NAME = "BUILD"
RECEIPT_VERSION = 1


@dataclass(frozen=True)
class Receipt:
    target: Target  # the lock's entry this install was made from, verbatim
    pylock_version: str
    installed_at: str  # ISO 8601 UTC
    tree_digest: str  # sha256 hex of RECORD
    interpreter: str  # path of the interpreter relative to the install dir, e.g. "bin/python3.12"


@dataclass(frozen=True)
class RecordEntry:
    path: str  # posix, relative to the install dir
    mode: int  # permission bits
    digest: str  # sha256 hex of a file, or "->target" for a symlink


def read_receipt(install_dir: Path) -> Receipt | None:
    """The receipt, or None when there is none or it cannot be read (never raises for that)."""
    raise NotImplementedError


def write_receipt(install_dir: Path, receipt: Receipt) -> None:
    raise NotImplementedError


def format_record(entries: list[RecordEntry]) -> str:
    raise NotImplementedError


def read_record(install_dir: Path) -> list[RecordEntry]:
    raise NotImplementedError


def scan_tree(install_dir: Path) -> list[RecordEntry]:
    """Hash every file of an installed tree again (for ``check --deep``); parallel where it helps."""
    raise NotImplementedError


def install_dir_name(target: Target) -> str:
    """``cpython-3.12.8+20241219-linux-x86_64-gnu-<first 12 hex of sha256>``."""
    return (
        f"{target.implementation}-{target.version}+{target.build}-{target.platform}"
        f"-{target.sha256[:12]}"
    )
