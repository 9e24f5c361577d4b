"""One row of an install's RECORD: what extraction wrote, as the receipt and ``check --deep``
read it back. It lives with extraction because the extractor produces the rows as the bytes
arrive; the receipt (install/) only stores them."""

from __future__ import annotations

from dataclasses import dataclass

SYMLINK_MODE = 0o777
"""The mode RECORD gives every symlink, whatever the system reports for the link itself."""

PYCACHE = "__pycache__"


@dataclass(frozen=True)
class RecordEntry:
    path: str  # posix, relative to the install dir
    mode: int  # permission bits
    digest: str  # sha256 hex of a file, or "->target" for a symlink
