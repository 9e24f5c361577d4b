"""One Sigstore bundle, one archive digest, one policy -> a ``Proof`` or a refusal.

The cryptography is the ``sigstore`` library's, never pylock's. In order:

1. ``Verifier.verify_dsse`` (sigstore-python) checks the certificate chain against the Sigstore
   production trust root at the time the transparency log witnessed the signature, the
   certificate's SCT, the Rekor entry (inclusion proof, signed checkpoint, inclusion promise),
   the DSSE signature over the payload, and that the log entry is this envelope's. On the way it
   calls the policy it is given with the verified certificate: pylock hands it
   ``ProvenancePolicy.mismatches`` (the one identity rule, which lock drift applies to recorded
   facts too), so the library refuses a wrong signer where it would refuse any other policy.
2. Then the payload: an in-toto statement whose predicate is SLSA provenance, and whose subjects
   list the locked sha256 (one PBS attestation covers every asset of a release).

Only then is a ``Proof`` returned: the certificate's signer (SAN), source repository and commit,
OIDC issuer, and the Rekor log index of the verified entry.

The trust root is sigstore's production root: refreshed through TUF unless offline, else the
one last refreshed on this machine or embedded in the library (``TrustRoot``).

``sigstore`` (with cryptography, pydantic, tuf, ...) is imported inside these functions only, so
no command that does not verify pays for it (tests/test_provenance.py checks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pylock.errors import ExternalError, VerificationError
from pylock.project.provenance import Proof, ProvenancePolicy

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
PREDICATE_TYPES = ("https://slsa.dev/provenance/v1",)
TUF_URL = "https://tuf-repo-cdn.sigstore.dev"

# Fulcio's certificate extensions (the OID registry "oid-info" of the sigstore/fulcio repository).
_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"  # the raw bytes of the issuer URL
_ISSUER = "1.3.6.1.4.1.57264.1.8"  # the same, DER-encoded (newer certificates carry both)
_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"
_SOURCE_REPOSITORY_DIGEST = "1.3.6.1.4.1.57264.1.13"


@dataclass(frozen=True)
class Identity:
    """Who a signing certificate says signed: the facts the policy judges."""

    signer: str  # the subject alternative name
    repository: str  # the source repository URI ("" when the certificate states none)
    commit: str  # the source repository digest ("" when none)
    issuer: str  # the OIDC issuer ("" when none)


class Rejected(VerificationError):
    """A bundle that does not prove the archive (exit 1): ``what`` failed; ``identity`` is the
    signer the certificate names when it could be read, and ``by_policy`` says whether the
    signature held and only the identity policy refused it."""

    def __init__(self, what: str, *, identity: Identity | None = None, by_policy: bool = False):
        super().__init__(what)
        self.what = what
        self.identity = identity
        self.by_policy = by_policy


class TrustRoot:
    """sigstore's ``Verifier`` for the production instance, made on first use, once per run.

    ``offline``: use the trust root already on this machine (the one sigstore last refreshed
    into its cache, else the one embedded in the library) instead of refreshing it through TUF.
    """

    def __init__(self, *, offline: bool) -> None:
        self.offline = offline
        self._verifier: Any = None

    def verifier(self) -> Any:
        if self._verifier is None:
            _quiet_sigstore_logging()
            from sigstore.errors import Error
            from sigstore.verify import Verifier

            try:
                self._verifier = Verifier.production(offline=self.offline)
            except (Error, OSError) as exc:
                raise ExternalError(
                    f"Cannot load the Sigstore trust root"
                    f"{'' if self.offline else f' (refreshing it through TUF from {TUF_URL})'}: "
                    f"{_first_line(exc)}.",
                    hint="Behind a firewall, set PYLOCK_SIGSTORE_OFFLINE=1 to verify against the "
                    "trust root already on this machine (the last one refreshed, else the one "
                    "the sigstore library ships).",
                ) from exc
        return self._verifier


def _quiet_sigstore_logging() -> None:
    """sigstore logs warnings (e.g. "TUF repository is loaded in offline mode") through the
    logging module; pylock speaks for itself, so they go nowhere instead of to stderr."""
    import logging

    logger = logging.getLogger("sigstore")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    if exc.__cause__ is not None and not str(exc).strip():
        text = str(exc.__cause__).strip() or text
    line = text.splitlines()[0]
    return line if len(line) <= 200 else line[:199] + "…"


def identity_of(certificate: Certificate) -> Identity:
    """The signer facts of a Fulcio certificate (missing ones as "")."""
    from cryptography import x509
    from cryptography.hazmat import asn1

    def extension(dotted: str) -> bytes | None:
        try:
            found = certificate.extensions.get_extension_for_oid(x509.ObjectIdentifier(dotted))
        except x509.ExtensionNotFound:
            return None
        value = getattr(found.value, "value", None)
        return value if isinstance(value, bytes) else None

    def der_string(dotted: str) -> str:
        raw = extension(dotted)
        if raw is None:
            return ""
        try:
            return str(asn1.decode_der(str, raw))
        except ValueError:
            return ""

    issuer = der_string(_ISSUER)
    if not issuer:
        raw = extension(_ISSUER_V1)
        issuer = raw.decode("utf-8", errors="replace") if raw is not None else ""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        signer = ""
    else:
        uris = names.get_values_for_type(x509.UniformResourceIdentifier)
        emails = names.get_values_for_type(x509.RFC822Name)
        signer = (uris or emails or [""])[0]
    return Identity(
        signer=signer,
        repository=der_string(_SOURCE_REPOSITORY_URI),
        commit=der_string(_SOURCE_REPOSITORY_DIGEST),
        issuer=issuer,
    )


class _PolicyHook:
    """The ``VerificationPolicy`` sigstore calls with the chain-verified signing certificate:
    it reads the signer's facts and applies ``ProvenancePolicy.mismatches`` to them."""

    def __init__(self, policy: ProvenancePolicy) -> None:
        self.policy = policy
        self.identity: Identity | None = None
        self.problems: tuple[str, ...] = ()

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError as SigstoreVerificationError

        self.identity = identity_of(cert)
        self.problems = self.policy.mismatches(
            signer=self.identity.signer,
            repository=self.identity.repository,
            issuer=self.identity.issuer,
        )
        if self.problems:
            raise SigstoreVerificationError("; ".join(self.problems))


