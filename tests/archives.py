"""Small synthetic python-build-standalone archives for tests (docs/pbs-format.md §3, §4).

Import it from any test module (``from archives import build_pbs_archive, make_target``): pytest
puts ``tests/`` on ``sys.path``. Nothing here touches the network or the real PBS releases.

What you get:

- ``build_pbs_archive()`` — a PBS-shaped archive as bytes (and written to a path if given):
  ``install_only`` / ``install_only_stripped`` (``python/bin``, ``python/include``, ``python/lib``,
  ``python/share``) or a full archive (any flavor ending in ``full``: ``python/PYTHON.json`` as the
  first member, with ``python_json``'s keys added, then ``python/install/…``, ``python/build/…``,
  ``python/licenses/…``); Unix or
  Windows (``python.exe`` at the root, ``include/patchlevel.h``, ``Lib/``); ``.tar.gz`` or
  ``.tar.zst``. The Unix interpreter ``bin/python3.X[t][d]`` is a real ``#!/bin/sh`` script, so
  "run it and ask its version" works: called with ``-V``/``--version`` it prints
  ``Python X.Y.Z``; called any other way (``-I -S -B -c …``, what pylock.install.interpreter
  runs) it prints the ``sys.version_info`` fields ``3 12 8 final 0``. ``reported_version``
  makes it lie and ``header_version`` makes ``patchlevel.h`` lie.
  ``interpreter=delegating_interpreter()`` makes it a wrapper that runs the Python running the
  tests instead (pass that Python's version).
- ``make_target()`` — the lock ``Target`` for some archive bytes (sha256, size, a PBS-style URL).
- ``HOSTILE`` / ``hostile_archive()`` — a valid archive with members appended that a safe
  extractor must refuse: ``..``, absolute paths, escaping symlinks and hard links, devices, FIFOs.
- ``NOT_A_TAR`` — byte strings that are not a usable tar archive at all.
- ``Member`` and ``tar_bytes()`` — build any other archive, member by member.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import re
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pylock.project.platforms import host_platform, parse_platform
from pylock.resolution.lockfile import Target

MTIME = 1734600000  # 2024-12-19, the date of PBS release 20241219
BUILD = "20241219"
PBS_DOWNLOAD = "https://github.com/astral-sh/python-build-standalone/releases/download"

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?")
_LEVELS = {
    None: ("final", "PY_RELEASE_LEVEL_FINAL"),
    "a": ("alpha", "PY_RELEASE_LEVEL_ALPHA"),
    "b": ("beta", "PY_RELEASE_LEVEL_BETA"),
    "rc": ("candidate", "PY_RELEASE_LEVEL_GAMMA"),
}
_SUFFIX = {"default": "", "freethreaded": "t", "debug": "d", "freethreaded+debug": "td"}


@dataclass(frozen=True)
class Member:
    """One tar member. ``kind``: file, dir, symlink, hardlink, chardev, blockdev or fifo.

    ``linkname`` is the symlink's target (relative to the link's directory) or, for a hard link,
    the archive path of the member it repeats. Names are written to the tar exactly as given,
    including hostile ones (``..``, leading ``/``), which tarfile's ``add()`` would clean up.
    """

    name: str
    kind: str = "file"
    data: bytes = b""
    mode: int = 0o644
    linkname: str = ""


def file(name: str, data: bytes = b"", mode: int = 0o644) -> Member:
    return Member(name, "file", data, mode)


def directory(name: str, mode: int = 0o755) -> Member:
    return Member(name, "dir", mode=mode)


def symlink(name: str, target: str) -> Member:
    return Member(name, "symlink", mode=0o777, linkname=target)


def hardlink(name: str, target: str) -> Member:
    return Member(name, "hardlink", linkname=target)


_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "chardev": tarfile.CHRTYPE,
    "blockdev": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def tar_bytes(members: Iterable[Member], fmt: str = "gz") -> bytes:
    """A tar archive of ``members`` in order; ``fmt`` is ``gz``, ``zst`` or ``tar`` (plain)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = _TYPES[member.kind]
            info.mode = member.mode
            info.mtime = MTIME
            info.linkname = member.linkname
            if member.kind in ("chardev", "blockdev"):
                info.devmajor, info.devminor = 1, 3
            if member.kind == "file":
                info.size = len(member.data)
                tar.addfile(info, io.BytesIO(member.data))
            else:
                tar.addfile(info)
    raw = buffer.getvalue()
    if fmt == "tar":
        return raw
    if fmt == "gz":
        return gzip.compress(raw, compresslevel=1, mtime=0)  # level 9 is 5x slower, same tar
    if fmt == "zst":
        return zstd_compress(raw)
    raise ValueError(f"unknown archive format {fmt!r}")


