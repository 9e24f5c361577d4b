"""``pylock export uv``: the lock as a downloads JSON that uv installs exact builds from.

uv can install a chosen PBS build only from a file in its own ``download-metadata.json`` schema
(``--python-downloads-json-url`` / ``UV_PYTHON_DOWNLOADS_JSON_URL``) together with
``UV_PYTHON_CPYTHON_BUILD``, which makes it pick the entry whose ``build`` is that tag; the sha256
in the file is what uv verifies the download against. So the file written here holds exactly the
locked archives (their URL, or the mirror's copy), keyed the way uv keys its own entries
(docs/uv.md describes the schema), and nothing else: uv cannot fall back to a build the lock
does not name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from pylock.base.credentials import without_userinfo
from pylock.base.fsutil import atomic_write_bytes
from pylock.base.settings import Settings
from pylock.errors import InputError
from pylock.fetch.download import source_url
from pylock.project.manifest import PYPROJECT
from pylock.project.platforms import host_platform, parse_platform
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, Target

DEFAULT_FILENAME = "python-downloads.json"
STDOUT = "-"
DOWNLOADS_URL_VARIABLE = "UV_PYTHON_DOWNLOADS_JSON_URL"
BUILD_VARIABLE = "UV_PYTHON_CPYTHON_BUILD"

# pylock's os names (uv's platform keys) -> the ``os`` values of uv's download metadata.
_UV_OS = {"linux": "linux", "macos": "darwin", "windows": "windows"}
# pylock's arch names -> uv's, where its download metadata differs from its platform keys.
_UV_ARCH = {"x86": "i686"}


@dataclass(frozen=True)
class UvExport:
    """What ``pylock export uv`` produced: the document, where it went, the build to pin."""

    document: dict[str, dict[str, object]]
    path: Path | None  # None when written to stdout
    build: str  # the value for UV_PYTHON_CPYTHON_BUILD
    builds: tuple[str, ...]  # every build tag in the lock (more than one only for mixed locks)

    def text(self) -> str:
        return json.dumps(self.document, indent=2) + "\n"

    def settings(self) -> dict[str, str]:
        """The environment that makes uv install from this file and only the locked build."""
        found: dict[str, str] = {}
        if self.path is not None:
            found[DOWNLOADS_URL_VARIABLE] = str(self.path)
        found[BUILD_VARIABLE] = self.build
        return found


def uv_key(target: Target) -> str:
    """uv's download key: ``cpython-3.13.1+freethreaded-linux-x86_64_v3-gnu``."""
    platform = parse_platform(target.platform)
    variant = "" if target.variant == "default" else f"+{target.variant}"
    arch = _UV_ARCH.get(platform.arch, platform.arch)
    where = f"{_UV_OS[platform.os]}-{arch}-{platform.libc}"
    return f"{target.implementation}-{target.version}{variant}-{where}"


def uv_entry(target: Target, url: str) -> dict[str, object]:
    """One value of uv's download metadata for ``target`` served from ``url``."""
    platform = parse_platform(target.platform)
    arch = _UV_ARCH.get(platform.arch, platform.arch)
    family, _, level = arch.partition("_v")
    if not level or not level.isdigit():
        family, level = arch, ""
    version = Version(target.version)
    major, minor, patch = (*version.release, 0, 0)[:3]
    prerelease = f"{version.pre[0]}{version.pre[1]}" if version.pre else ""
    return {
        "name": target.implementation,
        "arch": {"family": family, "variant": f"v{level}" if level else None},
        "os": _UV_OS[platform.os],
        "libc": platform.libc,
        "major": major,
        "minor": minor,
        "patch": patch,
        "prerelease": prerelease,
        "url": url,
        "sha256": target.sha256,
        "variant": None if target.variant == "default" else target.variant,
        "build": target.build,
    }


def uv_document(lock: Lock, mirror: str | None = None) -> dict[str, dict[str, object]]:
    """Every locked target as uv download metadata, sorted by key (deterministic output)."""
    entries = {
        uv_key(t): uv_entry(t, without_userinfo(source_url(t, mirror))) for t in lock.targets
    }
    return {key: entries[key] for key in sorted(entries)}


def pinned_build(lock: Lock) -> str:
    """The tag for UV_PYTHON_CPYTHON_BUILD: this host's target's, else the newest locked one.

    uv takes a single tag for every CPython download, so a lock whose platforms sit on
    different builds can pin only one of them per machine; the host's is the one uv will use.
    """
    host = lock.target_for(host_platform().key)
    if host is not None:
        return host.build
    return max(t.build for t in lock.targets)


def export_uv(
    project_dir: Path,
    output: str | None = None,
    *,
    settings: Settings,
    python: str | None = None,
) -> UvExport:
    """Write the downloads JSON for ``project_dir``'s lock to ``output`` (default
    ``python-downloads.json`` beside python.lock; ``-`` for none: the caller prints it).

    The mirror is chosen as for ``pylock sync`` (``Settings.mirror_for``: ``--mirror``,
    ``PYLOCK_MIRROR``, the manifest's ``mirror``), so uv downloads from wherever pylock would.
    ``python`` (``--python``) keeps only that request's targets of a matrix lock; without it
    every request's are exported, and the build uv is pinned to is the first request's.
    """
    from pylock.commands.sync import manifest_if_any
    from pylock.resolution.selection import read_lock, select_request

    lock = read_lock(project_dir)
    if python is not None:
        lock = select_request(lock, python)
    if not lock.targets:
        raise InputError(
            f"{project_dir / lockfile.LOCK_FILENAME} has no targets to export.",
            hint="Run `pylock lock` first.",
        )
    manifest = manifest_if_any(project_dir / PYPROJECT)
    remote = settings.remote(
        mirror=manifest.mirror if manifest else None,
        source=manifest.source if manifest else None,
        manifest_path=project_dir / PYPROJECT,
    )
    document = uv_document(lock, remote.mirror)
    builds = tuple(sorted({t.build for t in lock.targets}))
    path = None
    if output != STDOUT:
        path = (Path(output) if output else project_dir / DEFAULT_FILENAME).absolute()
    result = UvExport(document, path, pinned_build(lock), builds)
    if path is not None:
        atomic_write_bytes(path, result.text().encode())  # an OSError -> ExternalError (3)
    return result
