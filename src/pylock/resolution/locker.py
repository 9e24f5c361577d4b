"""The library behind ``pylock lock``: manifest + CLI overrides + old lock + source -> new lock.

Minimal change is the rule (docs/resolution.md): a lock whose pins still satisfy the manifest is
returned as it is, without opening an HTTP client, so ``pylock lock`` in CI or a pre-commit hook is
free and never rewrites a byte. Only what no longer holds is resolved: new platforms get the build
already pinned when that build has them; changed inputs (python, flavor, build) re-resolve every
target, because all targets share one (version, build). ``--upgrade`` re-resolves everything.

Which targets a lock holds: the platforms the manifest lists (or, when it lists none, those the
lock already holds, or this host for a new lock), plus every ``--platform``. A target added with
``--platform`` stays until the user removes it by hand; a target whose platform the manifest
used to list (the lock's ``[manifest].platforms``) and no longer does is removed.

A current lock is left alone even when the manifest was reworded in a way its pins still satisfy
(``python = "3.12"`` -> ``">=3.12,<3.13"``): its ``[manifest]`` table, a record for reviewers, is
refreshed the next time a target changes, so no run rewrites a lock just to restate its inputs.

Provenance (docs/provenance.md): every target of a request that is rewritten and has no record,
or one the policy no longer accepts, is proved (``pylock.provenance``) and its ``provenance``
recorded; a change of policy alone re-proves the pins, never moves them. No silent downgrade: a
target whose provenance was proved is never moved to an unattested build. When the old pins
still satisfy the manifest (``--upgrade``) they are kept and ``LockResult.kept`` says why;
otherwise the lock is refused (exit 1) until the policy is lowered to "off".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from packaging.version import Version

from pylock.base.settings import Settings
from pylock.base.sourcespec import naming_offline_routes
from pylock.errors import InputError, ResolutionError, VerificationError
from pylock.project.edit import set_python
from pylock.project.manifest import PYPROJECT, Manifest, Request, parse_python_request
from pylock.project.manifest import load as load_manifest
from pylock.project.platforms import Platform, host_platform, parse_platform
from pylock.project.provenance import UNATTESTED, Proof
from pylock.resolution import lockfile
from pylock.resolution.drift import drift, locked_manifest, pair_requests
from pylock.resolution.lockfile import LOCK_FILENAME, Lock, Target
from pylock.resolution.resolver import resolve

if TYPE_CHECKING:  # httpx is imported only when a lock actually has to be resolved
    from pylock.provenance.prover import Prover
    from pylock.sources.artifacts import Artifact
    from pylock.sources.source import Source, SourceContext


@dataclass(frozen=True)
class LockOptions:
    """One run's command-line options (``None``/empty: not given)."""

    python: str | None = None  # --python: becomes [tool.pylock].python (``PythonPin``)
    platforms: tuple[str, ...] = ()  # --platform, repeatable: adds to the lock's platforms
    flavor: str | None = None
    build: str | None = None
    exclude_newer: str | None = None  # --exclude-newer: an ISO date or YYYYMMDD
    upgrade: bool = False
    dry_run: bool = False


ChangeKind = Literal["added", "removed", "upgraded", "proved", "unchanged"]
"""What happened to one platform's target; "upgraded" is any change of its pin, "proved" a new
provenance record for the same pin."""


@dataclass(frozen=True)
class Change:
    """What happened to one platform's target, for the summary the CLI prints."""

    kind: ChangeKind
    platform: str
    old: Target | None
    new: Target | None
    request: str | None = None  # the manifest request, in a matrix lock

    @property
    def new_bytes(self) -> bool:
        """The same build with other bytes (``lockfile.new_bytes``): a re-published archive."""
        return (
            self.old is not None and self.new is not None and lockfile.new_bytes(self.old, self.new)
        )


@dataclass(frozen=True)
class PythonPin:
    """``--python REQ`` set ``[tool.pylock].python`` to ``now`` (or, on a dry run, would have):
    the manifest's requests ``was`` (empty: it had none) and the one request it holds now."""

    was: tuple[str, ...]
    now: str


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    changes: tuple[Change, ...]  # one per (request, platform) in the old or the new lock
    written: bool  # False on a dry run, and when the bytes on disk were already these
    releases: tuple[ReleaseNote, ...] = ()  # set only when the lock spans several PBS releases
    # What was wrong with an unreadable python.lock that --upgrade replaced (None: nothing was).
    replaced: str | None = None
    kept: tuple[Kept, ...] = ()  # attested pins not moved to an unattested build
    # --python changed the manifest's request (None: not given, or the manifest's already).
    pinned: PythonPin | None = None


