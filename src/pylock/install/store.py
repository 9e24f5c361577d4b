"""The install store: where each locked interpreter lives, and whether it is there.

Modelled on uv's ``ManagedPythonInstallations`` / ``ManagedPythonInstallation``: one object owns
the install root (``PYLOCK_PYTHON_DIR`` or the per-user data dir) and answers, for every command
(sync and its no-op path, which, run, show, check), the same questions the same way:

- **where** a target goes: ``<root>/cpython-3.12.8+20241219-linux-x86_64-gnu-<sha256[:12]>``,
  or exactly ``--into DIR`` when the user names one;
- **is it installed** (``is_installed``, the one rule): the receipt there (read and fully
  validated by receipt.py) names the same bytes for the same target (``same_build``), and the
  interpreter it names is a file there (``layout.has_interpreter``; the no-op memo asks the
  same). A lock re-pointed at a mirror keeps its sha256, so a moved URL is not a reinstall; an
  install whose interpreter was deleted is not installed, so ``sync`` repairs it;
- **placing** a new install: ``hold(dest)`` takes the destination's file lock, finishes what a
  killed process left beside it (temp dirs deleted, an install renamed aside restored or
  deleted), refuses to replace anything pylock did not create, hands out a temp dir beside the
  destination (same filesystem) and renames it into place atomically;
- **which installs exist** (``Store.installations``, for ``check``'s hints), whether a
  directory is a pylock install at all (``is_pylock_install``), and what a dot entry beside
  the installs is (``leftover_of``; ``pylock prune`` reads the root with these).

Only the stdlib, layout, receipt and lockfile are imported at first (``check`` and ``which``
load this module); ``shutil``, which drags in the bz2 and lzma modules, only when placing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pylock.base import layout
from pylock.errors import ExternalError, InputError
from pylock.install.receipt import Receipt, read_receipt, receipt_json
from pylock.resolution.lockfile import BUILD_FIELDS, Target

if TYPE_CHECKING:
    from pylock.fast.memo import Evidence

IDENTITY_FIELDS = ("sha256", *BUILD_FIELDS)
"""What makes two lock entries the same install: the same bytes (sha256) for the same target.
The URL is not among them: where the bytes came from does not change what they are."""


def same_build(installed: Target, locked: Target) -> bool:
    """Whether an install made from ``installed`` is an install of ``locked``."""
    return all(getattr(installed, name) == getattr(locked, name) for name in IDENTITY_FIELDS)


def differences(installed: Target, locked: Target) -> list[tuple[str, str, str]]:
    """``(field, installed value, locked value)`` for each identity field that differs."""
    return [
        (name, str(getattr(installed, name)), str(getattr(locked, name)))
        for name in IDENTITY_FIELDS
        if getattr(installed, name) != getattr(locked, name)
    ]


def is_installed(path: Path, receipt: Receipt | None, target: Target) -> bool:
    """Whether the install at ``path`` (holding ``receipt``, None: no valid one) is an install of
    ``target``: the same build, and its interpreter still there. Every command asks this (sync,
    its memo through ``layout.has_interpreter``, the installer, which, run, show, check)."""
    return (
        receipt is not None
        and same_build(receipt.target, target)
        and layout.has_interpreter(path, receipt.interpreter)
    )


def install_dir_name(target: Target) -> str:
    """``cpython-3.12.8+20241219-linux-x86_64-gnu-<first 12 hex of sha256>``."""
    return layout.install_dir_name(
        target.implementation, target.version, target.build, target.platform, target.sha256
    )


def is_pylock_install(path: Path) -> bool:
    """Whether ``path`` is a directory pylock installed: it holds a valid receipt."""
    return read_receipt(path) is not None


@dataclass(frozen=True)
class Installation:
    """What is at the place a target installs to: the locked target, and the receipt found."""

    target: Target  # the lock's entry asked about
    path: Path  # the install directory
    receipt: Receipt | None  # None: nothing there, or not a (valid) pylock install

    @property
    def installed(self) -> bool:
        """An install of the locked build, interpreter included (see ``is_installed``)."""
        return is_installed(self.path, self.receipt, self.target)

    @property
    def interpreter(self) -> Path | None:
        if self.receipt is None:
            return None
        return self.path / self.receipt.interpreter

    def note(self, evidence: Evidence) -> None:
        """Add what ``installed`` rests on to a memo's ``evidence`` (fast/memo.py): the receipt
        as read (its canonical bytes: one pylock wrote), or that there is none, and that the
        interpreter it names is a file. What no observation can say (a file there that is no
        valid receipt, an interpreter that is gone) makes the verdict one never replayed."""
        receipt_file = self.path / layout.META_DIR / layout.RECEIPT_NAME
        if self.receipt is None:
            if os.path.lexists(receipt_file):
                evidence.unknown()
            else:
                evidence.absent(receipt_file)
            return
        evidence.content(receipt_file, receipt_json(self.receipt).encode("utf-8"))
        if self.installed:
            evidence.interpreter(self.path, self.receipt.interpreter)
        elif same_build(self.receipt.target, self.target):  # the same build, interpreter gone
            evidence.unknown()


class Store:
    """The install root; ``--into`` destinations are answered for too (``path_for``).

    A plain class rather than a dataclass: it is a service over one directory, not a value, and
    ``pylock check`` loads it on every run (a dataclass costs most of a millisecond to build).
    """

    __slots__ = ("root",)

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"Store({self.root!r})"

    def path_for(self, target: Target, into: Path | None = None) -> Path:
        """Where ``target`` is installed: exactly ``into`` when given, else its own dir."""
        if into is not None:
            return into
        return self.root / install_dir_name(target)

    def find(self, target: Target, into: Path | None = None) -> Installation:
        """The installation of ``target`` (installed or not); reads one small receipt."""
        path = self.path_for(target, into)
        return Installation(target, path, read_receipt(path))

    def installations(self) -> tuple[Installation, ...]:
        """Every pylock install directly under the root, by name (temp and old dirs, lock files
        and foreign directories are left out). Each one's ``target`` is its receipt's."""
        try:
            with os.scandir(self.root) as listing:
                names = sorted(entry.name for entry in listing if not entry.name.startswith("."))
        except OSError:
            return ()
        found = []
        for name in names:
            path = self.root / name
            receipt = read_receipt(path)
            if receipt is not None:
                found.append(Installation(receipt.target, path, receipt))
        return tuple(found)

    def hold(self, dest: Path) -> AbstractContextManager[Slot]:
        """``hold`` for a destination of this store (or an ``--into`` one)."""
        return hold(dest)


# -- placement, locking and leftovers -------------------------------------------------------------


def lock_path(dest: Path) -> Path:
    """The lock file that serialises installs into ``dest``: ``.<name>.lock`` beside it."""
    return dest.parent / f".{dest.name}.lock"


class Slot:
    """A destination held under its lock (see ``hold``): what is there, how to replace it (or
    remove it).

    The usual use::

        with store.hold(dest) as slot:
            if is_installed(slot.dest, slot.current(), wanted): return it
            with slot.temp_dir() as temp:   # removed again if the block raises
                ...build the install in temp...
                slot.place(temp)
    """

    def __init__(self, dest: Path) -> None:
        self.dest = dest

    def current(self) -> Receipt | None:
        """The valid receipt of the install at the destination, or None."""
        return read_receipt(self.dest)

    @contextmanager
    def temp_dir(self) -> Iterator[Path]:
        """A fresh ``.<name>.tmp-<16 hex>`` beside the destination, deleted if the block raises.

        Refuses first (InputError) when the destination holds something pylock did not install.
        """
        _refuse_foreign(self.dest)
        import secrets

        temp = self.dest.parent / f".{self.dest.name}.tmp-{secrets.token_hex(8)}"
        try:
            temp.mkdir()
        except OSError as error:
            raise ExternalError(
                f"Cannot create a temp dir in {self.dest.parent}: {error}.",
                hint="Check that the directory is writable and the disk is not full.",
            ) from error
        try:
            yield temp
        except BaseException:
            _remove_tree(temp)
            raise

    def place(self, temp: Path) -> None:
        """Rename ``temp`` to the destination; an existing install is renamed aside, then
        deleted (if this process dies in between, the next ``hold`` restores or deletes it)."""
        dest = self.dest
        try:
            if not os.path.lexists(dest):
                temp.rename(dest)
                return
            import secrets

            old = dest.parent / f".{dest.name}.old-{secrets.token_hex(8)}"
            dest.rename(old)
            try:
                temp.rename(dest)
            except BaseException:
                old.rename(dest)
                raise
        except OSError as error:
            raise ExternalError(
                f"Cannot move the new install into {dest}: {error}.",
                hint="Check permissions; on Windows, stop programs running the old interpreter.",
            ) from error
        _remove_tree(old)  # a leftover is removed by the next install

    def remove(self) -> None:
        """Delete the install at the destination (``pylock prune``): renamed to a temp name
        first, so a process killed while deleting leaves an ordinary leftover that the next
        ``hold`` deletes, never a half-deleted install that still looks installed."""
        import secrets
        import shutil

        dest = self.dest
        doomed = dest.parent / f".{dest.name}.tmp-{secrets.token_hex(8)}"
        try:
            dest.rename(doomed)
            shutil.rmtree(doomed)
        except OSError as error:
            raise ExternalError(
                f"Cannot remove {dest}: {error.strerror or error}.",
                hint="Check its permissions; on Windows, stop programs running that interpreter.",
            ) from error


@contextmanager
def hold(dest: Path) -> Iterator[Slot]:
    """Hold ``dest`` for an install: create its parent, take its lock (waiting for another
    process installing there), clean what dead processes left, yield a ``Slot``."""
    dest = Path(dest).absolute()
    parent = dest.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExternalError(
            f"Cannot create {parent} to install into: {error}.",
            hint="Choose a writable location (PYLOCK_PYTHON_DIR or --into).",
        ) from error
    with _Lock(lock_path(dest)):
        clean_leftovers(dest)
        yield Slot(dest)


class _Lock:
    """An exclusive lock on a file, held for the ``with`` block; failures are ExternalErrors.

    POSIX: ``flock`` on the file, taken by a blocking call (Ctrl-C still interrupts it), the same
    lock ``filelock`` takes there; the lock file is left in place, as ``filelock`` leaves it.
    Elsewhere ``filelock`` itself, imported only then (it costs more to import than a cold
    install spends in the lock).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._fallback: Any = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:
            import filelock

            self._fallback = filelock.FileLock(os.fspath(self._path))
        try:
            if self._fallback is not None:
                self._fallback.acquire()
                return
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        except OSError as error:
            raise ExternalError(
                f"Cannot take the install lock {self._path}: {error}.",
                hint="Check that its directory is writable.",
            ) from error

    def __exit__(self, *exc_info: object) -> None:
        if self._fallback is not None:
            self._fallback.release()
        elif self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the lock
            self._fd = None