def zstd_compress(data: bytes) -> bytes:
    """zstd with the stdlib module (3.14+) or pyzstd, the same fallback pylock uses."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        import pyzstd as zstd
    return bytes(zstd.compress(data))


def version_info_fields(version: str) -> str:
    """``3.15.0rc1`` -> ``3 15 0 candidate 1``: what ``print(*sys.version_info)`` shows."""
    major, minor, micro, level, serial = _split_version(version)
    return f"{major} {minor} {micro} {_LEVELS[level][0]} {serial or 0}"


def _split_version(version: str) -> tuple[str, str, str, str | None, str | None]:
    match = _VERSION.fullmatch(version)
    if match is None:
        raise ValueError(f"not a CPython version: {version!r}")
    major, minor, micro, level, serial = match.groups()
    return major, minor, micro, level, serial


def interpreter_script(reported_version: str) -> bytes:
    """A ``#!/bin/sh`` stand-in for ``bin/python3.X`` that reports ``reported_version``."""
    return (
        "#!/bin/sh\n"
        f"# Stand-in for CPython {reported_version}, made by tests/archives.py.\n"
        'case "$1" in\n'
        f'  -V|--version) echo "Python {reported_version}"; exit 0;;\n'
        "esac\n"
        f'echo "{version_info_fields(reported_version)}"\n'
    ).encode()


def delegating_interpreter(python: str | None = None) -> bytes:
    """A ``#!/bin/sh`` ``bin/python3.X`` that runs a real Python (default: this one) instead."""
    real = python or sys.executable
    return f'#!/bin/sh\nexec "{real}" "$@"\n'.encode()


def patchlevel_h(version: str) -> bytes:
    """The lines of CPython's ``Include/patchlevel.h`` that state the version."""
    major, minor, micro, level, serial = _split_version(version)
    return (
        "/* Python version identification scheme (synthetic, tests/archives.py). */\n"
        f"#define PY_MAJOR_VERSION\t{major}\n"
        f"#define PY_MINOR_VERSION\t{minor}\n"
        f"#define PY_MICRO_VERSION\t{micro}\n"
        f"#define PY_RELEASE_LEVEL\t{_LEVELS[level][1]}\n"
        f"#define PY_RELEASE_SERIAL\t{serial or 0}\n\n"
        "/* Version as a string */\n"
        f'#define PY_VERSION      \t"{version}"\n'
    ).encode()


def is_full(flavor: str) -> bool:
    return flavor.endswith("full")


def install_members(
    *,
    version: str = "3.12.8",
    variant: str = "default",
    windows: bool = False,
    reported_version: str | None = None,
    interpreter: bytes | None = None,
    header_version: str | None = None,
    python_symlink: bool = True,
    padding: int = 0,
) -> list[Member]:
    """The install tree (paths relative to the install root, no ``python/`` prefix).

    ``padding`` adds that many incompressible bytes as the LAST file (``…/_padding.bin``), for
    tests that need an archive that takes a while to stream.
    """
    major, minor, *_ = _split_version(version)
    mm = f"{major}.{minor}"
    suffix = _SUFFIX[variant]
    lib_suffix = "t" if "freethreaded" in variant else ""
    header = patchlevel_h(header_version or version)
    if windows:
        stdlib = "Lib"
        members = [
            file("python.exe", b"MZ synthetic python.exe\n", 0o755),
            file("pythonw.exe", b"MZ synthetic pythonw.exe\n", 0o755),
            file(f"python3{minor}{lib_suffix}.dll", b"MZ synthetic dll\n", 0o755),
            directory("include"),
            file("include/patchlevel.h", header),
            file("include/Python.h", b'#include "patchlevel.h"\n'),
            directory("DLLs"),
            file("DLLs/_socket.pyd", b"MZ synthetic pyd\n", 0o755),
            directory("Scripts"),
            file("Scripts/.empty"),
        ]
    else:
        stdlib = f"lib/python{mm}{lib_suffix}"
        exe = f"python{mm}{suffix}"
        members = [
            directory("bin"),
            file(
                f"bin/{exe}", interpreter or interpreter_script(reported_version or version), 0o755
            ),
            *([symlink(f"bin/python{mm}", exe)] if suffix else []),
            symlink("bin/python3", exe),
            *([symlink("bin/python", exe)] if python_symlink else []),
            file(f"bin/idle{mm}", b"#!/bin/sh\nexit 0\n", 0o755),
            hardlink(f"bin/idle{major}", f"bin/idle{mm}"),
            directory("include"),
            directory(f"include/python{mm}{suffix}"),
            file(f"include/python{mm}{suffix}/patchlevel.h", header),
            file(f"include/python{mm}{suffix}/Python.h", b'#include "patchlevel.h"\n'),
            directory("lib"),
            file(f"lib/libpython{mm}{suffix}.so.1.0", b"\x7fELF synthetic\n", 0o755),
            file("share/man/man1/python3.1", b".TH PYTHON 1\n"),
        ]
    members += [
        directory(stdlib),
        file(f"{stdlib}/os.py", b'"""OS routines (synthetic)."""\n'),
        file(f"{stdlib}/__pycache__/os.cpython-{major}{minor}.pyc", b"\x00synthetic pyc"),
        file(
            f"{stdlib}/site-packages/README.txt",
            b"This directory exists so that 3rd party packages can be installed here.\n",
        ),
    ]
    if padding:
        members.append(file(f"{stdlib}/_padding.bin", random.Random(0).randbytes(padding)))
    return members


