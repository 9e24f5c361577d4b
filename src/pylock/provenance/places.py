"""Where an archive's attestations can be had, in the order they are asked.

After the cache of verified bundles (``store.py``, asked by the prover first):

1. the download mirrors of the run (``--mirror``, ``PYLOCK_MIRROR`` or the manifest's ``mirror``,
   as ``Settings.mirror_for`` picks it): ``{mirror}/{build}/{asset}.sigstore.json``;
2. the source the lock is resolved from: a ``mirror:`` source's own bundles, or the attestations
   API of a ``github`` source's repository (whatever repository the policy names: the policy
   judges the certificate, not where the bundle came from). A catalog or index names no
   repository, so a github.com release download URL stands for one; other URLs have none.

So a firewalled machine with a mirror never needs GitHub, and one without a mirror asks the
same API the release came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from pylock.sources.github import GitHubSource, api_for_download
from pylock.sources.mirror import MirrorSource
from pylock.sources.source import Source, SourceContext
from pylock.sources.spec import github_token, open_source


class Locked(Protocol):
    """What the places need to know about an archive (``lockfile.Target`` has it all)."""

    @property
    def platform(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def build(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def asset_name(self) -> str: ...


class Place(Protocol):
    description: str

    def bundles(self, target: Locked) -> list[bytes] | None:
        """The bundles this place holds for ``target`` (None: none); ExternalError when it
        cannot be reached."""
        ...


class GitHubPlace:
    """A repository's attestations API (``GitHubSource.attestations``)."""

    def __init__(self, source: GitHubSource) -> None:
        self.source = source
        self.description = f"the attestations API of {source.api_url}"

    def bundles(self, target: Locked) -> list[bytes] | None:
        return self.source.attestations(target.sha256)


class MirrorPlace:
    """A mirror's ``{build}/{asset}.sigstore.json`` (``MirrorSource.attestation``)."""

    def __init__(self, source: MirrorSource) -> None:
        self.source = source
        self.description = f"the mirror {source.location}"

    def bundles(self, target: Locked) -> list[bytes] | None:
        bundle = self.source.attestation(target.build, target.asset_name)
        return None if bundle is None else [bundle]


class Places:
    """The places of one run. ``context`` gives the run's HTTP client and cache; it is called
    only when a place is first asked, so a run whose bundles are all cached opens no client."""

    def __init__(
        self,
        *,
        spec: str,
        where: str,
        mirrors: Sequence[str],
        context: Callable[[], SourceContext],
    ) -> None:
        self._spec = spec
        self._where = where
        self._mirrors = tuple(dict.fromkeys(mirrors))
        self._context = context
        self._opened: list[Place] | None = None
        self._source: Source | None = None
        self._derived: dict[str, GitHubPlace] = {}

    def for_target(self, target: Locked) -> list[Place]:
        """Every place to ask for ``target``'s bundles, in order, each once."""
        if self._opened is None:
            context = self._context()
            self._opened = [MirrorPlace(MirrorSource(m, context)) for m in self._mirrors]
            self._source = open_source(self._spec, context, where=self._where)
        places = list(self._opened)
        own = self._source_place(target)
        if own is not None and own.description not in {p.description for p in places}:
            places.append(own)
        return places

    def _source_place(self, target: Locked) -> Place | None:
        source = self._source
        if isinstance(source, GitHubSource):
            return GitHubPlace(source)
        if isinstance(source, MirrorSource):
            return MirrorPlace(source)
        api = api_for_download(target.url)
        if api is None:
            return None
        if api not in self._derived:
            context = self._context()
            token = github_token(api, context.environ)
            self._derived[api] = GitHubPlace(GitHubSource(api, context, token=token))
        return self._derived[api]
