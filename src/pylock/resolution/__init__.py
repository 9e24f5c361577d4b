"""What to pin, and the pin: ``pylock lock`` turns the manifest and a source's releases into
``python.lock`` with the least change, and every command reads that file through here
(docs/lockfile.md, docs/resolution.md).

- ``lockfile``: the ``Lock`` and ``Target`` values; read, validate, write deterministically.
- ``resolver``: pure: a request and releases -> one version and build for every platform.
- ``locker``: the library behind ``pylock lock``: minimal change, ``--upgrade``, ``--platform``.
- ``drift``: every way a lock fails to satisfy the manifest (shared by lock, sync and check).
- ``selection``: which target a command means (``--python``, ``--platform``).

May import: ``pylock.provenance`` (to prove what ``pylock lock`` records) and the stages below
it (sources, net, project, fast, base), ``pylock.errors`` and ``pylock.formats``; never a stage
above it.
"""
