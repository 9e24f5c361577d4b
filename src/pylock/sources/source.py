"""What every source shares: the Source protocol, the Release it yields, the SourceContext it
is opened with (docs/sources.md).

INTERFACE (fixed; the resolver and the lock command depend on it).

Every source yields Releases newest first, so the resolver can stop reading as soon as its
answer is certain; a pinned build asks the source for that one release only.

The source modules (github, catalog, index, mirror) import these types, so this module imports
none of them; turning a ``source`` spelling into one of them is ``pylock.sources.spec``'s job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pylock.base.settings import Settings
from pylock.net.http import HttpCache, HttpPolicy
from pylock.net.lib import httpx
from pylock.project.platforms import Platform
from pylock.sources.artifacts import Artifact


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
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)  # tokens (Settings)


def open_context(settings: Settings, *, base_dir: Path) -> SourceContext:
    """One client for the run, under the settings' HTTP policy, and the HTTP cache in the
    settings' cache directory (the caller closes ``client``)."""
    from pylock.net.http import make_client

    return SourceContext(
        client=make_client(settings.http),
        cache=HttpCache(settings.cache_dir),
        policy=settings.http,
        base_dir=base_dir,
        environ=settings.environ,
    )
