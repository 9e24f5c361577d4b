"""The tar reader under pylock.install.installer, held to what ``tarfile`` reads from the same
bytes.

Archives are written with ``tarfile`` in its three formats (GNU long names and links, pax
headers, ustar prefixes), then read both ways; the members and their data must agree. The
stream-level tests cover what ``tarfile`` does not decide for us: compressed streams cut short,
padded or concatenated, memory bounds on inflating, and the helper thread's lifecycle.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import tarfile
import threading
from collections.abc import Iterator

import pytest

from archives import zstd_compress
from pylock.extract import tarstream
from pylock.extract.tarstream import ArchiveError, Codec, TarReader

LONG_DIR = "python/lib/python3.12/site-packages/" + "a-very-long-package-name/" * 5
LONG_NAME = LONG_DIR + "module_with_a_long_name.py"  # > 155 bytes: GNU L or pax path
CODECS = {
    "isal-or-zlib": lambda: tarstream.gzip_codec(),
    "zlib": lambda: tarstream.gzip_codec(fast=False),
}


def _tar(fmt: int, *, pax_headers: dict[str, str] | None = None) -> bytes:
    """An archive exercising every header feature pylock meets in PBS archives and more."""
    rng = random.Random(fmt)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt, pax_headers=pax_headers or {}) as tar:

        def add(name: str, kind: bytes, data: bytes = b"", **fields: object) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = int(str(fields.get("mode", 0o644)))
            info.mtime = fields.get("mtime", 1734600000)  # type: ignore[assignment]
            info.linkname = str(fields.get("linkname", ""))
            info.uid = int(str(fields.get("uid", 0)))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("python", tarfile.DIRTYPE, mode=0o755)
        add("python/bin", tarfile.DIRTYPE, mode=0o755)
        add("python/bin/python3.12", tarfile.REGTYPE, rng.randbytes(70_000), mode=0o755)
        add("python/bin/python3", tarfile.SYMTYPE, linkname="python3.12", mode=0o777)
        for size in (0, 1, 511, 512, 513, 3 * 1024 * 1024 + 7):
            add(f"python/lib/size-{size}.bin", tarfile.REGTYPE, rng.randbytes(size))
        add(LONG_DIR.rstrip("/"), tarfile.DIRTYPE, mode=0o755)
        add(LONG_NAME, tarfile.REGTYPE, b"long = True\n")
        add("python/lib/link-to-long", tarfile.SYMTYPE, linkname="../" + LONG_NAME[7:])
        add("python/lib/hard", tarfile.LNKTYPE, linkname="python/lib/size-513.bin")
        add("python/lib/naïve-ünïcode.py", tarfile.REGTYPE, "é = 1\n".encode())
        add("python/lib/big-uid", tarfile.REGTYPE, b"x", uid=0o7777777 + 1)  # base-256 in GNU
        add("python/lib/before-1970", tarfile.REGTYPE, b"o", mtime=-1)  # base-256 (or pax)
        add("python/lib/far-future", tarfile.REGTYPE, b"f", mtime=8**11 + 5)  # base-256 (or pax)
        if fmt == tarfile.PAX_FORMAT:
            add("python/lib/fractional-mtime", tarfile.REGTYPE, b"t", mtime=1734600000.25)
    return buffer.getvalue()


FORMATS = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT, "ustar": tarfile.USTAR_FORMAT}


def _blocks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    """Inflated data in small pieces, so headers and file data straddle block boundaries."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _ours(data: bytes, size: int = 4096) -> list[tuple[object, ...]]:
    reader = TarReader(_blocks(data, size))
    members = []
    while (member := reader.next()) is not None:
        body = b"".join(reader.data())
        fields = (member.name, member.type, member.mode, member.size, member.mtime)
        members.append((*fields, member.linkname, body))
    return members


def _tarfiles(data: bytes) -> list[tuple[object, ...]]:
    members = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            source = tar.extractfile(info) if info.isreg() else None
            body = source.read() if source is not None else b""
            members.append(
                (info.name, info.type, info.mode, info.size, info.mtime, info.linkname, body)
            )
    return members


