"""What exists: the PBS releases a source offers, newest first, as ``Release`` values of
``Artifact``s, read lazily so the resolver stops reading once its answer is certain
(docs/sources.md).

- ``source``: the shared types: the ``Source`` protocol, ``Release``, ``SourceContext``.
- ``spec``: ``open_source`` (a source from its spelling) and ``github_token`` (who gets a token).
- ``github``: a GitHub-compatible releases API, paged newest first, and its attestations API.
- ``catalog``: a catalog in uv's ``download-metadata.json`` format.
- ``index``: the PBS versions index (NDJSON) that uv reads.
- ``mirror``: a directory or URL laid out as ``{base}/{build}/{asset}`` with ``SHA256SUMS`` (and
  each archive's ``{asset}.sigstore.json`` bundle beside it).
- ``artifacts``: PBS asset file names of every naming era -> ``Artifact`` values.
- ``_common``: plumbing the sources share: small documents, ``SHA256SUMS``, locations.

``spec`` imports the four sources and they import ``source``, never each other or ``spec``.
May import: ``pylock.net``, ``pylock.project``, ``pylock.fast``, ``pylock.base``,
``pylock.errors`` and ``pylock.formats``; never a stage above it.
"""
