"""Which target of a lock a command means: the request (``--python``) and the platform.

One rule for sync, which, run, show, check, venv and export: a matrix lock is viewed one
request at a time, and a missing target is an error that names the ``pylock lock`` that
adds it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.errors import InputError
from pylock.project.platforms import host_platform, parse_platform
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, Target

if TYPE_CHECKING:
    from pylock.fast.memo import Evidence


def read_lock(project_dir: Path, evidence: Evidence | None = None) -> Lock:
    """The project's python.lock; its bytes are noted in a memo's ``evidence`` when given."""
    path = project_dir / lockfile.LOCK_FILENAME
    raw = lockfile.read_bytes(path)
    if evidence is not None:
        evidence.content(path, raw)
    return lockfile.from_bytes(raw, path)


def select_request(lock: Lock, python: str | None) -> Lock:
    """The single-request view of ``lock`` that ``--python`` names (default: the first request).

    ``python`` names a request as the manifest spells it (normalised like the manifest, so
    ``3.13t`` and `` 3.13t`` agree) or a locked version (``3.11.9``).
    """
    if python is None:
        return lock.view(lock.manifest.python)
    from pylock.project.manifest import parse_python_request

    spellings = {python.strip()}
    with contextlib.suppress(InputError):  # not a request: it may still be a locked version
        spellings.add(parse_python_request(python).text)
    for text in lock.manifest.pythons:
        if text in spellings:
            return lock.view(text)
    for text in lock.manifest.pythons:
        view = lock.view(text)
        if any(t.version in spellings for t in view.targets):
            return view
    listed = ", ".join(lock.manifest.pythons)
    raise InputError(
        f"python.lock has no interpreter for --python {python!r} (its requests: {listed}).",
        hint="Pass one of those requests or a locked version, or add the request to "
        f"[tool.pylock].python and run `{lockfile.relock_command(lock)}`.",
    )


def choose_target(lock: Lock, platform: str | None, python: str | None = None) -> Target:
    """The lock's entry for ``platform`` (default: this host) and the request ``python``
    (default: the first), or an error naming the fix."""
    wanted = parse_platform(platform, where="--platform") if platform else host_platform()
    view = select_request(lock, python)
    target = view.target_for(wanted.key)
    if target is None:
        have = ", ".join(t.platform for t in view.targets) or "none"
        named = f" for request {view.manifest.python}" if lock.is_matrix else ""
        raise InputError(
            f"python.lock has no target{named} for {wanted.key} (it has: {have}).",
            hint=f"Add one with `{lockfile.relock_command(lock, '--platform', wanted.key)}`.",
        )
    return target
