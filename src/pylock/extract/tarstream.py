"""Read a compressed tar archive in one forward pass, fast: the engine under extractor.py.

Why not ``tarfile``: in stream mode it reads through ``GzipFile`` in 10 KiB records, a dozen
Python calls per record, and spends as long on that bookkeeping as zlib spends inflating. Here
the archive is read in 1 MiB blocks and inflated on a helper thread (zlib, ISA-L and zstd all
release the GIL while they work), so inflating overlaps with writing and hashing files on the
caller's thread; members' data come out as ``memoryview`` slices of the inflated blocks, never
copied on the way.

The header parser keeps ``tarfile``'s reading of the formats (ustar, GNU ``L``/``K`` long names,
pax ``x``/``g`` headers, base-256 numbers, the V7 directory convention), so a member here has
the name, type, mode, size, mtime and link target that ``tarfile`` would give it (but for the
trailing slashes a GNU long name keeps there and loses here, as a pax path does). It is
stricter where ``tarfile`` is lenient about damage: a bad checksum or a header cut short after
the first member ends ``tarfile``'s iteration quietly but is an error here, extended headers
are capped in size, and sparse files are reported as type ``S`` (not regular files) so the
installer refuses them. Only what an installer needs is parsed; no policy lives here: vetting
names and types is the caller's job.

Inflation: gzip with ISA-L (``isal.igzip_lib``) when it is installed, about twice as fast as
zlib, else the stdlib's zlib; zstd with ``compression.zstd`` (3.14+) or ``pyzstd``. Every
compressed stream must end with its end marker and checksum, and any bytes after it must be
another whole stream (gzip may also be followed by zero padding), exactly what ``GzipFile``
accepts: a truncated archive is always an error.
"""

from __future__ import annotations

import contextlib
import importlib
import queue
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

BLOCK = 512
READ_SIZE = 1024 * 1024
"""Compressed bytes read per call."""
INFLATED_SIZE = 1024 * 1024
"""The most inflated bytes handed over at once (bounds memory even for a pathological ratio)."""
QUEUE_DEPTH = 4
"""Inflated blocks that may wait for the tar reader: enough to ride out a slow file write."""
MAX_EXTENDED = 1024 * 1024
"""Largest GNU long name or pax header accepted; real ones are a few hundred bytes."""

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_ZEROS = bytes(BLOCK)
_HEADER = struct.Struct("100s8s16x12s12s8sc100s8x64x16x155s12x")
"""name, mode, size, mtime, checksum, type, link name, prefix (uid/gid, magic, owner names and
device numbers are skipped: nothing here uses them)."""
_REGULAR = (b"0", b"\0", b"7")  # REGTYPE, AREGTYPE, CONTTYPE
_KNOWN = (*_REGULAR, b"1", b"2", b"3", b"4", b"5", b"6")  # links, devices, dir, FIFO
_GNU = (b"L", b"K", b"S")  # headers whose prefix field holds GNU data, not a path prefix
_PAX = (b"x", b"X", b"g")
_SPARSE = b"S"


