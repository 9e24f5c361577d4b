"""The PBS versions index as a source: NDJSON, one line per version+build, newest first.

The index is what uv itself reads since 2026 (docs/sources.md, "index"). Each line is
``{"version": "3.12.8+20241219", "date": …, "artifacts": [{"platform", "variant", "url",
"archive_format", "sha256"}, …]}``. One request fetches every build: through the HTTP cache, so
an unchanged index costs a 304, and parsed line by line as it streams (the real file is about
12 MB), so a resolver that has its answer after the first few builds parses no further.

The ``url``'s file name is the real PBS asset name and is what pylock trusts, as for every
other source. The ``platform`` and ``variant`` fields say the same thing again and are
cross-checked against it: ``variant`` spells the build options and the flavor joined by ``+``
(``install_only_stripped``, ``freethreaded+install_only``, ``freethreaded+pgo+lto+full``,
``debug+full``), and on macOS ``platform`` may carry a spurious ``-debug`` or
``-freethreaded`` suffix (a greedy triple pattern in the generator), which is stripped. An
artifact whose fields contradict its own file name is left out rather than guessed at. The
``date`` field is when the line was generated, not the build date: the build is the tag after
``+`` in ``version``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Generator, Iterator
from pathlib import Path

from pylock.base.fsutil import open_input
from pylock.errors import ExternalError, InputError
from pylock.formats import BUILD_TAG
from pylock.net.http import Document, stream_document
from pylock.project.platforms import Platform, from_triple
from pylock.sources._common import (
    LOCAL_FIX,
    Location,
    locate,
    reading_local,
    status_error,
    wanted,
)
from pylock.sources.artifacts import Artifact, AssetName, artifact_from_url
from pylock.sources.source import Release, SourceContext

DEFAULT_INDEX_URL = (
    "https://releases.astral.sh/github/versions/main/v1/python-build-standalone.ndjson"
)
_MACOS_SUFFIXES = ("-debug", "-freethreaded")


def index_platform(value: str) -> Platform | None:
    """The platform an index ``platform`` field names, its macOS suffix caveat undone."""
    if value.endswith("-apple-darwin" + _MACOS_SUFFIXES[0]) or value.endswith(
        "-apple-darwin" + _MACOS_SUFFIXES[1]
    ):
        value = value.rsplit("-", 1)[0]
    return from_triple(value)


def index_variant(asset: AssetName) -> str:
    """How the index spells ``asset``'s build options and flavor: ``+``-joined options, then
    the flavor (``install_only``, ``install_only_stripped`` or ``full``)."""
    if not asset.is_full:
        prefix = "freethreaded+" if "freethreaded" in asset.variant else ""
        return prefix + asset.flavor
    return "+".join((*asset.options, "full"))


def _same_variant(field: str, asset: AssetName) -> bool:
    # Windows' old "-shared" pseudo-triple token names no build option (artifacts.py).
    return set(field.split("+")) - {"shared"} == set(index_variant(asset).split("+"))


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Complete lines from a stream of chunks, without holding more than one line at a time."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


class IndexSource:
    """Releases from the PBS versions index (a URL or a local file), newest build first."""

    def __init__(self, location: str, context: SourceContext) -> None:
        self.description = f"index:{location}"
        self.location: Location = locate(location, context.base_dir)
        self._context = context

    def releases(
        self, *, build: str | None = None, platforms: frozenset[Platform] | None = None
    ) -> Iterator[Release]:
        lines = self._read()
        try:
            yield from self._releases(lines, build, platforms)
        except (Exception, KeyboardInterrupt) as error:
            # Raised inside the reader too, so it drops its partial cache copy; a mere close
            # (the resolver has its answer) lets it read on and cache the whole index instead.
            with contextlib.suppress(BaseException):
                lines.throw(error)
            raise
        finally:
            lines.close()

    def _releases(
        self,
        lines: Iterator[bytes],
        build: str | None,
        platforms: frozenset[Platform] | None,
    ) -> Iterator[Release]:
        current: str | None = None
        artifacts: list[Artifact] = []
        for number, line in enumerate(lines, start=1):
            parsed = self._parse(number, line, platforms)
            if parsed is None:
                continue
            tag, found = parsed
            if build is not None and tag != build:
                continue
            if tag != current:
                if current is not None:
                    yield Release(current, tuple(artifacts))
                current, artifacts = tag, []
            artifacts.extend(found)
        if current is not None:
            yield Release(current, tuple(artifacts))

    # --- reading -------------------------------------------------------------------------

    def _read(self) -> Generator[bytes, None, None]:
        if self.location.url is None:
            assert self.location.path is not None
            yield from self._read_file(self.location.path)
            return
        context = self._context
        try:
            with stream_document(
                context.client, self.location.url, cache=context.cache, policy=context.policy
            ) as doc:
                if doc.status != 200:
                    failed = Document(doc.url, doc.status, b"", {}, tried=doc.tried)
                    raise status_error(self.description, failed, "the index")
                yield from _lines(doc.chunks)
        except ExternalError as exc:
            if exc.message.startswith(f"Source {self.description}"):
                raise
            raise ExternalError(f"Source {self.description}: {exc.message}", hint=exc.hint) from exc

    def _read_file(self, path: Path) -> Generator[bytes, None, None]:
        with reading_local(self.description):
            stream = open_input(path, fix=LOCAL_FIX)
        with stream:
            try:
                yield from stream
            except OSError as exc:  # opened, then the read failed: the disk
                raise ExternalError(
                    f"Source {self.description}: cannot read {path}: {exc.strerror or exc}.",
                    hint="Check the disk, then try again.",
                ) from exc

    # --- parsing -------------------------------------------------------------------------

    def _bad(self, number: int, what: str) -> InputError:
        return InputError(
            f"Source {self.description}: line {number} of {self.location} is not a line of "
            f"the PBS versions index: {what}.",
            hint="Point the source at the NDJSON versions index (one JSON object per line "
            f'with "version" and "artifacts"), e.g. plain `index` for {DEFAULT_INDEX_URL}.',
        )

    def _parse(
        self, number: int, line: bytes, platforms: frozenset[Platform] | None
    ) -> tuple[str, list[Artifact]] | None:
        """(build tag, artifacts) of one line; None for a blank line or another project's."""
        if not line.strip():
            return None
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise self._bad(number, f"it is not valid JSON ({exc})") from exc
        if not isinstance(entry, dict):
            raise self._bad(number, "it is not a JSON object")
        version, raw = entry.get("version"), entry.get("artifacts")
        if not isinstance(version, str) or not isinstance(raw, list):
            raise self._bad(number, 'it has no "version" string and "artifacts" list')
        tag = version.rpartition("+")[2]
        if not BUILD_TAG.fullmatch(tag):
            return None  # not a PBS build
        found = []
        for item in raw:
            artifact = self._artifact(number, item, tag, platforms)
            if artifact is not None:
                found.append(artifact)
        return tag, found

    def _artifact(
        self, number: int, item: object, tag: str, platforms: frozenset[Platform] | None
    ) -> Artifact | None:
        if not isinstance(item, dict):
            raise self._bad(number, "an artifact is not an object")
        url, sha256 = item.get("url"), item.get("sha256")
        platform_field, variant = item.get("platform"), item.get("variant")
        if not isinstance(url, str) or not isinstance(platform_field, str):
            raise self._bad(number, 'an artifact has no "url" or "platform" string')
        platform = index_platform(platform_field)
        if platform is None or not wanted(platform, platforms):
            return None  # skipped before the file name is parsed: most lines are elsewhere
        artifact = artifact_from_url(
            url, sha256=sha256 if isinstance(sha256, str) else None, size=None
        )
        if artifact is None or artifact.build != tag or artifact.platform != platform:
            return None
        if isinstance(variant, str) and not _same_variant(variant, artifact.asset):
            return None
        return artifact
