"""The no-op ``pylock sync``: replay the full path's own verdict on byte-identical inputs.

``pylock sync`` runs on every shell start-up, CI step and container boot, and almost always has
nothing to do. The full path proves that by validating python.lock (lockfile), the manifest
against it (manifest) and the receipt of the install (receipt, via the store), and importing
those validators costs several times the reads themselves. So this module validates nothing:
each time the full path finds the locked build installed (or installs it), it records *what it
accepted* in a small memo in the cache dir (``remember``):

- the key: the pylock version, the project directory, the options that change the verdict
  (``--platform`` or this host's key, ``--python``, ``--into``, ``--frozen``) and the install
  root;
- the exact text of python.lock it validated, of pyproject.toml it checked the lock against
  (or that there was none; not consulted with ``--frozen``), and of the receipt it accepted;
- the interpreter that receipt names, the other half of "installed" (``store.is_installed``);
- the report line.

``check`` answers "already installed" only when the memo for the same key holds exactly the
bytes now on disk and the interpreter is still a file (``layout.has_interpreter``, the store's
own test: one ``stat``; a deleted interpreter is no install, and the full path reinstalls it).
The full path's verdict is a function of the key, those bytes and that file, so it would reach
the same one again: the fast path cannot disagree with it, whatever is wrong with an input (a
changed byte anywhere sends the command down the full path, which reports it). The memo is
trusted as the install directory is: whoever can rewrite it could rewrite the interpreter too,
and ``pylock check`` never reads it. Deleting the cache only costs one full-path run. Standard
library only: ``os`` and ``zlib`` (not even ``json``, whose ``re`` would cost more than the rest
of the command).
"""

from __future__ import annotations

import os

from pylock import __version__
from pylock.base import hostinfo, layout, locations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from collections.abc import Mapping

MEMO_DIR = "sync-memo"
"""The memos' directory inside the cache dir."""

_MAGIC = b"pylock sync memo 2\n"
_FIELDS = 13  # the 7 of the key, then install dir, lock, pyproject, receipt, interpreter, report


def already_installed(implementation: str, version: str, build: str, flavor: str, path: str) -> str:
    """The one-line report of a no-op sync (the full path prints the same)."""
    return f"{implementation} {version} ({build}, {flavor}) is already installed at {path}."


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def memo_key(
    project: str,
    *,
    frozen: bool,
    into: str | None,
    platform: str | None,
    environ: Mapping[str, str],
    python: str | None = None,
) -> list[bytes | None]:
    """Everything besides the three files that decides the full path's verdict."""
    return [
        _text(__version__),
        _text(os.path.abspath(project)),
        b"frozen" if frozen else b"",
        _text(os.path.abspath(into)) if into else None,
        _text(platform or hostinfo.host_key()),
        _text(python) if python is not None else None,
        _text(os.path.abspath(locations.python_path(environ))),
    ]


def _pack(fields: list[bytes | None]) -> bytes:
    """Length-prefixed fields (``-`` for None): no json (and so no ``re``) on the no-op path."""
    out = [_MAGIC]
    for value in fields:
        out.append(b"-\n" if value is None else b"%d\n%s" % (len(value), value))
    return b"".join(out)


def _unpack(raw: bytes) -> list[bytes | None] | None:
    if not raw.startswith(_MAGIC):
        return None
    fields: list[bytes | None] = []
    position = len(_MAGIC)
    while position < len(raw):
        end = raw.find(b"\n", position)
        head = raw[position:end]
        if end < 0 or not (head == b"-" or head.isdigit()):
            return None
        if head == b"-":
            fields.append(None)
            position = end + 1
            continue
        position = end + 1 + int(head)
        if position > len(raw):
            return None
        fields.append(raw[end + 1 : position])
    return fields


def memo_path(key: list[bytes | None], environ: Mapping[str, str]) -> str:
    """One memo per key; the name only spreads keys out (the memo holds the key to compare)."""
    import zlib

    name = f"{zlib.crc32(_pack(key)):08x}.memo"
    return os.path.join(locations.cache_path(environ), MEMO_DIR, name)


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
    python: str | None = None,
    environ: Mapping[str, str],
) -> str | None:
    """The no-op report when the full path already accepted exactly these inputs, else None."""
    key = memo_key(
        project, frozen=frozen, into=into, platform=platform, environ=environ, python=python
    )
    raw = _read(memo_path(key, environ))
    memo = None if raw is None else _unpack(raw)
    if memo is None or len(memo) != _FIELDS or memo[: len(key)] != key:
        return None
    install_dir, lock, pyproject, receipt, interpreter, report = memo[len(key) :]
    if install_dir is None or lock is None or receipt is None or report is None:
        return None
    if interpreter is None:
        return None
    directory = os.fsdecode(install_dir)
    receipt_file = os.path.join(directory, layout.META_DIR, layout.RECEIPT_NAME)
    if _read(receipt_file) != receipt:
        return None
    if not layout.has_interpreter(directory, os.fsdecode(interpreter)):
        return None
    if _read(os.path.join(project, "python.lock")) != lock:
        return None
    if not frozen:
        manifest = os.path.join(project, "pyproject.toml")
        if _read(manifest) != pyproject or (pyproject is None and os.path.lexists(manifest)):
            return None
    return report.decode("utf-8", "surrogateescape")


def remember(
    project: str,
    *,
    frozen: bool,
    into: str | None,
    platform: str | None,
    environ: Mapping[str, str],
    lock: bytes,
    python: str | None = None,
    pyproject: bytes | None,
    install_dir: str,
    receipt: bytes,
    interpreter: str,
    report: str,
) -> None:
    """Record what the full path just accepted (see the module docstring); best effort: a memo
    that cannot be written only means the next sync takes the full path again."""
    from pathlib import Path

    from pylock.base.fsutil import atomic_write_bytes
    from pylock.errors import PylockError

    key = memo_key(
        project, frozen=frozen, into=into, platform=platform, environ=environ, python=python
    )
    values = [
        _text(os.path.abspath(install_dir)),
        lock,
        pyproject,
        receipt,
        _text(interpreter),
        _text(report),
    ]
    path = Path(memo_path(key, environ))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, _pack([*key, *values]))
    except (OSError, PylockError):
        pass
