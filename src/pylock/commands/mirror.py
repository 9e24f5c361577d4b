"""The library behind ``pylock mirror DIR``: every locked archive, verified, laid out as a mirror.

DIR gets ``{DIR}/{build}/{asset}`` and ``{DIR}/{build}/SHA256SUMS``: the layout of GitHub's
release downloads, so the same directory behind any static file server is read by pylock's
``mirror:`` source and ``--mirror``, by uv's ``UV_PYTHON_INSTALL_MIRROR`` and by mise's
``url_replacements`` (docs/mirror.md). Unless the provenance policy is "off", each archive's
attestation is proved (``pylock.provenance``, as ``pylock lock`` proves it) and its bundle written
beside it as ``{DIR}/{build}/{asset}.sigstore.json``, so a firewalled ``lock``, ``sync`` and
``check --provenance`` verify from the mirror alone.

Bytes are fetched by the one downloader (``download.fetch_archive``) into the content-addressed
archive cache, where they are checked against the lock's sha256 (and size, when it states one);
only then are they copied into DIR under a temporary name and renamed into place. So a file
under its final name in DIR is always whole and verified, an interrupted run leaves at most a
hidden temp file (removed by the next run once its writer is gone: ``fsutil.remove_dead_temps``,
the archive cache's rule too), and a second run finds every file present and downloads nothing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pylock.base.fsutil import (
    CHUNK_SIZE,
    atomic_write_bytes,
    file_url_path,
    hash_stream,
    mark_alive,
    remove_dead_temps,
    seal,
)
from pylock.base.settings import Settings
from pylock.errors import ExternalError, InputError
from pylock.project.platforms import parse_platform
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Target
from pylock.sources.mirror import BUNDLE_SUFFIX, SUMS_NAME, mirror_path

if TYPE_CHECKING:
    from pylock.fetch.cache import ArchiveCache
    from pylock.net.http import HttpPolicy
    from pylock.net.lib import httpx
    from pylock.project.manifest import Manifest

DEFAULT_JOBS = 4
_TEMP_PREFIX = ".pylock-mirror-"
_TEMP_SUFFIX = ".part"

Action = Literal["present", "copied", "downloaded"]
MirrorProgress = Callable[[str, int, int | None], None]
"""Called as ``(asset name, done bytes, total bytes or None)`` while an archive downloads."""


@dataclass(frozen=True)
class MirrorOptions:
    directory: Path
    platforms: tuple[str, ...] = ()  # keys or triples; empty: every locked target
    jobs: int = DEFAULT_JOBS  # downloads at once


@dataclass(frozen=True)
class MirroredArchive:
    """One locked archive in the mirror: ``present`` (already there, verified), ``copied``
    (from the archive cache) or ``downloaded``."""

    platform: str
    path: Path
    action: Action


@dataclass(frozen=True)
class MirrorResult:
    archives: tuple[MirroredArchive, ...]  # in lock order (by platform key)
    sums: tuple[Path, ...]  # the SHA256SUMS files written or already current
    bundles: tuple[Path, ...] = ()  # the verified bundles written or already current

    @property
    def downloaded(self) -> int:
        return sum(1 for a in self.archives if a.action == "downloaded")


def _selected(lock: lockfile.Lock, wanted: tuple[str, ...], lock_path: Path) -> list[Target]:
    """The archives to mirror: every request's (a matrix mirrors them all), each archive once
    (two requests may lock the same one), without the matrix's ``request`` stamp."""
    if not lock.targets:
        raise InputError(f"{lock_path} locks no targets, so there is nothing to mirror.")
    archives = list(dict.fromkeys(replace(t, request=None) for t in lock.targets))
    if not wanted:
        return archives
    chosen: list[Target] = []
    for spelled in wanted:
        key = parse_platform(spelled, where="--platform").key
        found = [t for t in archives if t.platform == key]
        if not found:
            locked = ", ".join(dict.fromkeys(t.platform for t in lock.targets))
            raise InputError(
                f"{lock_path} has no target for {key} (--platform).",
                hint=f"Mirror one of the locked platforms ({locked}), or add it with "
                f"`{lockfile.relock_command(lock, '--platform', key)}`.",
            )
        chosen += [t for t in found if t not in chosen]
    return chosen


