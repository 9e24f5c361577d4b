"""``pylock lock`` as a library: fresh locks, minimal change, upgrades, removals, errors.

Every source is real and on loopback: the fake GitHub (``fake_pbs``) for ``github:``, and a
catalog in uv's format on disk whose URLs point at the fake's download host, which a lock must
never ask anything: catalogs carry no sizes, and the lock then records none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from pbs_server import FakePBS, sha256_hex, synthetic_body
from pylock.base.settings import Settings
from pylock.errors import InputError, ResolutionError
from pylock.project.manifest import load
from pylock.project.platforms import KNOWN_PLATFORMS, host_platform, parse_platform
from pylock.resolution import lockfile
from pylock.resolution.locker import LockOptions, LockResult, default_context, lock_project
from pylock.sources.source import SourceContext

LINUX = "linux-x86_64-gnu"
MAC = "macos-aarch64-none"
WIN = "windows-x86_64-none"
FLAVORS = ("install_only_stripped", "install_only")


def asset_name(version: str, tag: str, key: str, flavor: str = "install_only_stripped") -> str:
    return f"cpython-{version}+{tag}-{parse_platform(key).triple}-{flavor}.tar.gz"


def publish(fake: FakePBS, tag: str, version: str, *keys: str) -> None:
    """A release on the fake GitHub with both install_only flavors for ``keys``."""
    names = [asset_name(version, tag, k, f) for k in keys for f in FLAVORS]
    fake.add_release(tag, [(n, synthetic_body(n)) for n in names])


def catalog_entry(fake: FakePBS, version: str, tag: str, key: str) -> tuple[str, dict[str, object]]:
    """One entry of uv's download-metadata.json for an asset the fake serves."""
    platform = parse_platform(key)
    name = asset_name(version, tag, key)
    family, _, level = platform.arch.partition("_v")
    major, minor, patch = (int(x) for x in version.split("."))
    os_name = {"macos": "darwin"}.get(platform.os, platform.os)
    return f"cpython-{version}-{os_name}-{platform.arch}-{platform.libc}", {
        "name": "cpython",
        "arch": {"family": family, "variant": f"v{level}" if level else None},
        "os": os_name,
        "libc": platform.libc,
        "major": major,
        "minor": minor,
        "patch": patch,
        "prerelease": "",
        "url": fake.download_url(tag, name),
        "sha256": sha256_hex(synthetic_body(name)),
        "variant": None,
        "build": tag,
    }


def write_catalog(
    path: Path, fake: FakePBS, builds: Mapping[str, tuple[str, tuple[str, ...]]]
) -> None:
    """``builds``: tag -> (version, platform keys); each is published on the fake as well."""
    entries: dict[str, object] = {}
    for tag, (version, keys) in builds.items():
        publish(fake, tag, version, *keys)
        entries.update(catalog_entry(fake, version, tag, k) for k in keys)
    path.write_text(json.dumps(entries, indent=2), "utf-8")


def write_project(
    root: Path,
    *,
    python: str = "3.12",
    platforms: tuple[str, ...] | None = (LINUX,),
    source: str | None = None,
    flavor: str | None = None,
) -> None:
    lines = ["[project]", 'name = "demo"', "", "[tool.pylock]", f'python = "{python}"']
    if platforms is not None:
        lines.append("platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]")
    if source is not None:
        lines.append(f'source = "{source}"')
    if flavor is not None:
        lines.append(f'flavor = "{flavor}"')
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n", "utf-8")


