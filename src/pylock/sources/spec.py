"""A source from its spelling: ``open_source`` turns the ``source`` of a manifest or a
``--source`` option (docs/sources.md) into one of the sources, and ``github_token`` decides which
token, if any, that source may send.

Kept apart from ``pylock.sources.source``: the sources import its shared types, and this module
imports the sources, so neither has to import the other lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from pylock.base.sourcespec import parse_source
from pylock.sources.catalog import CatalogSource
from pylock.sources.github import GitHubSource
from pylock.sources.index import DEFAULT_INDEX_URL, IndexSource
from pylock.sources.mirror import MirrorSource
from pylock.sources.source import Source, SourceContext

DEFAULT_GITHUB_API = "https://api.github.com/repos/astral-sh/python-build-standalone"

GITHUB_API_HOST = "api.github.com"
GITHUB_TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
ENTERPRISE_TOKEN_VARIABLES = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")


def github_token(api_url: str, environ: Mapping[str, str]) -> str | None:
    """The token for the API at ``api_url``, by the gh CLI's rules: ``GITHUB_TOKEN``/``GH_TOKEN``
    only for api.github.com, ``GH_ENTERPRISE_TOKEN``/``GITHUB_ENTERPRISE_TOKEN`` for any other
    host. A ``source`` is read from a committed pyproject.toml, so a CI job's GitHub token must
    never go to whatever host a manifest happens to name."""
    env = environ
    host = (urlsplit(api_url).hostname or "").lower()
    names = GITHUB_TOKEN_VARIABLES if host == GITHUB_API_HOST else ENTERPRISE_TOKEN_VARIABLES
    for name in names:
        if value := env.get(name, "").strip():
            return value
    return None


def open_source(spec: str, context: SourceContext, *, where: str = "") -> Source:
    """A Source from its spelling (docs/sources.md): ``github``, ``github:<api url>``,
    ``catalog:<url or path>``, ``index``, ``index:<url or path>``, ``mirror:<url or path>``; a
    bare value is a catalog when it ends in ``.json``, an index in ``.ndjson``, else a mirror.
    An unknown spelling -> InputError naming ``where`` (``base.sourcespec.parse_source``, the one
    reader of a spelling; a bare word close to a keyword that names no directory in the
    project is taken for a misspelled keyword). Only the github source sends a GitHub
    token (see ``github_token``); a private catalog, index or mirror gets the credentials of the
    HTTP policy instead (base/credentials.py), which the one client attaches by origin.

    Opening does no I/O: a source reads nothing until its releases are asked for, so a lock
    that already satisfies the manifest never touches the network.
    """
    spelled = parse_source(spec, where=where, base_dir=context.base_dir)
    location = spelled.location
    if spelled.kind == "github":
        api = location or DEFAULT_GITHUB_API
        return GitHubSource(api, context, token=github_token(api, context.environ))
    if spelled.kind == "index":
        return IndexSource(location or DEFAULT_INDEX_URL, context)
    assert location is not None  # only github and index have a default location
    if spelled.kind == "catalog":
        return CatalogSource(location, context)
    return MirrorSource(location, context)
