"""``pylock show``: every locked target (or one ``--python`` request's) and its install here.

The rule for "installed" is the store's (install/store.py), the same one sync, which and check
ask; this only walks the lock's targets through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.base.settings import Settings
from pylock.install.store import Installation, Store
from pylock.resolution.lockfile import Lock
from pylock.resolution.selection import read_lock, select_request

if TYPE_CHECKING:
    from pylock.fast.memo import Evidence


@dataclass(frozen=True)
class Shown:
    lock: Lock  # the whole lock, for the request a matrix target belongs to
    installations: tuple[Installation, ...]  # one per shown target, in lock order

    @property
    def matrix(self) -> bool:
        return self.lock.is_matrix


def show_installations(
    project_dir: Path,
    *,
    settings: Settings,
    python: str | None = None,
    evidence: Evidence | None = None,
) -> Shown:
    """The lock's targets (only ``python``'s request when given) and where each is installed;
    what that rests on (the lock, each install's receipt) goes into ``evidence`` when given."""
    lock = read_lock(project_dir, evidence)
    targets = lock.targets if python is None else select_request(lock, python).targets
    store = Store(settings.python_dir)
    shown = Shown(lock, tuple(store.find(target) for target in targets))
    if evidence is not None:
        for installation in shown.installations:
            installation.note(evidence)
    return shown