def verify_bundle(bundle: bytes, sha256: str, policy: ProvenancePolicy, trust: TrustRoot) -> Proof:
    """The ``Proof`` a bundle gives for the archive with digest ``sha256`` under ``policy``;
    ``Rejected`` (exit 1) saying what failed otherwise; ExternalError (exit 3) when the trust
    root cannot be had."""
    verifier = trust.verifier()
    from sigstore.models import Bundle

    try:
        document = json.loads(bundle)
        parsed = Bundle.from_json(bundle)
        log_index = int(document["verificationMaterial"]["tlogEntries"][0]["logIndex"])
    except Exception as exc:  # untrusted input: anything the parsers raise is a refusal
        raise Rejected(f"it is not a valid Sigstore bundle ({_first_line(exc)})") from exc

    hook = _PolicyHook(policy)
    try:
        payload_type, payload = verifier.verify_dsse(parsed, hook)
    except Exception as exc:  # sigstore, cryptography and pydantic refuse bad input their way
        if hook.problems:
            raise Rejected(
                "; ".join(hook.problems), identity=hook.identity, by_policy=True
            ) from exc
        raise Rejected(f"it does not verify: {_first_line(exc)}", identity=hook.identity) from exc
    identity = hook.identity
    assert identity is not None  # verify_dsse calls the policy before it can succeed

    if payload_type != PAYLOAD_TYPE:
        raise Rejected(
            f"its payload is {payload_type!r}, not an in-toto statement", identity=identity
        )
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        raise Rejected("its in-toto statement is not JSON", identity=identity) from exc
    if not isinstance(statement, dict) or statement.get("_type") not in STATEMENT_TYPES:
        raise Rejected("its payload is not an in-toto statement", identity=identity)
    if statement.get("predicateType") not in PREDICATE_TYPES:
        raise Rejected(
            f"its predicate is {statement.get('predicateType')!r}, not SLSA provenance "
            f"({PREDICATE_TYPES[0]})",
            identity=identity,
        )
    subjects = statement.get("subject")
    digests = {
        str(s["digest"]["sha256"]).lower()
        for s in subjects or ()
        if isinstance(s, dict) and isinstance(s.get("digest"), dict) and "sha256" in s["digest"]
    }
    if sha256.lower() not in digests:
        listed = len(subjects) if isinstance(subjects, list) else 0
        raise Rejected(
            f"its statement does not attest this archive: sha256 {sha256} is not among its "
            f"{listed} subject{'s' * (listed != 1)}",
            identity=identity,
        )
    if not identity.commit or not identity.repository:
        raise Rejected("its certificate states no source repository and commit", identity=identity)
    return Proof(
        signer=identity.signer,
        repository=identity.repository,
        commit=identity.commit,
        issuer=identity.issuer,
        log_index=log_index,
    )
