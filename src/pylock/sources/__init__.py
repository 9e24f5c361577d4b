"""Where candidate artifacts come from: a GitHub-compatible releases API, a catalog, a mirror.

INTERFACE (fixed; the resolver and the lock command depend on it).

Every source yields Releases newest first, so the resolver can stop reading as soon as its
answer is certain; a pinned build asks the source for that one release only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from pylock.artifacts import Artifact
from pylock.http import HttpCache, HttpPolicy
from pylock.platforms import Platform

DEFAULT_GITHUB_API = "https://api.github.com/repos/astral-sh/python-build-standalone"


@dataclass(frozen=True)
class Release:
    """One PBS release: its tag and every interpreter artifact a source knows in it."""

    build: str
    artifacts: tuple[Artifact, ...]


class Source(Protocol):
    """A provider of releases. ``description`` names it in errors (``github:https://…``)."""

    description: str

    def releases(
        self, *, build: str | None = None, platforms: frozenset[Platform] | None = None
    ) -> Iterator[Release]:
        """Releases newest first; with ``build``, only that release (none if it is unknown).

        ``platforms`` is a hint: a source may leave out artifacts for other platforms (and so
        skip fetching their checksums); the resolver never relies on it being honoured.
        """
        ...


@dataclass(frozen=True)
class SourceContext:
    """What every source needs from the run: one client, the cache, the network policy."""

    client: httpx.Client
    cache: HttpCache | None
    policy: HttpPolicy
    base_dir: Path  # relative catalog/mirror paths are read relative to the project


def open_source(spec: str, context: SourceContext, *, where: str = "") -> Source:
    """A Source from its spelling (DESIGN "Sources, spelled"): ``github``, ``github:<api url>``,
    ``catalog:<url or path>``, ``mirror:<url or path>``; a bare value is a catalog when it ends
    in ``.json``, else a mirror. An unknown spelling -> InputError naming ``where``."""
    raise NotImplementedError
