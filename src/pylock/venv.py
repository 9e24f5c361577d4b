"""``pylock venv`` and the facts the ``venv`` check reads: is a virtual environment on the lock?

A virtual environment records the interpreter it was made from in ``pyvenv.cfg``: ``home`` is the
directory of that interpreter, and ``version`` (``python -m venv``) or ``version_info`` (uv) its
version. pylock installs every build in a directory of its own, so ``home`` alone tells which build
a venv runs on; the version is compared too, so a venv that points at the right directory but
was made before that directory held the locked build still fails.

``pylock venv`` makes the venv with the locked interpreter's own ``-m venv`` (a real venv, as
Python makes it), syncing first when the interpreter is not installed. It never deletes a
directory that is not a venv, and a venv it replaces (``--clear``) is moved aside first and put
back if the new one cannot be made, so a failed run leaves the old venv.

``pylock check`` reads ``pyvenv.cfg`` through this module on every run, so its top imports no
more than the check path already has: ``shutil`` (which drags in bz2 and lzma), ``subprocess``
and ``glob`` are imported by the functions that make a venv.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pylock.errors import ExternalError, InputError, VerificationError

if TYPE_CHECKING:
    from pylock.download import ProgressCallback
    from pylock.syncing import SyncOptions

PYVENV_CFG = "pyvenv.cfg"
DEFAULT_VENV = ".venv"
_ASIDE = ".pylock-replaced-"
INCOMPLETE = ".pylock-incomplete"
"""Made in a new venv before ``-m venv`` runs and removed once it is verified: a venv that still
has it was cut short (the process was killed), so it is ours to delete, ``--clear`` or not."""
_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc"}
_VERSION_INFO = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:\.(alpha|beta|candidate|final)\.(\d+))?")

Action = Literal["created", "replaced", "unchanged"]


@dataclass(frozen=True)
class VenvConfig:
    """What a ``pyvenv.cfg`` says about the interpreter a venv was made from."""

    path: Path  # the venv directory
    home: str | None  # the base interpreter's directory, as written
    version: str | None  # "3.12.8", "3.15.0rc1"; None when the file names none

    @property
    def home_path(self) -> Path | None:
        return Path(self.home) if self.home else None


def read_pyvenv_cfg(venv: Path) -> VenvConfig | None:
    """The venv's configuration, or None when ``venv`` has no readable ``pyvenv.cfg``."""
    try:
        text = (venv / PYVENV_CFG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            values[key.strip().lower()] = value.strip()
    version = values.get("version_info") or values.get("version")
    return VenvConfig(venv, values.get("home") or None, _normal_version(version))


def _normal_version(text: str | None) -> str | None:
    """``3.12.8.final.0`` -> ``3.12.8``, ``3.15.0.candidate.1`` -> ``3.15.0rc1``; others as is."""
    if not text:
        return None
    match = _VERSION_INFO.fullmatch(text)
    if match is None:
        return text
    major, minor, micro, level, serial = match.groups()
    base = f"{major}.{minor}.{micro}"
    if level in _LEVELS:
        return f"{base}{_LEVELS[level]}{serial}"
    return base


def same_version(venv_version: str | None, locked: str) -> bool:
    """Whether a venv's version is the locked one. ``python -m venv`` writes only X.Y.Z, so
    ``3.15.0`` matches a locked ``3.15.0rc1``; ``home`` is what tells those builds apart."""
    if venv_version is None:
        return False
    if venv_version == locked:
        return True
    base = re.match(r"\d+\.\d+\.\d+", locked)
    return base is not None and venv_version == base.group(0)


def same_directory(a: Path, b: Path) -> bool:
    """Whether two spellings name one directory (symlinks and ``..`` resolved)."""
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def mismatch(config: VenvConfig, home: Path, version: str) -> str | None:
    """Why ``config`` is not a venv on the interpreter in ``home`` at ``version``, or None."""
    if (config.path / INCOMPLETE).exists():
        return "it is incomplete (the `pylock venv` making it was cut short)"
    if config.home_path is None:
        return f"its {PYVENV_CFG} names no home"
    if not same_directory(config.home_path, home):
        return f"it was made from the interpreter in {config.home}, not the locked one in {home}"
    if not same_version(config.version, version):
        return f"its version is {config.version or 'not stated'}, python.lock says {version}"
    return None


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
    environ: Mapping[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> VenvResult:
    """A venv at ``path`` (default ``.venv`` in the project) on the locked interpreter.

    An existing venv already on it is left alone (``unchanged``); one on another interpreter is
    replaced only with ``clear``; a directory that is not a venv is never touched.
    """
    import shutil

    from pylock.syncing import sync_project

    dest = (path if path is not None else project_dir / DEFAULT_VENV).absolute()
    _recover(dest)
    if (dest / INCOMPLETE).is_file() and not dest.is_symlink():
        shutil.rmtree(dest, ignore_errors=True)  # a venv a killed run was making
    _refuse_non_venv(dest)  # before syncing: a refusal should cost nothing
    synced = sync_project(project_dir, sync_options, environ=environ, on_progress=on_progress)
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

    existing = read_pyvenv_cfg(dest)
    if existing is not None and not clear:
        why = mismatch(existing, home, target.version)
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
        _run_venv(interpreter, dest, seed=seed)
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
        asides = sorted(dest.parent.glob(f".{glob.escape(dest.name)}{_ASIDE}*"))
    except OSError:
        return
    for aside in asides:
        if not os.path.lexists(dest) and read_pyvenv_cfg(aside) is not None:
            with contextlib.suppress(OSError):  # else it stays for the next run to try again
                aside.replace(dest)
            continue
        shutil.rmtree(aside, ignore_errors=True)


def _move_aside(dest: Path) -> Path:
    """Rename the old venv next to itself, so a failure can put it back (one rename each way)."""
    import shutil

    aside = dest.with_name(f".{dest.name}{_ASIDE}{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)  # a leftover of a dead run with our pid
    try:
        dest.replace(aside)
    except OSError as exc:
        raise ExternalError(
            f"Cannot move {dest} aside to replace it: {exc.strerror or exc}.",
            hint="Check the permissions of its parent directory.",
        ) from exc
    return aside


def _run_venv(interpreter: Path, dest: Path, *, seed: bool) -> None:
    import subprocess

    argv = [str(interpreter), "-m", "venv", *([] if seed else ["--without-pip"]), str(dest)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
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
