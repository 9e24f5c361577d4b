"""Install a verified PBS archive: safe extraction, then the checks and the receipt.

The archive's sha256 was checked before we get it, but the bytes are still someone else's: every
member is vetted by our own code with the semantics of PEP 706's ``data`` filter (no absolute
paths, no ``..``, no devices or FIFOs, no links leaving the tree), on every Python we support,
whether or not its tarfile has filters. One bad member refuses the whole archive: a half-vetted
interpreter is worse than none.

The install is built in a temp dir the store hands out beside the destination (same filesystem,
so the final rename is atomic), checked there by interpreter.py (layout, ``patchlevel.h``, and
the interpreter's own answer when it can run here), given its receipt, and only then placed by
the store, which also owns the destination lock and the leftovers of killed processes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pylock import __version__, store, tarstream
from pylock.errors import ExternalError, VerificationError
from pylock.interpreter import check_layout, check_reported_version, parse_version
from pylock.interpreter import refused as _refused
from pylock.lockfile import Target
from pylock.platforms import host_platform, parse_platform
from pylock.receipt import (
    BUILD_NAME,
    META_DIR,
    PYCACHE,
    RECORD_NAME,
    SYMLINK_MODE,
    Receipt,
    RecordEntry,
    format_record,
    record_digest,
    write_receipt,
)
from pylock.tarstream import Member

_ABSOLUTE = re.compile(r"/|[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CREATE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"5": "dir", b"2": "symlink", b"1": "hardlink"}
"""Tar type flags pylock extracts (regular files, directories, symlinks, hard links)."""
_FD_METADATA = os.chmod in os.supports_fd and os.utime in os.supports_fd
"""Whether a file's mode and times can be set through its open descriptor (POSIX, not Windows)."""
_SKIPPED_IN_FULL = "is not part of the install tree"


