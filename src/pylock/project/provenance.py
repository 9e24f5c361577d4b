"""``[tool.pylock.provenance]``: who must have built the locked archives (docs/provenance.md).

Three things live here, below both the lock and the verifier, because both need them:

- ``ProvenancePolicy``: the table as written (``policy``, ``repository``, ``issuer``,
  ``workflows``), validated once, with python-build-standalone's identity as the default;
- ``Proof``: what a verified attestation proved about one archive, the facts ``python.lock``
  records per target (signer, source repository, commit, issuer, Rekor log index);
- ``ProvenancePolicy.mismatches``: the one rule judging a signer's facts against the policy.
  The verifier applies it to the signing certificate (through sigstore's policy hook) and
  ``resolution/drift.py`` to the facts a lock recorded, so a lock is stale exactly when the facts it
  records would fail verification under the current policy.

Standard library only: ``pylock check`` reads the manifest on its fast path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pylock.base import tomlread
from pylock.errors import InputError

Mode = Literal["off", "verify", "require"]
MODES: tuple[Mode, ...] = ("off", "verify", "require")
DEFAULT_MODE: Mode = "verify"
DEFAULT_REPOSITORY = "astral-sh/python-build-standalone"
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"
KEYS = ("policy", "repository", "issuer", "workflows")
TABLE = "[tool.pylock.provenance]"

UNATTESTED: Literal["none"] = "none"
"""What a lock records for an archive that has no attestation to be had (``provenance =
"none"``): looked for, not found. A target with no ``provenance`` key was never looked at."""

_OWNER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+")
_WORKFLOW_PATH = re.compile(r"\.github/workflows/[^/@]+\.ya?ml")
_WORKFLOWS_DIR = "/.github/workflows/"


@dataclass(frozen=True)
class Proof:
    """What a verified attestation proved about one archive (``python.lock``'s ``provenance``).

    ``signer`` is the certificate's subject alternative name: for GitHub Actions the workflow
    file and ref that signed (``https://github.com/OWNER/REPO/.github/workflows/release.yml@
    refs/heads/main``); ``repository`` and ``commit`` are the source repository URI and digest
    the certificate states; ``log_index`` finds the entry in Rekor.
    """

    signer: str
    repository: str
    commit: str
    issuer: str
    log_index: int

    @property
    def workflow(self) -> str:
        """The signer as a reviewer reads it: the workflow path and ref inside the source
        repository (``.github/workflows/release.yml@refs/heads/main``), a reusable workflow of
        another repository with its ``OWNER/NAME/`` in front, or the whole SAN otherwise."""
        head, marker, tail = self.signer.partition(_WORKFLOWS_DIR)
        if not marker or not head:
            return self.signer
        if head.lower() == self.repository.rstrip("/").lower():
            return f".github/workflows/{tail}"
        parts = urlsplit(head)
        return f"{parts.path.strip('/')}/.github/workflows/{tail}"


Record = Proof | Literal["none"]
"""A target's recorded provenance: a ``Proof``, or ``UNATTESTED``."""


def record_json(record: Record | None) -> dict[str, object] | str | None:
    """A recorded provenance in the JSON of ``show``, ``list`` and ``check``: the proof's facts
    (and its workflow), ``"none"`` for no attestation, null when nobody looked."""
    if not isinstance(record, Proof):
        return record
    return {
        "signer": record.signer,
        "workflow": record.workflow,
        "repository": record.repository,
        "commit": record.commit,
        "issuer": record.issuer,
        "log_index": record.log_index,
    }


@dataclass(frozen=True)
class ProvenancePolicy:
    """``[tool.pylock.provenance]`` as written, validated; the defaults are
    python-build-standalone's release identity.

    ``mode``: ``off`` (never look), ``verify`` (verify what can be had, record the result),
    ``require`` (refuse any archive without a verified attestation). ``repository`` is
    ``OWNER/NAME`` on github.com or the repository's https URL (GitHub Enterprise);
    ``workflows`` the signer workflows allowed (empty: any workflow of the repository).
    """

    mode: Mode = DEFAULT_MODE
    repository: str = DEFAULT_REPOSITORY
    issuer: str = DEFAULT_ISSUER
    workflows: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.mode != "off"

    @property
    def repository_uri(self) -> str:
        """The source repository URI a certificate must state (``https://github.com/O/N``)."""
        if "://" in self.repository:
            return self.repository.rstrip("/")
        return f"https://github.com/{self.repository}"

    def _server(self) -> str:
        parts = urlsplit(self.repository_uri)
        return f"{parts.scheme}://{parts.netloc}"

    def _signer_prefixes(self) -> tuple[tuple[str, bool], ...]:
        """Each allowed workflow as (the SAN it must equal, or the SAN before ``@`` when no ref
        is named; whether a ref is named)."""
        allowed = []
        for entry in self.workflows:
            if "://" in entry:
                full = entry
            elif entry.startswith(".github/"):
                full = f"{self.repository_uri}/{entry}"
            else:
                full = f"{self._server()}/{entry}"
            allowed.append((full, "@" in entry))
        return tuple(allowed)

    def expected_signer(self) -> str:
        """The signers this policy accepts, as messages say them."""
        if not self.workflows:
            return f"a workflow of {self.repository_uri}"
        spelled = [full if pinned else f"{full}@*" for full, pinned in self._signer_prefixes()]
        return spelled[0] if len(spelled) == 1 else "one of " + ", ".join(spelled)

    def mismatches(self, *, signer: str, repository: str, issuer: str) -> tuple[str, ...]:
        """Every way a certificate's facts fail this policy (empty: they satisfy it): the
        issuer must be equal, the source repository equal (ignoring case, as GitHub does) and
        the signer one of ``workflows``, or any workflow of the repository when none is named."""
        found: list[str] = []
        if issuer != self.issuer:
            found.append(f"issuer {issuer} is not the expected {self.issuer}")
        if repository.rstrip("/").lower() != self.repository_uri.lower():
            found.append(
                f"source repository {repository} is not the expected {self.repository_uri}"
            )
        if not self._signer_allowed(signer):
            found.append(f"signer {signer} is not {self.expected_signer()}")
        return tuple(found)

    def _signer_allowed(self, signer: str) -> bool:
        if not self.workflows:
            return signer.lower().startswith(self.repository_uri.lower() + _WORKFLOWS_DIR)
        without_ref = signer.split("@", 1)[0]
        return any(
            signer == full if pinned else without_ref == full
            for full, pinned in self._signer_prefixes()
        )

    def accepts(self, record: Record | None) -> bool:
        """Whether a recorded provenance satisfies this policy (resolution/drift.py): ``off``
        accepts anything; ``verify`` a proof that satisfies the identity, or a record of none
        (looked for, nothing found), or no record (an older lock, never looked at); ``require``
        only a proof that satisfies the identity."""
        if self.mode == "off":
            return True
        if isinstance(record, Proof):
            return not self.mismatches(
                signer=record.signer, repository=record.repository, issuer=record.issuer
            )
        return self.mode == "verify"

    def describe(self) -> str:
        """One line for messages: the mode and the identity it asks for."""
        if self.mode == "off":
            return "off"
        return (
            f"{self.mode}: signed by {self.expected_signer()} "
            f"(source {self.repository_uri}, issuer {self.issuer})"
        )


DEFAULT_POLICY = ProvenancePolicy()
"""python-build-standalone's release identity, under "verify": no table, or an empty one."""


def parse_policy(value: object, *, where: str) -> ProvenancePolicy:
    """``[tool.pylock.provenance]`` -> a policy; anything wrong -> InputError (exit 2) naming
    the key (``where`` is e.g. ``pyproject.toml [tool.pylock.provenance]``)."""
    if not isinstance(value, dict):
        raise InputError(
            f"{where} must be a table, not {tomlread.type_name(value)}.",
            hint=f'Write it as a {TABLE} section, e.g. policy = "verify".',
        )
    for key in value:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.5)
            suggestion = f" Did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"{where}: unknown key {key!r}.{suggestion}",
                hint="Known keys: " + ", ".join(KEYS) + " (docs/provenance.md).",
            )
    mode = _text(value, "policy", where) or DEFAULT_MODE
    if mode not in MODES:
        raise InputError(
            f"{where}.policy is {mode!r}, which is not a provenance policy.",
            hint='Use "off", "verify" (the default) or "require".',
        )
    repository = _text(value, "repository", where) or DEFAULT_REPOSITORY
    if not _is_repository(repository):
        raise InputError(
            f"{where}.repository is {repository!r}, which is not a repository.",
            hint=f'Write OWNER/NAME for github.com (e.g. "{DEFAULT_REPOSITORY}"), or the '
            "repository's https URL on GitHub Enterprise.",
        )
    issuer = _text(value, "issuer", where) or DEFAULT_ISSUER
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.netloc:
        raise InputError(
            f"{where}.issuer is {issuer!r}, which is not an https URL.",
            hint=f'The OIDC issuer of GitHub Actions is "{DEFAULT_ISSUER}".',
        )
    return ProvenancePolicy(
        mode=mode,
        repository=repository.rstrip("/"),
        issuer=issuer,
        workflows=_workflows(value.get("workflows", []), f"{where}.workflows"),
    )


