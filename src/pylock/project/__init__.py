"""What the project wants: the ``[tool.pylock]`` table of pyproject.toml read into a
``Request``, and the platform keys and PBS triples it names. Nothing here knows the lock's shape
or where artifacts come from.

- ``manifest``: ``[tool.pylock]`` -> ``Manifest`` and ``Request`` (docs/manifest.md).
- ``platforms``: platform keys (uv's ``{os}-{arch}-{libc}``), PBS triples, host detection.
- ``provenance``: ``[tool.pylock.provenance]`` (who must have built the archives), the ``Proof``
  a lock records, and the one rule judging a signer against the policy (docs/provenance.md).

May import: ``pylock.fast``, ``pylock.base``, ``pylock.errors`` and ``pylock.formats``; never a
stage above it.
"""
