"""Install a verified PBS archive: safe extraction, layout and version checks, atomic placement.

The archive's sha256 was checked before we get it, but the bytes are still someone else's: every
member is vetted by our own code with the semantics of PEP 706's ``data`` filter (no absolute
paths, no ``..``, no devices or FIFOs, no links leaving the tree), on every Python we support,
whether or not its tarfile has filters. One bad member refuses the whole archive: a half-vetted
interpreter is worse than none.

The install is built in a temp dir beside the destination (same filesystem, so the final rename
is atomic), checked there (layout, ``patchlevel.h``, and the interpreter's own answer when it can
run here), given its receipt, and only then renamed into place. A ``filelock`` per destination
serialises concurrent syncs; whatever a crash leaves behind (temp dirs, an old install renamed
aside) is recognised by name and cleaned up or restored by the next install under that lock.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import io
import os
import re
import secrets
import shutil
import stat
import subprocess
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from pylock import __version__
from pylock.errors import ExternalError, InputError, VerificationError
from pylock.lockfile import Target
from pylock.platforms import host_platform, parse_platform
from pylock.receipt import (
    BUILD_NAME,
    META_DIR,
    PYCACHE,
    RECEIPT_NAME,
    RECORD_NAME,
    SYMLINK_MODE,
    Receipt,
    RecordEntry,
    format_record,
    read_receipt,
    record_digest,
    write_receipt,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK_SIZE = 1024 * 1024
INTERPRETER_TIMEOUT = 60.0
"""Seconds the interpreter gets to print its version; a cold start on a slow disk is well under."""

VERSION_PROBE = "import sys; print(*tuple(sys.version_info))"
"""Run as ``python -I -S -B -c VERSION_PROBE``; prints e.g. ``3 12 8 final 0`` (fields 0-4)."""

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?")
_LEVELS = {"a": "alpha", "b": "beta", "rc": "candidate", None: "final"}
_LEVEL_SPELLING = {"alpha": "a", "beta": "b", "candidate": "rc"}
_VARIANT_SUFFIX = {"default": "", "freethreaded": "t", "debug": "d", "freethreaded+debug": "td"}
_PY_VERSION = re.compile(r'^[ \t]*#[ \t]*define[ \t]+PY_VERSION[ \t]+"([^"]*)"', re.MULTILINE)
_ABSOLUTE = re.compile(r"/|[A-Za-z]:")
_SKIPPED_IN_FULL = "is not part of the install tree"


@dataclass(frozen=True)
class InstallOutcome:
    """The receipt now at the destination, and whether this call put it there (False: another
    process installed the same target while we waited for the destination lock)."""

    receipt: Receipt
    installed: bool


def install_archive(
    archive: Path,
    target: Target,
    dest: Path,
    *,
    run_interpreter: bool | None = None,
    reinstall: bool = False,
) -> Receipt:
    """Install ``archive`` as exactly ``dest`` and return the receipt; see ``install``."""
    return install(
        archive, target, dest, run_interpreter=run_interpreter, reinstall=reinstall
    ).receipt


def install(
    archive: Path,
    target: Target,
    dest: Path,
    *,
    run_interpreter: bool | None = None,
    reinstall: bool = False,
) -> InstallOutcome:
    """Install ``archive`` (already verified against ``target``) as exactly ``dest``.

    Returns the receipt of the install now at ``dest``: the existing one when ``dest`` already
    holds this target (nothing is touched), else a new one. ``run_interpreter`` None means "run
    it when the target is this host's platform". ``reinstall`` replaces even a matching install
    (``sync --reinstall``, e.g. after ``check --deep`` found it changed).

    Raises VerificationError for an archive that is unsafe, malformed or not the locked version
    (nothing installed, no temp dir left), InputError when ``dest`` exists but is not a pylock
    install, ExternalError for disk trouble.
    """
    dest = Path(dest).absolute()
    parent = dest.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExternalError(
            f"Cannot create {parent} to install {target.asset_name} into: {error}.",
            hint="Choose a writable location (PYLOCK_PYTHON_DIR or --into).",
        ) from error
    with _destination_lock(dest):
        _clean_leftovers(dest)
        existing = read_receipt(dest)
        if existing is not None and existing.target == target and not reinstall:
            return InstallOutcome(existing, installed=False)
        _refuse_foreign(dest)
        temp = _make_temp_dir(dest)
        try:
            receipt = _build(archive, target, temp, run_interpreter)
            _place(temp, dest)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return InstallOutcome(receipt, installed=True)


def is_installed(dest: Path, target: Target) -> bool:
    """Whether ``dest`` holds exactly ``target``; reads only the receipt (the no-op sync path)."""
    receipt = read_receipt(dest)
    return receipt is not None and receipt.target == target


def interpreter_path(dest: Path, receipt: Receipt) -> Path:
    """The installed interpreter (``dest/bin/python3.12``, ``dest/python.exe``)."""
    return dest / receipt.interpreter


# -- placement, locking and leftovers -------------------------------------------------------------


def lock_path(dest: Path) -> Path:
    """The lock file that serialises installs into ``dest``: ``.<name>.lock`` beside it."""
    return dest.parent / f".{dest.name}.lock"


def _destination_lock(dest: Path) -> _Lock:
    return _Lock(lock_path(dest))


class _Lock:
    """A ``filelock.FileLock`` whose failures are ExternalErrors (imported only when installing)."""

    def __init__(self, path: Path) -> None:
        import filelock

        self._path = path
        self._lock = filelock.FileLock(os.fspath(path))

    def __enter__(self) -> None:
        try:
            self._lock.acquire()
        except OSError as error:
            raise ExternalError(
                f"Cannot take the install lock {self._path}: {error}.",
                hint="Check that its directory is writable.",
            ) from error

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


def _temp_pattern(dest: Path, kind: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(dest.name)}\.{kind}-[0-9a-f]{{16}}")


def _make_temp_dir(dest: Path) -> Path:
    """A fresh ``.<name>.tmp-<16 hex>`` beside ``dest`` (mode from the umask, as the install's)."""
    temp = dest.parent / f".{dest.name}.tmp-{secrets.token_hex(8)}"
    try:
        temp.mkdir()
    except OSError as error:
        raise ExternalError(
            f"Cannot create a temp dir in {dest.parent}: {error}.",
            hint="Check that the directory is writable and the disk is not full.",
        ) from error
    return temp


def _clean_leftovers(dest: Path) -> None:
    """Finish what an interrupted install of ``dest`` left (we hold its lock, so none is running).

    Temp dirs are half-built installs: deleted. An ``.old-`` dir is a previous install renamed
    aside; if the new one never arrived it is put back (the previous state), else deleted.
    """
    temp_re, old_re = _temp_pattern(dest, "tmp"), _temp_pattern(dest, "old")
    olds = []
    try:
        with os.scandir(dest.parent) as listing:
            names = [entry.name for entry in listing]
    except OSError as error:
        raise ExternalError(f"Cannot list {dest.parent}: {error}.") from error
    for name in names:
        if temp_re.fullmatch(name):
            shutil.rmtree(dest.parent / name, ignore_errors=True)
        elif old_re.fullmatch(name):
            olds.append(dest.parent / name)
    for old in olds:
        if not os.path.lexists(dest) and read_receipt(old) is not None:
            try:
                old.rename(dest)
                continue
            except OSError:
                pass
        shutil.rmtree(old, ignore_errors=True)


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
    if not (dest / META_DIR / RECEIPT_NAME).is_file():
        raise InputError(
            f"Cannot install into {dest}: it exists and is not a pylock install (it has no "
            f"{META_DIR}/{RECEIPT_NAME}), and pylock never deletes or changes a directory it "
            "did not create.",
            hint="Remove it yourself if it is safe to, or install into a directory that does not "
            "exist yet (--into).",
        )


def _place(temp: Path, dest: Path) -> None:
    """Rename ``temp`` to ``dest``; an existing pylock install is renamed aside, then deleted."""
    try:
        if not os.path.lexists(dest):
            temp.rename(dest)
            return
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
    shutil.rmtree(old, ignore_errors=True)  # a leftover is removed by the next install


# -- building the install in the temp dir ---------------------------------------------------------


def _build(archive: Path, target: Target, root: Path, run_interpreter: bool | None) -> Receipt:
    windows = parse_platform(target.platform, where="the lock target").os == "windows"
    version = _parse_version(target)
    records = _Extractor(archive, root, target.asset_name).extract()
    interpreter = _check_layout(root, target, version, windows=windows)
    if run_interpreter is None:
        run_interpreter = host_platform().key == target.platform
    if run_interpreter:
        _check_reported_version(root, interpreter, target, version)
    if not windows and interpreter.startswith("bin/") and not os.path.lexists(root / "bin/python"):
        link = Path(interpreter).name
        _write(lambda: (root / "bin/python").symlink_to(link), root / "bin/python")
        records["bin/python"] = RecordEntry("bin/python", SYMLINK_MODE, "->" + link)
    record_text = format_record(list(records.values()))
    receipt = Receipt(
        target=target,
        pylock_version=__version__,
        installed_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        tree_digest=record_digest(record_text),
        interpreter=interpreter,
    )

    def write_meta() -> None:
        (root / BUILD_NAME).write_text(target.build + "\n", encoding="utf-8")
        (root / META_DIR).mkdir()
        (root / META_DIR / RECORD_NAME).write_bytes(record_text.encode("utf-8"))

    _write(write_meta, root / META_DIR)
    write_receipt(root, receipt)
    return receipt


def _write(action: Callable[[], object], where: Path) -> None:
    """Run a filesystem write; an OSError becomes an ExternalError naming ``where``."""
    try:
        action()
    except OSError as error:
        raise _cannot_write(where, error) from error


def _cannot_write(where: Path, error: OSError) -> ExternalError:
    return ExternalError(
        f"Cannot write {where}: {error}.",
        hint="Check that the install location is writable and the disk is not full.",
    )


def _parse_version(target: Target) -> tuple[int, int, int, str, int]:
    """``3.15.0rc1`` -> ``(3, 15, 0, "candidate", 1)``, the shape of ``sys.version_info``."""
    match = _VERSION.fullmatch(target.version)
    if match is None:
        raise InputError(
            f"The lock target for {target.platform} has version {target.version!r}, which is not "
            "a CPython version (X.Y.Z, optionally followed by aN, bN or rcN).",
            hint="Regenerate the lock with `pylock lock`.",
        )
    major, minor, micro, level, serial = match.groups()
    return int(major), int(minor), int(micro), _LEVELS[level], int(serial or 0)


def _check_layout(
    root: Path, target: Target, version: tuple[int, int, int, str, int], *, windows: bool
) -> str:
    """Where FORMAT.md §3.2 puts the interpreter and ``patchlevel.h``; the interpreter's path."""
    suffix = _VARIANT_SUFFIX.get(target.variant)
    if suffix is None:
        raise InputError(
            f"The lock target for {target.platform} has variant {target.variant!r}; expected "
            f"one of {', '.join(_VARIANT_SUFFIX)}.",
            hint="Regenerate the lock with `pylock lock`.",
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
        raise _refused(
            target.asset_name,
            f"has no interpreter at {' or '.join(candidates)} (after stripping python/)",
        )
    if not windows and not (root / interpreter).stat().st_mode & stat.S_IXUSR:
        raise _refused(target.asset_name, f"has an interpreter {interpreter} that cannot execute")
    try:
        text = (root / header).read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise _refused(target.asset_name, f"has no {header}") from None
    match = _PY_VERSION.search(text)
    if match is None:
        raise _refused(target.asset_name, f"has a {header} without #define PY_VERSION")
    if match.group(1) != target.version:
        raise _refused(
            target.asset_name,
            f"is Python {match.group(1)} according to {header}, but the lock says {target.version}",
        )
    return interpreter


def _check_reported_version(
    root: Path, interpreter: str, target: Target, version: tuple[int, int, int, str, int]
) -> None:
    """Run the new interpreter once, isolated, and hold it to the locked version."""
    command = [os.fspath(root / interpreter), "-I", "-S", "-B", "-c", VERSION_PROBE]
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
        raise _refused(
            target.asset_name,
            f"has an interpreter {interpreter} that did not answer within "
            f"{INTERPRETER_TIMEOUT:.0f} seconds",
        ) from None
    except OSError as error:
        raise _refused(
            target.asset_name, f"has an interpreter {interpreter} that cannot run here ({error})"
        ) from error
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()[-500:]
        raise _refused(
            target.asset_name,
            f"has an interpreter {interpreter} that failed (exit {result.returncode}: {detail})",
        )
    reported = result.stdout.decode("utf-8", "replace").split()
    if reported != [str(field) for field in version]:
        raise _refused(
            target.asset_name,
            f"has an interpreter that reports Python {_spell(reported)}, but the lock says "
            f"{target.version}",
        )


def _spell(fields: list[str]) -> str:
    """``["3", "15", "0", "candidate", "1"]`` -> ``3.15.0rc1``; anything odd is shown as is."""
    if len(fields) != 5:
        return repr(" ".join(fields))
    major, minor, micro, level, serial = fields
    if level == "final":
        return f"{major}.{minor}.{micro}"
    return f"{major}.{minor}.{micro}{_LEVEL_SPELLING.get(level, level)}{serial}"


def _refused(asset: str, why: str) -> VerificationError:
    return VerificationError(
        f"Refusing to install {asset}: the archive {why}. Nothing was installed.",
        hint="The locked archive is not an installable python-build-standalone build for this "
        "target; check where the lock's URL and sha256 came from, and re-lock "
        "(`pylock lock --upgrade`) from a trusted source.",
    )


# -- safe extraction ------------------------------------------------------------------------------


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``stream``: lets us sniff the magic of a pipe without seeking."""

    def __init__(self, head: bytes, stream: io.BufferedIOBase) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        return self._stream.readinto(view)


def _zstd() -> ModuleType:
    """The stdlib zstd module (3.14+), else pyzstd: both offer ``ZstdFile`` and ``ZstdError``."""
    try:
        return importlib.import_module("compression.zstd")
    except ImportError:
        return importlib.import_module("pyzstd")


class _Extractor:
    """Streams one archive into ``root``, vetting each member, hashing each file as written."""

    def __init__(self, archive: Path, root: Path, asset: str) -> None:
        self.archive = archive
        self.root = root
        self.asset = asset
        self.full = False
        self.kinds: dict[str, str] = {}  # install path -> "dir" | "file" | "symlink"
        self.files: dict[str, RecordEntry] = {}  # every extracted regular file
        self.records: dict[str, RecordEntry] = {}  # what RECORD lists (no __pycache__)
        self.symlinks: list[tuple[str, str]] = []  # (install path, member name)

    def extract(self) -> dict[str, RecordEntry]:
        # Errors that mean "these bytes are not a good archive". The except clause reads this
        # tuple when an error arrives, so the zstd branch can add its error type (and pyzstd is
        # imported only for .tar.zst archives).
        corrupt: tuple[type[Exception], ...] = (
            tarfile.TarError,
            EOFError,
            zlib.error,
            gzip.BadGzipFile,
        )
        try:
            with contextlib.ExitStack() as stack:
                raw = stack.enter_context(self.archive.open("rb"))
                head = raw.read(4)
                stream: io.BufferedIOBase = io.BufferedReader(_Prefixed(head, raw), CHUNK_SIZE)
                if head.startswith(_GZIP_MAGIC):
                    stream = stack.enter_context(gzip.GzipFile(fileobj=stream, mode="rb"))
                elif head == _ZSTD_MAGIC:
                    zstd = _zstd()
                    corrupt += (zstd.ZstdError,)
                    stream = stack.enter_context(zstd.ZstdFile(stream))
                else:
                    raise _refused(self.asset, "is neither a .tar.gz nor a .tar.zst archive")
                tar = stack.enter_context(tarfile.open(fileobj=stream, mode="r|"))
                for index, member in enumerate(_members(tar)):
                    if index == 0:
                        self.full = _parts(member.name) == ["python", "PYTHON.json"]
                    self._add(tar, member)
                # tarfile stops at the end-of-archive blocks, and a stream cut at a member
                # boundary looks the same to it. Reading the compressed stream to its end checks
                # its end marker and checksum, so a truncated archive is refused, not half used.
                while stream.read(CHUNK_SIZE):
                    pass
        except corrupt as error:
            raise _refused(self.asset, f"is corrupt or not a tar archive ({error})") from error
        except OSError as error:
            raise ExternalError(f"Cannot read the archive {self.archive}: {error}.") from error
        self._check_symlinks()
        return self.records

    # - vetting

    def _refuse(self, member: tarfile.TarInfo, why: str) -> VerificationError:
        return _refused(self.asset, f"member {member.name!r} {why}")

    def _split(self, member: tarfile.TarInfo, name: str, what: str) -> list[str]:
        """Vet an archive path (a member's name or a hard link's target) and split it.

        ``what`` starts the reason when ``name`` is not the member's own name.
        """
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
            raise self._refuse(member, f"{what}contains a control character")
        if "\\" in name:
            raise self._refuse(member, f"{what}contains a backslash")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise self._refuse(member, f"{what}is not valid UTF-8") from None
        if _ABSOLUTE.match(name):
            raise self._refuse(member, f"{what}is an absolute path")
        parts = _parts(name)
        if ".." in parts:
            raise self._refuse(member, f"{what}contains '..'")
        if not parts or parts[0] != "python":
            raise self._refuse(member, f"{what}is outside python/")
        return parts

    def _install_parts(self, parts: list[str]) -> list[str] | None:
        """Where an archive path lands in the install, or None when it is not installed."""
        if not self.full:
            return parts[1:] or None
        if len(parts) >= 2 and parts[1] == "install":
            return parts[2:] or None
        return None  # python/PYTHON.json, python/build/, python/licenses/

    def _add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = self._split(member, member.name, "")
        if member.ischr() or member.isblk():
            raise self._refuse(member, "is a device node")
        if member.isfifo():
            raise self._refuse(member, "is a FIFO")
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
            raise self._refuse(member, f"has an unsupported tar type {member.type!r}")
        relative = self._install_parts(parts)
        link_source: str | None = None
        if member.issym():
            self._vet_symlink(member, relative if relative is not None else parts[1:])
        elif member.islnk():
            source = self._split(
                member, member.linkname, f"is a hard link to {member.linkname!r}, which "
            )
            source_parts = self._install_parts(source)
            if relative is not None:
                link_source = "/".join(source_parts) if source_parts else ""
                if self.kinds.get(link_source) != "file":
                    raise self._refuse(
                        member,
                        f"is a hard link to {member.linkname!r}, which is not a file "
                        "extracted before it",
                    )
        if relative is None:
            return
        if relative[0] in (META_DIR, BUILD_NAME):
            raise self._refuse(member, "would overwrite pylock's own metadata")
        key = "/".join(relative)
        self._make_parents(member, relative)
        if key in self.kinds:
            if member.isdir() and self.kinds[key] == "dir":
                return
            raise self._refuse(member, "appears twice in the archive")
        path = self.root / key
        if member.isdir():
            _write(path.mkdir, path)
            self.kinds[key] = "dir"
        elif member.issym():
            _write(lambda: path.symlink_to(member.linkname), path)
            self.kinds[key] = "symlink"
            self.symlinks.append((key, member.name))
            self._record(RecordEntry(key, SYMLINK_MODE, "->" + member.linkname))
        elif link_source is not None:
            self._hard_link(link_source, key)
        else:
            self._extract_file(tar, member, key)

    def _vet_symlink(self, member: tarfile.TarInfo, location: list[str]) -> None:
        """A relative target that stays inside the tree, judged from the link's own directory."""
        target = member.linkname
        if not target:
            raise self._refuse(member, "is a symlink with an empty target")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
            raise self._refuse(member, f"is a symlink to {target!r}, a name pylock will not write")
        if _ABSOLUTE.match(target):
            raise self._refuse(member, f"is a symlink to the absolute path {target!r}")
        resolved = location[:-1]
        for part in _parts(target):
            if part != "..":
                resolved.append(part)
            elif resolved:
                resolved.pop()
            else:
                raise self._refuse(member, f"is a symlink to {target!r}, outside the tree")

    def _make_parents(self, member: tarfile.TarInfo, relative: list[str]) -> None:
        """Create missing parent dirs; never write through a symlink or into a file."""
        for depth in range(1, len(relative)):
            prefix = "/".join(relative[:depth])
            kind = self.kinds.get(prefix)
            if kind == "dir":
                continue
            if kind is not None:
                raise self._refuse(member, f"would be written through the {kind} {prefix!r}")
            _write((self.root / prefix).mkdir, self.root / prefix)
            self.kinds[prefix] = "dir"

    # - writing

    def _record(self, entry: RecordEntry) -> None:
        if PYCACHE not in entry.path.split("/"):
            self.records[entry.path] = entry

    def _extract_file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, key: str) -> None:
        """Copy one member to disk, hashing the bytes on their way; PEP 706 ``data`` modes."""
        import hashlib

        path = self.root / key
        mode = (member.mode & 0o755) | 0o600
        if not mode & stat.S_IXUSR:
            mode &= ~0o111
        source = tar.extractfile(member)
        assert source is not None  # a regular member always has a data stream
        digest = hashlib.sha256()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            out = os.fdopen(os.open(path, flags, 0o600), "wb")
        except OSError as error:
            raise _cannot_write(path, error) from error
        with out:
            # Reading errors are the archive's (the caller reports them as corrupt); writing
            # errors are the disk's.
            while chunk := source.read(CHUNK_SIZE):
                digest.update(chunk)
                try:
                    out.write(chunk)
                except OSError as error:
                    raise _cannot_write(path, error) from error
            _write(out.flush, path)
        _write(lambda: path.chmod(mode), path)
        _write(lambda: os.utime(path, (member.mtime, member.mtime)), path)
        if os.name == "nt":  # Windows reports its own mode bits; record what a rescan will see
            mode = stat.S_IMODE(path.stat().st_mode)
        self.kinds[key] = "file"
        entry = RecordEntry(key, mode, digest.hexdigest())
        self.files[key] = entry
        self._record(entry)

    def _hard_link(self, source: str, key: str) -> None:
        """A second name for an extracted file: a real hard link, or a copy where links fail."""
        original = self.files[source]
        path = self.root / key
        try:
            os.link(self.root / source, path)
        except OSError:
            _write(lambda: shutil.copy2(self.root / source, path), path)
        self.kinds[key] = "file"
        entry = RecordEntry(key, original.mode, original.digest)
        self.files[key] = entry
        self._record(entry)

    def _check_symlinks(self) -> None:
        """After extraction: no symlink resolves outside the tree, even through other links."""
        root = os.path.realpath(self.root)
        for key, name in self.symlinks:
            resolved = os.path.realpath(self.root / key)
            if os.path.commonpath([root, resolved]) != root:
                raise _refused(
                    self.asset, f"member {name!r} is a symlink that resolves outside the tree"
                )


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members of a stream-mode archive, one at a time (never a list of them all)."""
    while (member := tar.next()) is not None:
        yield member


def _parts(name: str) -> list[str]:
    """The components of a tar path, ignoring empty and ``.`` ones (``./python//bin``)."""
    return [part for part in name.split("/") if part not in ("", ".")]
