"""Proving locked archives: find a bundle, verify it, keep it (docs/provenance.md).

``Prover`` is the one path every command takes: ``pylock lock`` records what it proves,
``pylock sync`` under "require" proves before placing an install, ``pylock check --provenance``
re-proves every target and ``pylock mirror`` writes the bundles it proves. For each archive
digest (asked once per run, whatever the number of targets sharing it):

1. the cache of verified bundles (``store.py``), verified again; a cached bundle that no longer
   verifies is discarded and the search goes on;
2. every place of ``places.py`` in turn: the first that holds bundles decides. One of them that
   verifies is the proof (and is kept in the cache); if none does, the archive is refused (exit
   1), and no later place is asked to overrule the evidence;
3. no place holds any: the archive is unattested. Under "require" that is a refusal (exit 1);
   under "verify" it is recorded as such.

A place that cannot be reached (network, rate limit, 5xx) is exit 3 with the hint to verify from
a mirror: "not reachable" is never taken for "not attested".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.base.settings import Settings
from pylock.errors import ExternalError, VerificationError
from pylock.project.provenance import UNATTESTED, ProvenancePolicy, Record
from pylock.provenance.places import Locked, Places
from pylock.provenance.store import BundleStore
from pylock.provenance.verify import Identity, Rejected, TrustRoot, verify_bundle

if TYPE_CHECKING:
    from pylock.project.manifest import Manifest
    from pylock.sources.source import SourceContext

MIRROR_HINT = (
    "Behind a firewall, verify from a mirror instead: `pylock mirror DIR`, run where GitHub is "
    "reachable, writes each archive's bundle beside it ({DIR}/{build}/{asset}.sigstore.json), "
    'and --mirror DIR, PYLOCK_MIRROR=DIR or source = "mirror:DIR" reads them there.'
)


def describe(target: Locked) -> str:
    """How messages name a target: platform, version, build and full digest."""
    return f"{target.platform} {target.version} ({target.build}, sha256 {target.sha256})"


@dataclass(frozen=True)
class Verdict:
    """What the places hold for one archive: a proof and the bundle that gave it (and where
    it came from), or ``UNATTESTED`` with neither."""

    record: Record
    bundle: bytes | None = None
    where: str | None = None


class ProvenanceError(VerificationError):
    """An archive refused (exit 1): the target, what failed, the signer found (None when no
    certificate could be read, or there was no attestation) and the policy it was held to."""

    def __init__(
        self,
        message: str,
        *,
        hint: str,
        target: Locked,
        what: str,
        found: Identity | None,
        policy: ProvenancePolicy,
    ) -> None:
        super().__init__(message, hint=hint)
        self.target = target
        self.what = what
        self.found = found
        self.policy = policy


class Prover:
    """Proves the archives of one run; see the module docstring."""

    def __init__(self, *, settings: Settings, places: Places) -> None:
        self._store = BundleStore(settings.cache_dir)
        self._trust = TrustRoot(offline=settings.sigstore_offline)
        self._places = places
        self._memo: dict[tuple[str, ProvenancePolicy], Verdict] = {}

    def verdict(self, target: Locked, policy: ProvenancePolicy) -> Verdict:
        """The proof for ``target`` under ``policy``, or ``UNATTESTED``; ProvenanceError
        when its attestations do not prove it, ExternalError when a place is unreachable."""
        key = (target.sha256.lower(), policy)
        if key not in self._memo:
            self._memo[key] = self._find(target, policy)
        return self._memo[key]

    def prove(self, target: Locked, policy: ProvenancePolicy) -> Record:
        """``verdict``'s record, refusing an unattested archive under "require"."""
        record = self.verdict(target, policy).record
        if record == UNATTESTED and policy.mode == "require":
            raise ProvenanceError(
                f"{describe(target)} has no attestation, and [tool.pylock.provenance] policy "
                f'is "require".',
                hint="No archive is locked or installed without proof of who built it. Choose "
                "a build that has one (python-build-standalone attests its releases since "
                '20250212), or lower the policy to "verify".',
                target=target,
                what="no attestation",
                found=None,
                policy=policy,
            )
        return record

    def _find(self, target: Locked, policy: ProvenancePolicy) -> Verdict:
        sha256 = target.sha256.lower()
        cached = self._store.load(sha256)
        if cached is not None:
            try:
                return Verdict(verify_bundle(cached, sha256, policy, self._trust), cached, "cache")
            except Rejected:
                self._store.discard(sha256)  # not trusted: fetch it again from where it came
        for place in self._places.for_target(target):
            try:
                bundles = place.bundles(target)
            except ExternalError as exc:
                raise type(exc)(
                    f"Cannot fetch the attestations of {describe(target)} from "
                    f"{place.description}: {exc.message}",
                    hint=" ".join(filter(None, (exc.hint, MIRROR_HINT))),
                ) from exc
            if not bundles:
                continue
            refusals: list[Rejected] = []
            for bundle in bundles:
                try:
                    proof = verify_bundle(bundle, sha256, policy, self._trust)
                except Rejected as refused:
                    refusals.append(refused)
                    continue
                self._store.save(sha256, bundle)
                return Verdict(proof, bundle, place.description)
            raise _refused(target, policy, place.description, refusals)
        return Verdict(UNATTESTED)


