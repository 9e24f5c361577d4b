"""The no-op ``pylock sync``: replay the full path's own verdict on byte-identical inputs.

``pylock sync`` runs on every shell start-up, CI step and container boot, and almost always has
nothing to do. The full path proves that by validating python.lock (lockfile), the manifest
against it (manifest) and the receipt of the install (receipt, via the store), and importing
those validators costs several times the reads themselves. So this module validates nothing:
each time the full path finds the locked build installed (or installs it), it records *what it
accepted* in a small memo in the cache dir (``remember``):

- the key: the pylock version, the project directory, the options that change the verdict
  (``--platform`` or this host's key, ``--into``, ``--frozen``) and the install root;
- the exact text of python.lock it validated, of pyproject.toml it checked the lock against
  (or that there was none; not consulted with ``--frozen``), and of the receipt it accepted;
- the report line.

``check`` answers "already installed" only when the memo for the same key holds exactly the
bytes now on disk. The verdict is a pure function of those inputs, so the full path would reach
the same one: the fast path cannot disagree with it, whatever is wrong with an input (a changed
byte anywhere sends the command down the full path, which reports it). Deleting the cache only
costs one full-path run. Standard library only, and only ``os`` and ``json`` of it.
"""

from __future__ import annotations

import json
import os

from pylock import __version__, hostinfo, layout, locations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from collections.abc import Mapping

MEMO_DIR = "sync-memo"
"""The memos' directory inside the cache dir."""


def already_installed(implementation: str, version: str, build: str, flavor: str, path: str) -> str:
    """The one-line report of a no-op sync (the full path prints the same)."""
    return f"{implementation} {version} ({build}, {flavor}) is already installed at {path}."


def memo_key(
    project: str,
    *,
    frozen: bool,
    into: str | None,
    platform: str | None,
    environ: Mapping[str, str],
) -> dict[str, object]:
    """Everything besides the three files that decides the full path's verdict."""
    return {
        "pylock": __version__,
        "project": os.path.abspath(project),
        "frozen": frozen,
        "into": os.path.abspath(into) if into else None,
        "platform": platform or hostinfo.host_key(),
        "python_dir": os.path.abspath(locations.python_path(environ)),
    }


def memo_path(key: dict[str, object], environ: Mapping[str, str]) -> str:
    """One memo per key; the name only spreads keys out (the memo holds the key to compare)."""
    import zlib

    digest = zlib.crc32(json.dumps(key, sort_keys=True).encode("utf-8"))
    return os.path.join(locations.cache_path(environ), MEMO_DIR, f"{digest:08x}.json")


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def check(
    project: str,
    *,
    frozen: bool = False,
    into: str | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The no-op report when the full path already accepted exactly these inputs, else None."""
    env = os.environ if environ is None else environ
    key = memo_key(project, frozen=frozen, into=into, platform=platform, environ=env)
    raw = _read(memo_path(key, env))
    if raw is None:
        return None
    try:
        memo = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(memo, dict) or memo.get("key") != key:
        return None
    lock, pyproject, receipt = memo.get("lock"), memo.get("pyproject"), memo.get("receipt")
    install_dir, report = memo.get("install_dir"), memo.get("report")
    if not (
        isinstance(lock, str)
        and isinstance(receipt, str)
        and isinstance(install_dir, str)
        and isinstance(report, str)
        and isinstance(pyproject, str | None)
    ):
        return None
    receipt_file = os.path.join(install_dir, layout.META_DIR, layout.RECEIPT_NAME)
    if _read(receipt_file) != receipt.encode("utf-8"):
        return None
    if _read(os.path.join(project, "python.lock")) != lock.encode("utf-8"):
        return None
    if not frozen:
        now = _read(os.path.join(project, "pyproject.toml"))
        if pyproject is None:
            if now is not None or os.path.exists(os.path.join(project, "pyproject.toml")):
                return None
        elif now != pyproject.encode("utf-8"):
            return None
    return report


def remember(
    project: str,
    *,
    frozen: bool,
    into: str | None,
    platform: str | None,
    environ: Mapping[str, str],
    lock: bytes,
    pyproject: bytes | None,
    install_dir: str,
    receipt: bytes,
    report: str,
) -> None:
    """Record what the full path just accepted (see the module docstring); best effort: a memo
    that cannot be written only means the next sync takes the full path again."""
    from pathlib import Path

    from pylock.errors import PylockError
    from pylock.fsutil import atomic_write_bytes

    key = memo_key(project, frozen=frozen, into=into, platform=platform, environ=environ)
    try:
        memo = {
            "key": key,
            "lock": lock.decode("utf-8"),
            "pyproject": None if pyproject is None else pyproject.decode("utf-8"),
            "install_dir": os.path.abspath(install_dir),
            "receipt": receipt.decode("utf-8"),
            "report": report,
        }
    except UnicodeDecodeError:
        return
    path = Path(memo_path(key, environ))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(memo, indent=1).encode("utf-8"))
    except (OSError, PylockError):
        pass
