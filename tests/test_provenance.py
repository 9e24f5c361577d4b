"""Provenance: real Sigstore bundles verified offline, through the real CLI, against a loopback
GitHub (docs/provenance.md).

The two bundles in tests/data/attestations are real GitHub artifact attestations (cli/cli's test
data; see PROVENANCE.md there), verified by the real ``sigstore`` library against its embedded
production trust root: nothing here is mocked. Their subjects are not PBS archives, so the fake
GitHub serves each attested artifact's bytes as a release asset named like a PBS archive: its
sha256, the digest ``pylock lock`` locks, is then the subject digest, and the fake's attestations
API answers with the real bundle for it, as GitHub does for PBS's own assets.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from clirun import pylock, run_in_new_interpreter
from conftest import SyncedTemplate
from pbs_server import FakePBS, synthetic_body
from pylock.errors import InputError
from pylock.project.provenance import (
    UNATTESTED,
    Proof,
    ProvenancePolicy,
    parse_policy,
)
from pylock.resolution import lockfile
from test_check import SCHEMA, validate_schema

DATA = Path(__file__).parent / "data" / "attestations"
LINUX = "linux-x86_64-gnu"
TRIPLE = "x86_64-unknown-linux-gnu"
BUILD = "20260101"
NEWER = "20260201"
PBS_REPOSITORY = "https://github.com/astral-sh/python-build-standalone"


@dataclass(frozen=True)
class Attested:
    """A real attestation, the artifact it attests, and what its certificate says."""

    artifact: bytes
    bundle: bytes
    policy: str  # the [tool.pylock.provenance] table naming the bundle's own identity
    proof: Proof

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.artifact).hexdigest()


REUSABLE = Attested(
    artifact=(DATA / "reusable-workflow-artifact").read_bytes(),
    bundle=(DATA / "reusable-workflow-attestation.sigstore.json").read_bytes(),
    policy='[tool.pylock.provenance]\nrepository = "malancas/attest-demo"\n'
    'workflows = ["github/artifact-attestations-workflows/.github/workflows/attest.yml"]\n',
    proof=Proof(
        signer="https://github.com/github/artifact-attestations-workflows/.github/workflows/"
        "attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
        repository="https://github.com/malancas/attest-demo",
        commit="95baf27389e83e6a5c48f42e190d48d7abcea19e",
        issuer="https://token.actions.githubusercontent.com",
        log_index=96764485,
    ),
)
CUSTOM = Attested(
    artifact=(DATA / "custom-issuer-artifact").read_bytes(),
    bundle=(DATA / "custom-issuer.sigstore.json").read_bytes(),
    policy='[tool.pylock.provenance]\nrepository = "too-legit/attest"\n'
    'issuer = "https://token.actions.githubusercontent.com/hammer-time"\n',
    proof=Proof(
        signer="https://github.com/too-legit/attest/.github/workflows/integration.yml"
        "@refs/heads/main",
        repository="https://github.com/too-legit/attest",
        commit="283bf967fa3c591925dd25e6a6e8e781542117bf",
        issuer="https://token.actions.githubusercontent.com/hammer-time",
        log_index=129601213,
    ),
)


def asset(version: str = "3.12.8", build: str = BUILD) -> str:
    return f"cpython-{version}+{build}-{TRIPLE}-install_only_stripped.tar.gz"


def publish(
    fake: FakePBS,
    body: bytes,
    *,
    bundles: tuple[bytes, ...] = (),
    version: str = "3.12.8",
    build: str = BUILD,
) -> str:
    """A release whose linux archive is ``body``, attested by ``bundles``; its sha256."""
    fake.add_release(build, [(asset(version, build), body)])
    digest = hashlib.sha256(body).hexdigest()
    if bundles:
        fake.attest(digest, *bundles)
    return digest


def project(root: Path, source: str, policy: str = "", python: str = "3.12") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{python}"\nplatforms = ["{LINUX}"]\nsource = "{source}"\n'
        + policy,
        "utf-8",
    )
    return root


def only_target(root: Path) -> lockfile.Target:
    (target,) = lockfile.read(root / "python.lock").targets
    return target


def cached_bundle(sha256: str) -> Path:
    return (
        Path(os.environ["PYLOCK_CACHE_DIR"]) / "provenance" / "sha256" / f"{sha256}.sigstore.json"
    )


# --- verification passes, and what it records ------------------------------------------------


@pytest.mark.parametrize("attested", [REUSABLE, CUSTOM], ids=["reusable-workflow", "custom-issuer"])
def test_lock_proves_and_records_who_built_the_archive(
    attested: Attested, fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A policy naming the bundle's own identity: verified, recorded, the bundle kept."""
    publish(fake_pbs, attested.artifact, bundles=(attested.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, attested.policy)
    code, out, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 0, err
    target = only_target(root)
    assert target.sha256 == attested.sha256
    assert target.provenance == attested.proof
    text = (root / "python.lock").read_text("utf-8")
    assert "lock-version = 3\n" in text
    assert (
        f'provenance = {{ signer = "{attested.proof.signer}", repository = '
        f'"{attested.proof.repository}", commit = "{attested.proof.commit}", issuer = '
        f'"{attested.proof.issuer}", log-index = {attested.proof.log_index} }}\n'
    ) in text
    # The command says who built it: the workflow and the commit.
    assert f"signed by {attested.proof.workflow} at {attested.proof.commit[:12]}" in out
    # One request for the one digest, to the source's own API; the bundle is kept, verified.
    assert [r.path.rsplit(":", 1)[-1] for r in fake_pbs.attestation_log] == [attested.sha256]
    assert json.loads(cached_bundle(attested.sha256).read_bytes()) == json.loads(attested.bundle)


def test_show_and_list_display_the_signer_workflow_and_commit(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    signed = (
        "signed by github/artifact-attestations-workflows/.github/workflows/attest.yml"
        "@09b495c3f12c7881b3cc17209a327792065c1a1d at 95baf27389e8"
    )
    code, out, _ = pylock(capsys, "-p", str(root), "show")
    assert code == 0 and signed in out
    code, out, _ = pylock(capsys, "-p", str(root), "show", "--format", "json")
    (row,) = json.loads(out)["targets"]
    assert row["provenance"]["commit"] == REUSABLE.proof.commit
    assert row["provenance"]["signer"] == REUSABLE.proof.signer
    code, out, _ = pylock(capsys, "-p", str(root), "list")
    (locked,) = [line for line in out.splitlines() if line.startswith("*")]
    assert signed in locked
    code, out, _ = pylock(capsys, "-p", str(root), "list", "--format", "json")
    (offer,) = [o for o in json.loads(out) if o["locked"]]
    assert offer["provenance"]["log_index"] == REUSABLE.proof.log_index


# --- verification fails -----------------------------------------------------------------------


def test_the_default_policy_refuses_another_repositorys_build_naming_both(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec)  # python-build-standalone's identity
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1, err
    assert "failed provenance verification" in err
    assert "source repository https://github.com/malancas/attest-demo is not the expected " + (
        PBS_REPOSITORY
    ) in " ".join(err.split())
    assert REUSABLE.sha256 in err
    assert not (root / "python.lock").exists()
    assert not cached_bundle(REUSABLE.sha256).exists()  # nothing refused is kept


def test_the_custom_issuer_is_refused_under_the_default_issuer(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, CUSTOM.artifact, bundles=(CUSTOM.bundle,))
    root = project(
        tmp_path / "p", fake_pbs.spec, '[tool.pylock.provenance]\nrepository = "too-legit/attest"\n'
    )
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1, err
    said = " ".join(err.split())
    refused = said.split("was refused: ")[1]
    assert refused.startswith(  # the issuer alone: the repository and signer are right
        "issuer https://token.actions.githubusercontent.com/hammer-time is not the expected "
        "https://token.actions.githubusercontent.com. "
    )
    assert not (root / "python.lock").exists()


def _flip(encoded: str, at: int) -> str:
    raw = bytearray(base64.b64decode(encoded))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _tamper(bundle: bytes, part: str) -> bytes:
    """The bundle with one byte changed in ``part``."""
    doc: dict[str, Any] = json.loads(bundle)
    material = doc["verificationMaterial"]
    if part == "signature":
        signature = doc["dsseEnvelope"]["signatures"][0]
        signature["sig"] = _flip(signature["sig"], 20)
    elif part == "payload":
        doc["dsseEnvelope"]["payload"] = _flip(doc["dsseEnvelope"]["payload"], 50)
    elif part == "certificate":
        material["certificate"]["rawBytes"] = _flip(material["certificate"]["rawBytes"], 300)
    elif part == "inclusion proof":
        proof = material["tlogEntries"][0]["inclusionProof"]
        proof["hashes"][0] = _flip(proof["hashes"][0], 3)
    else:  # pragma: no cover - a typo in the parametrization
        raise AssertionError(part)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("part", ["signature", "payload", "certificate", "inclusion proof"])
def test_a_changed_byte_is_refused(
    part: str, fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = _tamper(REUSABLE.bundle, part)
    assert tampered != REUSABLE.bundle
    publish(fake_pbs, REUSABLE.artifact, bundles=(tampered,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1, err
    assert "failed provenance verification" in err and "does not verify" in err
    assert "do not use the archive" in err
    assert not (root / "python.lock").exists()
    assert not cached_bundle(REUSABLE.sha256).exists()


def test_a_bundle_whose_subjects_lack_the_locked_digest_is_refused(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A genuine bundle, by a signer the policy accepts, about another artifact."""
    publish(fake_pbs, REUSABLE.artifact, bundles=(CUSTOM.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, CUSTOM.policy)
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1, err
    assert f"sha256 {REUSABLE.sha256} is not among its 1 subject" in " ".join(err.split())
    assert not (root / "python.lock").exists()


def test_one_good_attestation_among_refused_ones_proves_the_archive(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub may hold several attestations for a digest: any one that verifies is proof."""
    publish(fake_pbs, REUSABLE.artifact, bundles=(CUSTOM.bundle, REUSABLE.bundle))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    assert only_target(root).provenance == REUSABLE.proof


def test_no_attestation_is_recorded_under_verify_and_refused_under_require(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, synthetic_body(asset()))  # the API answers 404 for it
    root = project(tmp_path / "p", fake_pbs.spec)
    code, out, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 0, err
    assert only_target(root).provenance == UNATTESTED
    assert 'provenance = "none"\n' in (root / "python.lock").read_text("utf-8")
    assert "no attestation" in out

    before = (root / "python.lock").read_bytes()
    project(root, fake_pbs.spec, '[tool.pylock.provenance]\npolicy = "require"\n')
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1
    said = " ".join(err.split())
    assert f"{LINUX} 3.12.8 ({BUILD}, sha256" in said
    assert 'has no attestation, and [tool.pylock.provenance] policy is "require"' in said
    assert (root / "python.lock").read_bytes() == before
    # The stale lock is refused by sync too, naming the input.
    code, _, err = pylock(capsys, "-p", str(root), "sync")
    assert code == 1 and "provenance" in err

    fresh = project(
        tmp_path / "fresh", fake_pbs.spec, '[tool.pylock.provenance]\npolicy = "require"\n'
    )
    assert pylock(capsys, "-p", str(fresh), "lock")[0] == 1
    assert not (fresh / "python.lock").exists()


# --- fetching: the API, the cache, rate limits, the token -------------------------------------


def test_unreachable_attestations_are_exit_3_with_the_mirror_hint(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, '[tool.pylock.provenance]\npolicy = "off"\n')
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0  # nothing proved: no record
    assert only_target(root).provenance is None
    before = (root / "python.lock").read_bytes()
    project(root, fake_pbs.spec, REUSABLE.policy + 'policy = "require"\n')

    fake_pbs.rate_limit()
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    said = " ".join(err.split())
    assert code == 3, err
    assert "rate limit is exhausted" in said and "`pylock mirror DIR`" in said
    project(root, fake_pbs.spec, REUSABLE.policy)  # "verify": the lock itself is current
    code, out, _ = pylock(capsys, "-p", str(root), "check", "--provenance")
    assert code == 3 and "error  provenance" in out and "--mirror DIR" in out
    fake_pbs.clear_rate_limit()
    project(root, fake_pbs.spec, REUSABLE.policy + 'policy = "require"\n')

    fake_pbs.fail_next(20, status=502)
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 3 and "HTTP 502" in err and "`pylock mirror DIR`" in err
    assert (root / "python.lock").read_bytes() == before


def test_the_token_goes_to_the_attestations_api_and_nowhere_else(
    fake_pbs: FakePBS,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", "s3cret")  # the fake is not api.github.com
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(root), "mirror", str(tmp_path / "m"))[0] == 2  # no lock yet
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    assert pylock(capsys, "-p", str(root), "mirror", str(tmp_path / "m"))[0] == 0
    (asked,) = fake_pbs.attestation_log
    assert asked.headers.get("authorization") == "Bearer s3cret"
    assert fake_pbs.download_log
    assert all("authorization" not in r.headers for r in fake_pbs.download_log)


def test_bundles_come_from_the_cache_then_the_http_cache_and_offline(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    locked = (root / "python.lock").read_bytes()

    # The verified bundle is kept: a new lock asks the API nothing about it.
    (root / "python.lock").unlink()
    fake_pbs.log.clear()
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    assert fake_pbs.attestation_log == []
    assert (root / "python.lock").read_bytes() == locked

    # Without it, the API is asked through the HTTP cache: a conditional request, a 304.
    cached_bundle(REUSABLE.sha256).unlink()
    (root / "python.lock").unlink()
    fake_pbs.log.clear()
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    (asked,) = fake_pbs.attestation_log
    assert "if-none-match" in asked.headers and asked.status == 304

    # Offline: the kept bundle (and for an unattested archive, the remembered 404) answers.
    (root / "python.lock").unlink()
    fake_pbs.log.clear()
    assert pylock(capsys, "--offline", "-p", str(root), "lock")[0] == 0
    assert fake_pbs.log == [] and (root / "python.lock").read_bytes() == locked
    code, out, _ = pylock(capsys, "--offline", "-p", str(root), "check", "--provenance")
    assert code == 0 and "pass   provenance" in out

    other = tmp_path / "unattested"
    publish(fake_pbs, synthetic_body(asset(build=NEWER)), build=NEWER)
    project(other, fake_pbs.spec, f'build = "{NEWER}"\n')
    assert pylock(capsys, "-p", str(other), "lock")[0] == 0
    (other / "python.lock").unlink()
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "--offline", "-p", str(other), "lock")
    assert code == 0, err
    assert only_target(other).provenance == UNATTESTED and fake_pbs.log == []


def test_prune_removes_the_bundles_of_archives_no_kept_lock_names(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    attested = project(tmp_path / "attested", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(attested), "lock")[0] == 0
    publish(fake_pbs, synthetic_body(asset(build=NEWER)), build=NEWER)
    other = project(tmp_path / "other", fake_pbs.spec, f'build = "{NEWER}"\n')
    assert pylock(capsys, "-p", str(other), "lock")[0] == 0
    kept = cached_bundle(REUSABLE.sha256)
    assert kept.is_file()

    code, out, _ = pylock(capsys, "prune", "--keep", str(attested), "--keep", str(other))
    assert code == 0 and kept.is_file() and "bundle" not in out
    code, out, _ = pylock(capsys, "prune", "--keep", str(other), "--dry-run")
    assert code == 0 and f"Would remove bundle {kept}" in out and kept.is_file()
    code, out, _ = pylock(capsys, "prune", "--keep", str(other))
    assert code == 0 and f"Removed bundle {kept}" in out and not kept.exists()


# --- behind a firewall: the mirror round trip ------------------------------------------------


def test_a_mirror_round_trip_verifies_with_the_api_gone(
    fake_pbs: FakePBS,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    online = project(tmp_path / "online", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(online), "lock")[0] == 0
    mirror = tmp_path / "mirror"
    code, out, err = pylock(capsys, "-p", str(online), "mirror", str(mirror))
    assert code == 0, err
    assert "1 verified attestation bundle beside them" in out
    written = mirror / BUILD / f"{asset()}.sigstore.json"
    assert json.loads(written.read_bytes()) == json.loads(REUSABLE.bundle)
    assert (mirror / BUILD / asset()).read_bytes() == REUSABLE.artifact

    # The firewall: GitHub's API refuses everything, and this machine's caches are empty.
    fake_pbs.rate_limit()
    monkeypatch.setenv("PYLOCK_CACHE_DIR", str(tmp_path / "another-cache"))
    fake_pbs.log.clear()

    inside = project(tmp_path / "inside", f"mirror:{mirror}", REUSABLE.policy)
    code, out, err = pylock(capsys, "-p", str(inside), "lock")
    assert code == 0, err
    assert only_target(inside).provenance == REUSABLE.proof
    assert only_target(inside).url == (mirror / BUILD / asset()).resolve().as_uri()

    code, out, err = pylock(
        capsys, "-p", str(online), "check", "--provenance", "--mirror", str(mirror)
    )
    assert code == 0, out + err
    assert "pass   provenance" in out
    assert fake_pbs.log == []  # neither lock nor check asked GitHub anything

    # Without the mirror, the same check cannot reach the attestations: exit 3, not a pass.
    monkeypatch.setenv("PYLOCK_CACHE_DIR", str(tmp_path / "a-third-cache"))
    code, out, _ = pylock(capsys, "-p", str(online), "check", "--provenance")
    assert code == 3


def test_a_mirror_bundle_that_does_not_verify_is_refused(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mirror cannot launder an archive: its bundle is verified like any other."""
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    online = project(tmp_path / "online", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(online), "lock")[0] == 0
    mirror = tmp_path / "mirror"
    assert pylock(capsys, "-p", str(online), "mirror", str(mirror))[0] == 0
    written = mirror / BUILD / f"{asset()}.sigstore.json"
    written.write_bytes(_tamper(written.read_bytes(), "payload"))
    cached_bundle(REUSABLE.sha256).unlink()
    inside = project(tmp_path / "inside", f"mirror:{mirror}", REUSABLE.policy)
    code, _, err = pylock(capsys, "-p", str(inside), "lock")
    assert code == 1 and "failed provenance verification" in err and str(mirror) in err


# --- check --provenance -------------------------------------------------------------------------


def test_check_provenance_names_the_target_digest_and_both_signers(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    code, out, _ = pylock(capsys, "-p", str(root), "check", "--provenance")
    assert code == 0 and "pass   provenance" in out
    assert f"Rekor log index {REUSABLE.proof.log_index}" in out

    # A hand edit points the target at other bytes, attested by someone else.
    fake_pbs.attest(CUSTOM.sha256, CUSTOM.bundle)
    lock = root / "python.lock"
    lock.write_text(lock.read_text("utf-8").replace(REUSABLE.sha256, CUSTOM.sha256), "utf-8")
    code, out, _ = pylock(capsys, "-p", str(root), "check", "--provenance")
    assert code == 1, out
    assert "fail   provenance" in out
    assert f"{LINUX} ({CUSTOM.sha256})" in out
    assert f"signer found:    {CUSTOM.proof.signer}" in out
    assert (
        "signer expected: https://github.com/github/artifact-attestations-workflows/.github/"
        "workflows/attest.yml@*"
    ) in out
    assert "issuer https://token.actions.githubusercontent.com/hammer-time is not" in out

    code, out, _ = pylock(capsys, "-p", str(root), "check", "--provenance", "--format", "json")
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    assert code == 1 and report["exit_code"] == 1
    (check,) = [c for c in report["checks"] if c["name"] == "provenance"]
    (entry,) = check["data"]["targets"]
    assert entry["status"] == "fail" and entry["sha256"] == CUSTOM.sha256
    assert entry["signer_found"] == CUSTOM.proof.signer
    assert entry["recorded"]["signer"] == REUSABLE.proof.signer
    assert entry["found"] is None


def test_check_provenance_passes_and_plain_check_skips_it_in_json(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, CUSTOM.artifact, bundles=(CUSTOM.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, CUSTOM.policy)
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    code, out, _ = pylock(capsys, "-p", str(root), "check", "--format", "json")
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    assert [c["status"] for c in report["checks"] if c["name"] == "provenance"] == ["skip"]
    code, out, _ = pylock(capsys, "-p", str(root), "check", "--provenance", "--format", "json")
    report = json.loads(out)
    validate_schema(report, SCHEMA)
    (check,) = [c for c in report["checks"] if c["name"] == "provenance"]
    assert code == 0 and check["status"] == "pass"
    (entry,) = check["data"]["targets"]
    assert entry["found"]["commit"] == CUSTOM.proof.commit
    assert check["data"]["policy"]["issuer"] == CUSTOM.proof.issuer


# --- sync under "require" ------------------------------------------------------------------------


def test_sync_under_require_proves_the_archive_before_it_downloads(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy + 'policy = "require"\n')
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    lock = root / "python.lock"
    good = lock.read_text("utf-8")

    # A hand-edited sha256 (of bytes nobody attested) is refused before a byte is downloaded.
    other = hashlib.sha256(b"other bytes").hexdigest()
    lock.write_text(good.replace(REUSABLE.sha256, other), "utf-8")
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "-p", str(root), "sync")
    assert code == 1, err
    assert f"sha256 {other}) has no attestation" in " ".join(err.split())
    assert fake_pbs.download_log == []

    # The locked sha256 is proved (from the kept bundle: no API request), then downloaded. The
    # bytes are a wheel, not a PBS archive, so the install itself then refuses them.
    lock.write_text(good, "utf-8")
    fake_pbs.log.clear()
    code, _, err = pylock(capsys, "-p", str(root), "sync")
    assert fake_pbs.attestation_log == []
    assert fake_pbs.download_log  # proved, so it went on to download
    assert code == 1 and "attestation" not in err and "provenance" not in err


# --- lock: policy changes, older locks, no silent downgrade ------------------------------------


def test_a_policy_change_re_proves_the_pins_without_moving_them(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, '[tool.pylock.provenance]\npolicy = "off"\n')
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    text = (root / "python.lock").read_text("utf-8")
    assert "lock-version = 1\n" in text and "provenance" not in text  # nothing recorded
    publish(fake_pbs, synthetic_body(asset("3.12.9", NEWER)), version="3.12.9", build=NEWER)

    project(root, fake_pbs.spec, REUSABLE.policy + 'policy = "require"\n')
    code, out, _ = pylock(capsys, "-p", str(root), "check")
    assert code == 1 and "provenance: linux-x86_64-gnu never verified (locked) -> require" in out
    fake_pbs.log.clear()
    code, out, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 0, err
    assert only_target(root).version == "3.12.8"  # proved where it stands, not moved
    assert only_target(root).provenance == REUSABLE.proof
    assert "* linux-x86_64-gnu: 3.12.8" in out
    assert fake_pbs.release_log == []  # no resolution: only the attestation was asked for
    assert pylock(capsys, "-p", str(root), "check")[0] == 0

    # Another repository: the recorded proof no longer satisfies the policy, and re-proving
    # the same archive is refused (exit 1), the lock left as it was.
    before = (root / "python.lock").read_bytes()
    project(root, fake_pbs.spec, CUSTOM.policy)
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1 and "failed provenance verification" in err
    assert (root / "python.lock").read_bytes() == before


def test_an_older_lock_is_current_under_verify_and_proved_when_required(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lock-version 1 lock (no provenance key) reads as "never verified"."""
    publish(fake_pbs, CUSTOM.artifact, bundles=(CUSTOM.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, '[tool.pylock.provenance]\npolicy = "off"\n')
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    old = (root / "python.lock").read_bytes()
    assert b"lock-version = 1\n" in old

    project(root, fake_pbs.spec, CUSTOM.policy)  # policy "verify"
    fake_pbs.log.clear()
    code, out, _ = pylock(capsys, "-p", str(root), "lock")
    assert code == 0 and "up to date" in out and fake_pbs.log == []
    assert (root / "python.lock").read_bytes() == old
    code, out, _ = pylock(capsys, "-p", str(root), "check", "--provenance")
    assert code == 0 and "1 of 1 locked archives proved" in out

    project(root, fake_pbs.spec, CUSTOM.policy + 'policy = "require"\n')
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    assert only_target(root).provenance == CUSTOM.proof
    assert b"lock-version = 3\n" in (root / "python.lock").read_bytes()


def test_lock_upgrade_never_moves_a_proved_target_to_an_unattested_build(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(fake_pbs, REUSABLE.artifact, bundles=(REUSABLE.bundle,))
    root = project(tmp_path / "p", fake_pbs.spec, REUSABLE.policy)
    assert pylock(capsys, "-p", str(root), "lock")[0] == 0
    before = (root / "python.lock").read_bytes()
    publish(fake_pbs, synthetic_body(asset("3.12.9", NEWER)), version="3.12.9", build=NEWER)

    code, out, err = pylock(capsys, "-p", str(root), "lock", "--upgrade")
    assert code == 0, err
    said = " ".join(err.split())
    assert f"kept {LINUX} at 3.12.8 ({BUILD})" in said
    assert f"3.12.9 ({NEWER}) has no attestation" in said
    assert 'policy = "off"' in said
    assert (root / "python.lock").read_bytes() == before
    assert "up to date" in out

    # The manifest forces the move: refused, never silent.
    project(root, fake_pbs.spec, REUSABLE.policy, python="3.12.9")
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 1
    assert "never moves a proved target to an unattested build" in " ".join(err.split())
    assert (root / "python.lock").read_bytes() == before

    # Lowering the policy explicitly lets it move.
    project(root, fake_pbs.spec, '[tool.pylock.provenance]\npolicy = "off"\n')
    code, out, err = pylock(capsys, "-p", str(root), "lock", "--upgrade")
    assert code == 0, err
    assert only_target(root).build == NEWER and only_target(root).provenance is None


# --- the policy in the manifest ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('polcy = "verify"', "unknown key 'polcy'. Did you mean 'policy'?"),
        ('policy = "on"', "[tool.pylock.provenance].policy is 'on'"),
        ("policy = 1", "[tool.pylock.provenance].policy must be a string"),
        ('repository = "python-build-standalone"', "[tool.pylock.provenance].repository is"),
        ('issuer = "http://token.example"', "[tool.pylock.provenance].issuer is"),
        ('workflows = "release.yml"', "[tool.pylock.provenance].workflows must be an array"),
        ('workflows = ["release.yml"]', "[tool.pylock.provenance].workflows[0] is 'release.yml'"),
        ('workflows = [".github/workflows/r.yml@"]', "workflows[0] is"),
    ],
)
def test_a_bad_policy_is_exit_2_naming_the_key(
    table: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path / "p", "github", f"[tool.pylock.provenance]\n{table}\n")
    target = lockfile.Target(
        platform=LINUX,
        triple=TRIPLE,
        implementation="cpython",
        version="3.12.8",
        build=BUILD,
        flavor="install_only_stripped",
        variant="default",
        url=f"https://example.com/{asset().replace('+', '%2B')}",
        size=10,
        sha256="a" * 64,
    )
    manifest = lockfile.LockedManifest(python="3.12", platforms=(LINUX,))
    lockfile.write(root / "python.lock", lockfile.Lock(manifest, (target,)))
    for command in (["lock"], ["sync"], ["check", "--provenance"]):
        code, out, err = pylock(capsys, "-p", str(root), *command)
        assert code == 2, (command, out, err)
        assert named in out + err, (command, out, err)


def test_a_provenance_key_that_is_not_a_table_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.pylock]\npython = "3.12"\nprovenance = "verify"\n', "utf-8"
    )
    code, _, err = pylock(capsys, "-p", str(root), "lock")
    assert code == 2 and "[tool.pylock.provenance] must be a table, not a string" in err


def test_the_identity_rule() -> None:
    default = ProvenancePolicy()
    pbs = dict(
        signer=f"{PBS_REPOSITORY}/.github/workflows/release.yml@refs/heads/main",
        repository=PBS_REPOSITORY,
        issuer="https://token.actions.githubusercontent.com",
    )
    assert default.mismatches(**pbs) == ()
    assert default.mismatches(**{**pbs, "repository": PBS_REPOSITORY.upper()}) == ()
    fork = {**pbs, "signer": "https://github.com/evil/fork/.github/workflows/release.yml@x"}
    (why,) = default.mismatches(**fork)
    assert why.startswith("signer https://github.com/evil/fork/") and "a workflow of" in why
    pinned = parse_policy({"workflows": [".github/workflows/release.yml"]}, where="t")
    assert pinned.mismatches(**pbs) == ()
    other = {**pbs, "signer": f"{PBS_REPOSITORY}/.github/workflows/other.yml@refs/heads/main"}
    assert len(pinned.mismatches(**other)) == 1
    by_ref = parse_policy({"workflows": [".github/workflows/release.yml@refs/tags/v1"]}, where="t")
    assert len(by_ref.mismatches(**pbs)) == 1
    enterprise = parse_policy({"repository": "https://ghe.example/o/n"}, where="t")
    assert enterprise.repository_uri == "https://ghe.example/o/n"
    assert (
        enterprise.mismatches(
            signer="https://ghe.example/o/n/.github/workflows/b.yml@main",
            repository="https://ghe.example/o/n",
            issuer=enterprise.issuer,
        )
        == ()
    )
    # What a lock recorded is judged by the same rule.
    proof = Proof(**pbs, commit="c", log_index=1)  # type: ignore[arg-type]
    assert default.accepts(proof) and not parse_policy({"repository": "o/n"}, where="t").accepts(
        proof
    )
    assert default.accepts(None) and default.accepts(UNATTESTED)
    required = parse_policy({"policy": "require"}, where="t")
    assert required.accepts(proof) and not required.accepts(None)
    assert not required.accepts(UNATTESTED)
    assert parse_policy({"policy": "off"}, where="t").accepts(None)
    with pytest.raises(InputError, match=r"t\.repository"):
        parse_policy({"repository": "https://ghe.example/only-owner"}, where="t")


def test_the_lock_file_round_trips_and_validates_provenance() -> None:
    target = lockfile.Target(
        platform=LINUX,
        triple=TRIPLE,
        implementation="cpython",
        version="3.12.8",
        build=BUILD,
        flavor="install_only_stripped",
        variant="default",
        url=f"https://example.com/{asset().replace('+', '%2B')}",
        size=10,
        sha256="a" * 64,
        provenance=REUSABLE.proof,
    )
    lock = lockfile.Lock(lockfile.LockedManifest(python="3.12", platforms=(LINUX,)), (target,))
    text = lockfile.dumps(lock)
    assert lockfile.loads(text).targets == (target,)
    assert lockfile.loads(text).lock_version == 3
    unattested = lockfile.dumps(replace(lock, targets=(replace(target, provenance=UNATTESTED),)))
    assert lockfile.loads(unattested).targets[0].provenance == UNATTESTED
    with pytest.raises(InputError) as info:
        lockfile.loads(text.replace("lock-version = 3", "lock-version = 2"))
    assert "lock-version: 2 cannot hold a target's provenance" in info.value.message
    with pytest.raises(InputError) as info:
        lockfile.loads(text.replace("log-index = 96764485", 'log-index = "96764485"'))
    assert "provenance.log-index: must be an integer, not a string" in info.value.message
    with pytest.raises(InputError) as info:
        lockfile.loads(text.replace('provenance = { signer = "', 'provenance = { who = "'))
    assert "provenance.who: unknown key" in info.value.message
    assert "provenance.signer: missing" in info.value.message
    with pytest.raises(InputError) as info:
        lockfile.loads(unattested.replace('provenance = "none"', 'provenance = "unknown"'))
    assert "provenance: must be \"none\" or a table, not 'unknown'" in info.value.message


# --- cost: who imports sigstore ------------------------------------------------------------------


def test_only_the_commands_that_verify_import_sigstore(
    synced_template: SyncedTemplate,
    fake_pbs: FakePBS,
    tmp_path: Path,
) -> None:
    synced_template.publish(fake_pbs)
    root = synced_template.synced(tmp_path / "synced")
    # sigstore and what only it brings (typer brings pydantic; httpx neither)
    watch = ("sigstore", "sigstore_models", "tuf", "rfc3161_client", "rekor_types")
    for args, script in (
        (("sync",), True),  # the no-op sync, through the console script
        (("sync",), False),  # and through the full CLI
        (("which",), False),
        # `run` answers as `which` does and then becomes its command (exec): nothing of it is
        # left to ask what it imported, and `which` stands for it here
        (("check", "--installed"), True),
        (("check", "--installed"), False),
        (("lock",), False),  # current: nothing to prove
    ):
        code, _, imported = run_in_new_interpreter(
            "-p", str(root), *args, watch=watch, script=script
        )
        assert code == 0, args
        assert imported == [], (args, imported)

    publish(fake_pbs, CUSTOM.artifact, bundles=(CUSTOM.bundle,), build=NEWER)
    attested = project(tmp_path / "attested", fake_pbs.spec, CUSTOM.policy)
    code, _, imported = run_in_new_interpreter("-p", str(attested), "lock", watch=watch)
    assert code == 0 and "sigstore" in imported
    code, printed, imported = run_in_new_interpreter(
        "-p", str(attested), "check", "--provenance", watch=watch, script=True
    )
    assert code == 0 and "sigstore" in imported, (code, printed, imported)