class ArchiveError(Exception):
    """The bytes are not a well-formed compressed tar archive (corrupt, truncated, not a tar)."""


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member as ``tarfile`` would read it (only the fields an installer needs).

    ``type`` is the one-byte tar type flag (``b"0"`` file, ``b"5"`` directory, ...); sparse files
    are ``b"S"`` whichever way they were encoded.
    """

    name: str
    type: bytes
    mode: int
    size: int
    mtime: float
    linkname: str

    def isreg(self) -> bool:
        return self.type in _REGULAR

    def isdir(self) -> bool:
        return self.type == b"5"

    def issym(self) -> bool:
        return self.type == b"2"

    def islnk(self) -> bool:
        return self.type == b"1"

    def ischr(self) -> bool:
        return self.type == b"3"

    def isblk(self) -> bool:
        return self.type == b"4"

    def isfifo(self) -> bool:
        return self.type == b"6"


# -- inflating ------------------------------------------------------------------------------------


class Decompressor(Protocol):
    """The bz2/lzma-style interface ISA-L's and zstd's decompressors share (and zlib's is given)."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


@dataclass(frozen=True)
class Codec:
    """How to inflate one compression format: a decompressor per stream, and its error types."""

    name: str
    new: Callable[[], Decompressor]
    errors: tuple[type[Exception], ...]
    zero_padding: bool  # gzip readers skip zero bytes between and after members


class _ZlibGzip:
    """The stdlib zlib behind the interface of ``Decompressor``, where ISA-L is not installed."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(31)  # 31: a gzip header and trailer, checked
        self._tail = b""  # input zlib has not consumed yet (it stopped at max_length)
        self._pending = False  # the last call filled max_length: more output may be waiting

    @property
    def eof(self) -> bool:
        return self._inflate.eof

    @property
    def needs_input(self) -> bool:
        return not (self._tail or self._pending) and not self._inflate.eof

    @property
    def unused_data(self) -> bytes:
        return self._inflate.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._inflate.decompress(self._tail + data, max(max_length, 0))
        self._tail = self._inflate.unconsumed_tail
        self._pending = max_length > 0 and len(out) == max_length and not self._inflate.eof
        return out


def gzip_codec(*, fast: bool = True) -> Codec:
    """ISA-L's inflater when the ``isal`` package is installed (and ``fast``), else zlib's."""
    if fast:
        try:
            from isal import igzip_lib
        except ImportError:
            pass
        else:

            def new() -> Decompressor:
                return igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)

            error: type[Exception] = igzip_lib.error  # type: ignore[assignment]  # stub: Exception
            return Codec("gzip", new, (error,), zero_padding=True)
    return Codec("gzip", _ZlibGzip, (zlib.error,), zero_padding=True)


def zstd_codec() -> Codec:
    """The stdlib zstd module (3.14+), else pyzstd: both have ``ZstdDecompressor``."""
    try:
        zstd = importlib.import_module("compression.zstd")
    except ImportError:
        zstd = importlib.import_module("pyzstd")
    return Codec("zstd", zstd.ZstdDecompressor, (zstd.ZstdError,), zero_padding=False)


def inflate(read: Callable[[int], bytes], first: bytes, codec: Codec) -> Iterator[bytes]:
    """The inflated bytes of the compressed streams ``first`` + ``read()`` holds, in blocks.

    Concatenated streams are read one after another; a stream that ends early, bytes after the
    last stream that are not another stream, or a checksum mismatch raise ArchiveError.
    """
    decompressor = codec.new()
    data = first
    started = bool(first)  # whether the current stream has been given any input
    try:
        while True:
            if decompressor.eof:
                data = decompressor.unused_data + data
                if codec.zero_padding:
                    data = data.lstrip(b"\0")
                while not data:
                    data = read(READ_SIZE)
                    if not data:
                        return
                    if codec.zero_padding:
                        data = data.lstrip(b"\0")
                decompressor = codec.new()
            elif decompressor.needs_input and not data:
                data = read(READ_SIZE)
                if not data:
                    if started:
                        raise ArchiveError(
                            f"the {codec.name} stream ended before its end-of-stream marker: "
                            "the archive is truncated"
                        )
                    return
            started = started or bool(data)
            out = decompressor.decompress(data, INFLATED_SIZE)
            data = b""
            if out:
                yield out
    except codec.errors as error:
        raise ArchiveError(f"{codec.name}: {error}") from error


class _End:
    """What the helper thread sends last: nothing more, or the error that stopped it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


@contextlib.contextmanager
def in_background(blocks: Iterator[bytes]) -> Iterator[Iterator[bytes]]:
    """``blocks`` produced on a helper thread, ``QUEUE_DEPTH`` ahead of the consumer.

    Errors raised while producing are re-raised in the consumer, in order. Leaving the context
    (normally or by an exception, Ctrl-C included) stops the thread and waits for it, so no file
    is read after the caller gave up. Where no thread can be started, ``blocks`` is used as is.
    """
    handover: queue.Queue[bytes | _End] = queue.Queue(QUEUE_DEPTH)
    stop = threading.Event()

    def put(item: bytes | _End) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not put(block):
                    return
        except BaseException as error:  # handed to the consumer, who decides
            put(_End(error))
        else:
            put(_End())

    def consume() -> Iterator[bytes]:
        while True:
            item = handover.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    thread = threading.Thread(target=produce, name="pylock-inflate", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no threads on this platform, or none left
        yield blocks
        return
    try:
        yield consume()
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                handover.get(timeout=0.05)  # unblock a put() so the thread sees the stop
        thread.join()


# -- reading tar ----------------------------------------------------------------------------------


class TarReader:
    """Members of the tar stream ``blocks`` holds, one at a time, and their data.

    After ``next()`` returns a member, ``data()`` yields its bytes; whatever of them the caller
    does not read is skipped by the following ``next()``.
    """

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._buffer = b""
        self._view = memoryview(b"")
        self._pos = 0
        self._unread = 0  # data of the current member not read yet
        self._padding = 0  # zero bytes after that data, up to the next 512-byte boundary
        self._globals: dict[str, str] = {}  # pax 'g' headers: apply to every later member
        self._count = 0

    def next(self) -> Member | None:
        """The next member, or None at the end of the archive (its zero block, or the end of
        the stream at a header boundary, which ``tarfile`` accepts too)."""
        self._skip(self._unread + self._padding)
        self._unread = self._padding = 0
        overrides: dict[str, str] = {}  # from L, K and x headers: the first one given wins
        while True:
            header = self._take(BLOCK)
            if not header or header == _ZEROS:
                if overrides:
                    raise ArchiveError("the archive ends after an extended header")
                return None
            if len(header) < BLOCK:
                raise ArchiveError("the archive ends inside a member header")
            kind, size, member = self._parse(header)
            if kind in (b"L", b"K"):  # GNU long name or link target, for the next header
                text = self._extended(size).partition(b"\0")[0]
                key = "path" if kind == b"L" else "linkpath"
                overrides.setdefault(key, text.decode("utf-8", "surrogateescape"))
            elif kind in _PAX:
                records = _pax_records(self._extended(size))
                if kind == b"g":
                    self._globals.update(records)
                else:
                    for key, value in records.items():
                        overrides.setdefault(key, value)
            else:
                assert member is not None
                if overrides or self._globals:
                    member = _apply_pax(member, {**self._globals, **overrides})
                self._count += 1
                if member.type in _REGULAR or member.type not in _KNOWN:
                    self._unread = member.size
                    self._padding = -member.size % BLOCK
                return member

    def data(self) -> Iterator[memoryview]:
        """The current member's data in pieces (views of the inflated blocks: use them before
        asking for more); ArchiveError if the stream ends first."""
        while self._unread:
            if self._pos >= len(self._buffer) and not self._fill():
                raise ArchiveError("unexpected end of data")
            end = min(self._pos + self._unread, len(self._buffer))
            piece = self._view[self._pos : end]
            self._unread -= end - self._pos
            self._pos = end
            yield piece

    def drain(self) -> None:
        """Read the stream to its end: the decompressor then checks its end marker and checksum,
        so an archive cut short after its last member is still refused."""
        self._buffer, self._view, self._pos = b"", memoryview(b""), 0
        for _ in self._blocks:
            pass

    # - buffer

    def _fill(self) -> bool:
        for block in self._blocks:
            if block:
                self._buffer, self._view, self._pos = block, memoryview(block), 0
                return True
        self._buffer, self._view, self._pos = b"", memoryview(b""), 0
        return False

    def _take(self, count: int) -> bytes:
        """The next ``count`` bytes, fewer only at the end of the stream."""
        end = self._pos + count
        if end <= len(self._buffer):
            taken = self._buffer[self._pos : end]
            self._pos = end
            return taken
        parts = [self._buffer[self._pos :]]
        missing = count - len(parts[0])
        self._pos = len(self._buffer)
        while missing and self._fill():
            part = self._buffer[:missing]
            self._pos = len(part)
            parts.append(part)
            missing -= len(part)
        return b"".join(parts)

    def _skip(self, count: int) -> None:
        while count:
            available = len(self._buffer) - self._pos
            if available >= count:
                self._pos += count
                return
            count -= available
            if not self._fill():
                raise ArchiveError("unexpected end of data")

    def _extended(self, size: int) -> bytes:
        """The data of a GNU long name or pax header (and its padding)."""
        if size > MAX_EXTENDED:
            raise ArchiveError(f"an extended header of {size} bytes is too large")
        data = self._take(size + (-size % BLOCK))
        if len(data) < size + (-size % BLOCK):
            raise ArchiveError("unexpected end of data")
        return data[:size]

    # - headers

    def _parse(self, header: bytes) -> tuple[bytes, int, Member | None]:
        """The type flag and size of a header, and the member it describes (None for an
        extended header, which describes the next one)."""
        name, mode, size_field, mtime, checksum, kind, linkname, prefix = _HEADER.unpack(header)
        _check_checksum(header, checksum, first=self._count == 0)
        size = _number(size_field)
        if size < 0:
            raise ArchiveError("a member header has a negative size")
        if kind in (b"L", b"K") or kind in _PAX:
            return kind, size, None
        text = _string(name)
        if kind == b"\0" and text.endswith("/"):
            kind = b"5"  # old V7 archives mark a directory by its trailing slash
        if kind == b"5":
            text = text.rstrip("/")
        if prefix[0] and kind not in _GNU:
            text = _string(prefix) + "/" + text
        member = Member(text, kind, _number(mode), size, _number(mtime), _string(linkname))
        return kind, size, member


def _string(field: bytes) -> str:
    """A NUL-terminated header text field, decoded as ``tarfile`` does (UTF-8, bad bytes kept as
    surrogates so the caller can refuse them by name)."""
    return field.partition(b"\0")[0].decode("utf-8", "surrogateescape")


def _number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 (first byte 0x80 or 0xff)."""
    if field[0] in (0o200, 0o377):
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0o377:
            value -= 256 ** (len(field) - 1)
        return value
    try:
        return int(field.partition(b"\0")[0].strip() or b"0", 8)
    except ValueError:
        raise ArchiveError("a member header has a malformed number") from None


def _check_checksum(header: bytes, field: bytes, *, first: bool) -> None:
    """The header checksum: the sum of its bytes with the checksum field read as spaces;
    like ``tarfile``, the signed sum some old tars wrote is accepted too."""
    try:
        recorded = _number(field)
    except ArchiveError:
        recorded = -1
    unsigned = _byte_sum(header) - sum(header[148:156]) + 8 * 32
    if recorded == unsigned:
        return
    high = sum(1 for byte in header[:148] + header[156:] if byte >= 0x80)
    if recorded == unsigned - 256 * high:
        return
    raise ArchiveError("not a tar archive" if first else "a member header has a bad checksum")


def _byte_sum(header: bytes) -> int:
    """``sum(header)`` for a 512-byte header, ten times faster: Adler-32's low half is one plus
    the byte sum modulo 65521, which is exact for 256 bytes (at most 256 * 255 = 65280)."""
    view = memoryview(header)
    return (zlib.adler32(view[:256]) & 0xFFFF) + (zlib.adler32(view[256:]) & 0xFFFF) - 2


def _pax_records(data: bytes) -> dict[str, str]:
    """``"%d %s=%s\\n"`` records of a pax header, decoded (later keys override earlier ones)."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space]) if space > pos else 0
        except ValueError:
            length = 0
        end = pos + length
        equals = data.find(b"=", space, end)
        if length <= 0 or end > len(data) or equals < 0 or data[end - 1] != 0x0A:
            raise ArchiveError("a pax extended header is malformed")
        key = data[space + 1 : equals].decode("utf-8", "surrogateescape")
        records[key] = data[equals + 1 : end - 1].decode("utf-8", "surrogateescape")
        pos = end
    return records


def _apply_pax(member: Member, headers: dict[str, str]) -> Member:
    """A member with its pax / GNU long-name values applied (``tarfile._apply_pax_info``)."""
    name, linkname, size, mtime = member.name, member.linkname, member.size, member.mtime
    kind = member.type
    if "path" in headers:
        name = headers["path"].rstrip("/")
    if "linkpath" in headers:
        linkname = headers["linkpath"]
    if "size" in headers:
        try:
            size = int(headers["size"])
        except ValueError:
            raise ArchiveError("a pax header has a malformed size") from None
    if "mtime" in headers:
        try:
            mtime = float(headers["mtime"])
        except ValueError:
            mtime = 0
    if any(key.startswith("GNU.sparse.") for key in headers):
        kind = _SPARSE
    return Member(name, kind, member.mode, size, mtime, linkname)


def codec_for(head: bytes) -> Codec | None:
    """The codec for an archive starting with ``head`` (its first 4 bytes), None if neither."""
    if head.startswith(GZIP_MAGIC):
        return gzip_codec()
    if head == ZSTD_MAGIC:
        return zstd_codec()
    return None
