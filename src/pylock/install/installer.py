"""Install a PBS archive: extraction (extract/extractor.py), then the checks and the receipt.

The archive is a stored file whose sha256 was checked, or a download whose size and sha256 are
only known once its stream ends (``download.Download``): either way extraction vets every
member, and nothing is placed before the bytes matched the lock (docs/security.md).

The install is built in a temp dir the store hands out beside the destination (same filesystem,
so the final rename is atomic), checked there by interpreter.py (layout, ``patchlevel.h``, and
the interpreter's own answer when it can run here), given its receipt, and only then placed by
the store, which also owns the destination lock and the leftovers of killed processes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from pylock import __version__
from pylock.extract.extractor import Extractor, Limits, cannot_write
from pylock.install import store
from pylock.install.components import NOT_RUN, Components, licenses_from_python_json
from pylock.install.interpreter import check_layout, check_reported_version, parse_version
from pylock.install.receipt import (
    BUILD_NAME,
    META_DIR,
    RECORD_NAME,
    SYMLINK_MODE,
    Receipt,
    RecordEntry,
    format_record,
    record_digest,
    write_receipt,
)
from pylock.project.platforms import host_platform, parse_platform
from pylock.resolution.lockfile import Target


@dataclass(frozen=True)
class InstallOutcome:
    """The receipt now at the destination, and whether this call put it there (False: another
    process installed the same target while we waited for the destination lock)."""

    receipt: Receipt
    installed: bool


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
    holds this build (``store.is_installed``; nothing is touched), else a new one.
    ``run_interpreter`` None means "run it when the target is this host's platform".
    ``reinstall`` replaces even a matching install (``sync --reinstall``, e.g. after
    ``check --deep`` found it changed).

    Raises VerificationError for an archive that is unsafe, malformed or not the locked version
    (nothing installed, no temp dir left), InputError when ``dest`` exists but is not a pylock
    install, ExternalError for disk trouble.
    """
    with store.hold(dest) as slot:
        existing = slot.current()
        if (
            existing is not None
            and not reinstall
            and store.is_installed(slot.dest, existing, target)
        ):
            return InstallOutcome(existing, installed=False)
        if limits is None:
            limits = Limits.for_archive(target.size)
        with slot.temp_dir() as temp:
            receipt = _build(archive, target, temp, run_interpreter, limits)
            slot.place(temp)
        return InstallOutcome(receipt, installed=True)


# -- building the install in the temp dir ---------------------------------------------------------


def _build(
    archive: Path | StreamedArchive,
    target: Target,
    root: Path,
    run_interpreter: bool | None,
    limits: Limits,
) -> Receipt:
    windows = parse_platform(target.platform, where="the lock target").os == "windows"
    version = parse_version(target)
    extractors: list[Extractor] = []  # the last one is the attempt that completed

    def fresh() -> Extractor:
        if any(root.iterdir()):  # a restarted download: start from an empty tree
            shutil.rmtree(root)
            _write(root.mkdir, root)
        extractors.append(Extractor(root, target.asset_name, limits))
        return extractors[-1]

    records = fresh().extract(archive) if isinstance(archive, Path) else archive.extract(fresh)
    python_json = extractors[-1].python_json
    interpreter = check_layout(root, target, version, windows=windows)
    if run_interpreter is None:
        run_interpreter = host_platform().key == target.platform
    # The new interpreter runs (the probe, a child process) while RECORD and BUILD are written
    # beside it: the receipt, written last, waits for its verdict and its components.
    probe = (
        _Concurrent(lambda: check_reported_version(root, interpreter, target, version))
        if run_interpreter
        else None
    )
    try:
        record_text = _record(root, records, interpreter, windows)
        _write(lambda: _write_meta(root, target, record_text), root / META_DIR)
    finally:
        # its refusal, if any, wins over anything raised meanwhile
        components = probe.result() if probe is not None else Components(NOT_RUN)
    receipt = Receipt(
        target=target,
        pylock_version=__version__,
        installed_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        tree_digest=record_digest(record_text),
        interpreter=interpreter,
        components=components,
        licenses=None if python_json is None else licenses_from_python_json(python_json),
    )
    write_receipt(root, receipt)
    return receipt


def _record(root: Path, records: dict[str, RecordEntry], interpreter: str, windows: bool) -> str:
    """The RECORD text of the tree in ``root`` (``bin/python`` added)."""
    if not windows and interpreter.startswith("bin/") and not os.path.lexists(root / "bin/python"):
        link = Path(interpreter).name
        _write(lambda: (root / "bin/python").symlink_to(link), root / "bin/python")
        records["bin/python"] = RecordEntry("bin/python", SYMLINK_MODE, "->" + link)
    return format_record(list(records.values()))


def _write_meta(root: Path, target: Target, record_text: str) -> None:
    (root / BUILD_NAME).write_text(target.build + "\n", encoding="utf-8")
    (root / META_DIR).mkdir()
    (root / META_DIR / RECORD_NAME).write_bytes(record_text.encode("utf-8"))


class _Concurrent:
    """``work()`` on a helper thread, its exception re-raised by ``result()``; where no thread
    can be started, ``work()`` runs at once."""

    def __init__(self, work: Callable[[], Components]) -> None:
        import threading

        self._error: BaseException | None = None
        self._value: Components | None = None

        def run() -> None:
            try:
                self._value = work()
            except BaseException as error:  # handed to result()
                self._error = error

        self._thread: threading.Thread | None = threading.Thread(
            target=run, name="pylock-probe", daemon=True
        )
        try:
            self._thread.start()
        except RuntimeError:  # no thread: run it here
            self._thread = None
            self._value = work()

    def result(self) -> Components:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def _write(action: Callable[[], object], where: Path) -> None:
    """Run a filesystem write; an OSError becomes an ExternalError naming ``where``."""
    try:
        action()
    except OSError as error:
        raise cannot_write(where, error) from error
