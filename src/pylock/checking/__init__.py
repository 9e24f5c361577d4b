"""Proving it: ``pylock check``, the CI gate. Each check (the lock is valid, current with the
manifest, installed, its tree intact, its URLs live, a venv on it) gives a verdict and a reason,
never an exception, so one run reports everything that is wrong (docs/check.md).

- ``checks``: the checks, in their fixed order.
- ``report``: the verdicts, the exit code they add up to, and the text and JSON renderings.
- ``pyvenv``: the ``pyvenv.cfg`` facts of a venv, read by the ``venv`` check and ``pylock venv``.

May import: ``pylock.install`` and the stages below it (fetch, extract, lock, provenance,
sources, net, project, fast, base), ``pylock.errors`` and ``pylock.formats``; never commands or
cli.
"""