def _download_mirror(
    settings: Settings, project_dir: Path, directory: Path, manifest: Manifest | None
) -> tuple[str | None, HttpPolicy]:
    """Where downloads come from (--mirror > PYLOCK_MIRROR > manifest, as ``Settings.remote``
    decides), never DIR itself; and the HTTP policy with the credentials for it and for the
    source the lock's URLs point at."""
    from pylock.project.manifest import PYPROJECT

    pyproject = project_dir / PYPROJECT
    remote = settings.remote(
        mirror=manifest.mirror if manifest else None,
        source=manifest.source if manifest else None,
        manifest_path=pyproject,
    )
    mirror = remote.mirror
    local = None if mirror is None else file_url_path(mirror)  # a directory, or a file: URL
    if local is None:
        return mirror, remote.http
    with contextlib.suppress(OSError):
        if local.expanduser().resolve() == directory.resolve():
            # filling the mirror pylock reads from: fetch from the lock's URLs
            return None, remote.http
    return mirror, remote.http


def _intact(path: Path, target: Target) -> bool:
    """Whether ``path`` already holds the locked bytes (a second run stops here)."""
    try:
        with path.open("rb") as stream:
            if target.size is not None and os.fstat(stream.fileno()).st_size != target.size:
                return False
            return hash_stream(stream) == target.sha256
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ExternalError(
            f"Cannot read {path}: {exc.strerror or exc}.",
            hint="Check the mirror directory's permissions.",
        ) from exc


