"""A mirror laid out as ``{base}/{build}/{asset}`` with ``{base}/{build}/SHA256SUMS``.

This is the layout of GitHub's download URLs, so a company mirror is usually a copy of some
``releases/download/<tag>/`` directories. Builds are discovered from the directory itself (a
local path) or from the HTML index at ``{base}/`` that every static file server produces
(nginx, Apache, Artifactory, ``python -m http.server``); a pinned build needs no index at all.
Each build's SHA256SUMS names its assets and their checksums; a build without one is not a
release of this mirror (a half-copied directory), so it is passed over.

Beside each archive a mirror may hold its Sigstore bundle, ``{base}/{build}/{asset}.sigstore.json``
(``pylock mirror`` writes them): ``attestation`` reads it, so provenance is verified behind a
firewall from the mirror alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import overload
from urllib.parse import quote, urljoin, urlsplit

from pylock.base.credentials import redact_url, without_userinfo
from pylock.base.fsutil import read_input_if_any
from pylock.errors import ExternalError, InputError
from pylock.formats import BUILD_TAG
from pylock.net.http import refusal
from pylock.project.platforms import Platform
from pylock.sources._common import (
    fetch,
    fetch_sha256sums,
    locate,
    parse_sha256sums,
    reading_local,
    status_error,
    wanted,
)
from pylock.sources.artifacts import Artifact, parse_asset_name
from pylock.sources.source import Release, SourceContext

_CHILD_BUILD = re.compile(r"(\d{8})/?")
SUMS_NAME = "SHA256SUMS"
"""Each build's checksum file, beside its archives: ``mirror_path(base, build, SUMS_NAME)``."""


@overload
def mirror_path(base: Path, build: str, name: str | None = None) -> Path: ...
@overload
def mirror_path(base: str, build: str, name: str | None = None) -> str: ...
def mirror_path(base: Path | str, build: str, name: str | None = None) -> Path | str:
    """``{base}/{build}/{name}`` (``{base}/{build}`` without a name): the one spelling of the
    mirror layout, GitHub's release downloads, that ``pylock mirror`` writes and the
    ``mirror:`` source, ``--mirror`` and ``export uv`` read. ``base`` is a directory (a Path)
    or a URL (a str; ``build`` and ``name`` percent-encoded, ``+`` as ``%2B`` as GitHub spells
    it)."""
    if isinstance(base, Path):
        return base / build if name is None else base / build / name
    parts = [base.rstrip("/"), quote(build, safe="")]
    if name is not None:
        parts.append(quote(name, safe=""))
    return "/".join(parts)


BUNDLE_SUFFIX = ".sigstore.json"
"""A mirror holds an archive's Sigstore bundle as ``{asset}`` + this, beside the archive."""


