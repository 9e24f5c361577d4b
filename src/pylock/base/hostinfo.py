"""This machine's platform key, from the standard library's cheapest sources.

Kept apart from project/platforms.py (which builds the full key/triple tables) because the no-op
``pylock sync`` needs the answer in microseconds and without importing ``platform``,
``dataclasses`` or ``difflib``.
"""

from __future__ import annotations

import os
import sys

_ARCHES = {
    "amd64": "x86_64",
    "x86_64": "x86_64",
    "arm64": "aarch64",
    "aarch64": "aarch64",
    "i386": "x86",
    "i686": "x86",
    "x86": "x86",
    "armv7l": "armv7",
    "ppc64le": "powerpc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def machine() -> str:
    if hasattr(os, "uname"):
        return os.uname().machine.lower()
    import platform  # Windows has no os.uname

    return platform.machine().lower()


def linux_libc() -> str:
    """``gnu`` or ``musl``, decided as packaging does: ask glibc for its version, then look for
    musl's dynamic loader."""
    try:
        if os.confstr("CS_GNU_LIBC_VERSION"):
            return "gnu"
    except (AttributeError, OSError, ValueError):
        pass
    for directory in ("/lib", "/usr/lib"):
        try:
            names = os.listdir(directory)
            if any(name.startswith("ld-musl-") for name in names):
                return "musl"
        except OSError:
            continue
    return "gnu"


def host_parts() -> tuple[str, str, str]:
    """(os, arch, libc) in uv's spelling, with the baseline arch (x86_64, never a _vN level)."""
    arch = _ARCHES.get(machine(), machine())
    if sys.platform == "darwin":
        return "macos", arch, "none"
    if sys.platform == "win32" or os.name == "nt":
        return "windows", arch, "none"
    libc = linux_libc()
    if arch == "armv7" and libc == "gnu":
        libc = "gnueabihf"
    return "linux", arch, libc


def host_key() -> str:
    return "-".join(host_parts())