@dataclass(frozen=True)
class Kept:
    """A pin ``--upgrade`` did not move: its archive was proved, the newer one has no
    attestation (docs/provenance.md, "No silent downgrade")."""

    request: str | None  # the manifest request, in a matrix lock
    platform: str
    locked: Target  # kept, with its proof
    newer: Target  # what the upgrade resolved, unattested


_Named = TypeVar("_Named", Change, Kept)


class ContextFactory(Protocol):
    """Makes the HTTP client and cache for a run; called at most once, and only when a source
    must actually be read (tests count the calls and shorten retry backoff through it)."""

    def __call__(self, settings: Settings, *, base_dir: Path) -> SourceContext: ...


def default_context(settings: Settings, *, base_dir: Path) -> SourceContext:
    """One client for the run, under the settings' HTTP policy, and the HTTP cache in the
    settings' cache directory (``sources.source.open_context``)."""
    from pylock.sources.source import open_context

    return open_context(settings, base_dir=base_dir)


class _Session:
    """The source and its client, opened on first use and closed by ``close``."""

    def __init__(
        self,
        spec: str,
        where: str,
        factory: ContextFactory,
        *,
        settings: Settings,
        base_dir: Path,
        mirror: str | None = None,
    ) -> None:
        self._spec = spec
        self._where = where
        self._factory = factory
        self._settings = settings
        self._base_dir = base_dir
        self._mirror = mirror
        self._context: SourceContext | None = None
        self._source: Source | None = None
        self._prover: Prover | None = None

    @property
    def context(self) -> SourceContext:
        if self._context is None:
            self._context = self._factory(self._settings, base_dir=self._base_dir)
        return self._context

    @property
    def source(self) -> Source:
        if self._source is None:
            from pylock.sources.spec import open_source

            self._source = open_source(self._spec, self.context, where=self._where)
        return self._source

    @property
    def prover(self) -> Prover:
        """Proves archives with this run's client: bundles from the download mirror, then
        from the source (docs/provenance.md)."""
        if self._prover is None:
            from pylock.provenance.places import Places
            from pylock.provenance.prover import Prover

            places = Places(
                spec=self._spec,
                where=self._where,
                mirrors=[self._mirror] if self._mirror else [],
                context=lambda: self.context,
            )
            self._prover = Prover(settings=self._settings, places=places)
        return self._prover

    @property
    def opened(self) -> bool:
        """Whether the source was read at all (a run that only drops targets reads nothing)."""
        return self._source is not None

    def close(self) -> None:
        if self._context is not None:
            self._context.client.close()


