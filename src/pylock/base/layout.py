"""Names inside and around an install that the installer, the checker and the no-op fast path
must agree on. Standard library only: the no-op ``pylock sync`` imports this and little else."""

from __future__ import annotations

import os
import stat

META_DIR = ".pylock"
RECEIPT_NAME = "receipt.json"
RECORD_NAME = "RECORD"
BUILD_NAME = "BUILD"
RECEIPT_VERSION = 1


def install_dir_name(
    implementation: str, version: str, build: str, platform: str, sha256: str
) -> str:
    """``cpython-3.12.8+20241219-linux-x86_64-gnu-<first 12 hex of sha256>``: one directory per
    exact build, so a new lock entry installs beside the old one instead of over it."""
    return f"{implementation}-{version}+{build}-{platform}-{sha256[:12]}"


def has_interpreter(install_dir: str | os.PathLike[str], interpreter: str) -> bool:
    """Whether the interpreter a receipt names (``interpreter``, relative to ``install_dir``) is
    a file there. Half of what "installed" means (``store.is_installed``; a receipt alone does
    not run anything), asked with one ``stat`` so the no-op sync can afford it too."""
    try:
        return stat.S_ISREG(os.stat(os.path.join(install_dir, interpreter)).st_mode)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return False
