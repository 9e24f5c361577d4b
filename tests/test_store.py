"""The store: where a target installs, whether it is installed, the list of installs, and the
placement under a lock (its atomicity and leftovers are also covered end to end in
test_install.py and test_cli_sync.py)."""

from __future__ import annotations

import hashlib
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from archives import build_pbs_archive, make_target
from pylock.base.settings import Settings
from pylock.commands.prune import PruneResult, prune
from pylock.errors import InputError
from pylock.install.installer import install
from pylock.install.store import (
    IDENTITY_FIELDS,
    Store,
    differences,
    hold,
    install_dir_name,
    is_pylock_install,
    leftover_of,
    lock_path,
    same_build,
)
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, LockedManifest, Target

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the synthetic interpreters are /bin/sh scripts"
)


def _installed(root: Path, **options: str) -> Target:
    data = build_pbs_archive(**options)  # type: ignore[arg-type]
    archive = root.parent / f"{hashlib.sha256(data).hexdigest()[:8]}.tar.gz"
    archive.write_bytes(data)
    target = make_target(data, **options)  # type: ignore[arg-type]
    install(archive, target, Store(root).path_for(target), run_interpreter=False)
    return target


def test_install_dir_name() -> None:
    target = make_target(b"x", version="3.12.8", platform="linux-x86_64-gnu")
    assert install_dir_name(target) == (
        f"cpython-3.12.8+20241219-linux-x86_64-gnu-{hashlib.sha256(b'x').hexdigest()[:12]}"
    )


def test_path_for_is_the_root_or_exactly_into(tmp_path: Path) -> None:
    target = make_target(b"x")
    store = Store(tmp_path / "root")
    assert store.path_for(target) == tmp_path / "root" / install_dir_name(target)
    assert store.path_for(target, tmp_path / "opt") == tmp_path / "opt"


def test_the_settings_store_is_pylock_python_dir(tmp_path: Path) -> None:
    settings = Settings.resolve(environ={"PYLOCK_PYTHON_DIR": str(tmp_path)})
    assert Store(settings.python_dir).root == tmp_path


def test_a_moved_url_is_the_same_build_but_other_bytes_are_not() -> None:
    target = make_target(b"x")
    assert same_build(replace(target, url="https://mirror.example/a.tar.gz"), target)
    for name in IDENTITY_FIELDS:
        other = replace(target, **{name: "other"})
        assert not same_build(other, target)
        assert differences(other, target) == [(name, "other", str(getattr(target, name)))]


def test_find_and_installations(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = _installed(root)
    second = _installed(root, version="3.13.1")
    store = Store(root)
    found = store.find(first)
    assert found.installed
    assert found.interpreter == found.path / "bin/python3.12"
    moved = replace(first, url="https://mirror.example/elsewhere.tar.gz")
    assert store.find(moved).installed  # a lock re-pointed at a mirror: nothing to reinstall
    assert not store.find(replace(first, sha256="0" * 64)).installed

    (root / "foreign").mkdir()  # not a pylock install
    (root / "empty-receipt" / ".pylock").mkdir(parents=True)
    (root / "empty-receipt" / ".pylock" / "receipt.json").write_text("{}")
    listed = store.installations()
    assert [i.path.name for i in listed] == sorted(
        [install_dir_name(first), install_dir_name(second)]
    )
    assert {i.target for i in listed} == {first, second}
    assert all(i.installed for i in listed)
    assert is_pylock_install(found.path)
    assert not is_pylock_install(root / "foreign")
    assert not is_pylock_install(root / "empty-receipt")
    assert Store(tmp_path / "missing").installations() == ()


def test_install_keeps_an_install_whose_url_moved(tmp_path: Path) -> None:
    data = build_pbs_archive()
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(data)
    target = make_target(data)
    dest = tmp_path / "dest"
    first = install(archive, target, dest, run_interpreter=False)
    moved = replace(target, url="https://mirror.example/a.tar.gz")
    again = install(archive, moved, dest, run_interpreter=False)
    assert not again.installed
    assert again.receipt == first.receipt


def test_hold_cleans_leftovers_and_places_atomically(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    stale = tmp_path / f".dest.tmp-{'a' * 16}"
    stale.mkdir()
    (stale / "half").write_text("half-built")
    with hold(dest) as slot:
        assert not stale.exists()
        assert slot.current() is None
        assert lock_path(dest).exists()
        with slot.temp_dir() as temp:
            assert temp.parent == tmp_path
            (temp / "file").write_text("new")
            slot.place(temp)
    assert (dest / "file").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dest.lock", "dest"]


def test_a_failed_build_leaves_no_temp_dir(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    with hold(dest) as slot, pytest.raises(RuntimeError), slot.temp_dir():
        raise RuntimeError("the build failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dest.lock"]


def test_temp_dir_refuses_a_foreign_destination(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine").write_text("user data")
    with (
        hold(dest) as slot,
        pytest.raises(InputError, match="not a pylock install"),
        slot.temp_dir(),
    ):
        pass  # pragma: no cover - refused before
    assert (dest / "mine").read_text() == "user data"


def test_leftover_of_names_the_install_each_dot_entry_belongs_to() -> None:
    name = "cpython-3.12.8+20241219-linux-x86_64-gnu-0123456789ab"
    assert leftover_of(f".{name}.tmp-{'0' * 16}") == (name, "tmp")
    assert leftover_of(f".{name}.old-{'f' * 16}") == (name, "old")
    assert leftover_of(lock_path(Path(name)).name) == (name, "lock")
    for other in (name, f".{name}.tmp-short", f".{name}.new-{'0' * 16}", ".DS_Store"):
        assert leftover_of(other) is None, other


def test_hold_cleans_only_its_own_destinations_leftovers(tmp_path: Path) -> None:
    mine = tmp_path / f".a.b.tmp-{'1' * 16}"
    other = tmp_path / f".a.tmp-{'2' * 16}"
    for path in (mine, other):
        path.mkdir()
    with hold(tmp_path / "a.b"):
        pass
    assert not mine.exists() and other.exists()


def test_slot_remove_deletes_an_install_and_leaves_only_its_lock(tmp_path: Path) -> None:
    root = tmp_path / "root"
    target = _installed(root)
    dest = Store(root).path_for(target)
    with hold(dest) as slot:
        assert slot.current() is not None
        slot.remove()
        assert slot.current() is None
    assert sorted(p.name for p in root.iterdir()) == [lock_path(dest).name]


def test_prune_waits_for_an_install_in_progress(tmp_path: Path) -> None:
    """A temp dir is a leftover only once its install's lock is free: prune holds that lock
    before it removes one, so an install being built is placed, not deleted."""
    root = tmp_path / "root"
    target = _installed(root)
    dest = Store(root).path_for(target)
    project = tmp_path / "project"
    project.mkdir()
    lockfile.write(project / lockfile.LOCK_FILENAME, Lock(LockedManifest(python="3"), (target,)))
    environ = {"PYLOCK_PYTHON_DIR": str(root), "PYLOCK_CACHE_DIR": str(tmp_path / "cache")}
    results: list[PruneResult] = []
    with hold(dest) as slot, slot.temp_dir() as temp:
        (temp / "new").write_text("being built")
        worker = threading.Thread(
            target=lambda: results.append(
                prune([project], settings=Settings.resolve(environ=environ))
            )
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # waiting for the lock
        assert temp.exists()
        slot.place(temp)
    worker.join(10)
    [result] = results
    assert (dest / "new").read_text() == "being built"
    assert result.kept_installs == 1
    assert sorted(p.name for p in root.iterdir()) == [lock_path(dest).name, dest.name]
