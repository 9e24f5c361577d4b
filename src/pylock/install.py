"""Install a PBS archive: extraction (``extract.py``), layout and version checks, atomic placement.

The archive is a stored file whose sha256 was checked, or a download whose size and sha256 are
only known once its stream ends (``download.Download``): either way extraction vets every
member, and nothing is placed before the bytes matched the lock (docs/security.md).

The install is built in a temp dir beside the destination (same filesystem, so the final rename
is atomic), checked there (layout, ``patchlevel.h``, and the interpreter's own answer when it can
run here), given its receipt, and only then renamed into place. A ``filelock`` per destination
serialises concurrent syncs; whatever a crash leaves behind (temp dirs, an old install renamed
aside) is recognised by name and cleaned up or restored by the next install under that lock.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from pylock import __version__
from pylock.errors import ExternalError, InputError
from pylock.extract import Extractor, Limits, cannot_write, refused
from pylock.lockfile import Target
from pylock.platforms import host_platform, parse_platform
from pylock.receipt import (
    BUILD_NAME,
    META_DIR,
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

INTERPRETER_TIMEOUT = 60.0
"""Seconds the interpreter gets to print its version; a cold start on a slow disk is well under."""

VERSION_PROBE = "import sys; print(*tuple(sys.version_info))"
"""Run as ``python -I -S -B -c VERSION_PROBE``; prints e.g. ``3 12 8 final 0`` (fields 0-4)."""

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?")
_LEVELS = {"a": "alpha", "b": "beta", "rc": "candidate", None: "final"}
_LEVEL_SPELLING = {"alpha": "a", "beta": "b", "candidate": "rc"}
_VARIANT_SUFFIX = {"default": "", "freethreaded": "t", "debug": "d", "freethreaded+debug": "td"}
_PY_VERSION = re.compile(r'^[ \t]*#[ \t]*define[ \t]+PY_VERSION[ \t]+"([^"]*)"', re.MULTILINE)


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


class StreamedArchive(Protocol):
    """An archive that arrives while it is extracted (``download.Download``).

    ``extract`` calls ``fresh()`` for an extractor over an empty temp tree at each attempt,
    feeds it, and returns what RECORD lists only once the bytes matched the lock.
    """

    def extract(self, fresh: Callable[[], Extractor]) -> dict[str, RecordEntry]: ...


def install(
    archive: Path | StreamedArchive,
    target: Target,
    dest: Path,
    *,
    run_interpreter: bool | None = None,
    reinstall: bool = False,
    limits: Limits | None = None,
) -> InstallOutcome:
    """Install ``archive`` as exactly ``dest``: a stored file (already verified against
    ``target``), or a download verified as it is extracted (nothing placed before it matched).

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
            if limits is None:
                limits = Limits.for_archive(target.size)
            receipt = _build(archive, target, temp, run_interpreter, limits)
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
    """An exclusive lock on a file, held for the ``with`` block; failures are ExternalErrors.

    POSIX: ``flock`` on the file, taken by a blocking call (Ctrl-C still interrupts it), the same
    lock ``filelock`` takes there; the lock file is left in place, as ``filelock`` leaves it.
    Elsewhere ``filelock`` itself, imported only then (it costs more to import than a cold
    install spends in the lock).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._fallback: Any = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:
            import filelock

            self._fallback = filelock.FileLock(os.fspath(self._path))
        try:
            if self._fallback is not None:
                self._fallback.acquire()
                return
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        except OSError as error:
            raise ExternalError(
                f"Cannot take the install lock {self._path}: {error}.",
                hint="Check that its directory is writable.",
            ) from error

    def __exit__(self, *exc_info: object) -> None:
        if self._fallback is not None:
            self._fallback.release()
        elif self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the lock
            self._fd = None


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


def _build(
    archive: Path | StreamedArchive,
    target: Target,
    root: Path,
    run_interpreter: bool | None,
    limits: Limits,
) -> Receipt:
    windows = parse_platform(target.platform, where="the lock target").os == "windows"
    version = _parse_version(target)
    if isinstance(archive, Path):
        records = Extractor(root, target.asset_name, limits).extract(archive)
    else:

        def fresh() -> Extractor:
            if any(root.iterdir()):  # a restarted download: start from an empty tree
                shutil.rmtree(root)
                _write(root.mkdir, root)
            return Extractor(root, target.asset_name, limits)

        records = archive.extract(fresh)
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
        raise cannot_write(where, error) from error


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
        raise refused(
            target.asset_name,
            f"has no interpreter at {' or '.join(candidates)} (after stripping python/)",
        )
    if not windows and not (root / interpreter).stat().st_mode & stat.S_IXUSR:
        raise refused(target.asset_name, f"has an interpreter {interpreter} that cannot execute")
    try:
        text = (root / header).read_text(encoding="utf-8", errors="replace")
    except OSError:
        raise refused(target.asset_name, f"has no {header}") from None
    match = _PY_VERSION.search(text)
    if match is None:
        raise refused(target.asset_name, f"has a {header} without #define PY_VERSION")
    if match.group(1) != target.version:
        raise refused(
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
        raise refused(
            target.asset_name,
            f"has an interpreter {interpreter} that did not answer within "
            f"{INTERPRETER_TIMEOUT:.0f} seconds",
        ) from None
    except OSError as error:
        raise refused(
            target.asset_name, f"has an interpreter {interpreter} that cannot run here ({error})"
        ) from error
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()[-500:]
        raise refused(
            target.asset_name,
            f"has an interpreter {interpreter} that failed (exit {result.returncode}: {detail})",
        )
    reported = result.stdout.decode("utf-8", "replace").split()
    if reported != [str(field) for field in version]:
        raise refused(
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
