"""Plumbing shared by the sources: fetching small documents, reading SHA256SUMS, locations.

Kept apart from ``pylock.sources`` so the source modules can import it without importing each
other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import httpx

from pylock.base.fsutil import file_url_path
from pylock.errors import ExternalError, InputError
from pylock.formats import SHA256_HEX
from pylock.net.http import Document, fetch_document
from pylock.project.platforms import Platform
from pylock.sources.source import SourceContext


def normalise_sha256(value: str) -> str | None:
    """64 lowercase hex, or None when ``value`` is not a sha256 at all."""
    value = value.strip().lower()
    return value if SHA256_HEX.fullmatch(value) else None


def parse_sha256sums(text: str) -> dict[str, str]:
    """``{asset name: sha256}`` from ``sha256sum`` output (docs/pbs-format.md §2.1).

    Lines are ``<hex>  <name>``; a binary-mode ``*name`` is tolerated and ``%2B`` is read as
    ``+``, as the Astral parsers do. Lines that are not a checksum are ignored rather than
    fatal: a checksum we cannot read only makes that one asset unlockable.
    """
    sums: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        digest = normalise_sha256(parts[0])
        name = unquote(parts[1].strip().lstrip("*"))
        if digest is not None and name:
            sums[name] = digest
    return sums


def wanted(platform: Platform, platforms: frozenset[Platform] | None) -> bool:
    """The ``platforms`` hint: None means every platform."""
    return platforms is None or platform in platforms


def fetch(
    context: SourceContext,
    url: str,
    *,
    source: str,
    headers: Mapping[str, str] | None = None,
    remember_missing: bool = False,
) -> Document:
    """A small document through the HTTP cache; unreachable or an invalid URL (open_stream
    reports both as ExternalError) -> ExternalError naming the source.

    Any status is returned: what a 404 means depends on the document (``remember_missing``:
    see ``fetch_document``).
    """
    try:
        return fetch_document(
            context.client,
            url,
            cache=context.cache,
            policy=context.policy,
            headers=headers,
            remember_missing=remember_missing,
        )
    except ExternalError as exc:
        raise ExternalError(f"Source {source}: {exc.message}", hint=exc.hint) from exc


def status_error(source: str, doc: Document, what: str) -> ExternalError:
    """The error for a status a document should not have (after retries, for 5xx)."""
    reason = httpx.codes.get_reason_phrase(doc.status)
    retried = " (after retries)" if doc.status >= 500 else ""
    return ExternalError(
        f"Source {source}: fetching {what} at {doc.url} failed with HTTP {doc.status} "
        f"{reason}{retried}.",
        hint="Check that the source URL is right and the server is up, then try again.",
    )


def fetch_sha256sums(context: SourceContext, url: str, *, source: str) -> dict[str, str] | None:
    """A release's SHA256SUMS; None when the server has none (404/410)."""
    doc = fetch(context, url, source=source)
    if doc.status in (404, 410):
        return None
    if doc.status != 200:
        raise status_error(source, doc, "SHA256SUMS")
    return parse_sha256sums(doc.body.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class Location:
    """Where a catalog or mirror lives: exactly one of ``url`` and ``path`` is set."""

    url: str | None = None
    path: Path | None = None

    def __str__(self) -> str:
        return self.url if self.url is not None else str(self.path)


def locate(value: str, base_dir: Path) -> Location:
    """An http(s) URL stays a URL; ``file:`` URLs and paths become paths, relative ones read
    relative to the project (``base_dir``), so a manifest means the same from any cwd."""
    lowered = value.lower()
    if lowered.startswith(("http://", "https://")):
        return Location(url=value)
    if lowered.startswith("file:"):
        local = file_url_path(value)  # the one rule for file: URLs (fsutil)
        if local is None:
            raise InputError(
                f"Cannot read {value}: a file: URL must name this machine.",
                hint="Write file:///absolute/path (or file://localhost/...), or a plain path.",
            )
        path = local
    else:
        path = Path(value).expanduser()
    return Location(path=path if path.is_absolute() else base_dir / path)


def unreadable(description: str, path: Path, what: str, exc: OSError) -> InputError | ExternalError:
    """Why a source's local file (``what``: "catalog file", "index file") cannot be read: a
    path that names nothing is bad input (exit 2), anything else the disk's trouble (exit 3)."""
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return InputError(
            f"Source {description}: there is no {what} at {path}.",
            hint="Check the path; relative paths are read from the project directory.",
        )
    return ExternalError(
        f"Source {description}: cannot read {path}: {exc.strerror or exc}.",
        hint="Check the file's permissions.",
    )