def lock_project(
    project_dir: Path,
    options: LockOptions,
    *,
    settings: Settings,
    context_factory: ContextFactory = default_context,
) -> LockResult:
    """Resolve ``project_dir``'s manifest into ``python.lock`` with as little change as possible.

    A matrix (several python requests) is locked one request at a time, each exactly as a lone
    request would be, against the targets it had (``drift.pair_requests``); so editing one
    request re-resolves only its targets and leaves every other byte of the lock alone.

    ``--python REQ`` is not a one-run override: the manifest is what ``check``, ``sync`` and
    ``which`` judge a lock by, so a lock of a request the manifest does not make would be stale
    the moment it is written. It sets ``[tool.pylock].python`` to REQ (``project.edit``; a test
    matrix's list is replaced), as ``uv python pin`` writes ``.python-version``, and the result
    says so (``pinned``). The manifest is written just before the lock: a run killed between the
    two leaves a lock that is stale against the new request, which ``pylock lock`` mends.

    Errors leave ``python.lock`` and ``pyproject.toml`` untouched: they are only ever replaced
    atomically at the very end.
    """
    pyproject = project_dir / PYPROJECT
    manifest = load_manifest(pyproject)
    pinned = _pinned(manifest, options.python)
    lock_path = project_dir / LOCK_FILENAME
    old, replaced = _read_old(lock_path, upgrade=options.upgrade)
    # The source is chosen, and its spelling checked, on every run: a current lock reads nothing
    # from it, but `pylock lock --source githb` is a typo whether or not it would be read.
    remote = settings.remote(
        mirror=manifest.mirror, source=manifest.source, manifest_path=pyproject
    )
    requests = Request.matrix(
        manifest,
        python=options.python,
        platforms=options.platforms,
        flavor=options.flavor,
        build=options.build,
        exclude_newer=options.exclude_newer,
    )
    locked = old.manifest.pythons if old is not None else ()
    pairs = pair_requests(locked, [r.python.text for r in requests])

    matrix = len(requests) > 1 or (old is not None and old.is_matrix)
    jobs: list[_Job] = []
    for request, index in zip(requests, pairs, strict=True):
        was = old.view(locked[index]) if old is not None and index is not None else None
        jobs.append(_job(manifest, request, was, options, lock_path))

    if old is not None and pairs == list(range(len(locked))) and all(job.current for job in jobs):
        # Current: no client, no network, not a byte rewritten (docs/resolution.md).
        changes = tuple(
            c
            for job in jobs
            for c in _named(
                _changes(job.old_targets, job.old_targets), job.request.python.text, matrix
            )
        )
        if pinned is not None and not options.dry_run:
            set_python(pyproject, pinned.now)
        return LockResult(old, changes, written=False, pinned=pinned)

    session = _Session(
        remote.source,
        remote.source_where,
        context_factory,
        settings=replace(settings, http=remote.http),
        base_dir=project_dir,
        mirror=remote.mirror,
    )
    views: list[Lock] = []
    changes_: list[Change] = []
    kept: list[Kept] = []
    try:
        for job in jobs:
            with naming_offline_routes(remote.source, "pylock lock"):
                targets = list(job.kept) if job.current else _plan(job, options.upgrade, session)
            if not job.current and job.request.provenance.active:
                targets = _proved(job, targets, session.prover)
                held = _no_downgrade(job, targets, lock_path)
                if held:
                    kept.extend(_named(held, job.request.python.text, matrix))
                    targets = list(job.old_targets)
            view = Lock(
                manifest=locked_manifest(job.request, manifest.platforms),
                targets=tuple(sorted(targets, key=lambda t: t.platform)),
            )
            views.append(view)
            changes_.extend(
                _named(_changes(job.old_targets, view.targets), job.request.python.text, matrix)
            )
    finally:
        session.close()
    # Targets of a request the manifest no longer lists go with it.
    for index, python in enumerate(locked):
        if index not in pairs and old is not None:
            changes_.extend(
                replace(c, request=python) for c in _changes(old.view(python).targets, ())
            )
    combined = lockfile.combine(views)
    if session.opened:  # the targets now come from this run's source: the lock says which
        recorded = _recorded_source(settings, manifest, pyproject, remote.source)
    else:  # only targets dropped: they still come from where the old lock's came from
        recorded = old.manifest.source if old is not None else None
    combined = replace(combined, manifest=replace(combined.manifest, source=recorded))
    new = replace(combined, lock_version=combined.format_version)  # as it will be read back
    written = False
    if not options.dry_run:
        if pinned is not None:
            set_python(pyproject, pinned.now)  # first: see the docstring
        written = lockfile.write(lock_path, new)
    return LockResult(
        new,
        tuple(changes_),
        written=written,
        releases=_releases(jobs, views, new),
        replaced=replaced,
        kept=tuple(kept),
        pinned=pinned,
    )


def _pinned(manifest: Manifest, python: str | None) -> PythonPin | None:
    """What ``--python`` changes in the manifest: None when not given, or when the manifest's
    request is already exactly that one."""
    if python is None:
        return None
    now = parse_python_request(python, where="--python").text
    was = tuple(request.text for request in manifest.pythons)
    return None if was == (now,) else PythonPin(was, now)


def _recorded_source(
    settings: Settings, manifest: Manifest, pyproject: Path, used: str
) -> str | None:
    """What a lock resolved from ``used`` records as its source (``LockedManifest.source``):
    ``--source`` as spelled (without user information), when a plain ``pylock lock`` of the
    project, reading its manifest and the environment, would read another source; else None.
    Only ``--source`` is ever recorded: the manifest's source is the project's own, and
    ``PYLOCK_SOURCE`` is this machine's default, which the next run here uses anyway."""
    if settings.source is None:
        return None
    try:
        plain: str | None = replace(settings, source=None).source_for(manifest.source, pyproject)[0]
    except InputError:  # the manifest's own source is misspelled: --source stood in for it
        plain = None
    return None if plain == used else lockfile.persisted_source(used)


@dataclass(frozen=True)
class _Job:
    """One request of the manifest, and what its part of the old lock says about it."""

    request: Request
    old: Lock | None  # the old lock's view for this request (None: a new request)
    kept: tuple[Target, ...]  # old targets still wanted
    current: bool  # the old view satisfies the request: keep it untouched

    @property
    def old_targets(self) -> tuple[Target, ...]:
        return self.old.targets if self.old is not None else ()


