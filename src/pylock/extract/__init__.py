"""Unpacking: a PBS archive streamed into a fresh directory in one forward pass, every member
vetted (the PEP 706 ``data`` rules, on every Python) before it is written, and each written file
recorded as it goes (docs/security.md).

- ``tarstream``: the fast one-pass tar reader (gzip, zstd) with inflation on a helper thread.
- ``extractor``: safe, bounded extraction into a new directory; one bad member refuses it all.
- ``record``: one RECORD row (path, mode, sha256 or link target) as extraction writes it.

May import: ``pylock.resolution`` and the stages below it (sources, net, project, fast, base),
``pylock.errors`` and ``pylock.formats``; never a stage above it.
"""
