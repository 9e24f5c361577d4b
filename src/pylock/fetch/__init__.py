"""Getting the bytes: a locked archive fetched once, from its URL, a mirror or the cache,
and held to the lock's size and sha256 as it streams, so only verified bytes are cached and
only verified bytes reach an install.

- ``cache``: the content-addressed archive store, ``<cache>/archives/sha256/<hex>``.
- ``download``: one pass over the bytes: verify, cache and (for sync) extract as they arrive.
- ``integrity``: the one stream verifier: status, length, ceiling, throughput, size, sha256.

May import: ``pylock.extract`` and the stages below it (lock, provenance, sources, net, project,
fast, base), ``pylock.errors`` and ``pylock.formats``; never a stage above it.
"""
