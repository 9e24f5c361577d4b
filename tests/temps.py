"""Temp files as a live writer and a dead one leave them, for the tests of the one clean-up rule
(``pylock.base.fsutil.dead_temps``): a live writer is a real second process holding the file's
``flock``, as ``mark_alive`` takes it; a dead one's file is simply unlocked."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_HOLDER = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "os.write(fd, sys.argv[2].encode())\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
)


@contextlib.contextmanager
def live_writer(path: Path, content: str = "being written") -> Iterator[Path]:
    """``path`` locked and being written by another live process, until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), content],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield path
    finally:
        holder.communicate("")


def dead_writers_file(path: Path, content: bytes = b"half an archive") -> Path:
    """``path`` as a killed writer leaves it: bytes in it, and nobody holding its lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
