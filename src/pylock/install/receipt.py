"""The install receipt and the installed-tree digest.

INTERFACE (fixed; installer.py writes these, checking/checks.py and the no-op sync read them).

Kept apart from installer.py so that ``pylock check`` and a no-op ``pylock sync`` import only this
and the stdlib: reading one small JSON file is the whole fast path.

Layout inside an install directory:
  ``BUILD``                 the PBS build tag and a newline (as uv writes it)
  ``.pylock/receipt.json``  the Receipt (small; the only file a no-op sync reads)
  ``.pylock/RECORD``        one line per installed file:
                            ``<path>\t<mode octal>\t<sha256 or link target>``, sorted by path;
                            the receipt's ``tree_digest`` is the sha256 of this file.
``.pylock/`` itself and ``BUILD`` are not part of the tree; neither are ``__pycache__`` dirs,
which the interpreter writes as it runs.

RECORD details: paths are POSIX, relative to the install dir, UTF-8; the mode is the permission
bits as four octal digits (``0755``); a symlink is recorded with mode ``0777`` (its own permission
bits mean nothing and differ between systems) and ``->`` plus its target. Only files and symlinks
are listed: an empty directory carries no content worth verifying.

``receipt.json`` is a JSON object::

    {"receipt_version": 1,
     "target": {"platform": ..., "triple": ..., ..., "sha256": ...},   # the lock's entry, verbatim
     "pylock_version": "0.1.0", "installed_at": "2025-01-02T03:04:05.678901Z",
     "tree_digest": "<sha256 hex of RECORD>", "interpreter": "bin/python3.12",
     "components": {"status": "probed", "libraries": [{"name": "openssl", "version": "3.0.15",
                    "module": "_ssl", "reported": "OpenSSL 3.0.15 3 Sep 2024"}, ...]},
     "licenses": {"interpreter": ["Python-2.0", "CNRI-Python"], "modules": {"_ssl": [...]},
                  "public_domain": ["_sqlite3"]}}

``components`` (install/components.py) is absent from receipts an older pylock wrote: those stay
valid, and ``show --components`` and ``sbom`` say to reinstall to record them. ``licenses`` is
present only for a full archive (from its ``PYTHON.json``). Neither changes ``receipt_version``:
an older pylock ignores keys it does not know, so it still reads these receipts.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from pylock.base.fsutil import atomic_write_bytes, hash_stream
from pylock.base.layout import BUILD_NAME as BUILD_NAME  # re-exported for installer.py
from pylock.base.layout import META_DIR as META_DIR
from pylock.base.layout import RECEIPT_NAME as RECEIPT_NAME
from pylock.base.layout import RECEIPT_VERSION as RECEIPT_VERSION
from pylock.base.layout import RECORD_NAME as RECORD_NAME
from pylock.errors import ExternalError, VerificationError
from pylock.extract.record import PYCACHE as PYCACHE
from pylock.extract.record import SYMLINK_MODE as SYMLINK_MODE
from pylock.extract.record import RecordEntry as RecordEntry
from pylock.formats import SHA256_HEX
from pylock.install.components import (
    Components,
    Licenses,
    components_from_json,
    components_json,
    licenses_from_json,
    licenses_json,
)
from pylock.resolution.lockfile import ARCHIVE_FIELDS, Target, decode_target

_MODE = re.compile(r"[0-7]{3,4}")


@dataclass(frozen=True)
class Receipt:
    target: Target  # the lock's entry this install was made from, verbatim
    pylock_version: str
    installed_at: str  # ISO 8601 UTC
    tree_digest: str  # sha256 hex of RECORD
    interpreter: str  # path of the interpreter relative to the install dir, e.g. "bin/python3.12"
    # the bundled libraries; None: a receipt from a pylock that did not probe them
    components: Components | None = None
    licenses: Licenses | None = None  # from a full archive's PYTHON.json; None: none stated


def read_receipt(install_dir: Path) -> Receipt | None:
    """The receipt, or None when there is none or it cannot be read (never raises for that).

    A receipt that does not parse, or names fields of the wrong type, is treated exactly like a
    missing one: the caller then reinstalls, which is always safe, rather than trusting half of it.
    """
    try:
        data = json.loads((install_dir / META_DIR / RECEIPT_NAME).read_bytes())
    except (OSError, ValueError, RecursionError):  # RecursionError: nested thousands deep
        return None
    return _receipt_from_json(data)


def _receipt_from_json(data: object) -> Receipt | None:
    if not isinstance(data, dict) or data.get("receipt_version") != RECEIPT_VERSION:
        return None
    # The lock's entry, verbatim: read by the lock's own decoder, so a receipt holds exactly
    # what python.lock may hold (an entry the lock would refuse is no receipt at all).
    target, problems = decode_target(data.get("target"), "receipt target")
    if target is None or problems:
        return None
    strings = {}
    for key in ("pylock_version", "installed_at", "tree_digest", "interpreter"):
        value = data.get(key)
        if not isinstance(value, str):
            return None
        strings[key] = value
    if not SHA256_HEX.fullmatch(strings["tree_digest"]) or not _is_inside(strings["interpreter"]):
        return None
    components = licenses = None
    if "components" in data and (components := components_from_json(data["components"])) is None:
        return None
    if "licenses" in data and (licenses := licenses_from_json(data["licenses"])) is None:
        return None
    return Receipt(
        target=target,
        pylock_version=strings["pylock_version"],
        installed_at=strings["installed_at"],
        tree_digest=strings["tree_digest"],
        interpreter=strings["interpreter"],
        components=components,
        licenses=licenses,
    )


def _is_inside(relative: str) -> bool:
    """A relative POSIX path that stays inside the directory it is relative to."""
    if not relative or relative.startswith("/") or "\\" in relative or ":" in relative:
        return False
    return ".." not in relative.split("/")


def receipt_json(receipt: Receipt) -> str:
    """The text ``write_receipt`` stores: stable key order, so equal receipts give equal bytes."""
    document = {
        "receipt_version": RECEIPT_VERSION,
        # the lock's entry as the lock spells it, without the matrix's `request` stamp; an
        # absent optional key (a size the catalog did not state) stays absent, not null
        "target": {
            name: value
            for name in ARCHIVE_FIELDS
            if (value := getattr(receipt.target, name)) is not None
        },
        "pylock_version": receipt.pylock_version,
        "installed_at": receipt.installed_at,
        "tree_digest": receipt.tree_digest,
        "interpreter": receipt.interpreter,
    }
    if receipt.components is not None:
        document["components"] = components_json(receipt.components)
    if receipt.licenses is not None:
        document["licenses"] = licenses_json(receipt.licenses)
    return json.dumps(document, indent=2) + "\n"


def write_receipt(install_dir: Path, receipt: Receipt) -> None:
    """Write ``.pylock/receipt.json`` atomically: a reader sees the old receipt or the new one.

    The no-op sync trusts this file alone, so a torn write must never be possible: the text goes
    to a temp file in the same directory and is renamed over the old one.
    """
    meta = install_dir / META_DIR
    try:
        meta.mkdir(exist_ok=True)
    except OSError as error:
        raise ExternalError(
            f"Could not write the install receipt {meta / RECEIPT_NAME}: {error}.",
            hint="Check that the install directory is writable and the disk is not full.",
        ) from error
    atomic_write_bytes(meta / RECEIPT_NAME, receipt_json(receipt).encode("utf-8"))


def format_record(entries: list[RecordEntry]) -> str:
    """The RECORD text: one ``path<TAB>mode<TAB>digest`` line per entry, sorted by path."""
    lines = []
    for entry in sorted(entries, key=lambda e: e.path):
        if any(c in entry.path or c in entry.digest for c in "\t\n\r"):
            raise ValueError(f"RECORD cannot hold a tab or newline: {entry.path!r}")
        lines.append(f"{entry.path}\t{entry.mode:04o}\t{entry.digest}\n")
    return "".join(lines)


def record_digest(text: str) -> str:
    """The tree digest of a RECORD text (what the receipt's ``tree_digest`` holds)."""
    import hashlib  # only installs and check --deep hash; check and which only read

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_record(text: str, *, where: str = RECORD_NAME) -> list[RecordEntry]:
    """Entries of a RECORD text; VerificationError naming the line when one is malformed."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0] or not _MODE.fullmatch(parts[1]) or not parts[2]:
            raise VerificationError(
                f"{where} line {number} is not '<path><TAB><mode><TAB><digest>': {line!r}.",
                hint="The install was changed after pylock wrote it; reinstall it "
                "(`pylock sync --reinstall`).",
            )
        entries.append(RecordEntry(parts[0], int(parts[1], 8), parts[2]))
    return entries


def read_record(install_dir: Path) -> list[RecordEntry]:
    """The RECORD of an install; VerificationError if it is missing or malformed."""
    path = install_dir / META_DIR / RECORD_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise VerificationError(
            f"Cannot read the install record {path}: {error}.",
            hint="Reinstall the interpreter with `pylock sync --reinstall`.",
        ) from error
    return parse_record(text, where=str(path))


def hash_file(path: str) -> str:
    """The sha256 hex of a file (in 1 MiB chunks: hashlib releases the GIL for those)."""
    with Path(path).open("rb") as stream:
        return hash_stream(stream)


def _hash_or_mark(path: str) -> str:
    """A file's digest, or a marker that can never equal one, so an unreadable file shows up."""
    try:
        return hash_file(path)
    except OSError:
        return "!unreadable"


def scan_tree(install_dir: Path) -> list[RecordEntry]:
    """Hash every file of an installed tree again (for ``check --deep``); parallel where it helps.

    Returns entries in the same form and order as RECORD, so ``format_record(scan_tree(d))``
    equals the recorded text exactly when nothing changed. Symlinks are read, never followed.
    Something that is neither a file, a directory nor a symlink, or a directory that cannot be
    listed, gets a digest starting with ``!`` so it can never match a recorded entry.
    """
    entries: list[RecordEntry] = []
    files: list[tuple[str, str, int]] = []  # (relative path, absolute path, mode)
    pending: list[tuple[str, str]] = [("", os.fspath(install_dir))]
    while pending:
        prefix, directory = pending.pop()
        try:
            listing = list(os.scandir(directory))
        except OSError as error:
            if not prefix:
                raise ExternalError(
                    f"Cannot read the install directory {install_dir}: {error}.",
                    hint="Check that it exists and is readable.",
                ) from error
            entries.append(RecordEntry(prefix.rstrip("/"), 0, "!unreadable"))
            continue
        for item in listing:
            relative = prefix + item.name
            if item.name == PYCACHE or (not prefix and item.name in (META_DIR, BUILD_NAME)):
                continue
            if item.is_symlink():
                link = os.fspath(Path(item.path).readlink())
                entries.append(RecordEntry(relative, SYMLINK_MODE, "->" + link))
            elif item.is_dir(follow_symlinks=False):
                pending.append((relative + "/", item.path))
            else:
                mode = item.stat(follow_symlinks=False).st_mode
                if stat.S_ISREG(mode):
                    files.append((relative, item.path, stat.S_IMODE(mode)))
                else:
                    entries.append(RecordEntry(relative, stat.S_IMODE(mode), "!special"))
    from concurrent.futures import ThreadPoolExecutor  # only check --deep pays for threads

    with ThreadPoolExecutor() as pool:
        digests = pool.map(_hash_or_mark, [absolute for _, absolute, _ in files])
        for (relative, _, mode), digest in zip(files, digests, strict=True):
            entries.append(RecordEntry(relative, mode, digest))
    return sorted(entries, key=lambda e: e.path)