@pytest.mark.parametrize("block", [512, 4096, 1 << 20])
@pytest.mark.parametrize("fmt", ["gnu", "pax"])  # ustar cannot hold the long link: see below
def test_members_and_data_match_tarfile(fmt: str, block: int) -> None:
    data = _tar(FORMATS[fmt])
    ours = _ours(data, block)
    assert ours == _tarfiles(data)
    names = [member[0] for member in ours]
    assert LONG_NAME in names and "python/lib/naïve-ünïcode.py" in names


def test_ustar_prefix_field_is_joined_to_the_name() -> None:
    buffer = io.BytesIO()
    name = "python/" + "d" * 90 + "/" + "e" * 60 + "/file.txt"  # > 100: split into prefix + name
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    data = buffer.getvalue()
    assert data[345:500].strip(b"\0")  # the prefix field really is used
    assert _ours(data) == _tarfiles(data)
    assert _ours(data)[0][0] == name


def test_pax_global_headers_apply_to_every_later_member() -> None:
    data = _tar(tarfile.PAX_FORMAT, pax_headers={"mtime": "1600000000.5", "comment": "hi"})
    ours = _ours(data)
    assert ours == _tarfiles(data)
    # The global mtime replaces every header's; a member's own pax mtime still wins.
    own = {"python/lib/fractional-mtime", "python/lib/before-1970", "python/lib/far-future"}
    assert {m[4] for m in ours if m[0] not in own} == {1600000000.5}
    assert [m[4] for m in ours if m[0] in own] == [-1, 8**11 + 5, 1734600000.25]


def test_sparse_members_are_reported_as_type_s() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("python/lib/sparse")
        info.size = 3
        info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}
        tar.addfile(info, io.BytesIO(b"abc"))
        tar.addfile(tarfile.TarInfo("python/after"), io.BytesIO(b""))
    reader = TarReader(_blocks(buffer.getvalue()))
    sparse = reader.next()
    assert sparse is not None and sparse.type == b"S" and not sparse.isreg()
    after = reader.next()  # its data was skipped correctly
    assert after is not None and after.name == "python/after"


def test_unread_data_is_skipped() -> None:
    data = _tar(tarfile.GNU_FORMAT)
    reader = TarReader(_blocks(data, 1000))
    names = []
    while (member := reader.next()) is not None:
        names.append(member.name)  # never reads data()
    assert names == [member[0] for member in _tarfiles(data)]


def test_a_tar_without_end_blocks_ends_at_its_last_member() -> None:
    data = _tar(tarfile.GNU_FORMAT)
    members = _tarfiles(data)
    # Find where the end-of-archive zeros start and cut them off.
    end = len(data.rstrip(b"\0"))
    cut = data[: end + (-end % 512)]
    assert _ours(cut) == members


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("cut-in-data", "unexpected end of data"),
        ("cut-in-header", "ends inside a member header"),
        ("bad-checksum", "bad checksum"),
        ("not-a-tar", "not a tar archive"),
        ("cut-after-extended-header", "ends after an extended header"),
    ],
)
def test_damaged_tar_is_an_archive_error(damage: str, message: str) -> None:
    data = _tar(tarfile.GNU_FORMAT)
    if damage == "cut-in-data":
        data = data[: data.index(b"python/lib/size-513.bin") + 512 + 100]
    elif damage == "cut-in-header":
        data = data[: data.index(b"python/bin/python3\0") + 200]
    elif damage == "bad-checksum":
        at = data.index(b"python/lib/size-1.bin")
        data = data[:at] + b"X" + data[at + 1 :]
    elif damage == "not-a-tar":
        data = b"this is text, not a tar archive\n" * 64
    else:
        data = data[: data.index(b"././@LongLink") + 1024]  # the L header and its name only
    with pytest.raises(ArchiveError, match=message):
        _ours(data)


def test_oversized_extended_header_is_refused() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("python/x")
        info.pax_headers = {"comment": "x" * (tarstream.MAX_EXTENDED + 1)}
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArchiveError, match="too large"):
        _ours(buffer.getvalue())


# -- compressed streams ---------------------------------------------------------------------------


