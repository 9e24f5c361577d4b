"""Atomic file replacement, the one way pylock writes a file someone may be reading; the one
way it reads a file the user gave it (``open_input``); the one way it hashes a file it reads back.

python.lock, receipts and cache metadata are all read by other processes (a CI job, a second
sync, an editor); each is replaced by writing a temp file beside it and renaming it over, so a
reader sees the old bytes or the new ones and never half of either, even after a crash.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import BinaryIO

from pylock.errors import ExternalError, InputError, PylockError

CHUNK_SIZE = 1024 * 1024
"""Bytes read per call when hashing or copying: large enough that hashlib (which releases the GIL
for big buffers) does the work, not the Python loop around it."""


def hash_stream(stream: BinaryIO) -> str:
    """The sha256 hex digest of everything left in ``stream``, read in ``CHUNK_SIZE`` chunks."""
    import hashlib  # here, not at the top: python.lock's readers (check) never hash

    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
    return digest.hexdigest()


# -- reading what the user gave ------------------------------------------------------------------

_NOT_A_READABLE_FILE = frozenset(
    {
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EACCES,
        errno.EPERM,
        errno.ELOOP,
        errno.ENAMETOOLONG,
    }
)
"""Errors that mean the path names no readable file: the user's to fix (exit 2). Any other
error reading an input (EIO, EMFILE, ...) is the machine's (exit 3)."""


def open_input(path: Path, *, fix: str) -> BinaryIO:
    """Open an input file the user gave (python.lock, pyproject.toml, a source's local file):
    the one rule for all of them. A path that is missing, a directory, a dangling symlink, a
    symlink loop or unreadable to this user -> InputError (exit 2) naming it and saying what to
    do; ``fix`` is that, as a clause ("create it with `pylock lock`"). Anything else -> an
    ExternalError (exit 3): the disk failed, not the input."""
    try:
        return path.open("rb")
    except OSError as error:
        raise unreadable_input(path, error, fix=fix) from None


def read_input(path: Path, *, fix: str) -> bytes:
    """All of an input file (see ``open_input``, whose rule a failed read follows too)."""
    with open_input(path, fix=fix) as stream:
        try:
            return stream.read()
        except OSError as error:
            raise unreadable_input(path, error, fix=fix) from None


def read_input_if_any(path: Path, *, fix: str) -> bytes | None:
    """An optional input file: None when nothing at all is at ``path`` (not even a symlink),
    else exactly ``read_input``. A pyproject.toml beside a lock that travels alone is absent;
    one that is a directory or cannot be read is an error, never silently "no manifest"."""
    if not os.path.lexists(path):
        return None
    return read_input(path, fix=fix)


def unreadable_input(path: Path, error: OSError, *, fix: str) -> PylockError:
    """The error for input ``path`` that failed with ``error`` (see ``open_input``)."""
    code = error.errno
    if code not in _NOT_A_READABLE_FILE:
        return ExternalError(
            f"Cannot read {path}: {error.strerror or error}.",
            hint="The file is there but the system failed to read it; check the disk, then "
            "try again.",
        )
    fix_sentence = fix[:1].upper() + fix[1:] + "."
    if code == errno.EISDIR or (code != errno.ENOENT and path.is_dir()):
        return InputError(
            f"{path} is a directory, not a file.", hint=f"Move the directory aside, then {fix}."
        )
    if code == errno.ENOENT and path.is_symlink():
        with contextlib.suppress(OSError):
            return InputError(
                f"{path} is a symbolic link to {path.readlink()}, which does not exist.",
                hint=f"Point the link at an existing file, or remove it and {fix}.",
            )
    if code in (errno.ENOENT, errno.ENOTDIR):
        reason = "" if code == errno.ENOENT else f" ({error.strerror})"
        return InputError(f"{path} not found{reason}.", hint=fix_sentence)
    if code == errno.ELOOP:
        return InputError(
            f"Cannot read {path}: {error.strerror} (the link leads back to itself).",
            hint=f"Point the link at an existing file, or remove it and {fix}.",
        )
    if code in (errno.EACCES, errno.EPERM):
        return InputError(
            f"Cannot read {path}: {error.strerror}.",
            hint="Make it readable by this user (check its permissions and its directories').",
        )
    return InputError(f"Cannot read {path}: {error.strerror or error}.", hint=fix_sentence)


# -- writing --------------------------------------------------------------------------------------


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Replace ``path`` with ``data`` atomically; False (and nothing touched) if already equal.

    The bytes go to a temp file in the same directory (so the rename cannot cross file systems),
    are flushed and (``durable``) fsynced, then renamed over ``path``: a reader sees the old file
    or the new one, never half of one, even after a crash. ``durable=False`` is for a file
    whose loss costs nothing but work (the memo): atomic against a killed process, not fsynced.
    The temp file never outlives an error.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ExternalError(f"Cannot read {path}: {error.strerror or error}.") from None
    import secrets

    prefix = f".{path.name}."
    remove_dead_temps(path.parent, prefix, _ATOMIC_SUFFIX)  # a killed writer's, of this file
    temp: Path | None = None
    try:
        while temp is None:
            candidate = path.with_name(f"{prefix}{secrets.token_hex(4)}{_ATOMIC_SUFFIX}")
            try:
                # 0o666 minus the umask, the mode any ordinary new file would get.
                descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            temp = candidate
        with os.fdopen(descriptor, "wb") as handle:
            mark_alive(descriptor)  # before the first byte: see dead_temps
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(descriptor)
            seal(handle)
            temp.replace(path)  # still locked: never an unlocked temp file with bytes in it
        temp = None
    except OSError as error:
        raise ExternalError(
            f"Cannot write {path}: {error.strerror or error}.",
            hint="Check that the directory exists and is writable.",
        ) from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
    if durable:
        _fsync_directory(path.parent)
    return True


