"""A stand-in for a python-build-standalone ``install_only`` archive, built from the running
CPython, for ``pylock demo`` and the benchmarks.

Both need a real interpreter in exactly the layout PBS ships (docs/pbs-format.md, "Archive
layouts": a ``python/`` top directory with ``bin/``, ``include/``, ``lib/``), because that is what
``pylock sync`` downloads, hashes, extracts and then runs, and neither may use the network. So
instead of fetching a real PBS asset this repackages the machine's own ``sys.base_prefix``: the
standard library (without tests, bytecode caches, static libraries and third-party
site-packages other than pip), the shared libpython, the headers, and the ``python3.X``
executable with ``python3`` and ``python`` symlinks. It is *not* a PBS build: its build tag is a
date no real release has (``20990101``), so nothing can mistake it for one.

A pyenv-style build finds libpython through an absolute RUNPATH pointing back at its prefix.
That would make the extracted interpreter quietly load the *original* libpython, so the RUNPATH
string is rewritten in place to ``$ORIGIN``-relative (the way PBS builds are linked). Linux only:
macOS and Windows interpreters are laid out and linked differently.
"""

from __future__ import annotations

import io
import json
import os
import platform
import sys
import sysconfig
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pylock.base.fsutil import hash_stream
from pylock.errors import ExternalError

BUILD_TAG = "20990101"  # a date no real PBS release has, so nothing can mistake it for one
FLAVOR = "install_only"
FLAVORS = {"gz": FLAVOR, "zst": "pgo+lto-full"}
"""The flavor each format stands for: PBS ships install_only as .tar.gz, full as .tar.zst."""
ROOTS = {"gz": "python/", "zst": "python/install/"}
"""Where the interpreter tree sits in the archive (a full archive nests it under install/)."""
_FORMAT_VERSION = 3  # bump when the archive contents change, to rebuild cached archives
_SKIP_DIRS = frozenset({"test", "tests", "idle_test", "__pycache__"})
_KEEP_SITE_PACKAGES = ("pip",)  # PBS ships pip and nothing else in site-packages


@dataclass(frozen=True)
class Archive:
    """A built archive and the facts a lock entry or a uv downloads JSON needs about it."""

    path: Path
    name: str  # the PBS asset name, e.g. cpython-3.11.7+20990101-x86_64-unknown-linux-gnu-...
    version: str  # "3.11.7"
    build: str
    triple: str
    size: int
    sha256: str
    source_prefix: str  # the sys.base_prefix it was made from
    flavor: str = FLAVOR
    fmt: str = "gz"  # "gz" (install_only) or "zst" (full, for the benchmarks)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def asset_name(version: str, triple: str, build: str = BUILD_TAG, fmt: str = "gz") -> str:
    return f"cpython-{version}+{build}-{triple}-{FLAVORS[fmt]}.tar.{fmt}"


def _relocate_runpath(data: bytes, old_dir: str, rel_to_lib: str) -> bytes:
    """Rewrite an ELF's absolute RUNPATH ``old_dir`` to ``$ORIGIN/<rel_to_lib>`` in place.

    The new string is shorter and NUL-padded, so no offset in the file moves. Anything
    unexpected (not ELF, the string absent, repeated, or the tail of a longer string) leaves the
    bytes untouched; running the extracted interpreter (``pylock sync`` does) catches the rest.
    """
    needle = old_dir.encode() + b"\0"
    if not data.startswith(b"\x7fELF") or data.count(needle) != 1:
        return data
    start = data.index(needle)
    replacement = f"$ORIGIN/{rel_to_lib}".encode()
    if len(replacement) >= len(needle) or (start > 0 and data[start - 1] != 0):
        return data
    return data[:start] + replacement.ljust(len(needle), b"\0") + data[start + len(needle) :]


def _members(prefix: Path, xy: str) -> list[tuple[Path, str]]:
    """(source path, archive path) pairs, sorted, for the install_only tree."""
    pairs: list[tuple[Path, str]] = []
    stdlib = prefix / "lib" / f"python{xy}"

    def walk(root: Path, arc_root: str, *, site_packages_filter: bool = False) -> None:
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            rel = here.relative_to(root)
            keep = []
            for name in sorted(dirnames):
                if name in _SKIP_DIRS:
                    continue
                in_site_packages = site_packages_filter and here == root / "site-packages"
                if in_site_packages and not name.startswith(_KEEP_SITE_PACKAGES):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if name.endswith((".a", ".pyc")):
                    continue
                if site_packages_filter and here == root / "site-packages" and name != "README.txt":
                    continue
                pairs.append((here / name, f"{arc_root}/{rel.as_posix()}/{name}"))

    pairs.append((prefix / "bin" / f"python{xy}", f"python/bin/python{xy}"))
    walk(prefix / "include", "python/include")
    for library in sorted((prefix / "lib").glob("libpython*.so*")):
        pairs.append((library, f"python/lib/{library.name}"))
    walk(stdlib, f"python/lib/python{xy}", site_packages_filter=True)
    return [(src, arc.replace("/./", "/")) for src, arc in pairs]


