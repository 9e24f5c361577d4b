"""The Python face of pylock: ``pylock.lock``, ``sync``, ``which`` and ``check`` (docs/api.md).

Each function is the library call its command makes, behind keyword arguments named like the
command's options, so a script, a nox session or a build backend can pin its interpreter
without parsing pylock's output. Nothing is decided here: the rules stay in the stage that owns
them (``pylock.resolution.locker.lock_project``, ``pylock.commands.sync.sync_project``,
``pylock.checking.checks.run_checks``), and the results are theirs, frozen dataclasses.

A Python caller is a top-level caller, as the CLI is: ``settings=None`` resolves the settings
from ``os.environ`` exactly as a command does without flags (``Settings.resolve``); pass a
``Settings`` to choose them (``--source``, ``--mirror``, ``--offline`` are its arguments).
Errors are the CLI's own ``PylockError`` types, each with the ``exit_code`` the command would
exit with. Nothing prints.

Users reach this module through ``pylock/__init__.py``, which loads it on first use (PEP 562),
so ``import pylock`` stays free for the console script.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pylock.base.settings import Settings
from pylock.checking.checks import CheckOptions, run_checks
from pylock.checking.report import CheckReport
from pylock.commands.sync import SyncOptions, SyncResult, installed_interpreter, sync_project
from pylock.resolution.locker import LockOptions, LockResult, lock_project

__all__ = ["check", "lock", "sync", "which"]

StrPath = str | os.PathLike[str]


def _settings(settings: Settings | None) -> Settings:
    """The caller's settings, else the environment's, resolved as a command without flags
    resolves them (every value validated: a bad ``PYLOCK_*`` variable is an InputError)."""
    return settings if settings is not None else Settings.resolve(environ=os.environ)


def lock(
    project_dir: StrPath,
    *,
    settings: Settings | None = None,
    python: str | None = None,
    platforms: Sequence[str] = (),
    flavor: str | None = None,
    build: str | None = None,
    exclude_newer: str | None = None,
    upgrade: bool = False,
    dry_run: bool = False,
) -> LockResult:
    """``pylock lock``: resolve ``project_dir``'s ``[tool.pylock]`` into its ``python.lock``.

    The options are the command's (``platforms`` is the repeatable ``--platform``; ``python``
    sets ``[tool.pylock].python``, as ``--python`` does, and ``result.pinned`` says so); the source
    is the settings' (``Settings.resolve(source=...)``), else the manifest's. As with the
    command, a lock that still satisfies the manifest is kept byte for byte without opening a
    connection: ``result.written`` says whether the file changed. Raises ``InputError`` (2),
    ``ResolutionError`` (1) or ``ExternalError`` (3).
    """
    options = LockOptions(
        python=python,
        platforms=tuple(platforms),
        flavor=flavor,
        build=build,
        exclude_newer=exclude_newer,
        upgrade=upgrade,
        dry_run=dry_run,
    )
    return lock_project(Path(project_dir), options, settings=_settings(settings))


def sync(
    project_dir: StrPath,
    *,
    settings: Settings | None = None,
    python: str | None = None,
    platform: str | None = None,
    into: StrPath | None = None,
    frozen: bool = False,
    reinstall: bool = False,
) -> SyncResult:
    """``pylock sync``: install (or confirm) the interpreter ``python.lock`` names for this
    machine, or for ``platform``; ``python`` picks one request of a matrix lock.

    ``result.action`` is ``"installed"`` or ``"unchanged"``, ``result.installation`` says where.
    A lock that no longer satisfies the manifest is refused (``VerificationError``, 1) unless
    ``frozen``; bytes that differ from the lock are refused and kept nowhere.
    """
    options = SyncOptions(
        platform=platform,
        python=python,
        into=None if into is None else Path(into),
        frozen=frozen,
        reinstall=reinstall,
    )
    return sync_project(Path(project_dir), options, settings=_settings(settings))


def which(
    project_dir: StrPath,
    *,
    settings: Settings | None = None,
    python: str | None = None,
    platform: str | None = None,
    into: StrPath | None = None,
) -> Path:
    """``pylock which``: the path of the locked interpreter installed for this machine.

    Raises the command's ``VerificationError`` (exit code 1) when that build is not installed.
    Like the command it does not refuse a stale lock (use ``check`` to see whether the lock is
    current); unlike the command it prints no warning.
    """
    return installed_interpreter(
        Path(project_dir),
        platform=platform,
        python=python,
        into=None if into is None else Path(into),
        settings=_settings(settings),
    )


def check(
    project_dir: StrPath,
    *,
    settings: Settings | None = None,
    installed: bool = False,
    deep: bool = False,
    remote: bool = False,
    python: str | None = None,
    platform: str | None = None,
    every: bool = False,
    into: StrPath | None = None,
    venv: StrPath | None = None,
) -> CheckReport:
    """``pylock check``: is the lock sound, current, and what is installed what it locks?

    Returns the whole report and raises nothing a user can cause: ``report.ok`` and
    ``report.exit_code`` are the command's verdict, ``report.get(name)`` one check's
    (docs/check.md). ``installed``, ``deep``, ``remote`` and ``every`` are ``--installed``,
    ``--deep``, ``--remote`` and ``--all``; ``--remote`` reads the settings' mirror.
    """
    options = CheckOptions(
        installed_required=installed,
        deep=deep,
        remote=remote,
        platform=platform,
        python=python,
        every=every,
        into=None if into is None else Path(into),
        venv=None if venv is None else Path(venv),
    )
    return run_checks(Path(project_dir), options, settings=_settings(settings))
