"""``pylock venv``: a virtual environment on the locked interpreter.

A virtual environment records the interpreter it was made from in ``pyvenv.cfg``: ``home`` is the
directory of that interpreter, and ``version`` (``python -m venv``) or ``version_info`` (uv) its
version. pylock installs every build in a directory of its own, so ``home`` alone tells which build
a venv runs on; the version is compared too, so a venv that points at the right directory but
was made before that directory held the locked build still fails.

``pylock venv`` makes the venv with the locked interpreter's own ``-m venv`` (a real venv, as
Python makes it), syncing first when the interpreter is not installed. It never deletes a
directory that is not a venv, and a venv it replaces (``--clear``) is moved aside first and put
back if the new one cannot be made, so a failed run leaves the old venv.

The facts about an existing venv (``pyvenv.cfg``) are checking/pyvenv.py's, shared with the
``venv`` check.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pylock.checking.pyvenv import DEFAULT_VENV, INCOMPLETE, PYVENV_CFG, mismatch, read_pyvenv_cfg
from pylock.errors import ExternalError, InputError, VerificationError

if TYPE_CHECKING:
    from pylock.base.settings import Settings
    from pylock.commands.sync import SyncOptions
    from pylock.fast.memo import Evidence
    from pylock.fetch.download import ProgressCallback

_ASIDE = ".pylock-replaced-"

Action = Literal["created", "replaced", "unchanged"]


@dataclass(frozen=True)
class VenvResult:
    path: Path
    interpreter: Path  # the locked interpreter the venv is made from
    install_dir: Path  # where that interpreter is installed
    version: str
    build: str
    action: Action
    synced: bool  # the interpreter had to be installed first


def make_venv(
    project_dir: Path,
    path: Path | None,
    sync_options: SyncOptions,
    *,
    clear: bool = False,
    seed: bool = False,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
    evidence: Evidence | None = None,
) -> VenvResult:
    """A venv at ``path`` (default ``.venv`` in the project) on the locked interpreter.

    An existing venv already on it is left alone (``unchanged``); one on another interpreter is
    replaced only with ``clear``; a directory that is not a venv is never touched. What an
    ``unchanged`` verdict rests on goes into ``evidence`` when given: sync's no-op, the venv a
    directory holding that ``pyvenv.cfg``, on that ``home``, with nothing left to recover.
    """
    import shutil

    from pylock.commands.sync import sync_project

    dest = (path if path is not None else project_dir / DEFAULT_VENV).absolute()
    _recover(dest)
    if evidence is not None:
        evidence.no_entry_starting(dest.parent, _aside_prefix(dest))
        evidence.directory(dest)
    if (dest / INCOMPLETE).is_file() and not dest.is_symlink():
        shutil.rmtree(dest, ignore_errors=True)  # a venv a killed run was making
    _refuse_non_venv(dest)  # before syncing: a refusal should cost nothing
    synced = sync_project(
        project_dir, sync_options, settings=settings, on_progress=on_progress, evidence=evidence
    )
    installation = synced.installation
    interpreter = installation.interpreter
    assert interpreter is not None  # sync_project returns an installed Installation
    target = installation.target
    home = interpreter.parent

    def result(action: Action) -> VenvResult:
        was_synced = synced.action == "installed"
        return VenvResult(
            dest, interpreter, installation.path, target.version, target.build, action, was_synced
        )

    existing = read_pyvenv_cfg(dest, evidence)
    if existing is not None and not clear:
        why = mismatch(existing, home, target.version, evidence)
        if why is None:
            return result("unchanged")
        raise InputError(
            f"{dest} is a virtual environment, but not on the locked interpreter: {why}.",
            hint="Pass --clear to replace it with one on the locked interpreter.",
        )
    aside = _move_aside(dest) if existing is not None else None
    with contextlib.suppress(OSError):
        dest.rmdir()  # an empty directory stands in for nothing
    try:
        _start(dest)
        _run_venv(interpreter, dest, seed=seed, environ=settings.environ)
        (dest / INCOMPLETE).unlink()
        made = read_pyvenv_cfg(dest)
        why = "it has no pyvenv.cfg" if made is None else mismatch(made, home, target.version)
        if why is not None:
            raise VerificationError(
                f"{interpreter} -m venv made {dest}, but {why}.",
                hint="Run `pylock check --installed --deep` to see whether the install changed.",
            )
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        if aside is not None:
            aside.replace(dest)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return result("replaced" if aside is not None else "created")


def _start(dest: Path) -> None:
    """The new venv's directory, marked incomplete until it is verified."""
    try:
        dest.mkdir(parents=True)
        (dest / INCOMPLETE).write_bytes(b"")
    except OSError as exc:
        raise ExternalError(
            f"Cannot create {dest}: {exc.strerror or exc}.",
            hint="Check that its parent directory is writable.",
        ) from exc


def _refuse_non_venv(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise InputError(
            f"{dest} exists and is not a directory; pylock venv will not replace it.",
            hint="Remove it or name another path: `pylock venv PATH`.",
        )
    if not dest.is_dir() or read_pyvenv_cfg(dest) is not None:
        return
    try:
        empty = not any(dest.iterdir())
    except OSError as exc:
        raise ExternalError(f"Cannot read {dest}: {exc.strerror or exc}.") from exc
    if not empty:
        raise InputError(
            f"{dest} exists and is not a virtual environment (it has no {PYVENV_CFG}); "
            "pylock venv will not replace it, even with --clear.",
            hint="Move it away or name another path: `pylock venv PATH`.",
        )


def _recover(dest: Path) -> None:
    """Finish what a killed ``--clear`` left: the old venv it had moved aside is put back when
    no new one arrived, and deleted when one did."""
    import glob
    import shutil

    try:
        asides = sorted(dest.parent.glob(f"{glob.escape(_aside_prefix(dest))}*"))
    except OSError:
        return
    for aside in asides:
        if not os.path.lexists(dest) and read_pyvenv_cfg(aside) is not None:
            with contextlib.suppress(OSError):  # else it stays for the next run to try again
                aside.replace(dest)
            continue
        shutil.rmtree(aside, ignore_errors=True)


def _aside_prefix(dest: Path) -> str:
    """The name of a venv moved aside, before the pid: ``.<name>.pylock-replaced-``."""
    return f".{dest.name}{_ASIDE}"


def _move_aside(dest: Path) -> Path:
    """Rename the old venv next to itself, so a failure can put it back (one rename each way)."""
    import shutil

    aside = dest.with_name(f"{_aside_prefix(dest)}{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)  # a leftover of a dead run with our pid
    try:
        dest.replace(aside)
    except OSError as exc:
        raise ExternalError(
            f"Cannot move {dest} aside to replace it: {exc.strerror or exc}.",
            hint="Check the permissions of its parent directory.",
        ) from exc
    return aside


def _run_venv(interpreter: Path, dest: Path, *, seed: bool, environ: Mapping[str, str]) -> None:
    import subprocess

    argv = [str(interpreter), "-m", "venv", *([] if seed else ["--without-pip"]), str(dest)]
    env = {k: v for k, v in environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise ExternalError(
            f"Cannot run {interpreter}: {exc.strerror or exc}.",
            hint="Run `pylock sync --reinstall` to install it again.",
        ) from exc
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExternalError(
            f"`{interpreter} -m venv {dest}` failed (exit {done.returncode}): {said}",
            hint="Check that the directory is writable and the disk is not full.",
        )
