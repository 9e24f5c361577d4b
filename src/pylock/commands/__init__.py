"""The library behind each command that is more than a lock or a check: what ``pylock sync``,
``mirror``, ``list``, ``export``, ``venv``, ``prune``, ``demo`` and ``init`` do, as functions
that return values (or report through a callback the CLI passes). They never print themselves:
the CLI renders what they return.

- ``sync``: ``pylock sync``, ``which`` and ``run``: lock -> installed tree.
- ``show``: ``pylock show``: the locked targets and their installs (``--components``: the
  libraries bundled into each, as its receipt records them).
- ``sbom``: ``pylock sbom``: a CycloneDX document of the locked interpreters and those
  libraries (the only module that imports cyclonedx-python-lib).
- ``mirror``: ``pylock mirror DIR``: every locked archive, verified, laid out as a mirror.
- ``listing``: ``pylock list``: what a source offers, the locked target marked.
- ``export``: ``pylock export uv``: the lock as a downloads JSON uv installs from.
- ``venv``: ``pylock venv``: a virtual environment on the locked interpreter.
- ``prune``: ``pylock prune``: installs and cached archives no kept lock references.
- ``init``: ``pylock init``: a ``[tool.pylock]`` table appended to pyproject.toml.
- ``demo``: ``pylock demo``: init, lock, sync, run and check offline against a stand-in.
- ``standin``: a PBS-shaped ``install_only`` archive of the running CPython.

May import: ``pylock.checking`` and every stage below it, ``pylock.errors`` and
``pylock.formats``; never ``pylock.cli``, typer or rich.
"""