def _place(source: Path, dest: Path) -> None:
    """Copy the verified store entry ``source`` to ``dest`` under a temp name, then rename it
    into place. A copy, not a hard link: a mirror file edited in place (or served by a tool
    that rewrites it) must not be the cache's own bytes."""
    temp = dest.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(6)}{_TEMP_SUFFIX}")
    try:
        # 0o666 minus the umask, as a plain copy would get; held (mark_alive) while written so
        # another run's clean-up (remove_dead_temps) leaves it alone
        with source.open("rb") as reading:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            mark_alive(fd)
            with os.fdopen(fd, "wb") as writing:
                shutil.copyfileobj(reading, writing, CHUNK_SIZE)
                seal(writing)
                temp.replace(dest)  # still locked: never an unlocked temp file with bytes in it
    except OSError as exc:
        raise ExternalError(
            f"Cannot write {dest}: {exc.strerror or exc}.",
            hint="Check that the mirror directory is writable and has free space.",
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def _write_sums(directory: Path, build: str, targets: list[Target]) -> Path:
    """Merge these archives' checksums into the build's SHA256SUMS (other lines are kept: one
    mirror may serve several locks), sorted, written atomically; unchanged bytes stay put."""
    from pylock.sources._common import parse_sha256sums

    path = mirror_path(directory, build, SUMS_NAME)
    try:
        existing = parse_sha256sums(path.read_text("utf-8", errors="replace"))
    except FileNotFoundError:
        existing = {}
    except OSError as exc:
        raise ExternalError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    existing.update({t.asset_name: t.sha256 for t in targets})
    text = "".join(f"{digest}  {name}\n" for name, digest in sorted(existing.items()))
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


class _Fetcher:
    """The client and cache, made on first need: a run that finds everything present opens no
    client at all. Shared by the worker threads (an httpx.Client is thread-safe)."""

    def __init__(self, policy: HttpPolicy, cache_dir: Path) -> None:
        self.policy = policy
        self.cache_dir = cache_dir
        self._client: httpx.Client | None = None
        self._cache: ArchiveCache | None = None
        self._lock = threading.Lock()

    def open(self) -> tuple[httpx.Client, ArchiveCache]:
        with self._lock:
            if self._client is None or self._cache is None:
                from pylock.fetch.cache import ArchiveCache
                from pylock.net.http import make_client

                self._cache = ArchiveCache(self.cache_dir)
                self._client = make_client(self.policy)
            return self._client, self._cache

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def fill_mirror(
    project_dir: Path,
    options: MirrorOptions,
    *,
    settings: Settings,
    on_progress: MirrorProgress | None = None,
    on_done: Callable[[MirroredArchive], None] | None = None,
) -> MirrorResult:
    """Fill ``options.directory`` with the lock's archives; see the module docstring.

    ``settings`` say where downloads come from (``--mirror`` in them, else the manifest's),
    whether the network may be used, and the HTTP policy.
    ``on_done`` is called (from a worker thread) as each archive is in place.
    """
    from pylock.fetch.download import fetch_archive

    if options.jobs < 1:
        raise InputError(f"--jobs must be at least 1, not {options.jobs}.")
    lock_path = project_dir / lockfile.LOCK_FILENAME
    lock = lockfile.read(lock_path)
    targets = _selected(lock, options.platforms, lock_path)
    directory = options.directory
    from pylock.commands.sync import manifest_if_any

    manifest = manifest_if_any(project_dir / "pyproject.toml")
    mirror, policy = _download_mirror(settings, project_dir, directory, manifest)

    by_build: dict[str, list[Target]] = {}
    for target in targets:
        by_build.setdefault(target.build, []).append(target)
    for build in by_build:
        build_dir = mirror_path(directory, build)
        try:
            build_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExternalError(
                f"Cannot create {build_dir}: {exc.strerror or exc}.",
                hint="Check that the mirror directory's parent exists and is writable.",
            ) from exc
        remove_dead_temps(build_dir, _TEMP_PREFIX, _TEMP_SUFFIX)

    fetcher = _Fetcher(policy, settings.cache_dir)

    def one(target: Target) -> MirroredArchive:
        dest = mirror_path(directory, target.build, target.asset_name)
        if _intact(dest, target):
            done = MirroredArchive(target.platform, dest, "present")
        else:
            client, cache = fetcher.open()
            cached = cache.lookup(target.sha256, target.size)
            action: Action = "copied" if cached is not None else "downloaded"
            progress = None
            if on_progress is not None:
                progress = _named(on_progress, target.asset_name)
            stored = cached or fetch_archive(
                target, cache=cache, client=client, policy=policy, mirror=mirror,
                on_progress=progress,
            )  # fmt: skip
            _place(stored, dest)
            done = MirroredArchive(target.platform, dest, action)
        if on_done is not None:
            on_done(done)
        return done

    pool = ThreadPoolExecutor(max_workers=min(options.jobs, len(targets)))
    try:
        with lockfile.relock_hints(lock):  # a refused archive's advice names its source
            archives = tuple(pool.map(one, targets))
    except BaseException:
        # A failure (or Ctrl-C) stops the run: queued archives are not started, and those
        # already downloading finish into the cache (never under a final name in DIR unverified).
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        fetcher.close()
    sums = tuple(_write_sums(directory, build, group) for build, group in by_build.items())
    bundles = _write_bundles(targets, directory, manifest, settings, project_dir)
    return MirrorResult(archives=archives, sums=sums, bundles=bundles)


def _write_bundles(
    targets: list[Target],
    directory: Path,
    manifest: Manifest | None,
    settings: Settings,
    project_dir: Path,
) -> tuple[Path, ...]:
    """Prove each archive (the one prover of ``pylock lock``: a bundle already in DIR first,
    then the cache, the download mirror and the source) and write its bundle beside it. Under
    policy "off" nothing is proved, and an archive the lock records as unattested is not asked
    about again."""
    from pylock.project.provenance import UNATTESTED, ProvenancePolicy
    from pylock.provenance.prover import open_prover

    policy = manifest.provenance if manifest is not None else ProvenancePolicy()
    wanted = [t for t in targets if policy.active and t.provenance != UNATTESTED]
    if not wanted:
        return ()
    written: list[Path] = []
    with open_prover(settings, project_dir, manifest, mirrors=[str(directory)]) as prover:
        for target in wanted:
            prover.prove(target, policy)  # "require": refuses what has no attestation
            bundle = prover.verdict(target, policy).bundle
            if bundle is None:
                continue
            path = directory / target.build / (target.asset_name + BUNDLE_SUFFIX)
            atomic_write_bytes(path, bundle)
            written.append(path)
    return tuple(written)


def _named(callback: MirrorProgress, name: str) -> Callable[[int, int | None], None]:
    def report(done: int, total: int | None) -> None:
        callback(name, done, total)

    return report
