"""Plumbing shared by the sources: fetching small documents, reading SHA256SUMS, locations.

Kept apart from ``pylock.sources`` so the source modules can import it without importing each
other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from pylock.base.credentials import redact_url
from pylock.base.fsutil import file_url_path, url_scheme
from pylock.errors import ExternalError, InputError
from pylock.formats import SHA256_HEX
from pylock.net.http import Document, fetch_document, refusal
from pylock.net.lib import httpx
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
    """The error for a status a document should not have (after retries, for 5xx); a 401 or
    403 says what pylock sent and how to give a credential (``http.refusal``)."""
    reason = httpx.codes.get_reason_phrase(doc.status)
    retried = " (after retries)" if doc.status >= 500 else ""
    failed = (
        f"Source {source}: fetching {what} at {redact_url(doc.url)} failed with HTTP "
        f"{doc.status} {reason}{retried}"
    )
    if doc.status in (401, 403):
        happened, hint = refusal(doc.url, doc.status, doc.tried)
        return ExternalError(f"{failed}: {happened}.", hint=hint)
    return ExternalError(
        f"{failed}.",
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
    """Where a catalog or mirror lives: exactly one of ``url`` and ``path`` is set. A ``url``
    is as the setting spelled it, in its display form (``Settings`` took any password out);
    requests take its user information off, and the credential comes from the HTTP policy."""

    url: str | None = None
    path: Path | None = None

    def __str__(self) -> str:
        return redact_url(self.url) if self.url is not None else str(self.path)


def locate(value: str, base_dir: Path) -> Location:
    """An http(s) URL stays a URL; ``file:`` URLs and paths become paths, relative ones read
    relative to the project (``base_dir``), so a manifest means the same from any cwd. A URL
    and a path are told apart, and a file: URL read, by the one rule for each
    (``fsutil.url_scheme``, ``fsutil.file_url_path``); any other URL is refused."""
    scheme = url_scheme(value)
    if scheme in ("http", "https"):
        return Location(url=value)
    local = file_url_path(value)
    if local is None and scheme == "file":
        raise InputError(
            f"Cannot read {value}: a file: URL must name this machine.",
            hint="Write file:///absolute/path (or file://localhost/...), or a plain path.",
        )
    if local is None:
        raise InputError(
            f"Cannot read {value}: {scheme}: URLs are not supported.",
            hint="Use an https:// (or loopback http://) URL, a file: URL or a path.",
        )
    path = local if scheme else local.expanduser()
    return Location(path=path if path.is_absolute() else base_dir / path)


@contextmanager
def reading_local(description: str) -> Iterator[None]:
    """Read a source's local file inside this block, with ``fsutil.open_input`` or
    ``read_input``: the rule for every input file (missing, a directory or unreadable: exit 2,
    saying what to do; the disk failing: exit 3). Its errors come out naming the source too."""
    try:
        yield
    except InputError as exc:
        raise InputError(f"Source {description}: {exc.message}", hint=exc.hint) from None
    except ExternalError as exc:
        raise ExternalError(f"Source {description}: {exc.message}", hint=exc.hint) from None


LOCAL_FIX = (
    "point the source at the right file (relative paths are read from the project directory)"
)
"""What to do about a catalog or index file that cannot be read (``fsutil.open_input``)."""