def _job(
    manifest: Manifest, request: Request, old: Lock | None, options: LockOptions, lock_path: Path
) -> _Job:
    """Which platforms ``request`` locks (docs: the module docstring) and whether it holds."""
    if manifest.platforms:
        defaults: tuple[Platform, ...] = ()
    elif old is not None and old.targets:
        defaults = tuple(_platform_of(t, lock_path) for t in old.targets)
    else:
        defaults = (host_platform(),)
    request = replace(
        Request.from_manifest(
            manifest,
            python=options.python,
            platforms=options.platforms,
            flavor=options.flavor,
            build=options.build,
            exclude_newer=options.exclude_newer,
            default_platforms=defaults,
        ),
        python=request.python,
    )
    requested = {p.key for p in request.platforms}
    old_targets = old.targets if old is not None else ()
    recorded = set(old.manifest.platforms) if old is not None else set()
    kept = tuple(t for t in old_targets if t.platform in requested or t.platform not in recorded)
    removing = len(kept) != len(old_targets)
    current = old is not None and not options.upgrade and not removing and not drift(old, request)
    return _Job(request, old, kept, current)


def _named(changes: Iterable[_Named], request: str, matrix: bool) -> list[_Named]:
    """Each change naming its request when the lock has several (a lone request needs none)."""
    return [replace(c, request=request) if matrix else c for c in changes]


def _proved(job: _Job, targets: list[Target], prover: Prover) -> list[Target]:
    """``targets`` with every one the policy does not yet accept, or that no one looked at,
    proved and its provenance recorded; one the policy refuses stops the lock (exit 1)."""
    policy = job.request.provenance
    return [
        t
        if t.provenance is not None and policy.accepts(t.provenance)
        else replace(t, provenance=prover.prove(t, policy))
        for t in targets
    ]


def _no_downgrade(job: _Job, targets: list[Target], lock_path: Path) -> list[Kept]:
    """The targets that would move from a proved archive to an unattested one. Empty: none
    would. Else the old pins are kept when they still satisfy the manifest (an ``--upgrade``);
    when the manifest forces the move, the lock is refused."""
    before = {t.platform: t for t in job.old_targets}
    held = [
        Kept(None, t.platform, before[t.platform], t)
        for t in targets
        if t.platform in before
        and isinstance(before[t.platform].provenance, Proof)
        and t.provenance == UNATTESTED
        and before[t.platform].sha256 != t.sha256
    ]
    if not held or (job.old is not None and not drift(job.old, job.request)):
        return held
    first = held[0]
    proof = first.locked.provenance
    assert isinstance(proof, Proof)
    raise VerificationError(
        f"{lock_path} records that {proof.signer} built {first.platform}'s "
        f"{first.locked.version} ({first.locked.build}), and the manifest now needs "
        f"{first.newer.version} ({first.newer.build}), which has no attestation: pylock lock "
        "never moves a proved target to an unattested build.",
        hint='To move anyway, lower [tool.pylock.provenance] policy to "off" for this change; '
        "or pin a build that has an attestation.",
    )


@dataclass(frozen=True)
class ReleaseNote:
    """Why a request's targets are not in the newest PBS release the lock uses."""

    request: str
    build: str
    reason: str


def _releases(jobs: list[_Job], views: list[Lock], new: Lock) -> tuple[ReleaseNote, ...]:
    """When the matrix spans several PBS releases: each request's release and why it is not
    the newest one (a pinned build, a pin kept from the old lock, or the newest that has it)."""
    builds = {t.build for view in views for t in view.targets}
    if len(builds) < 2:
        return ()
    newest = max(builds)
    notes = []
    for job, view in zip(jobs, views, strict=True):
        for build in sorted({t.build for t in view.targets}):
            if build == newest:
                reason = "the newest release in the lock"
            elif job.request.build is not None:
                reason = f"the manifest pins build {job.request.build}"
            elif set(view.targets) <= set(job.old_targets):
                upgrade = lockfile.relock_command(new, "--upgrade")
                reason = f"kept from python.lock (run `{upgrade}` to move it)"
            else:
                reason = (
                    f"the newest release with a {job.request.python.text} build for every platform"
                )
            notes.append(ReleaseNote(job.request.python.text, build, reason))
    return tuple(notes)


