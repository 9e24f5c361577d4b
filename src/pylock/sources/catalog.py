"""A catalog in uv's ``download-metadata.json`` format as a source (docs/pbs-format.md §5).

One JSON object keyed by download key; each cpython value carries a ``url`` (whose file name is
the real PBS asset name), a ``sha256`` (null for a few entries) and a ``build``. PyPy, GraalPy
and other implementations in the same file are ignored. The catalog has no sizes.

The whole document is one fetch (through the HTTP cache, so an unchanged catalog costs a 304),
made when the first release is asked for, never when the source is opened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pylock.base.fsutil import read_input
from pylock.errors import InputError
from pylock.formats import BUILD_TAG
from pylock.project.platforms import Platform
from pylock.sources._common import (
    LOCAL_FIX,
    Location,
    fetch,
    locate,
    reading_local,
    status_error,
    wanted,
)
from pylock.sources.artifacts import Artifact, artifact_from_url, parse_asset_name
from pylock.sources.source import Release, SourceContext


class CatalogSource:
    """Releases grouped from a uv-format catalog, newest build first."""

    def __init__(self, location: str, context: SourceContext) -> None:
        self.description = f"catalog:{location}"
        self.location: Location = locate(location, context.base_dir)
        self._context = context
        self._releases: tuple[Release, ...] | None = None

    def releases(
        self, *, build: str | None = None, platforms: frozenset[Platform] | None = None
    ) -> Iterator[Release]:
        for release in self._load():
            if build is not None and release.build != build:
                continue
            yield Release(
                release.build,
                tuple(a for a in release.artifacts if wanted(a.platform, platforms)),
            )

    def _load(self) -> tuple[Release, ...]:
        if self._releases is None:
            self._releases = self._parse(self._read())
        return self._releases

    def _read(self) -> bytes:
        if self.location.url is not None:
            doc = fetch(self._context, self.location.url, source=self.description)
            if doc.status != 200:
                raise status_error(self.description, doc, "the catalog")
            return doc.body
        path = self.location.path
        assert path is not None
        with reading_local(self.description):
            return read_input(path, fix=LOCAL_FIX)

    def _bad(self, what: str) -> InputError:
        return InputError(
            f"Source {self.description}: {self.location} is not a catalog in uv's "
            f"download-metadata.json format: {what}.",
            hint="Point the source at a JSON object of download entries with url, sha256 and "
            "build keys (uv's crates/uv-python/download-metadata.json).",
        )

    def _parse(self, body: bytes) -> tuple[Release, ...]:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise self._bad(f"it is not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise self._bad("the top level is not a JSON object")
        by_build: dict[str, list[Artifact]] = {}
        for key, entry in data.items():
            artifact = self._artifact(str(key), entry)
            if artifact is not None:
                by_build.setdefault(artifact.build, []).append(artifact)
        return tuple(Release(b, tuple(by_build[b])) for b in sorted(by_build, reverse=True))

    def _artifact(self, key: str, entry: Any) -> Artifact | None:
        if not isinstance(entry, dict):
            raise self._bad(f"entry {key!r} is not an object")
        if entry.get("name", "cpython") != "cpython":
            return None
        url, sha256, build = entry.get("url"), entry.get("sha256"), entry.get("build")
        if not isinstance(url, str) or not url:
            raise self._bad(f"entry {key!r} has no url")
        if sha256 is not None and not isinstance(sha256, str):
            raise self._bad(f"entry {key!r} has a sha256 that is not a string")
        artifact = artifact_from_url(url, sha256=sha256, size=None)
        if artifact is None:
            return None  # not a PBS archive name we know (a future triple, another project)
        if isinstance(build, str) and BUILD_TAG.fullmatch(build) and build != artifact.build:
            # The catalog states the tag; an old (E1) name only carries a build date-time.
            asset = parse_asset_name(artifact.asset.name, build=build)
            if asset is not None:
                artifact = replace(artifact, asset=asset)
        return artifact
