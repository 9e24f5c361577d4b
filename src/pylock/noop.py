"""The no-op ``pylock sync``: prove "already installed" with the standard library alone.

``pylock sync`` runs on every shell start-up, CI step and container boot, and almost always has
nothing to do. Proving that takes three small reads (python.lock, pyproject.toml, one receipt),
but the full command path first pays for typer, packaging, dataclasses and platformdirs, several
times the cost of the reads. This module answers the common case with ``os``, ``json`` and
``tomllib`` only, and says "not proven" for anything it does not fully understand; the caller
then runs the full path, which reaches the same verdict or explains why not. So this module may
be incomplete but never wrong:

- the lock's entry for this host must equal, field for field, the receipt's entry (which was
  written from a validated entry when it was installed);
- the manifest check is DESIGN §6.2's satisfiability test for the requests it can decide with
  string operations (bare versions ``3``, ``3.12``, ``3.12.8``, with or without ``t``; no
  pre-releases; non-debug flavors): every listed platform has a target, every target's version
  is in the series and its variant is the requested one, and pinned flavor/build equal every
  target's. Anything else (specifier sets, requires-python ranges, unknown keys) is "not proven".
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping

from pylock import hostinfo, layout

LOCK_VERSION = 1  # lockfile.LOCK_VERSION; a test keeps them equal
_MANIFEST_KEYS = frozenset({"python", "platforms", "flavor", "build", "source", "mirror"})
_FLAVORS_WITHOUT_DEBUG = ("install_only", "install_only_stripped")


def already_installed(implementation: str, version: str, build: str, flavor: str, path: str) -> str:
    """The one-line report of a no-op sync (the full path prints the same)."""
    return f"{implementation} {version} ({build}, {flavor}) is already installed at {path}."


def _load_toml(path: str) -> dict[str, object] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        with open(path, "rb") as handle:
            document: dict[str, object] = tomllib.load(handle)
    except (OSError, ValueError):
        return None
    return document


def _python_dir(environ: Mapping[str, str]) -> str:
    """locations.python_dir() without importing platformdirs on Linux (a test keeps them equal)."""
    if value := environ.get("PYLOCK_PYTHON_DIR"):
        return os.path.expanduser(value)
    if sys.platform.startswith("linux"):
        data = environ.get("XDG_DATA_HOME", "").strip() or os.path.expanduser("~/.local/share")
        return os.path.join(data, "pylock", "python")
    from pylock import locations

    return str(locations.python_dir(environ))


def _in_series(version: str, request: str) -> bool:
    """``version`` (a final release) is in the series a bare request names: 3.12 -> 3.12.*."""
    parts = version.split(".")
    wanted = request.split(".")
    return (
        len(parts) == 3
        and all(part.isdigit() for part in parts)
        and [int(p) for p in parts[: len(wanted)]] == [int(w) for w in wanted]
    )


def _satisfied(document: dict[str, object], lock: dict[str, object]) -> bool:
    """DESIGN §6.2 for the manifests this module can decide; False means "not proven"."""
    tool = document.get("tool")
    table = tool.get("pylock") if isinstance(tool, dict) else None
    if not isinstance(table, dict) or not set(table) <= _MANIFEST_KEYS:
        return False
    python = table.get("python")
    if python is None:
        project = document.get("project")
        python = project.get("requires-python") if isinstance(project, dict) else None
    if not isinstance(python, str):
        return False
    request = "".join(python.split())
    freethreaded = request.endswith("t")
    request = request.removesuffix("t")
    if not request or not all(p.isdigit() for p in request.split(".")) or request.count(".") > 2:
        return False
    flavor, build = table.get("flavor"), table.get("build")
    if flavor is not None and flavor not in _FLAVORS_WITHOUT_DEBUG:
        return False
    targets = lock.get("target")
    if not isinstance(targets, list) or not targets:
        return False
    variant = "freethreaded" if freethreaded else "default"
    keys = set()
    for target in targets:
        if not isinstance(target, dict):
            return False
        if not isinstance(target.get("version"), str) or not _in_series(target["version"], request):
            return False
        if target.get("variant") != variant:
            return False
        if flavor is not None and target.get("flavor") != flavor:
            return False
        if build is not None and target.get("build") != build:
            return False
        keys.add(target.get("platform"))
    platforms = table.get("platforms")
    if platforms is None:
        return True
    return isinstance(platforms, list) and all(p in keys for p in platforms)


def check(
    project: str,
    *,
    frozen: bool = False,
    into: str | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The no-op report if ``pylock sync`` with these options provably has nothing to do."""
    env = os.environ if environ is None else environ
    lock = _load_toml(os.path.join(project, "python.lock"))
    if lock is None or lock.get("lock-version") != LOCK_VERSION:
        return None
    key = platform or hostinfo.host_key()
    targets = lock.get("target")
    if not isinstance(targets, list):
        return None
    matching = [t for t in targets if isinstance(t, dict) and t.get("platform") == key]
    if len(matching) != 1:
        return None
    (target,) = matching
    try:
        dest = into or os.path.join(
            _python_dir(env),
            layout.install_dir_name(
                target["implementation"],
                target["version"],
                target["build"],
                target["platform"],
                target["sha256"],
            ),
        )
        with open(os.path.join(dest, layout.META_DIR, layout.RECEIPT_NAME), "rb") as handle:
            receipt = json.load(handle)
    except (KeyError, TypeError, OSError, ValueError):
        return None
    if not isinstance(receipt, dict) or receipt.get("receipt_version") != layout.RECEIPT_VERSION:
        return None
    if receipt.get("target") != target:
        return None
    if not frozen:
        pyproject = os.path.join(project, "pyproject.toml")
        if os.path.exists(pyproject):
            document = _load_toml(pyproject)
            if document is None or not _satisfied(document, lock):
                return None
    return already_installed(
        target["implementation"], target["version"], target["build"], target["flavor"], dest
    )