def _refused(
    target: Locked, policy: ProvenancePolicy, where: str, refusals: list[Rejected]
) -> ProvenanceError:
    """The error for an archive none of whose attestations proves it; the policy's refusal is
    the one shown when there is one (it names the signer found and the one expected)."""
    chosen = next((r for r in refusals if r.by_policy), refusals[0])
    count = len(refusals)
    which = "Its attestation" if count == 1 else f"None of its {count} attestations verifies; one"
    if chosen.by_policy:
        hint = (
            f"python.lock accepts archives signed by {policy.expected_signer()} (source "
            f"{policy.repository_uri}, issuer {policy.issuer}). If the signer found is one you "
            "trust, name it in [tool.pylock.provenance] (repository, issuer, workflows); "
            "otherwise this archive is not what that repository released: do not use it."
        )
    else:
        hint = (
            "The bundle was altered, or does not belong to this archive: do not use the "
            "archive, and report it to whoever serves the source."
        )
    return ProvenanceError(
        f"{describe(target)} failed provenance verification. {which} (from {where}) was "
        f"refused: {chosen.what}.",
        hint=hint,
        target=target,
        what=chosen.what,
        found=chosen.identity,
        policy=policy,
    )


@contextmanager
def open_prover(
    settings: Settings,
    project_dir: Path,
    manifest: Manifest | None,
    *,
    mirrors: Sequence[str] = (),
) -> Iterator[Prover]:
    """A prover for a command that is not resolving (sync, check, mirror): the source is the
    one ``pylock lock`` would read, the download mirror the one sync would use, after
    ``mirrors``, with their credentials (``Settings.remote``); the client is opened on first need
    and closed on exit."""
    from pylock.project.manifest import PYPROJECT
    from pylock.sources.source import open_context

    pyproject = project_dir / PYPROJECT
    remote = settings.remote(
        mirror=manifest.mirror if manifest else None,
        source=manifest.source if manifest else None,
        manifest_path=pyproject,
    )
    spec, where, download = remote.source, remote.source_where, remote.mirror
    settings = replace(settings, http=remote.http)  # the credentials for that mirror and source
    opened: list[SourceContext] = []

    def context() -> SourceContext:
        if not opened:
            opened.append(open_context(settings, base_dir=project_dir))
        return opened[0]

    places = Places(
        spec=spec,
        where=where,
        mirrors=[*mirrors, *([download] if download else [])],
        context=context,
    )
    try:
        yield Prover(settings=settings, places=places)
    finally:
        for each in opened:
            each.client.close()