_ATOMIC_SUFFIX = ".tmp"
"""``atomic_write_bytes``'s temp files are ``.<name>.<8 hex>.tmp`` beside ``<name>``."""


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable where the OS allows it (not on Windows)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


LEFTOVER_GRACE = 5.0
"""Seconds an *empty*, unlocked temp file is spared: its writer may be alive, between creating
it and locking it. A temp file with a byte in it is never spared once unlocked."""


def mark_alive(fd: int) -> None:
    """Hold an exclusive lock on our own new temp file while we live, taken before its first
    byte is written (see ``remove_dead_temps``). Blocking, not "non-blocking or give up": a
    clean-up in another process may be probing the file this instant, and that probe (a lock
    taken and dropped at once) must not leave us writing unlocked."""
    try:
        import fcntl
    except ImportError:  # Windows: an open file cannot be deleted anyway
        return
    with contextlib.suppress(OSError):  # no flock here (ENOLCK): then the probe cannot lock it
        fcntl.flock(fd, fcntl.LOCK_EX)  # either, and calls it held: it is never removed


def dead_temps(directory: Path, prefix: str, suffix: str) -> list[Path]:
    """The temp files (``prefix…suffix``) in ``directory`` whose writer is dead: the one rule
    for the archive cache, the HTTP cache, a mirror being filled, every ``atomic_write_bytes``
    and ``pylock prune``.

    A writer locks its temp file (``mark_alive``: an exclusive ``flock``, which the kernel drops
    when the process dies, however it dies) before it writes a byte, and keeps the lock until
    the file has been renamed to its final name. So a temp file that is not empty and that we
    can lock has a dead writer, whatever its age. Only an empty one is given ``LEFTOVER_GRACE``
    seconds: its writer may be between creating and locking it. The probe is taken before the
    size is read, so a live writer is either holding its lock or has written nothing. Without
    ``flock`` (Windows) a file another process holds open cannot be deleted, which is the same
    test, made by ``remove_dead_temps``.
    """
    import time

    try:
        with os.scandir(directory) as listing:
            names = [
                entry.name
                for entry in listing
                if entry.name.startswith(prefix) and entry.name.endswith(suffix)
            ]
    except OSError:
        return []
    dead = []
    for name in names:
        path = directory / name
        with contextlib.suppress(OSError):
            status = _unheld_status(path)
            if status is not None and (
                status.st_size > 0 or time.time() - status.st_mtime >= LEFTOVER_GRACE
            ):
                dead.append(path)
    return dead


def remove_dead_temps(directory: Path, prefix: str, suffix: str) -> None:
    """Delete the temp files in ``directory`` whose writer died (``dead_temps``), never a live
    one's."""
    for path in dead_temps(directory, prefix, suffix):
        with contextlib.suppress(OSError):
            path.unlink()


def _unheld_status(path: Path) -> os.stat_result | None:
    """``path``'s status when no live process holds its lock; None when one does (or when we
    cannot tell: a file system without ``flock``)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            import fcntl
        except ImportError:
            return os.fstat(fd)  # unlink() itself fails on a file another process holds open
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        return os.fstat(fd)  # read under the lock: a writer that locks next has written nothing
    finally:
        os.close(fd)  # also releases the lock we may have taken


def seal(stream: BinaryIO) -> None:
    """Flush a finished temp file before it is renamed into place, keeping it open, and so
    locked (``mark_alive``), until after the rename: closed first, it would be an unlocked file
    with bytes in it, which another process's clean-up rightly removes. Where an open file
    cannot be renamed (Windows, which has no such clean-up race), it is closed here."""
    stream.flush()
    if os.name == "nt":
        stream.close()


_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")


def url_scheme(value: str) -> str | None:
    """The scheme of ``value``, lowercased, when it is a URL; None when it is a path. The one
    answer to "is this a URL?" for every place pylock takes a URL or a path (a mirror, a
    source, a locked archive): a URL starts with a scheme of two or more characters and a colon
    (``https:``, ``file:``, ``s3:``); a one-letter one is a Windows drive (``C:\\pbs``).
    Stdlib string methods only: no ``re`` or ``urllib`` to import for the answer."""
    scheme, colon, _ = value.partition(":")
    lowered = scheme.lower()
    if not colon or len(lowered) < 2 or not ("a" <= lowered[0] <= "z"):
        return None
    return lowered if set(lowered) <= _SCHEME_CHARACTERS else None


def file_url_path(url: str) -> Path | None:
    """The local file a ``file:`` URL (on this host) or a bare path names; None for anything
    else (http, https, another scheme, a ``file://`` URL naming another host), which the caller
    fetches or refuses. One spelling rule for every place pylock accepts a local archive."""
    scheme = url_scheme(url)
    if scheme is None:
        return Path(url)
    if scheme != "file":
        return None
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(url)
    return Path(url2pathname(parts.path)) if parts.netloc in ("", "localhost") else None
