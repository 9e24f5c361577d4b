"""``[tool.pylock]`` -> a Request, and the one test of whether a lock still satisfies it.

INTERFACE (fixed; other modules depend on it).

The satisfiability test lives here, not in check.py, because ``pylock lock`` (keep pins, touch no
network) and ``pylock check`` (lock-current) must agree exactly on what "current" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from pylock.lockfile import Lock, LockedManifest
from pylock.platforms import Platform


@dataclass(frozen=True)
class PythonRequest:
    """A version request: ``3.12``, ``3.12.8``, ``>=3.11,<3.13``, ``3.13t``, ``3.14.0rc2t``."""

    text: str  # normalised spelling, written to the lock's [manifest].python
    specifier: SpecifierSet
    freethreaded: bool
    prereleases: bool  # True only when the request itself names a pre-release

    def contains(self, version: Version) -> bool:
        raise NotImplementedError


def parse_python_request(text: str, *, where: str = "") -> PythonRequest:
    """InputError (exit 2) naming ``where`` (e.g. ``pyproject.toml [tool.pylock].python``)."""
    raise NotImplementedError


@dataclass(frozen=True)
class Manifest:
    """The ``[tool.pylock]`` table as written (``None``: the key is absent)."""

    path: Path  # the pyproject.toml it came from
    python: PythonRequest | None  # [tool.pylock].python, else project.requires-python
    platforms: tuple[Platform, ...] | None
    flavor: str | None
    build: str | None
    source: str | None
    mirror: str | None


def load(path: Path) -> Manifest:
    """Read ``pyproject.toml`` with the stdlib TOML reader; every bad key -> InputError (2)."""
    raise NotImplementedError


@dataclass(frozen=True)
class Request:
    """What to resolve: the manifest with this run's CLI overrides applied."""

    python: PythonRequest
    platforms: tuple[Platform, ...]  # sorted, deduplicated; empty only when checking a manifest
    # that lists none (then any non-empty lock satisfies the platform part)
    flavor: str | None
    build: str | None

    @property
    def variant(self) -> str:
        """default | freethreaded | debug | freethreaded+debug (debug only via a debug flavor)."""
        raise NotImplementedError

    def locked_manifest(self, manifest_platforms: tuple[Platform, ...] | None) -> LockedManifest:
        raise NotImplementedError


@dataclass(frozen=True)
class Drift:
    """One input the lock no longer satisfies: ``recorded -> current`` and the fixing command."""

    input: str  # "python", "platforms", "flavor", "build"
    recorded: str
    current: str
    fix: str  # e.g. "pylock lock"

    def __str__(self) -> str:
        return f"{self.input}: {self.recorded} -> {self.current} (run `{self.fix}`)"


def drift(lock: Lock, request: Request) -> list[Drift]:
    """Every way ``lock`` fails to satisfy ``request`` (DESIGN §6.2); empty means current.

    Current when every requested platform has a target, every target's version and variant
    satisfy the python request, and a pinned flavor/build equals every target's. Extra targets are
    fine; source and mirror never matter.
    """
    raise NotImplementedError
