"""Names inside and around an install that the installer, the checker and the no-op fast path
must agree on. Standard library only: the no-op ``pylock sync`` imports this and little else."""

from __future__ import annotations

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
