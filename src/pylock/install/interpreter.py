"""The installed interpreter's own checks: the layout PBS promises, and its version.

An archive can pass every safety check of extraction and still not be the interpreter the lock
names. Before an install is placed, its tree must hold the interpreter where the PBS layout puts
it (``bin/python3.12``, ``python.exe``), a ``patchlevel.h`` that says the locked version, and,
when the interpreter can run on this host, the interpreter itself must report that version.
That one run also reports the libraries bundled into the build (components.py): the same
process, not a second one, so a cold sync pays for a few imports, not another start-up.
Kept apart from extraction (extract/extractor.py) and placement (store.py): each has one job.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from pylock.errors import InputError
from pylock.extract.extractor import refused
from pylock.install.components import NO_ANSWER, PROBE, Components, parse_probe
from pylock.resolution.lockfile import Target

INTERPRETER_TIMEOUT = 60.0
"""Seconds the interpreter gets to answer; a cold start on a slow disk is well under."""

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?")
_LEVELS = {"a": "alpha", "b": "beta", "rc": "candidate", None: "final"}
_LEVEL_SPELLING = {"alpha": "a", "beta": "b", "candidate": "rc"}
_VARIANT_SUFFIX = {"default": "", "freethreaded": "t", "debug": "d", "freethreaded+debug": "td"}
_PY_VERSION = re.compile(r'^[ \t]*#[ \t]*define[ \t]+PY_VERSION[ \t]+"([^"]*)"', re.MULTILINE)


def parse_version(target: Target) -> tuple[int, int, int, str, int]:
    """``3.15.0rc1`` -> ``(3, 15, 0, "candidate", 1)``, the shape of ``sys.version_info``."""
    match = _VERSION.fullmatch(target.version)
    if match is None:
        raise InputError(
            f"The lock target for {target.platform} has version {target.version!r}, which is not "
            "a CPython version (X.Y.Z, optionally followed by aN, bN or rcN).",
            hint="Replace the lock with `pylock lock --upgrade`.",
        )
    major, minor, micro, level, serial = match.groups()
    return int(major), int(minor), int(micro), _LEVELS[level], int(serial or 0)


def check_layout(
    root: Path, target: Target, version: tuple[int, int, int, str, int], *, windows: bool
) -> str:
    """Where docs/pbs-format.md §3.2 puts the interpreter and ``patchlevel.h``; the
    interpreter's path."""
    suffix = _VARIANT_SUFFIX.get(target.variant)
    if suffix is None:
        raise InputError(
            f"The lock target for {target.platform} has variant {target.variant!r}; expected "
            f"one of {', '.join(_VARIANT_SUFFIX)}.",
            hint="Replace the lock with `pylock lock --upgrade`.",
        )
    major_minor = f"{version[0]}.{version[1]}"
    if windows:
        candidates = ["python.exe"]
        header = "include/patchlevel.h"
    else:
        candidates = [f"bin/python{major_minor}{suffix}", "bin/python3"]
        header = f"include/python{major_minor}{suffix}/patchlevel.h"
    interpreter = next((c for c in candidates if (root / c).is_file()), None)
    if interpreter is None:
        raise refused(
            target.asset_name,
            f"has no interpreter at {' or '.join(candidates)} (after stripping python/)",
        )
    if not windows and not (root / interpreter).stat().st_mode & stat.S_IXUSR:
        raise refused(target.asset_name, f"has an interpreter {interpreter} that cannot execute")
    try:
        text = (root / header).read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise refused(target.asset_name, f"has no {header}") from None
    match = _PY_VERSION.search(text)
    if match is None:
        raise refused(target.asset_name, f"has a {header} without #define PY_VERSION")
    if match.group(1) != target.version:
        raise refused(
            target.asset_name,
            f"is Python {match.group(1)} according to {header}, but the lock says {target.version}",
        )
    return interpreter


def check_reported_version(
    root: Path, interpreter: str, target: Target, version: tuple[int, int, int, str, int]
) -> Components:
    """Run the new interpreter once, isolated, hold it to the locked version, and return the
    bundled libraries it reported (components.PROBE prints the version first, then those).

    The version decides: an interpreter that does not report the locked version is refused.
    One that reports it and then fails while probing its libraries (a module that crashes on
    import) is installed, with its components recorded as not reported.
    """
    command = [os.fspath(root / interpreter), "-I", "-S", "-B", "-c", PROBE]
    try:
        result = subprocess.run(
            command,
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=INTERPRETER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise refused(
            target.asset_name,
            f"has an interpreter {interpreter} that did not answer within "
            f"{INTERPRETER_TIMEOUT:.0f} seconds",
        ) from None
    except OSError as error:
        raise refused(
            target.asset_name, f"has an interpreter {interpreter} that cannot run here ({error})"
        ) from error
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    reported = lines[0].split() if lines else []
    expected = [str(field) for field in version]
    if result.returncode != 0 and reported != expected:
        detail = result.stderr.decode("utf-8", "replace").strip()[-500:]
        raise refused(
            target.asset_name,
            f"has an interpreter {interpreter} that failed (exit {result.returncode}: {detail})",
        )
    if reported != expected:
        raise refused(
            target.asset_name,
            f"has an interpreter that reports Python {_spell(reported)}, but the lock says "
            f"{target.version}",
        )
    if result.returncode != 0:
        return Components(NO_ANSWER)
    return parse_probe(lines[1:])


def _spell(fields: list[str]) -> str:
    """``["3", "15", "0", "candidate", "1"]`` -> ``3.15.0rc1``; anything odd is shown as is."""
    if len(fields) != 5:
        return repr(" ".join(fields))
    major, minor, micro, level, serial = fields
    if level == "final":
        return f"{major}.{minor}.{micro}"
    return f"{major}.{minor}.{micro}{_LEVEL_SPELLING.get(level, level)}{serial}"