class _Links(HTMLParser):
    """Collects every ``<a href>`` of a directory index."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def builds_in_listing(html: str, listing_url: str) -> list[str]:
    """Build tags linked from a directory index, newest first.

    Links are resolved against the index URL and kept only when they name a direct child
    ``YYYYMMDD/`` of it, so parent links, sort links (``?C=M;O=A``) and absolute links to other
    places are ignored whatever the server's style.
    """
    parser = _Links()
    parser.feed(html)
    parser.close()
    listing_url = without_userinfo(listing_url)
    base = urlsplit(listing_url)
    builds: set[str] = set()
    for href in parser.hrefs:
        target = urlsplit(without_userinfo(urljoin(listing_url, href)))
        if (target.scheme, target.netloc) != (base.scheme, base.netloc) or target.query:
            continue
        if not target.path.startswith(base.path):
            continue
        match = _CHILD_BUILD.fullmatch(target.path[len(base.path) :])
        if match:
            builds.add(match.group(1))
    return sorted(builds, reverse=True)


class MirrorSource:
    """Releases from a local directory or an HTTP(S) mirror."""

    def __init__(self, location: str, context: SourceContext) -> None:
        self.description = f"mirror:{location}"
        self.location = locate(location, context.base_dir)
        self._context = context

    def releases(
        self, *, build: str | None = None, platforms: frozenset[Platform] | None = None
    ) -> Iterator[Release]:
        if self.location.path is not None:
            return self._dir_releases(self.location.path, build, platforms)
        assert self.location.url is not None
        return self._url_releases(self.location.url.rstrip("/"), build, platforms)

    def attestation(self, build: str, asset: str) -> bytes | None:
        """The bundle beside an archive, ``{base}/{build}/{asset}.sigstore.json``, as bytes;
        None when the mirror has none. Unreadable or unreachable: ExternalError (exit 3)."""
        name = asset + BUNDLE_SUFFIX
        if self.location.path is not None:
            path = self.location.path / build / name
            try:
                return path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                return None
            except OSError as exc:
                raise ExternalError(
                    f"Source {self.description}: cannot read {path}: {exc.strerror or exc}.",
                    hint="Check the file's permissions.",
                ) from exc
        assert self.location.url is not None
        base = self.location.url.rstrip("/")
        url = f"{base}/{quote(build, safe='')}/{quote(name, safe='')}"
        doc = fetch(self._context, url, source=self.description)
        if doc.status in (404, 410):
            return None
        if doc.status != 200:
            raise status_error(self.description, doc, "an attestation bundle")
        return doc.body

    # --- a directory ---------------------------------------------------------------------

    def _dir_releases(
        self, base: Path, build: str | None, platforms: frozenset[Platform] | None
    ) -> Iterator[Release]:
        if not base.is_dir():
            raise InputError(
                f"Source {self.description}: there is no mirror directory at {base}.",
                hint="Check the path; relative paths are read from the project directory.",
            )
        if build is not None:
            builds = [build] if mirror_path(base, build).is_dir() else []
        else:
            try:
                names = [p.name for p in base.iterdir() if p.is_dir()]
            except OSError as exc:
                raise ExternalError(
                    f"Source {self.description}: cannot list {base}: {exc.strerror or exc}.",
                    hint="Check the directory's permissions.",
                ) from exc
            builds = sorted((n for n in names if BUILD_TAG.fullmatch(n)), reverse=True)
        for tag in builds:
            release = self._dir_release(base, tag, platforms)
            if release is not None:
                yield release

    def _dir_release(
        self, base: Path, tag: str, platforms: frozenset[Platform] | None
    ) -> Release | None:
        sums = mirror_path(base, tag, SUMS_NAME)
        with reading_local(self.description):
            raw = read_input_if_any(sums, fix=f"fill the mirror with `pylock mirror {base}`")
        if raw is None:
            return None  # not (yet) a release of this mirror
        text = raw.decode("utf-8", errors="replace")
        artifacts: list[Artifact] = []
        for name, sha256 in parse_sha256sums(text).items():
            asset = parse_asset_name(name, build=tag)
            if asset is None or not wanted(asset.platform, platforms):
                continue
            path = mirror_path(base, tag, name)
            try:
                size = path.stat().st_size
            except OSError:
                continue  # listed upstream but not copied to this mirror
            artifacts.append(Artifact(asset, path.resolve().as_uri(), sha256, size))
        return Release(tag, tuple(artifacts))

    # --- a URL ---------------------------------------------------------------------------

    def _url_releases(
        self, base: str, build: str | None, platforms: frozenset[Platform] | None
    ) -> Iterator[Release]:
        builds = [build] if build is not None else self._listed_builds(base)
        for tag in builds:
            sums = fetch_sha256sums(
                self._context, mirror_path(base, tag, SUMS_NAME), source=self.description
            )
            if sums is None:
                continue
            artifacts: list[Artifact] = []
            for name, sha256 in sums.items():
                asset = parse_asset_name(name, build=tag)
                if asset is not None and wanted(asset.platform, platforms):
                    artifacts.append(Artifact(asset, mirror_path(base, tag, name), sha256, None))
            yield Release(tag, tuple(artifacts))

    def _listed_builds(self, base: str) -> list[str]:
        listing = base + "/"
        doc = fetch(self._context, listing, source=self.description)
        if doc.status in (403, 404):
            pin = (
                'Pin a build (build = "YYYYMMDD" in [tool.pylock], or --build), or enable '
                "directory listings on the mirror"
            )
            if doc.status == 403:  # listings switched off, or a credential missing or refused
                happened, give = refusal(listing, doc.status, doc.tried)
                raise ExternalError(
                    f"Source {self.description}: {redact_url(listing)} answered HTTP 403, so "
                    f"the mirror's builds cannot be listed: {happened}.",
                    hint=f"{pin}. {give}",
                )
            raise ExternalError(
                f"Source {self.description}: {redact_url(listing)} answered HTTP 404, so the "
                "mirror's builds cannot be listed.",
                hint=f"{pin}.",
            )
        if doc.status != 200:
            raise status_error(self.description, doc, "the mirror's directory listing")
        return builds_in_listing(doc.body.decode("utf-8", errors="replace"), listing)