def placed(members: Iterable[Member], prefix: str = "python/") -> list[Member]:
    """``members`` moved under ``prefix`` (hard link targets too): install tree -> archive."""
    return [
        Member(
            prefix + m.name,
            m.kind,
            m.data,
            m.mode,
            prefix + m.linkname if m.kind == "hardlink" else m.linkname,
        )
        for m in members
    ]


def pbs_members(
    *,
    version: str = "3.12.8",
    variant: str = "default",
    flavor: str = "install_only",
    windows: bool = False,
    reported_version: str | None = None,
    interpreter: bytes | None = None,
    header_version: str | None = None,
    python_symlink: bool = True,
    padding: int = 0,
    python_json: dict[str, object] | None = None,
) -> list[Member]:
    """Every member of a PBS archive, with ``python/`` (and ``python/install/``) prefixes."""
    tree = install_members(
        version=version,
        variant=variant,
        windows=windows,
        reported_version=reported_version,
        interpreter=interpreter,
        header_version=header_version,
        python_symlink=python_symlink,
        padding=padding,
    )
    members = [
        directory("python"),
        *placed(tree, "python/install/" if is_full(flavor) else "python/"),
    ]
    if not is_full(flavor):
        return members
    major, minor, *_ = _split_version(version)
    suffix = _SUFFIX[variant]
    exe = "install/python.exe" if windows else f"install/bin/python{major}.{minor}{suffix}"
    metadata = {
        "version": "8",
        "target_triple": "x86_64-pc-windows-msvc" if windows else "x86_64-unknown-linux-gnu",
        "build_options": flavor.removesuffix("-full").removesuffix("full").strip("-") or "pgo+lto",
        "python_version": version,
        "python_major_minor_version": f"{major}.{minor}",
        "python_exe": exe,
        **(python_json or {}),
    }
    return [
        file("python/PYTHON.json", json.dumps(metadata, indent=2).encode()),
        *members,
        directory("python/install"),
        file("python/build/lib/libpython.a", b"!<arch>\n"),
        file("python/build/Modules/config.c", b"/* synthetic */\n"),
        file("python/licenses/LICENSE.cpython.txt", b"PSF LICENSE AGREEMENT (synthetic)\n"),
    ]


def build_pbs_archive(
    path: Path | None = None,
    *,
    version: str = "3.12.8",
    variant: str = "default",
    flavor: str = "install_only",
    fmt: str | None = None,
    windows: bool = False,
    reported_version: str | None = None,
    interpreter: bytes | None = None,
    header_version: str | None = None,
    python_symlink: bool = True,
    padding: int = 0,
    extra_members: Sequence[Member] = (),
    python_json: dict[str, object] | None = None,
) -> bytes:
    """A PBS-shaped archive; also written to ``path`` when given. See the module docstring.

    ``fmt`` defaults to what PBS uses: ``zst`` for full archives, ``gz`` for install_only kinds.
    ``extra_members`` come last of all, after the tree (and after its padding file).
    """
    members = pbs_members(
        version=version,
        variant=variant,
        flavor=flavor,
        windows=windows,
        reported_version=reported_version,
        interpreter=interpreter,
        header_version=header_version,
        python_symlink=python_symlink,
        padding=padding,
        python_json=python_json,
    )
    data = tar_bytes([*members, *extra_members], fmt or ("zst" if is_full(flavor) else "gz"))
    if path is not None:
        path.write_bytes(data)
    return data


def asset_name(
    *, version: str, build: str, triple: str, flavor: str, variant: str = "default"
) -> str:
    """The PBS (E2) file name of such an archive (docs/pbs-format.md §1.2)."""
    if not is_full(flavor):
        prefix = "freethreaded-" if "freethreaded" in variant else ""
        return f"cpython-{version}+{build}-{triple}-{prefix}{flavor}.tar.gz"
    options = flavor.removesuffix("full").rstrip("-") or "pgo+lto"
    if "freethreaded" in variant and not options.startswith("freethreaded"):
        options = "freethreaded+" + options
    return f"cpython-{version}+{build}-{triple}-{options}-full.tar.zst"


