"""Placing the interpreter: a verified archive built into a tree beside its destination,
checked, given its receipt and renamed into place atomically, in an install root that finishes
what killed processes left behind.

- ``store``: the install root: where a target goes, whether it is installed, locks, placement.
- ``installer``: extraction, then the interpreter's checks and the receipt, then placement.
- ``interpreter``: the PBS layout and version checks of a new tree, by the interpreter itself.
- ``components``: the libraries bundled into it, as that same run of the interpreter reports
  them, and the licences of a full archive's ``PYTHON.json``.
- ``receipt``: the install receipt and tree digest the no-op sync and ``check`` read back.

May import: ``pylock.fetch`` and the stages below it (extract, lock, provenance, sources, net,
project, fast, base), ``pylock.errors`` and ``pylock.formats``; never a stage above it.
"""