LeftoverKind = Literal["tmp", "old", "lock"]
_TEMP_OR_OLD = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old)-[0-9a-f]{16}")
_LOCK_FILE = re.compile(r"\.(?P<name>.+)\.lock")


def leftover_of(entry: str) -> tuple[str, LeftoverKind] | None:
    """What a dot entry beside the installs is, by its name alone: ``(name of the install it
    belongs to, kind)``, the kind being a temp dir (``tmp``), an install renamed aside (``old``)
    or its lock file (``lock``, see ``lock_path``); None for anything else. The one spelling of
    these names for ``clean_leftovers`` and ``pylock prune``."""
    match = _TEMP_OR_OLD.fullmatch(entry)
    if match is not None:
        kind: LeftoverKind = "tmp" if match["kind"] == "tmp" else "old"
        return match["name"], kind
    match = _LOCK_FILE.fullmatch(entry)
    if match is not None:
        return match["name"], "lock"
    return None


def clean_leftovers(dest: Path) -> None:
    """Finish what an interrupted install of ``dest`` left; call it holding ``dest``'s lock
    (``hold`` does), so no other process is installing there.

    Temp dirs are half-built installs: deleted. An ``.old-`` dir is a previous install renamed
    aside; if the new one never arrived it is put back (the previous state), else deleted.
    """
    olds = []
    try:
        with os.scandir(dest.parent) as listing:
            names = [entry.name for entry in listing]
    except OSError as error:
        raise ExternalError(f"Cannot list {dest.parent}: {error}.") from error
    for name in names:
        leftover = leftover_of(name)
        if leftover is None or leftover[0] != dest.name:
            continue
        if leftover[1] == "tmp":
            _remove_tree(dest.parent / name)
        elif leftover[1] == "old":
            olds.append(dest.parent / name)
    for old in olds:
        if not os.path.lexists(dest) and read_receipt(old) is not None:
            try:
                old.rename(dest)
                continue
            except OSError:
                pass
        _remove_tree(old)


def _remove_tree(path: Path) -> None:
    """Delete a leftover tree, best effort (what remains is retried by the next install)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _refuse_foreign(dest: Path) -> None:
    """Only ever replace what pylock installed (a directory holding a receipt) or nothing at all
    (an empty directory)."""
    if not os.path.lexists(dest):
        return
    if dest.is_symlink() or not dest.is_dir():
        raise InputError(
            f"Cannot install into {dest}: it exists and is not a directory pylock installed, "
            "so pylock will not replace it.",
            hint="Remove it yourself, or install into a path that does not exist yet (--into).",
        )
    if not any(dest.iterdir()):
        return  # an empty directory (a Dockerfile's mkdir) holds nothing to lose
    if not (dest / layout.META_DIR / layout.RECEIPT_NAME).is_file():
        raise InputError(
            f"Cannot install into {dest}: it exists and is not a pylock install (it has no "
            f"{layout.META_DIR}/{layout.RECEIPT_NAME}), and pylock never deletes or changes a "
            "directory it did not create.",
            hint="Remove it yourself if it is safe to, or install into a directory that does not "
            "exist yet (--into).",
        )