def _inflate(compressed: bytes, codec: Codec, read_size: int = 1000) -> bytes:
    stream = io.BytesIO(compressed)
    first = stream.read(4)
    return b"".join(tarstream.inflate(lambda n: stream.read(min(n, read_size)), first, codec))


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_gzip_round_trip_concatenated_and_zero_padded(codec: str) -> None:
    payload = random.Random(1).randbytes(300_000)
    one = gzip.compress(payload)
    assert _inflate(one, CODECS[codec]()) == payload
    assert _inflate(one + one, CODECS[codec]()) == payload * 2  # as GzipFile reads it
    assert _inflate(one + bytes(5000), CODECS[codec]()) == payload  # as GzipFile skips it


@pytest.mark.parametrize("codec", sorted(CODECS))
@pytest.mark.parametrize(
    "damage", ["truncated", "truncated-trailer", "bad-crc", "trailing-garbage", "not-gzip"]
)
def test_damaged_gzip_is_an_archive_error(codec: str, damage: str) -> None:
    good = gzip.compress(random.Random(2).randbytes(100_000))
    bad = {
        "truncated": good[: len(good) // 2],
        "truncated-trailer": good[:-3],
        "bad-crc": good[:-8] + bytes([good[-8] ^ 1]) + good[-7:],
        "trailing-garbage": good + b"garbage after the stream",
        "not-gzip": b"\x1f\x8b" + b"\x09" + good[3:],
    }[damage]
    with pytest.raises(ArchiveError):
        _inflate(bad, CODECS[codec]())


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_inflated_blocks_are_bounded_even_for_extreme_ratios(codec: str) -> None:
    zeros = 40 * 1024 * 1024  # compresses ~1000:1, so one read holds many blocks' worth
    compressed = gzip.compress(bytes(zeros))
    stream = io.BytesIO(compressed)
    sizes = [
        len(block) for block in tarstream.inflate(stream.read, stream.read(4), CODECS[codec]())
    ]
    assert sum(sizes) == zeros
    assert max(sizes) <= tarstream.INFLATED_SIZE


def test_zstd_round_trip_and_damage() -> None:
    payload = random.Random(3).randbytes(200_000)
    frame = zstd_compress(payload)
    codec = tarstream.zstd_codec()
    assert _inflate(frame + frame, codec) == payload * 2
    with pytest.raises(ArchiveError):
        _inflate(frame[:-10], codec)
    with pytest.raises(ArchiveError):
        _inflate(frame + b"not a zstd frame", codec)


def test_codec_for_sniffs_the_magic() -> None:
    assert tarstream.codec_for(b"\x1f\x8b\x08\x00") is not None
    zstd = tarstream.codec_for(b"\x28\xb5\x2f\xfd")
    assert zstd is not None and zstd.name == "zstd"
    assert tarstream.codec_for(b"<!DO") is None
    assert tarstream.codec_for(b"") is None


# -- the helper thread ----------------------------------------------------------------------------


def _inflaters() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pylock-inflate"]


def test_background_blocks_arrive_in_order() -> None:
    blocks = [os.urandom(100) for _ in range(50)]
    with tarstream.in_background(iter(blocks)) as received:
        assert list(received) == blocks
    assert _inflaters() == []


def test_background_errors_reach_the_consumer() -> None:
    def failing() -> Iterator[bytes]:
        yield b"first"
        raise ArchiveError("broken on the helper thread")

    with tarstream.in_background(failing()) as received:
        assert next(received) == b"first"
        with pytest.raises(ArchiveError, match="broken on the helper thread"):
            next(received)
    assert _inflaters() == []


def test_leaving_early_stops_the_producer() -> None:
    produced = []
    finished = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                produced.append(1)
                yield b"x" * 1000
        finally:
            finished.set()

    source = endless()
    with pytest.raises(KeyError), tarstream.in_background(source) as received:
        next(received)
        raise KeyError("the consumer gives up")
    assert _inflaters() == []
    count = len(produced)
    assert count <= tarstream.QUEUE_DEPTH + 3  # it stopped, a few blocks ahead at most
    source.close()
    assert finished.is_set()