def _text(table: Mapping[str, object], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(
            f"{where}.{key} must be a string, not {tomlread.type_name(value)}.",
            hint=f'Write it as {key} = "...".',
        )
    if not value.strip():
        raise InputError(f"{where}.{key} is empty.", hint=f"Set a value or remove the {key} key.")
    return value.strip()


def _is_repository(value: str) -> bool:
    if "://" not in value:
        return _OWNER_NAME.fullmatch(value) is not None
    parts = urlsplit(value)
    return (
        parts.scheme == "https"
        and bool(parts.netloc)
        and _OWNER_NAME.fullmatch(parts.path.strip("/")) is not None
        and not parts.query
    )


def _workflows(raw: object, where: str) -> tuple[str, ...]:
    example = (
        'For example: workflows = [".github/workflows/release.yml"] (a workflow of the '
        'repository) or ["OWNER/REPO/.github/workflows/build.yml"] (a reusable one); add '
        "@REF to allow one ref only."
    )
    if not isinstance(raw, list):
        raise InputError(
            f"{where} must be an array of strings, not {tomlread.type_name(raw)}.", hint=example
        )
    found: list[str] = []
    for index, item in enumerate(raw):
        item_where = f"{where}[{index}]"
        if not isinstance(item, str):
            raise InputError(
                f"{item_where} must be a string, not {tomlread.type_name(item)}.", hint=example
            )
        entry = item.strip()
        path, _, ref = entry.partition("@")
        if "://" in path:
            parts = urlsplit(path)
            ok = parts.scheme == "https" and bool(parts.netloc) and not parts.query
            path = parts.path.lstrip("/")
        else:
            ok = True
        if path.startswith(".github/"):
            ok = ok and _WORKFLOW_PATH.fullmatch(path) is not None
        else:
            owner_name, marker, rest = path.partition(_WORKFLOWS_DIR)
            ok = ok and bool(marker) and _OWNER_NAME.fullmatch(owner_name) is not None
            ok = ok and _WORKFLOW_PATH.fullmatch(".github/workflows/" + rest) is not None
        if not ok or ("@" in entry and not ref):
            raise InputError(
                f"{item_where} is {item!r}, which is not a workflow file.", hint=example
            )
        if entry not in found:
            found.append(entry)
    return tuple(found)
