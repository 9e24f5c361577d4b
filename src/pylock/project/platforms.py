"""Platform keys (uv's ``{os}-{arch}-{libc}``) and PBS target triples, and host detection.

A key means the same thing in pylock and in uv, so a lock can be read next to uv's own
configuration. Triples are what PBS puts in asset names; both spellings are accepted wherever a
platform is asked for, and both are written to the lock.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pylock.base import hostinfo
from pylock.errors import InputError

OSES = ("linux", "macos", "windows")

# uv's arch names -> the arch token PBS uses in triples.
_ARCH_TO_PBS = {
    "x86_64": "x86_64",
    "x86_64_v2": "x86_64_v2",
    "x86_64_v3": "x86_64_v3",
    "x86_64_v4": "x86_64_v4",
    "aarch64": "aarch64",
    "x86": "i686",
    "armv7": "armv7",
    "powerpc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}
_PBS_TO_ARCH = {pbs: arch for arch, pbs in _ARCH_TO_PBS.items()}


@dataclass(frozen=True, order=True)
class Platform:
    """One platform an interpreter is built for; ordered by its key for deterministic output."""

    os: str
    arch: str
    libc: str

    @property
    def key(self) -> str:
        return f"{self.os}-{self.arch}-{self.libc}"

    @property
    def triple(self) -> str:
        """The canonical PBS triple (never one of the old Windows pseudo-triples)."""
        arch = _ARCH_TO_PBS[self.arch]
        if self.os == "macos":
            return f"{arch}-apple-darwin"
        if self.os == "windows":
            return f"{arch}-pc-windows-msvc"
        return f"{arch}-unknown-linux-{self.libc}"

    def __str__(self) -> str:
        return self.key


# Every (os, arch, libc) that PBS has published (docs/pbs-format.md §1.4).
KNOWN_PLATFORMS: tuple[Platform, ...] = tuple(
    sorted(
        [
            Platform("macos", "x86_64", "none"),
            Platform("macos", "aarch64", "none"),
            Platform("windows", "x86_64", "none"),
            Platform("windows", "x86", "none"),
            Platform("windows", "aarch64", "none"),
            *(Platform("linux", a, "gnu") for a in _ARCH_TO_PBS if a != "armv7"),
            Platform("linux", "armv7", "gnueabi"),
            Platform("linux", "armv7", "gnueabihf"),
            *(
                Platform("linux", a, "musl")
                for a in ("x86_64", "x86_64_v2", "x86_64_v3", "x86_64_v4", "aarch64")
            ),
        ]
    )
)
_BY_KEY = {p.key: p for p in KNOWN_PLATFORMS}
# Older Windows releases used "-shared" / "-static" as if it were part of the triple
# (docs/pbs-format.md §1.2, pitfall 2); they name the same platform as the bare triple.
_BY_TRIPLE = {
    **{p.triple: p for p in KNOWN_PLATFORMS},
    **{
        p.triple + s: p
        for p in KNOWN_PLATFORMS
        if p.os == "windows"
        for s in ("-shared", "-static")
    },
}
KNOWN_TRIPLES: tuple[str, ...] = tuple(sorted(_BY_TRIPLE, key=len, reverse=True))
"""Every triple seen in asset names, longest first so alternations match pseudo-triples first."""


def from_triple(triple: str) -> Platform | None:
    """The platform a PBS triple (or Windows pseudo-triple) names, or None if unknown."""
    return _BY_TRIPLE.get(triple)


# The other names people (Go, Debian, Docker, Node, Rust) give the same OS or arch.
_OS_ALIASES = {"darwin": "macos", "osx": "macos", "mac": "macos", "win": "windows"}
_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "arm64": "aarch64",
    "i686": "x86",
    "i386": "x86",
    "ppc64le": "powerpc64le",
    "armv7l": "armv7",
}


def _by_meaning(spelled: str) -> tuple[Platform | None, str]:
    """The platform ``os-arch[-libc]`` means when spelled with common aliases (``linux-amd64``,
    ``macos-arm64``, ``darwin-arm64``, ``windows-x64``) or without its libc (Linux: glibc, the
    armv7 one with hardware float; macOS and Windows: none), and the key it spells either way
    (for a suggestion when it is no platform)."""
    parts = spelled.lower().replace("x86-64", "x86_64").split("-")
    if len(parts) not in (2, 3):
        return None, spelled
    os_name = _OS_ALIASES.get(parts[0], parts[0])
    arch = _ARCH_ALIASES.get(parts[1], parts[1])
    if len(parts) == 3:
        libc = parts[2]
    elif os_name == "linux":
        libc = "gnueabihf" if arch == "armv7" else "gnu"
    else:
        libc = "none"
    key = f"{os_name}-{arch}-{libc}"
    return _BY_KEY.get(key), key if os_name in OSES else spelled


def parse_platform(text: str, *, where: str = "") -> Platform:
    """A platform from a uv-style key or a PBS triple, also spelled with the common OS and arch
    aliases (``linux-amd64`` is ``linux-x86_64-gnu``: ``_by_meaning``); unknown -> InputError
    with the nearest key by meaning as a suggestion. Everything written (lock, manifest) uses
    the key."""
    spelled = text.strip()
    found = _BY_KEY.get(spelled) or _BY_TRIPLE.get(spelled)
    if found is not None:
        return found
    meant, normalised = _by_meaning(spelled)
    if meant is not None:
        return meant
    close = difflib.get_close_matches(normalised, [*_BY_KEY], n=1, cutoff=0.5) or (
        difflib.get_close_matches(spelled, [*_BY_KEY, *_BY_TRIPLE], n=1, cutoff=0.5)
    )
    suggestion = f" Did you mean {close[0]!r}?" if close else ""
    location = f" in {where}" if where else ""
    raise InputError(
        f"Unknown platform {spelled!r}{location}.{suggestion}",
        hint="Valid platforms: " + ", ".join(_BY_KEY) + " (or their PBS target triples).",
    )


def host_platform() -> Platform:
    """This machine's platform, with the baseline arch (x86_64, not a _vN level) as uv does."""
    return Platform(*hostinfo.host_parts())
