"""Safe extraction of a PBS archive into a fresh directory, vetting every member as it streams.

The bytes are someone else's: every member is vetted by our own code with the semantics of PEP
706's ``data`` filter (no absolute paths, no ``..``, no devices or FIFOs, no links leaving the
tree), on every Python we support, whether or not its tarfile has filters. One bad member
refuses the whole archive: a half-vetted interpreter is worse than none.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pylock.base.layout import BUILD_NAME, META_DIR
from pylock.base.settings import MAX_BYTES_ENV, MAX_MEMBERS_ENV
from pylock.errors import ExternalError, VerificationError
from pylock.extract import tarstream
from pylock.extract.record import PYCACHE, SYMLINK_MODE, RecordEntry
from pylock.extract.tarstream import Member

_ABSOLUTE = re.compile(r"/|[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CREATE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"5": "dir", b"2": "symlink", b"1": "hardlink"}
"""Tar type flags pylock extracts (regular files, directories, symlinks, hard links)."""
_FD_METADATA = os.chmod in os.supports_fd and os.utime in os.supports_fd
"""Whether a file's mode and times can be set through its open descriptor (POSIX, not Windows)."""
MAX_PATH = 1024
"""Bytes in an archive path or link target; PBS's longest is under 200, PATH_MAX is 4096."""
MAX_COMPONENT = 255
"""Bytes in one path component: NAME_MAX on Linux and macOS, and Windows' limit."""
SHOWN_NAME = 80
"""Characters of a member name an error message shows."""

SIZE_FACTOR = 32
"""Default byte ceiling: this many times the archive's size. PBS archives inflate 3-6x."""
MIN_MAX_BYTES = 256 * 1024 * 1024
"""...but never below this, so a small archive of a real interpreter is never refused."""
NO_SIZE_MAX_BYTES = 4 * 1024 * 1024 * 1024
"""The ceiling when the archive's size is not known (a catalog source that lists none)."""
DEFAULT_MAX_MEMBERS = 200_000
"""PBS ``install_only`` has ~5,000 members, ``full`` ~12,000."""
MAX_PYTHON_JSON = 16 * 1024 * 1024
"""A PYTHON.json larger than this is not kept (real ones are a few hundred KB)."""


@dataclass(frozen=True)
class Limits:
    """What unverified bytes may cost: the bytes of file data written and the member count.

    Extraction runs on bytes whose sha256 is only known at the end of the stream (and a
    matching sha256 proves only that they are the locked bytes, not that they are benign), so
    a 2 MB archive that inflates to 2 GiB, or to a million empty files, is refused on the way.
    """

    max_bytes: int
    max_members: int
    describe: str

    @classmethod
    def for_archive(
        cls, size: int | None, *, max_bytes: int | None = None, max_members: int | None = None
    ) -> Limits:
        """Defaults from the archive's size; ``max_bytes``/``max_members`` (Settings:
        ``PYLOCK_MAX_INSTALL_BYTES``/``PYLOCK_MAX_INSTALL_MEMBERS``) override them."""
        if max_bytes is not None:
            describe = f"{max_bytes} bytes"
        elif size is None:
            max_bytes, describe = NO_SIZE_MAX_BYTES, f"{NO_SIZE_MAX_BYTES} bytes"
        else:
            max_bytes = max(SIZE_FACTOR * size, MIN_MAX_BYTES)
            describe = f"{SIZE_FACTOR} times the archive's size, at least {MIN_MAX_BYTES} bytes"
        return cls(max_bytes, max_members or DEFAULT_MAX_MEMBERS, describe)


def refused(asset: str, why: str) -> VerificationError:
    return VerificationError(
        f"Refusing to install {asset}: the archive {why}. Nothing was installed.",
        hint="The locked archive is not an installable python-build-standalone build for this "
        "target; check where the lock's URL and sha256 came from, and re-lock "
        "(`pylock lock --upgrade`) from a trusted source.",
    )


def cannot_write(where: Path, error: OSError) -> ExternalError:
    return ExternalError(
        f"Cannot write {where}: {error}.",
        hint="Check that the install location is writable and the disk is not full.",
    )


# -- safe extraction ------------------------------------------------------------------------------


