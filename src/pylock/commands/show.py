"""``pylock show``: every locked target (or one ``--python`` request's) and its install here.

The rule for "installed" is the store's (install/store.py), the same one sync, which and check
ask; this only walks the lock's targets through it. What each install's receipt says about the
bundled libraries, and when it says nothing, why and what to run, is ``inventory``'s: ``show
--components`` and ``pylock sbom`` both read it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.base.settings import Settings
from pylock.install.components import NOT_RUN, PROBED, Component, Licenses
from pylock.install.store import Installation, Store
from pylock.project.platforms import host_platform
from pylock.resolution.lockfile import Lock
from pylock.resolution.selection import read_lock, select_request

if TYPE_CHECKING:
    from pylock.fast.memo import Evidence


@dataclass(frozen=True)
class Shown:
    lock: Lock  # the whole lock, for the request a matrix target belongs to
    installations: tuple[Installation, ...]  # one per shown target, in lock order
    requests: tuple[str, ...]  # the manifest request each shown target answers

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
    shown = show_lock(read_lock(project_dir, evidence), settings=settings, python=python)
    if evidence is not None:
        for installation in shown.installations:
            installation.note(evidence)
    return shown


def show_lock(lock: Lock, *, settings: Settings, python: str | None = None) -> Shown:
    """``show_installations`` of a lock already read."""
    if python is None:
        targets = lock.targets
        requests = tuple(t.request or lock.manifest.python for t in targets)
    else:
        view = select_request(lock, python)
        targets = view.targets
        requests = tuple(view.manifest.python for _ in targets)
    store = Store(settings.python_dir)
    return Shown(lock, tuple(store.find(target) for target in targets), requests)


@dataclass(frozen=True)
class Inventory:
    """What is known of one locked target's bundled libraries.

    ``known`` is False when nothing is (not installed here, a receipt from an older pylock, an
    interpreter that cannot run on this host or did not answer); ``note`` then says why and
    what command records them, in a form that works in that state.
    """

    installation: Installation
    request: str
    known: bool
    libraries: tuple[Component, ...]
    licenses: Licenses | None
    note: str | None

    def library_licenses(self, library: Component) -> tuple[str, ...]:
        """The licences PYTHON.json states for ``library``: those of the extension module that
        links it, only when that module carries this library alone (``_tkinter`` links Tcl, Tk
        and X11: its list belongs to none of them in particular); "Public Domain" where PBS
        marks the module so (SQLite), which has no SPDX identifier."""
        if self.licenses is None:
            return ()
        if sum(1 for other in self.libraries if other.module == library.module) > 1:
            return ()
        stated = self.licenses.for_module(library.module)
        if library.module in self.licenses.public_domain:
            stated = (*stated, "Public Domain")
        return stated


def inventory(installation: Installation, request: str, *, matrix: bool) -> Inventory:
    """The bundled libraries the receipt of ``installation`` records, or why there are none."""
    target = installation.target
    receipt = installation.receipt if installation.installed else None
    licenses = receipt.licenses if receipt is not None else None
    sync = "pylock sync" + (f" --python {shlex.quote(request)}" if matrix else "")
    components = receipt.components if receipt is not None else None
    if components is not None and components.status == PROBED:
        return Inventory(installation, request, True, components.libraries, licenses, None)
    if host_platform().key != target.platform:
        where = "is not installed here" if receipt is None else "cannot run on this host"
        note = (
            f"the {target.platform} interpreter {where}; its bundled libraries are unknown "
            f"until it is synced on a {target.platform} machine (`{sync}` there)"
        )
        return Inventory(installation, request, False, (), licenses, note)
    if receipt is None:
        note = f"not installed here; its bundled libraries are unknown until `{sync}` installs it"
        return Inventory(installation, request, False, (), licenses, note)
    if components is None:
        note = (
            f"installed by pylock {receipt.pylock_version}, which did not record bundled "
            f"libraries; `{sync} --reinstall` installs it again and records them"
        )
        return Inventory(installation, request, False, (), licenses, note)
    if components.status == NOT_RUN:  # installed with --platform for this very host's key
        note = (
            f"the interpreter was not run when it was installed; `{sync} --reinstall` runs it "
            "and records them"
        )
    else:
        note = (
            "the interpreter reported its version but not its bundled libraries when it was "
            f"installed; `{sync} --reinstall` runs it again"
        )
    return Inventory(installation, request, False, (), licenses, note)


def inventories(shown: Shown) -> tuple[Inventory, ...]:
    """``inventory`` of every shown target."""
    return tuple(
        inventory(found, request, matrix=shown.matrix)
        for found, request in zip(shown.installations, shown.requests, strict=True)
    )
