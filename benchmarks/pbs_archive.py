"""Check a stand-in PBS ``install_only`` archive (built by ``pylock.commands.standin`` from the
CPython that runs the benchmark) by extracting it and running the interpreter from there.

The builder lives in the package because ``pylock demo`` uses it too; what stays here is the
benchmark's own proof that the archive is sound: the extracted interpreter runs, reports the
right version and prefix, and maps the libpython *inside* the extracted tree (not the original
one, which an unrewritten absolute RUNPATH would quietly load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pylock.commands.standin import (
    BUILD_TAG,
    FLAVOR,
    FLAVORS,
    ROOTS,
    Archive,
    asset_name,
    build_archive,
)

__all__ = [
    "BUILD_TAG",
    "FLAVOR",
    "FLAVORS",
    "ROOTS",
    "Archive",
    "Verification",
    "asset_name",
    "build_archive",
]


@dataclass(frozen=True)
class Verification:
    """What running the extracted interpreter showed."""

    prefix: str
    version: str
    libpython: str  # the libpython the process mapped; must be inside the extracted tree


_PROBE = """\
import json, platform, sys, ssl, sqlite3, zlib, ctypes
maps = open('/proc/self/maps').read().splitlines()
lib = sorted({line.split()[-1] for line in maps if 'libpython' in line})
print(json.dumps({'prefix': sys.prefix, 'version': platform.python_version(), 'libpython': lib}))
"""


def verify_archive(archive: Archive) -> Verification:
    """Extract to a temp dir and run the interpreter from there; SystemExit if it is not sound."""
    with tempfile.TemporaryDirectory(prefix="pylock-bench-verify-") as tmp:
        if archive.fmt == "zst":
            subprocess.run(["tar", "--zstd", "-xf", str(archive.path), "-C", tmp], check=True)
        else:
            with tarfile.open(archive.path, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        root = Path(tmp) / ROOTS[archive.fmt].rstrip("/")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_"))}
        result = subprocess.run(
            [str(root / "bin" / "python3"), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"the extracted interpreter does not run:\n{result.stderr}")
        facts = json.loads(result.stdout)
        libs: list[str] = facts["libpython"]
        inside = [lib for lib in libs if Path(lib).resolve().is_relative_to(Path(tmp).resolve())]
        if facts["version"] != archive.version or Path(facts["prefix"]).resolve() != root.resolve():
            raise SystemExit(f"the extracted interpreter reports {facts}, not {archive.version}")
        if libs and len(inside) != len(libs):
            raise SystemExit(f"the extracted interpreter loaded a libpython outside it: {libs}")
        shown = Path(libs[0]).relative_to(Path(tmp)).as_posix() if libs else "(static)"
        return Verification(str(root), facts["version"], shown)


def main() -> None:
    """Build and verify on its own: ``python benchmarks/pbs_archive.py OUT_DIR TRIPLE``."""
    out_dir, triple = Path(sys.argv[1]), sys.argv[2]
    archive = build_archive(out_dir, triple, rebuild=True)
    found = verify_archive(archive)
    print(json.dumps(archive.to_json(), indent=2))
    print(f"verified: runs {found.version}, libpython from {found.libpython}")


if __name__ == "__main__":
    main()