def _tarinfo(tar: tarfile.TarFile, source: Path, arcname: str) -> tarfile.TarInfo:
    info = tar.gettarinfo(str(source), arcname=arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_tree(tar: tarfile.TarFile, prefix: Path, xy: str, root: str = "python/") -> None:
    old_lib = str(prefix / "lib")
    written: set[str] = set()
    if root != "python/":  # a full archive: PYTHON.json first, the tree under install/
        info = tarfile.TarInfo("python/PYTHON.json")
        document = json.dumps({"version": "8", "python_version": platform.python_version()})
        info.size = len(document)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(document.encode()))

    def add_parents(arcname: str) -> None:
        """A directory entry before the first member inside it, as ``tar -c`` writes them."""
        parts = arcname.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/".join(parts[:depth])
            if directory not in written:
                written.add(directory)
                info = tarfile.TarInfo(directory)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)

    for source, arcname in _members(prefix, xy):
        arcname = root + arcname.removeprefix("python/")
        add_parents(arcname)
        if source.is_symlink():
            tar.addfile(_tarinfo(tar, source, arcname))
            continue
        data = source.read_bytes()
        hops = arcname.count("/") - root.count("/")  # from the file's directory up to the root
        rel_to_lib = "/".join([".."] * hops + ["lib"])
        data = _relocate_runpath(data, old_lib, rel_to_lib)
        info = _tarinfo(tar, source, arcname)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    for alias in ("python3", "python"):
        info = tarfile.TarInfo(f"{root}bin/{alias}")
        info.type = tarfile.SYMTYPE
        info.linkname = f"python{xy}"
        info.mode = 0o777
        tar.addfile(info)


def _zstd_file(path: Path) -> Any:
    """A zstd file to write: the stdlib's (3.14+) or pyzstd's, whichever this Python has."""
    try:
        from compression import zstd

        return zstd.ZstdFile(path, "w", level=19)
    except ImportError:
        import pyzstd

        return pyzstd.ZstdFile(path, "w", level_or_option=19)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hash_stream(handle)


def build_archive(
    out_dir: Path,
    triple: str,
    *,
    rebuild: bool = False,
    compresslevel: int = 6,
    fmt: str = "gz",
) -> Archive:
    """Build (or reuse) the archive for the running interpreter in ``out_dir``: ``gz`` an
    install_only ``.tar.gz``, ``zst`` a full ``.tar.zst`` (the tree under ``python/install/``).

    ExternalError (exit 3) when this interpreter cannot be repackaged (not Linux, no
    ``bin/pythonX.Y`` under its prefix)."""
    prefix = Path(sys.base_prefix)
    version = platform.python_version()
    xy = sysconfig.get_python_version()
    executable = prefix / "bin" / f"python{xy}"
    if not sys.platform.startswith("linux") or not executable.exists():
        raise ExternalError(
            f"Cannot build a stand-in interpreter from this Python ({sys.platform}, "
            f"{executable} {'exists' if executable.exists() else 'not found'}): it takes a "
            "Linux CPython laid out as PREFIX/bin/pythonX.Y.",
            hint="Run it with such an interpreter (e.g. in a python:3 container).",
        )
    name = asset_name(version, triple, fmt=fmt)
    extra = {"flavor": FLAVORS[fmt], "fmt": fmt}
    path = out_dir / name
    stamp = out_dir / f"{name}.json"
    expected_stamp = {"format": _FORMAT_VERSION, "prefix": str(prefix), "version": version}
    if not rebuild and path.exists() and stamp.exists():
        recorded = json.loads(stamp.read_text())
        if {k: recorded.get(k) for k in expected_stamp} == expected_stamp:
            return Archive(
                path, name, version, BUILD_TAG, triple, path.stat().st_size, recorded["sha256"],
                str(prefix), **extra,
            )  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if fmt == "zst":
        with _zstd_file(partial) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
            _write_tree(tar, prefix, xy, ROOTS[fmt])
    else:
        with tarfile.open(partial, "w:gz", compresslevel=compresslevel) as tar:
            _write_tree(tar, prefix, xy)
    partial.replace(path)
    sha256 = _sha256(path)
    stamp.write_text(json.dumps({**expected_stamp, "sha256": sha256}, indent=2) + "\n")
    return Archive(
        path, name, version, BUILD_TAG, triple, path.stat().st_size, sha256, str(prefix), **extra
    )