def _read_old(lock_path: Path, *, upgrade: bool) -> tuple[Lock | None, str | None]:
    """The existing lock and, when ``--upgrade`` replaces an unreadable one, what was wrong.

    An empty, corrupt or newer-version lock must not trap its user: every other command's
    error points here, so without ``--upgrade`` the error names the two ways out, and with it
    the lock is resolved afresh from the manifest (the caller says what it replaced).
    """
    raw = lockfile.read_bytes_if_any(lock_path)  # a directory or unreadable: not replaceable
    if raw is None:
        return None, None
    try:
        return lockfile.from_bytes(raw, lock_path), None
    except InputError as error:
        if upgrade:
            return None, error.message.strip()
        raise InputError(
            error.message,
            hint=f"`pylock lock --upgrade` replaces it with a new lock resolved from {PYPROJECT} "
            f"(saying what it found); or delete {lock_path} and run `pylock lock`.",
        ) from None


def _platform_of(target: Target, lock_path: Path) -> Platform:
    return parse_platform(target.platform, where=f"{lock_path} target {target.platform!r}")


def _plan(job: _Job, upgrade: bool, session: _Session) -> list[Target]:
    """The new targets: the kept ones where they still hold, resolved ones for the rest."""
    request, old, kept = job.request, job.old, job.kept
    # Targets added earlier with --platform stay, and so they follow every re-resolution.
    everything = replace(
        request,
        platforms=tuple(sorted({*request.platforms, *(parse_platform(t.platform) for t in kept)})),
    )
    if old is None or upgrade or not kept:
        return _resolve_all(everything, session)
    moved = drift(replace(old, targets=kept), request)
    if any(d.input not in ("platforms", "provenance") for d in moved):
        return _resolve_all(everything, session)  # python, flavor or build changed
    have = {t.platform for t in kept}
    missing = tuple(p for p in request.platforms if p.key not in have)
    if not missing:
        return list(kept)  # only removals: nothing to fetch
    pins = {(t.version, t.build) for t in kept}
    if len(pins) == 1:
        ((version, build),) = pins
        try:
            return [*kept, *_resolve_at_pin(request, missing, Version(version), build, session)]
        except ResolutionError:
            pass  # the pinned build lacks a new platform: one build for all, so move them all
    return _resolve_all(everything, session)


def _resolve_all(request: Request, session: _Session) -> list[Target]:
    source = session.source
    releases = source.releases(build=request.build, platforms=frozenset(request.platforms))
    try:
        resolution = resolve(request, releases, source=source.description)
    finally:
        _close(releases)
    return _targets(resolution.artifacts)


def _resolve_at_pin(
    request: Request, missing: tuple[Platform, ...], version: Version, build: str, session: _Session
) -> list[Target]:
    """Targets for ``missing`` platforms from exactly the pinned version and build."""
    source = session.source
    partial = replace(request, platforms=missing, build=build)
    releases = source.releases(build=build, platforms=frozenset(missing))
    try:
        resolution = resolve(partial, releases, version=version, source=source.description)
    finally:
        _close(releases)
    return _targets(resolution.artifacts)


def _close(releases: Iterator[object]) -> None:
    """Close a source's release generator now, not whenever it is collected: the index source
    finishes caching its document when it is closed (http.stream_document)."""
    close = getattr(releases, "close", None)
    if callable(close):
        close()


def _targets(artifacts: Iterable[Artifact]) -> list[Target]:
    targets = []
    for artifact in artifacts:
        assert artifact.sha256 is not None  # the resolver never chooses one without
        targets.append(
            Target(
                platform=artifact.platform.key,
                triple=artifact.asset.triple,
                implementation=artifact.asset.implementation,
                version=str(artifact.version),
                build=artifact.build,
                flavor=artifact.flavor,
                variant=artifact.variant,
                url=artifact.url,
                size=artifact.size,
                sha256=artifact.sha256,
            )
        )
    return targets


def _changes(old: Iterable[Target], new: Iterable[Target]) -> tuple[Change, ...]:
    before = {t.platform: t for t in old}
    after = {t.platform: t for t in new}
    changes = []
    for platform in sorted(before.keys() | after.keys()):
        was, now = before.get(platform), after.get(platform)
        kind: ChangeKind
        if was is None:
            kind = "added"
        elif now is None:
            kind = "removed"
        elif was == now:
            kind = "unchanged"
        elif replace(was, provenance=None) == replace(now, provenance=None):
            kind = "proved"
        else:
            kind = "upgraded"
        changes.append(Change(kind, platform, was, now))
    return tuple(changes)