def make_target(
    data: bytes,
    *,
    version: str = "3.12.8",
    variant: str = "default",
    flavor: str = "install_only",
    platform: str | None = None,
    build: str = BUILD,
    url: str | None = None,
) -> Target:
    """The lock entry for archive ``data``; ``platform`` defaults to this host's key."""
    plat = parse_platform(platform) if platform else host_platform()
    name = asset_name(
        version=version, build=build, triple=plat.triple, flavor=flavor, variant=variant
    )
    return Target(
        platform=plat.key,
        triple=plat.triple,
        implementation="cpython",
        version=version,
        build=build,
        flavor=flavor,
        variant=variant,
        url=url or f"{PBS_DOWNLOAD}/{build}/{quote(name)}",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


HOSTILE: dict[str, tuple[Member, ...]] = {
    "dotdot": (file("python/../escaped.txt", b"escaped\n"),),
    "dotdot-inside": (file("python/lib/../../escaped.txt", b"escaped\n"),),
    "absolute": (file("/pylock-test-escape/absolute.txt", b"escaped\n"),),
    "outside-python": (file("etc/escaped.txt", b"escaped\n"),),
    "symlink-escape": (symlink("python/lib/escape", "../../.."),),
    "symlink-absolute": (symlink("python/lib/escape", "/etc"),),
    # Each link looks harmless alone; together b -> c/.. -> ./.. resolves above the tree.
    "symlink-chain": (symlink("python/b", "c/.."), symlink("python/c", ".")),
    # pylock never writes through a symlink, even one that stays inside (stricter than PEP 706).
    "through-symlink": (symlink("python/lib/here", "."), file("python/lib/here/x.txt", b"x\n")),
    "hardlink-escape": (hardlink("python/lib/escape", "python/../../etc/passwd"),),
    "hardlink-absolute": (hardlink("python/lib/escape", "/etc/passwd"),),
    "hardlink-outside": (hardlink("python/lib/escape", "etc/passwd"),),
    "chardev": (Member("python/dev/null", "chardev", mode=0o666),),
    "blockdev": (Member("python/dev/sda", "blockdev", mode=0o660),),
    "fifo": (Member("python/lib/pipe", "fifo"),),
    "duplicate": (file("python/lib/libpython3.12.so.1.0", b"replaced after the fact\n"),),
    "pylock-metadata": (file("python/.pylock/receipt.json", b"{}\n"),),
}
"""Members a safe extractor must refuse; ``hostile_archive`` appends them to a valid tree."""


def hostile_archive(case: str, *, fmt: str = "gz", path: Path | None = None) -> bytes:
    """A valid 3.12.8 install_only archive followed by the members of ``HOSTILE[case]``."""
    return build_pbs_archive(path, fmt=fmt, extra_members=HOSTILE[case])


def _not_a_tar() -> dict[str, bytes]:
    valid = build_pbs_archive()
    return {
        "empty": b"",
        "html": b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n",
        "gzip-of-text": gzip.compress(b"this is text, not a tar archive\n" * 64),
        "zstd-of-text": zstd_compress(b"this is text, not a tar archive\n" * 64),
        "zstd-garbage": b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 4,
        "truncated-gz": valid[: len(valid) // 2],
    }


NOT_A_TAR: dict[str, bytes] = _not_a_tar()
"""Byte strings that are not a usable .tar.gz / .tar.zst: empty, HTML, compressed text, cut off."""


def inflation_bomb(inflated: int = 2 * 1024**3, version: str = "3.12.8") -> bytes:
    """A ``.tar.gz`` of about 2 MB whose one member, ``python/bin/bomb``, inflates to 2 GiB.

    A valid PBS tree comes first, then the bomb. The zeros are one small gzip stream repeated
    (gzip allows streams back to back, and every reader must take them), so building it costs
    milliseconds, not the gigabytes it claims.
    """
    tree = tar_bytes(pbs_members(version=version, flavor="install_only_stripped"), fmt="tar")
    with tarfile.open(fileobj=io.BytesIO(tree), mode="r:") as tar:
        last = tar.getmembers()[-1]
    tree = tree[: last.offset_data + -(-last.size // 512) * 512]  # drop the end-of-archive
    info = tarfile.TarInfo("python/bin/bomb")
    info.size = inflated
    info.mtime = MTIME
    header = info.tobuf(tarfile.PAX_FORMAT)
    step = 1024 * 1024
    assert inflated % step == 0
    zeros = gzip.compress(bytes(step), compresslevel=9)
    return b"".join(
        [
            gzip.compress(tree + header),
            zeros * (inflated // step),
            gzip.compress(bytes(1024)),
        ]
    )