@dataclass(frozen=True)
class InstallOutcome:
    """The receipt now at the destination, and whether this call put it there (False: another
    process installed the same target while we waited for the destination lock)."""

    receipt: Receipt
    installed: bool


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
    holds this build (``store.same_build``; nothing is touched), else a new one.
    ``run_interpreter`` None means "run it when the target is this host's platform".
    ``reinstall`` replaces even a matching install (``sync --reinstall``, e.g. after
    ``check --deep`` found it changed).

    Raises VerificationError for an archive that is unsafe, malformed or not the locked version
    (nothing installed, no temp dir left), InputError when ``dest`` exists but is not a pylock
    install, ExternalError for disk trouble.
    """
    with store.hold(dest) as slot:
        existing = slot.current()
        if existing is not None and store.same_build(existing.target, target) and not reinstall:
            return InstallOutcome(existing, installed=False)
        with slot.temp_dir() as temp:
            receipt = _build(archive, target, temp, run_interpreter)
            slot.place(temp)
        return InstallOutcome(receipt, installed=True)


# -- building the install in the temp dir ---------------------------------------------------------


def _build(archive: Path, target: Target, root: Path, run_interpreter: bool | None) -> Receipt:
    windows = parse_platform(target.platform, where="the lock target").os == "windows"
    version = parse_version(target)
    records = _Extractor(archive, root, target.asset_name).extract()
    interpreter = check_layout(root, target, version, windows=windows)
    if run_interpreter is None:
        run_interpreter = host_platform().key == target.platform
    if run_interpreter:
        check_reported_version(root, interpreter, target, version)
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


# -- safe extraction ------------------------------------------------------------------------------


class _Extractor:
    """Streams one archive into ``root``, vetting each member, hashing each file as written.

    One pass over the archive: ``tarstream`` inflates on a helper thread while this thread
    vets members and writes, hashes, chmods and dates each file as its bytes arrive.
    """

    def __init__(self, archive: Path, root: Path, asset: str) -> None:
        self.archive = archive
        self.root = root
        self.base = os.fspath(root)
        self.asset = asset
        self.full = False
        self.kinds: dict[str, str] = {}  # install path -> "dir" | "file" | "symlink"
        self.files: dict[str, RecordEntry] = {}  # every extracted regular file
        self.records: dict[str, RecordEntry] = {}  # what RECORD lists (no __pycache__)
        self.symlinks: list[tuple[str, str]] = []  # (install path, member name)

    def extract(self) -> dict[str, RecordEntry]:
        try:
            with self.archive.open("rb", buffering=0) as raw:
                head = raw.read(4)
                codec = tarstream.codec_for(head)
                if codec is None:
                    raise _refused(self.asset, "is neither a .tar.gz nor a .tar.zst archive")
                inflated = tarstream.inflate(raw.read, head, codec)
                with tarstream.in_background(inflated) as blocks:
                    reader = tarstream.TarReader(blocks)
                    member = reader.next()
                    if member is not None:
                        self.full = _parts(member.name) == ["python", "PYTHON.json"]
                    while member is not None:
                        self._add(reader, member)
                        member = reader.next()
                    # The end-of-archive block is not the end of the compressed stream: reading
                    # on to that end checks its end marker and checksum, so an archive cut
                    # short (even at a member boundary) is refused, not half used.
                    reader.drain()
        except tarstream.ArchiveError as error:
            raise _refused(self.asset, f"is corrupt or not a tar archive ({error})") from error
        except OSError as error:
            raise ExternalError(f"Cannot read the archive {self.archive}: {error}.") from error
        self._check_symlinks()
        return self.records

    # - vetting

    def _refuse(self, member: Member, why: str) -> VerificationError:
        return _refused(self.asset, f"member {member.name!r} {why}")

    def _split(self, member: Member, name: str, what: str) -> list[str]:
        """Vet an archive path (a member's name or a hard link's target) and split it.

        ``what`` starts the reason when ``name`` is not the member's own name.
        """
        problem = _unwritable(name)
        if problem is not None:
            raise self._refuse(member, f"{what}{problem}")
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

    def _add(self, reader: tarstream.TarReader, member: Member) -> None:
        parts = self._split(member, member.name, "")
        kind = _KINDS.get(member.type)
        if kind is None:
            if member.ischr() or member.isblk():
                raise self._refuse(member, "is a device node")
            if member.isfifo():
                raise self._refuse(member, "is a FIFO")
            raise self._refuse(member, f"has an unsupported tar type {member.type!r}")
        relative = self._install_parts(parts)
        link_source: str | None = None
        if kind == "symlink":
            self._vet_symlink(member, relative if relative is not None else parts[1:])
        elif kind == "hardlink":
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
        self._make_parents(member, relative, key)
        if key in self.kinds:
            if kind == "dir" and self.kinds[key] == "dir":
                return
            raise self._refuse(member, "appears twice in the archive")
        path = self._path(key)
        if kind == "file":
            self._extract_file(reader, member, key, path)
        elif kind == "dir":
            _write_at(os.mkdir, path)
            self.kinds[key] = "dir"
        elif kind == "symlink":
            _write_at(lambda p: Path(p).symlink_to(member.linkname), path)
            self.kinds[key] = "symlink"
            self.symlinks.append((key, member.name))
            self._record(RecordEntry(key, SYMLINK_MODE, "->" + member.linkname))
        else:
            assert link_source is not None
            self._hard_link(link_source, key)

    def _vet_symlink(self, member: Member, location: list[str]) -> None:
        """A relative target that stays inside the tree, judged from the link's own directory."""
        target = member.linkname
        if not target:
            raise self._refuse(member, "is a symlink with an empty target")
        problem = _unwritable(target)
        if problem is not None:  # RECORD holds the target as UTF-8 text, one line per entry
            raise self._refuse(member, f"is a symlink to {target!r}, which {problem}")
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

    def _make_parents(self, member: Member, relative: list[str], key: str) -> None:
        """Create missing parent dirs; never write through a symlink or into a file."""
        parent = key.rpartition("/")[0]
        if not parent or self.kinds.get(parent) == "dir":
            return  # a known dir's own parents were all vetted when it was made
        for depth in range(1, len(relative)):
            prefix = "/".join(relative[:depth])
            kind = self.kinds.get(prefix)
            if kind == "dir":
                continue
            if kind is not None:
                raise self._refuse(member, f"would be written through the {kind} {prefix!r}")
            _write_at(os.mkdir, self._path(prefix))
            self.kinds[prefix] = "dir"

    # - writing

    def _path(self, key: str) -> str:
        return f"{self.base}/{key}"

    def _record(self, entry: RecordEntry) -> None:
        if PYCACHE not in entry.path or PYCACHE not in entry.path.split("/"):
            self.records[entry.path] = entry

    def _extract_file(
        self, reader: tarstream.TarReader, member: Member, key: str, path: str
    ) -> None:
        """Write one member to disk, hashing its bytes on the way; PEP 706 ``data`` modes.

        The file is written, chmodded and dated through one descriptor: no second pass, and no
        path lookups beyond the open.
        """
        mode = (member.mode & 0o755) | 0o600
        if not mode & stat.S_IXUSR:
            mode &= ~0o111
        digest = hashlib.sha256()
        try:
            fd = os.open(path, _CREATE, 0o600)
        except OSError as error:
            raise _cannot_write(Path(path), error) from error
        try:
            # Reading errors are the archive's (the caller reports them as corrupt); writing
            # errors are the disk's.
            for piece in reader.data():
                digest.update(piece)
                written = os.write(fd, piece)
                while written < len(piece):  # a short write: rare, but allowed
                    piece = piece[written:]
                    written = os.write(fd, piece)
            if _FD_METADATA:
                os.fchmod(fd, mode)
                self._set_mtime(member, fd)
        except OSError as error:
            raise _cannot_write(Path(path), error) from error
        finally:
            os.close(fd)
        if not _FD_METADATA:
            _write_at(lambda p: Path(p).chmod(mode), path)
            _write_at(lambda p: self._set_mtime(member, p), path)
            if os.name == "nt":  # Windows reports its own mode bits; record what a rescan sees
                mode = stat.S_IMODE(Path(path).stat().st_mode)
        self.kinds[key] = "file"
        entry = RecordEntry(key, mode, digest.hexdigest())
        self.files[key] = entry
        self._record(entry)

    def _set_mtime(self, member: Member, file: int | str) -> None:
        """Keep the member's mtime (bytecode caches are validated against source mtimes)."""
        try:
            os.utime(file, (member.mtime, member.mtime))
        except (OverflowError, ValueError):  # NaN, or beyond what time_t holds
            raise self._refuse(
                member, f"has a modification time ({member.mtime}) out of range"
            ) from None

    def _hard_link(self, source: str, key: str) -> None:
        """A second name for an extracted file: a real hard link, or a copy where links fail."""
        original = self.files[source]
        path = self._path(key)
        try:
            os.link(self._path(source), path)
        except OSError:
            _write_at(lambda p: shutil.copy2(self._path(source), p), path)
        self.kinds[key] = "file"
        entry = RecordEntry(key, original.mode, original.digest)
        self.files[key] = entry
        self._record(entry)

    def _check_symlinks(self) -> None:
        """After extraction: no symlink resolves outside the tree, even through other links."""
        root = os.path.realpath(self.root)
        for key, name in self.symlinks:
            resolved = os.path.realpath(self._path(key))
            if os.path.commonpath([root, resolved]) != root:
                raise _refused(
                    self.asset, f"member {name!r} is a symlink that resolves outside the tree"
                )


def _write_at(action: Callable[[str], object], path: str) -> None:
    """Run a filesystem write on ``path``; an OSError becomes an ExternalError naming it."""
    try:
        action(path)
    except OSError as error:
        raise _cannot_write(Path(path), error) from error


def _unwritable(name: str) -> str | None:
    """Why an archive path or link target cannot be written (and recorded in RECORD), or None.

    Control characters would break RECORD's lines and fool a terminal; a backslash means
    something else on Windows; bytes that are not UTF-8 (kept as surrogates) cannot be recorded.
    """
    if _CONTROL.search(name):
        return "contains a control character"
    if "\\" in name:
        return "contains a backslash"
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid UTF-8"
    return None


def _parts(name: str) -> list[str]:
    """The components of a tar path, ignoring empty and ``.`` ones (``./python//bin``)."""
    return [part for part in name.split("/") if part not in ("", ".")]
