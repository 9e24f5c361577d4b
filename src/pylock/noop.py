"""The no-op ``pylock sync``: prove "already installed" with the standard library alone.

``pylock sync`` runs on every shell start-up, CI step and container boot, and almost always has
nothing to do. Proving that takes three small reads (python.lock, pyproject.toml, one receipt),
but the full command path first pays for typer, packaging, dataclasses and platformdirs, several
times the cost of the reads. This module answers the common case with ``os``, ``json`` and
``tomllib`` only, and says "not proven" for anything it does not fully understand; the caller
then runs the full path, which reaches the same verdict or explains why not. So this module may
be incomplete but never wrong:

- the lock's entry for this host must equal, field for field, the receipt's entry (which was
  written from a validated entry when it was installed), and the rest of the lock must have the
  shape lockfile.validate requires (its keys, value types and unique platforms; the per-field
  rules of the other targets, such as a URL agreeing with its version, are left to the full
  path and ``pylock check``);
- the manifest check is DESIGN §6.2's satisfiability test for the requests it can decide with
  string operations (bare versions ``3``, ``3.12``, ``3.12.8``, with or without ``t``; no
  pre-releases; non-debug flavors): every listed platform has a target, every target's version
  is in the series and its variant is the requested one, and pinned flavor/build equal every
  target's; ``platforms`` is a non-empty list and ``source``/``mirror`` are non-blank strings, as
  manifest.load requires. Anything else (specifier sets, requires-python ranges, unknown keys)
  is "not proven".
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping

from pylock import hostinfo, layout, tomlread

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from typing import Any

LOCK_VERSION = 1  # lockfile.LOCK_VERSION; a test keeps them equal
_MANIFEST_KEYS = frozenset(
    {"python", "platforms", "flavor", "build", "source", "mirror", "exclude-newer"}
)
# lockfile's top-level keys, [manifest] keys and Target fields; a test keeps them equal.
_LOCK_KEYS = frozenset({"lock-version", "created-by", "manifest", "target"})
_LOCKED_MANIFEST_KEYS = frozenset({"python", "platforms", "flavor", "build", "exclude-newer"})
_TARGET_KEYS = frozenset(
    {"platform", "triple", "implementation", "version", "build", "flavor", "variant", "url"}
    | {"size", "sha256"}
)
_OPTIONAL_TARGET_KEYS = frozenset({"size"})  # lockfile._OPTIONAL_TARGET_KEYS
_FLAVORS_WITHOUT_DEBUG = ("install_only", "install_only_stripped")


def already_installed(implementation: str, version: str, build: str, flavor: str, path: str) -> str:
    """The one-line report of a no-op sync (the full path prints the same)."""
    return f"{implementation} {version} ({build}, {flavor}) is already installed at {path}."


def _load_toml(path: str) -> dict[str, object] | None:
    try:
        with open(path, "rb") as handle:
            return tomlread.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return None


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


def _targets(lock: dict[str, object]) -> list[dict[str, Any]] | None:
    """The lock's targets when the document has the shape lockfile.validate requires (exactly
    its keys, string values but an integer size, one target per platform), else None: a lock the
    full path would refuse is never "already installed"."""
    manifest, targets = lock.get("manifest"), lock.get("target")
    if set(lock) != _LOCK_KEYS or not isinstance(lock["created-by"], str):
        return None
    if not isinstance(manifest, dict) or not set(manifest) <= _LOCKED_MANIFEST_KEYS:
        return None
    if not isinstance(targets, list) or not targets:
        return None
    platforms = set()
    for target in targets:
        if not isinstance(target, dict) or not (
            _TARGET_KEYS - _OPTIONAL_TARGET_KEYS <= set(target) <= _TARGET_KEYS
        ):
            return None
        for key, value in target.items():
            if key == "size" and (not isinstance(value, int) or isinstance(value, bool)):
                return None
            if key != "size" and not isinstance(value, str):
                return None
        platforms.add(target["platform"])
    return targets if len(platforms) == len(targets) else None


def _nonblank(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _newest_build(value: object) -> str | None:
    """exclude-newer as a build tag (YYYYMMDD); None when absent, "" when not a plain spelling
    this module decides (a TOML date, anything manifest.load would have to judge)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return ""
    text = value.strip()
    digits = text.replace("-", "") if len(text) == 10 else text
    if len(digits) != 8 or not digits.isdigit():
        return ""
    import datetime  # already loaded by the TOML reader

    try:
        datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return ""  # not a calendar day: manifest.load reports it
    return digits


def _satisfied(document: dict[str, object], targets: list[dict[str, Any]]) -> bool:
    """DESIGN §6.2 for the manifests this module can decide; False means "not proven"."""
    tool = document.get("tool")
    table = tool.get("pylock") if isinstance(tool, dict) else None
    if not isinstance(table, dict) or not set(table) <= _MANIFEST_KEYS:
        return False
    if any(key in table and not _nonblank(table[key]) for key in ("source", "mirror")):
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
    newest = _newest_build(table.get("exclude-newer"))
    if newest == "":
        return False
    variant = "freethreaded" if freethreaded else "default"
    for target in targets:
        if not _in_series(target["version"], request):
            return False
        if target["variant"] != variant:
            return False
        if flavor is not None and target["flavor"] != flavor:
            return False
        if build is not None and target["build"] != build:
            return False
        if newest is not None and target["build"] > newest:
            return False
    if "platforms" not in table:
        return True
    platforms = table["platforms"]
    keys = {target["platform"] for target in targets}
    return (
        isinstance(platforms, list)
        and bool(platforms)
        and all(isinstance(p, str) and p in keys for p in platforms)
    )


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
    targets = _targets(lock)
    if targets is None:
        return None
    key = platform or hostinfo.host_key()
    target = next((t for t in targets if t["platform"] == key), None)
    if target is None:
        return None
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
    except (OSError, ValueError):
        return None
    if not isinstance(receipt, dict) or receipt.get("receipt_version") != layout.RECEIPT_VERSION:
        return None
    if receipt.get("target") != target:
        return None
    if not frozen:
        pyproject = os.path.join(project, "pyproject.toml")
        if os.path.exists(pyproject):
            document = _load_toml(pyproject)
            if document is None or not _satisfied(document, targets):
                return None
    return already_installed(
        target["implementation"], target["version"], target["build"], target["flavor"], dest
    )
