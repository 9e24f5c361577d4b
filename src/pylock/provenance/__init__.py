"""Proving who built the locked bytes: GitHub artifact attestations (Sigstore bundles) found,
verified with the ``sigstore`` library against the production trust root and the project's
identity policy, and kept (docs/provenance.md).

- ``verify``: one bundle + one archive digest + the policy -> a ``Proof``, or a refusal saying
  what failed and which signer was found; the only module that imports ``sigstore``, lazily.
- ``places``: where an archive's bundles can be had (download mirror, a ``mirror:`` source, the
  attestations API of the release's repository), in order.
- ``store``: verified bundles kept in the cache, keyed by archive digest.
- ``prover``: the one path every command takes: cache, places, verify, keep; "require" refuses
  what has no attestation.

Sits between ``pylock.lock`` (which records what ``pylock lock`` proves, so it calls this) and
``pylock.sources`` (whose GitHub and mirror sources fetch the bundles). The policy and the facts
a lock records (``Proof``) are ``pylock.project.provenance``'s, below both, so lock drift judges
recorded facts with the same rule the verifier applies to a certificate.

May import: ``pylock.sources`` and the stages below it (net, project, fast, base),
``pylock.errors`` and ``pylock.formats``; never a stage above it.
"""
