"""Is a virtual environment on the lock? The ``pyvenv.cfg`` facts ``pylock check`` and
``pylock venv`` both read.

A virtual environment records the interpreter it was made from in ``pyvenv.cfg``: ``home`` is the
directory of that interpreter, and ``version`` (``python -m venv``) or ``version_info`` (uv) its
version. pylock installs every build in a directory of its own, so ``home`` alone tells which build
a venv runs on; the version is compared too, so a venv that points at the right directory but
was made before that directory held the locked build still fails.

``pylock check`` reads this on every run, so it imports no more than the check path already has.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylock.fast.memo import Evidence

PYVENV_CFG = "pyvenv.cfg"
DEFAULT_VENV = ".venv"
INCOMPLETE = ".pylock-incomplete"
"""Made in a new venv before ``-m venv`` runs and removed once it is verified: a venv that still
has it was cut short (the process was killed), so it is ours to delete, ``--clear`` or not."""
_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc"}
_VERSION_INFO = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:\.(alpha|beta|candidate|final)\.(\d+))?")


@dataclass(frozen=True)
class VenvConfig:
    """What a ``pyvenv.cfg`` says about the interpreter a venv was made from."""

    path: Path  # the venv directory
    home: str | None  # the base interpreter's directory, as written
    version: str | None  # "3.12.8", "3.15.0rc1"; None when the file names none
    raw: bytes = field(default=b"", repr=False)  # the file's bytes (a memo's evidence)

    @property
    def home_path(self) -> Path | None:
        return Path(self.home) if self.home else None


def read_pyvenv_cfg(venv: Path, evidence: Evidence | None = None) -> VenvConfig | None:
    """The venv's configuration, or None when ``venv`` has no readable ``pyvenv.cfg``; what
    was read (or that nothing is there) goes into ``evidence`` when given."""
    path = venv / PYVENV_CFG
    try:
        raw = path.read_bytes()
    except OSError:
        if evidence is not None:
            if os.path.lexists(path):  # there but unreadable: no observation says so
                evidence.unknown()
            else:
                evidence.absent(path)
        return None
    if evidence is not None:
        evidence.content(path, raw)
    text = raw.decode("utf-8", errors="replace")  # line breaks: splitlines takes \r\n whole
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            values[key.strip().lower()] = value.strip()
    version = values.get("version_info") or values.get("version")
    return VenvConfig(venv, values.get("home") or None, _normal_version(version), raw)


def _normal_version(text: str | None) -> str | None:
    """``3.12.8.final.0`` -> ``3.12.8``, ``3.15.0.candidate.1`` -> ``3.15.0rc1``; others as is."""
    if not text:
        return None
    match = _VERSION_INFO.fullmatch(text)
    if match is None:
        return text
    major, minor, micro, level, serial = match.groups()
    base = f"{major}.{minor}.{micro}"
    if level in _LEVELS:
        return f"{base}{_LEVELS[level]}{serial}"
    return base


def same_version(venv_version: str | None, locked: str) -> bool:
    """Whether a venv's version is the locked one. ``python -m venv`` writes only X.Y.Z, so
    ``3.15.0`` matches a locked ``3.15.0rc1``; ``home`` is what tells those builds apart."""
    if venv_version is None:
        return False
    if venv_version == locked:
        return True
    base = re.match(r"\d+\.\d+\.\d+", locked)
    return base is not None and venv_version == base.group(0)


def same_directory(a: Path, b: Path) -> bool:
    """Whether two spellings name one directory (symlinks and ``..`` resolved)."""
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def mismatch(
    config: VenvConfig, home: Path, version: str, evidence: Evidence | None = None
) -> str | None:
    """Why ``config`` is not a venv on the interpreter in ``home`` at ``version``, or None.
    A venv found on it notes what that rests on in ``evidence`` (no incomplete mark; ``home``
    the same directory), beside the ``pyvenv.cfg`` bytes ``read_pyvenv_cfg`` noted."""
    incomplete = config.path / INCOMPLETE
    if incomplete.exists():
        return "it is incomplete (the `pylock venv` making it was cut short)"
    if config.home_path is None:
        return f"its {PYVENV_CFG} names no home"
    if not same_directory(config.home_path, home):
        return f"it was made from the interpreter in {config.home}, not the locked one in {home}"
    if evidence is not None:
        evidence.absent(incomplete)
        evidence.same_file(config.home_path, home)
    if not same_version(config.version, version):
        return f"its version is {config.version or 'not stated'}, python.lock says {version}"
    return None