class Contexts:
    """A context factory that counts the clients it makes and retries without waiting."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, settings: Settings, *, base_dir: Path) -> SourceContext:
        self.calls += 1
        quick = replace(settings.http, retries=1, backoff=0.0, timeout=10.0)
        return default_context(replace(settings, http=quick), base_dir=base_dir)


@pytest.fixture
def contexts() -> Contexts:
    return Contexts()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def run(project: Path, contexts: Contexts, **options: object) -> LockResult:
    """``lock_project`` with ``options``; --source and --offline go into its Settings."""
    flags = {k: options.pop(k) for k in ("source", "offline") if k in options}
    settings = Settings.resolve(environ=os.environ, **flags)  # type: ignore[arg-type]
    return lock_project(
        project,
        LockOptions(**options),  # type: ignore[arg-type]
        settings=settings,
        context_factory=contexts,
    )


def kinds(result: LockResult) -> dict[str, str]:
    return {c.platform: c.kind for c in result.changes}


def pins(lock: lockfile.Lock) -> dict[str, tuple[str, str]]:
    return {t.platform: (t.version, t.build) for t in lock.targets}


# --- fresh locks ----------------------------------------------------------------------------


def test_fresh_lock_one_platform_from_a_catalog(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    write_catalog(
        project / "pbs.json",
        fake_pbs,
        {"20250115": ("3.12.8", (LINUX, MAC)), "20241219": ("3.12.7", (LINUX, MAC))},
    )
    write_project(project, source="catalog:pbs.json")  # relative to the project
    result = run(project, contexts)

    assert result.written
    assert lockfile.read(project / "python.lock") == result.lock
    (target,) = result.lock.targets
    name = asset_name("3.12.8", "20250115", LINUX)
    body = synthetic_body(name)
    assert target.platform == LINUX
    assert target.triple == "x86_64-unknown-linux-gnu"
    assert (target.implementation, target.version, target.build) == (
        "cpython",
        "3.12.8",
        "20250115",
    )
    assert (target.flavor, target.variant) == ("install_only_stripped", "default")
    assert target.url == fake_pbs.download_url("20250115", name)
    assert target.sha256 == sha256_hex(body)
    assert target.size is None  # the catalog states none, and nobody else is asked
    assert fake_pbs.log == []  # not one request to the archive's host
    assert "size" not in (project / "python.lock").read_text("utf-8")
    assert result.lock.manifest.python == "3.12"
    assert result.lock.manifest.platforms == (LINUX,)
    assert kinds(result) == {LINUX: "added"}
    assert contexts.calls == 1


def test_fresh_lock_three_platforms_from_github(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX, MAC, WIN)
    publish(fake_pbs, "20250201", "3.12.9", LINUX, MAC)  # newer, but no Windows build
    write_project(project, platforms=(WIN, LINUX, MAC), source=fake_pbs.spec)
    result = run(project, contexts)

    assert [t.platform for t in result.lock.targets] == sorted([LINUX, MAC, WIN])
    assert set(pins(result.lock).values()) == {("3.12.8", "20250115")}  # one build for all
    for target in result.lock.targets:
        assert target.size == len(synthetic_body(target.asset_name))  # sizes from the API
        assert target.flavor == "install_only_stripped"
    assert fake_pbs.download_log == []  # no HEAD needed, no archive downloaded
    assert kinds(result) == dict.fromkeys([LINUX, MAC, WIN], "added")
    text = (project / "python.lock").read_text("utf-8")
    assert text == lockfile.dumps(result.lock)
    assert text.index(LINUX) < text.index(MAC) < text.index(WIN)


def test_manifest_without_platforms_locks_this_host(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    host = host_platform()
    if host not in KNOWN_PLATFORMS:
        pytest.skip(f"PBS has no builds for this host ({host.key})")
    publish(fake_pbs, "20250115", "3.12.8", *sorted({host.key, LINUX, MAC}))
    write_project(project, platforms=None, source=fake_pbs.spec)
    result = run(project, contexts)
    assert [t.platform for t in result.lock.targets] == [host.key]
    assert result.lock.manifest.platforms == ()
    # Later runs keep the platforms the lock holds, including ones added with --platform.
    other = MAC if host.key != MAC else LINUX
    added = run(project, contexts, platforms=(other,))
    assert {t.platform for t in added.lock.targets} == {host.key, other}
    before = contexts.calls
    again = run(project, contexts)
    assert not again.written and contexts.calls == before


# --- minimal change -------------------------------------------------------------------------


def test_relock_is_byte_identical_without_any_request_or_client(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    write_catalog(project / "pbs.json", fake_pbs, {"20250115": ("3.12.8", (LINUX, MAC, WIN))})
    write_project(project, platforms=(LINUX, MAC, WIN), source="catalog:pbs.json")
    run(project, contexts)
    lock_path = project / "python.lock"
    before = lock_path.read_bytes()
    stat = lock_path.stat()
    fake_pbs.log.clear()

    fresh = Contexts()
    result = run(project, fresh)
    assert fresh.calls == 0  # no HTTP client was even created
    assert fake_pbs.log == []
    assert not result.written
    assert lock_path.read_bytes() == before
    after = lock_path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (stat.st_mtime_ns, stat.st_ino)
    assert set(kinds(result).values()) == {"unchanged"}
    # Even a source that is gone does not matter while the lock is current.
    (project / "pbs.json").unlink()
    assert not run(project, fresh).written
    # A reworded request the pins still satisfy is current too (docs/lockfile.md §8): not a byte
    # moves, not even the recorded [manifest].python.
    write_project(project, python=">=3.12,<3.13", platforms=(MAC, LINUX, WIN), source="x.json")
    reworded = run(project, fresh)
    assert not reworded.written and fresh.calls == 0
    assert lock_path.read_bytes() == before


def test_a_newer_build_is_ignored_until_upgrade(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20241219", "3.12.7", LINUX, MAC)
    write_project(project, platforms=(LINUX, MAC), source=fake_pbs.spec)
    first = run(project, contexts)
    assert set(pins(first.lock).values()) == {("3.12.7", "20241219")}

    publish(fake_pbs, "20250115", "3.12.8", LINUX, MAC)
    fake_pbs.log.clear()
    kept = run(project, contexts)
    assert not kept.written and fake_pbs.log == []
    assert kept.lock == first.lock

    upgraded = run(project, contexts, upgrade=True)
    assert upgraded.written
    assert set(pins(upgraded.lock).values()) == {("3.12.8", "20250115")}
    assert pins(lockfile.read(project / "python.lock")) == pins(upgraded.lock)
    change = next(c for c in upgraded.changes if c.platform == LINUX)
    assert change.kind == "upgraded"
    assert change.old is not None and change.new is not None
    assert (change.old.version, change.old.build) == ("3.12.7", "20241219")
    assert (change.new.version, change.new.build) == ("3.12.8", "20250115")

    # Upgrading when nothing is newer asks the source, and changes nothing.
    again = run(project, contexts, upgrade=True)
    assert not again.written
    assert set(kinds(again).values()) == {"unchanged"}


def test_adding_a_platform_keeps_the_pin(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX, MAC, WIN)
    write_project(project, platforms=(LINUX,), source=fake_pbs.spec)
    first = run(project, contexts)
    publish(fake_pbs, "20250201", "3.12.9", LINUX, MAC, WIN)  # would win a fresh resolution
    fake_pbs.log.clear()

    write_project(project, platforms=(LINUX, MAC), source=fake_pbs.spec)
    result = run(project, contexts)
    assert pins(result.lock) == {LINUX: ("3.12.8", "20250115"), MAC: ("3.12.8", "20250115")}
    assert result.lock.target_for(LINUX) == first.lock.target_for(LINUX)
    assert kinds(result) == {LINUX: "unchanged", MAC: "added"}
    # Only the pinned release was asked for, never the list of releases.
    assert [r.path.rsplit("/", 2)[-2:] for r in fake_pbs.release_log] == [["tags", "20250115"]]
    # ... and the attestations of the one new archive (the kept one's were looked up already).
    assert [r.path.rsplit(":", 1)[-1] for r in fake_pbs.attestation_log] == [
        result.lock.target_for(MAC).sha256  # type: ignore[union-attr]
    ]

    # --platform adds an extra target at the same pin; the manifest does not list it.
    extra = run(project, contexts, platforms=(WIN,))
    assert pins(extra.lock)[WIN] == ("3.12.8", "20250115")
    assert extra.lock.manifest.platforms == (LINUX, MAC)
    assert kinds(extra) == {LINUX: "unchanged", MAC: "unchanged", WIN: "added"}
    # ... and stays: the lock is current without it being asked for again.
    fake_pbs.log.clear()
    assert not run(project, contexts).written
    assert fake_pbs.log == []


def test_a_new_platform_missing_from_the_pinned_build_moves_everything(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX, MAC)
    write_project(project, platforms=(LINUX, MAC), source=fake_pbs.spec)
    run(project, contexts)
    publish(fake_pbs, "20250201", "3.12.9", LINUX, MAC, WIN)

    write_project(project, platforms=(LINUX, MAC, WIN), source=fake_pbs.spec)
    result = run(project, contexts)
    assert set(pins(result.lock).values()) == {("3.12.9", "20250201")}  # one build for all
    assert kinds(result) == {LINUX: "upgraded", MAC: "upgraded", WIN: "added"}


def test_removing_a_manifest_platform_removes_its_target(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX, MAC, WIN)
    write_project(project, platforms=(LINUX, MAC), source=fake_pbs.spec)
    run(project, contexts, platforms=(WIN,))  # WIN is an extra target, not in the manifest

    write_project(project, platforms=(LINUX,), source=fake_pbs.spec)
    fresh = Contexts()
    result = run(project, fresh)
    assert [t.platform for t in result.lock.targets] == [LINUX, WIN]
    assert kinds(result) == {LINUX: "unchanged", MAC: "removed", WIN: "unchanged"}
    assert result.lock.manifest.platforms == (LINUX,)
    assert result.written
    assert fresh.calls == 0  # dropping a target needs no source
    assert lockfile.read(project / "python.lock") == result.lock


def test_a_changed_python_request_re_resolves_every_target(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    fake_pbs.add_release(
        "20250115",
        [
            (n, synthetic_body(n))
            for v in ("3.12.8", "3.13.1")
            for k in (LINUX, MAC)
            for n in [asset_name(v, "20250115", k)]
        ],
    )
    write_project(project, python="3.12", platforms=(LINUX,), source=fake_pbs.spec)
    run(project, contexts, platforms=(MAC,))
    write_project(project, python="3.13", platforms=(LINUX,), source=fake_pbs.spec)
    result = run(project, contexts)
    # The extra --platform target follows: every target of a lock shares one version.
    assert pins(result.lock) == {LINUX: ("3.13.1", "20250115"), MAC: ("3.13.1", "20250115")}
    assert kinds(result) == {LINUX: "upgraded", MAC: "upgraded"}
    assert result.lock.manifest.python == "3.13"


def test_cli_overrides_apply_for_one_run_and_python_sets_the_manifest(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX)
    publish(fake_pbs, "20241219", "3.12.7", LINUX)
    write_project(project, python="3.12", source=fake_pbs.spec)
    result = run(project, contexts, python="3.12.7", flavor="install_only")
    (target,) = result.lock.targets
    assert (target.version, target.build, target.flavor) == ("3.12.7", "20241219", "install_only")
    assert (result.lock.manifest.python, result.lock.manifest.flavor) == ("3.12.7", "install_only")
    manifest = load(project / "pyproject.toml")
    assert manifest.python is not None and manifest.python.text == "3.12.7"  # --python stays
    assert manifest.flavor is None  # --flavor was for that run
    pinned = run(project, contexts, python="3.12", build="20250115")
    assert pins(pinned.lock) == {LINUX: ("3.12.8", "20250115")}
    assert pinned.pinned is not None and pinned.pinned.was == ("3.12.7",)


def test_offline_resolves_from_the_http_cache_only(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX, MAC)
    write_project(project, platforms=(LINUX, MAC), source=fake_pbs.spec)
    online = run(project, contexts)
    (project / "python.lock").unlink()
    fake_pbs.log.clear()
    offline = run(project, contexts, offline=True)
    assert offline.lock == online.lock
    assert fake_pbs.log == []


# --- sources --------------------------------------------------------------------------------


def test_source_precedence(fake_pbs: FakePBS, project: Path, contexts: Contexts) -> None:
    write_catalog(project / "pbs.json", fake_pbs, {"20250115": ("3.12.8", (LINUX,))})
    # The manifest names a catalog that does not exist; --source wins over it.
    write_project(project, source="catalog:missing.json")
    with pytest.raises(InputError, match=r"missing\.json"):
        run(project, contexts)
    result = run(project, contexts, source=str(project / "pbs.json"))
    assert pins(result.lock) == {LINUX: ("3.12.8", "20250115")}

    # Without --source or a manifest source, PYLOCK_SOURCE is used.
    (project / "python.lock").unlink()
    write_project(project)
    env = {"PYLOCK_SOURCE": f"catalog:{project / 'pbs.json'}"}
    result = lock_project(
        project, LockOptions(), settings=Settings.resolve(environ=env), context_factory=contexts
    )
    assert pins(result.lock) == {LINUX: ("3.12.8", "20250115")}


def test_a_catalog_locks_without_its_archive_host(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    """A lock asks an archive's host nothing: a catalog whose host would answer 404 for every
    archive (a machine behind a firewall sees no better) still locks, from the catalog alone."""
    key, entry = catalog_entry(fake_pbs, "3.12.8", "20250115", LINUX)  # not published: 404
    (project / "pbs.json").write_text(json.dumps({key: entry}), "utf-8")
    write_project(project, source="catalog:pbs.json")
    result = run(project, contexts)
    (target,) = result.lock.targets
    assert (target.url, target.sha256, target.size) == (entry["url"], entry["sha256"], None)
    assert fake_pbs.log == []


# --- dry runs and errors --------------------------------------------------------------------


def test_dry_run_writes_nothing(fake_pbs: FakePBS, project: Path, contexts: Contexts) -> None:
    publish(fake_pbs, "20241219", "3.12.7", LINUX)
    write_project(project, source=fake_pbs.spec)
    dry = run(project, contexts, dry_run=True)
    assert not dry.written
    assert not (project / "python.lock").exists()
    assert pins(dry.lock) == {LINUX: ("3.12.7", "20241219")}
    assert kinds(dry) == {LINUX: "added"}

    run(project, contexts)
    before = (project / "python.lock").read_bytes()
    publish(fake_pbs, "20250115", "3.12.8", LINUX)
    dry_upgrade = run(project, contexts, upgrade=True, dry_run=True)
    assert kinds(dry_upgrade) == {LINUX: "upgraded"}
    assert (project / "python.lock").read_bytes() == before


def test_a_corrupt_lock_is_refused_naming_upgrade_which_replaces_it(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX)
    write_project(project, source=fake_pbs.spec)
    corrupt = b"lock-version = 1\n[[target]\nplatform = \n"
    (project / "python.lock").write_bytes(corrupt)
    with pytest.raises(InputError) as info:
        run(project, contexts)
    assert "python.lock" in info.value.message and "invalid TOML" in info.value.message
    assert info.value.hint is not None and "`pylock lock --upgrade`" in info.value.hint
    assert (project / "python.lock").read_bytes() == corrupt
    assert contexts.calls == 0

    dry = run(project, contexts, upgrade=True, dry_run=True)
    assert dry.replaced is not None and "invalid TOML" in dry.replaced
    assert (project / "python.lock").read_bytes() == corrupt

    result = run(project, contexts, upgrade=True)
    assert result.written and result.replaced == dry.replaced
    assert kinds(result) == {LINUX: "added"}
    assert lockfile.read(project / "python.lock") == result.lock


def test_an_unsatisfiable_request_leaves_the_lock_untouched(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, "20250115", "3.12.8", LINUX)
    write_project(project, source=fake_pbs.spec)
    run(project, contexts)
    before = (project / "python.lock").read_bytes()
    write_project(project, python="3.13", source=fake_pbs.spec)
    with pytest.raises(ResolutionError) as info:
        run(project, contexts)
    assert info.value.exit_code == 1
    assert "3.12.8" in str(info.value)  # the nearest version there is
    assert fake_pbs.spec in str(info.value)  # and where it looked
    assert (project / "python.lock").read_bytes() == before
    assert list(project.glob(".python.lock*")) == []  # no temp file left behind