class Extractor:
    """Streams one archive into ``root``, vetting each member, hashing each file as written.

    One pass over the archive: ``tarstream`` inflates on a helper thread while this thread
    vets members and writes, hashes, chmods and dates each file as its bytes arrive.
    """

    def __init__(self, root: Path, asset: str, limits: Limits) -> None:
        self.limits = limits
        self.written = 0  # bytes of file data written so far
        self.members = 0
        self.root = root
        self.base = os.fspath(root)
        self.asset = asset
        self.full = False
        # A full archive's PYTHON.json, kept (not installed) for the licences it states; only
        # trusted once the archive's bytes matched the lock, like everything else extracted.
        self.python_json: bytes | None = None
        self.kinds: dict[str, str] = {}  # install path -> "dir" | "file" | "symlink"
        self.files: dict[str, RecordEntry] = {}  # every extracted regular file
        self.records: dict[str, RecordEntry] = {}  # what RECORD lists (no __pycache__)
        self.symlinks: list[tuple[str, str]] = []  # (install path, member name)

    def extract(self, archive: Path) -> dict[str, RecordEntry]:
        """Extract the archive file; see ``extract_from``."""
        try:
            with archive.open("rb", buffering=0) as raw:
                return self.extract_from(raw.read)
        except OSError as error:
            raise ExternalError(f"Cannot read the archive {archive}: {error}.") from error

    def extract_from(self, read: Callable[[int], bytes]) -> dict[str, RecordEntry]:
        """Extract the compressed archive that ``read(n)`` yields (a file, or a download).

        ``read`` is called on the inflating thread; whatever it raises ends the extraction and
        reaches the caller as it was raised. Returns what RECORD lists.
        """
        try:
            head = b""
            while len(head) < 4 and (piece := read(4 - len(head))):
                head += piece  # a network chunk may be shorter than the magic number
            codec = tarstream.codec_for(head)
            if codec is None:
                raise refused(self.asset, "is neither a .tar.gz nor a .tar.zst archive")
            inflated = tarstream.inflate(read, head, codec)
            with tarstream.in_background(inflated) as blocks:
                reader = tarstream.TarReader(blocks)
                member = reader.next()
                if member is not None:
                    self.full = _parts(member.name) == ["python", "PYTHON.json"]
                while member is not None:
                    self._count(member)
                    self._add(reader, member)
                    member = reader.next()
                # The end-of-archive block is not the end of the compressed stream: reading
                # on to that end checks its end marker and checksum, so an archive cut
                # short (even at a member boundary) is refused, not half used.
                reader.drain()
        except tarstream.ArchiveError as error:
            raise refused(self.asset, f"is corrupt or not a tar archive ({error})") from error
        self._check_symlinks()
        return self.records

    def _count(self, member: Member) -> None:
        """Hold the archive to its limits before a byte of ``member`` is written.

        A member's size is in its header, and the reader yields exactly that many bytes, so a
        file that would cross the byte ceiling is refused before it is created.
        """
        self.members += 1
        if self.members > self.limits.max_members:
            raise refused(
                self.asset,
                f"has more than {self.limits.max_members} members (the limit is set by "
                f"{MAX_MEMBERS_ENV})",
            )
        if member.isreg():
            self.written += member.size
            if self.written > self.limits.max_bytes:
                raise refused(
                    self.asset,
                    f"would write more than {self.limits.max_bytes} bytes (member "
                    f"{_shown(member.name)} alone has {member.size}; the limit, "
                    f"{self.limits.describe}, is set by {MAX_BYTES_ENV})",
                )

    # - vetting

    def _refuse(self, member: Member, why: str) -> VerificationError:
        return refused(self.asset, f"member {_shown(member.name)} {why}")

    def _split(self, member: Member, name: str, what: str) -> list[str]:
        """Vet an archive path (a member's name or a hard link's target) and split it.

        ``what`` starts the reason when ``name`` is not the member's own name.
        """
        problem = _unwritable(name) or _too_long(name)
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
        if relative is None and self.full and parts == ["python", "PYTHON.json"]:
            if kind == "file" and member.size <= MAX_PYTHON_JSON:
                self.python_json = b"".join(bytes(piece) for piece in reader.data())
            return
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
        problem = _unwritable(target) or _too_long(target)
        if problem is not None:  # RECORD holds the target as UTF-8 text, one line per entry
            raise self._refuse(member, f"is a symlink to {_shown(target)}, which {problem}")
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
            raise cannot_write(Path(path), error) from error
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
            raise cannot_write(Path(path), error) from error
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
                raise refused(
                    self.asset, f"member {name!r} is a symlink that resolves outside the tree"
                )


def _write_at(action: Callable[[str], object], path: str) -> None:
    """Run a filesystem write on ``path``; an OSError becomes an ExternalError naming it."""
    try:
        action(path)
    except OSError as error:
        raise cannot_write(Path(path), error) from error


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


def _too_long(name: str) -> str | None:
    """Why a path is too long to create on any system pylock supports, or None.

    Refused as an archive fault (exit 1), not met later as the disk's ENAMETOOLONG (exit 3).
    """
    if len(name) * 4 <= MAX_COMPONENT:
        return None  # no UTF-8 spelling of it can be too long (the common case, kept cheap)
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PATH:
        return f"is longer than {MAX_PATH} bytes"
    if any(len(part) > MAX_COMPONENT for part in encoded.split(b"/")):
        return f"has a component longer than {MAX_COMPONENT} bytes"
    return None


def _shown(name: str) -> str:
    """A name as an error shows it: quoted, and cut when long (a message stays one paragraph)."""
    if len(name) <= SHOWN_NAME:
        return repr(name)
    return f"{name[:SHOWN_NAME]!r}… ({len(name)} characters)"


def _parts(name: str) -> list[str]:
    """The components of a tar path, ignoring empty and ``.`` ones (``./python//bin``)."""
    return [part for part in name.split("/") if part not in ("", ".")]
