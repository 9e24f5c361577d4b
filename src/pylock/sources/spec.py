"""A source from its spelling: ``open_source`` turns the ``source`` of a manifest or a
``--source`` option (docs/sources.md) into one of the sources, and ``github_token`` decides which
token, if any, that source may send.

Kept apart from ``pylock.sources.source``: the sources import its shared types, and this module
imports the sources, so neither has to import the other lazily.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from pylock.base.fsutil import url_scheme
from pylock.errors import InputError
from pylock.sources.catalog import CatalogSource
from pylock.sources.github import GitHubSource
from pylock.sources.index import DEFAULT_INDEX_URL, IndexSource
from pylock.sources.mirror import MirrorSource
from pylock.sources.source import Source, SourceContext

DEFAULT_GITHUB_API = "https://api.github.com/repos/astral-sh/python-build-standalone"

_FORMS = (
    "github (the python-build-standalone releases on GitHub)",
    "github:<repository API URL> (e.g. github:https://api.github.com/repos/OWNER/REPO)",
    "catalog:<URL or path> (uv's download-metadata.json format)",
    "index (the PBS versions index that uv reads) or index:<URL or path> (that NDJSON format)",
    "mirror:<URL or path> (laid out as {base}/{build}/{asset} with a SHA256SUMS per build)",
    "a bare URL or path (a catalog when it ends in .json, an index in .ndjson, else a mirror)",
)
_BARE_SCHEMES = ("http", "https", "file")


def _bad_spec(spec: str, where: str, why: str, suggestion: str = "") -> InputError:
    place = f"{where}: " if where else ""
    return InputError(
        f"{place}{spec!r} is not a source: {why}.",
        hint=f"{suggestion}Valid forms: " + "; ".join(_FORMS) + ".",
    )


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
    An unknown spelling -> InputError naming ``where``. Only the github source sends a GitHub
    token (see ``github_token``); a private catalog, index or mirror gets the credentials of the
    HTTP policy instead (base/credentials.py), which the one client attaches by origin.

    Opening does no I/O: a source reads nothing until its releases are asked for, so a lock
    that already satisfies the manifest never touches the network.
    """
    value = spec.strip()
    if not value:
        raise _bad_spec(spec, where, "it is empty")
    if value == "github":
        return GitHubSource(
            DEFAULT_GITHUB_API, context, token=github_token(DEFAULT_GITHUB_API, context.environ)
        )
    if value == "index":
        return IndexSource(DEFAULT_INDEX_URL, context)
    kind, colon, rest = value.partition(":")
    rest = rest.strip()
    if colon and kind in ("github", "catalog", "index", "mirror"):
        if not rest:
            raise _bad_spec(spec, where, f"nothing follows {kind}:")
        if kind == "catalog":
            return CatalogSource(rest, context)
        if kind == "index":
            return IndexSource(rest, context)
        if kind == "mirror":
            return MirrorSource(rest, context)
        if url_scheme(rest) not in ("http", "https") or not urlsplit(rest).hostname:
            suggestion = ""
            if re.fullmatch(r"[\w.-]+/[\w.-]+", rest):
                suggestion = f"Did you mean github:https://api.github.com/repos/{rest}? "
            raise _bad_spec(
                spec, where, "github: must be followed by an http(s) API URL", suggestion
            )
        return GitHubSource(rest, context, token=github_token(rest, context.environ))
    scheme = url_scheme(value)  # the one "is this a URL?" (C:\pbs is a path)
    if scheme is not None and scheme not in _BARE_SCHEMES:
        raise _bad_spec(spec, where, f"unknown prefix {scheme!r}")
    bare_path = (urlsplit(value).path if scheme else value).lower()
    if bare_path.endswith(".json"):
        return CatalogSource(value, context)
    if bare_path.endswith(".ndjson"):
        return IndexSource(value, context)
    return MirrorSource(value, context)
