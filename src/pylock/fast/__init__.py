"""The fast path: a plain ``sync`` or ``check`` command line parsed, and a ``pylock sync`` with
nothing to do answered, before typer, httpx or any validator is imported. It is the full path
made cheap, never a copy: it replays the verdict the full path last recorded when the inputs are
byte-identical, and hands everything else on.

- ``noop``: the no-op memo: ``remember`` what the full path accepted, ``check`` replays it.
- ``argv``: the command line as the fast path parses it; the option tables typer hoists too.

May import: ``pylock.base``, ``pylock.errors``, ``pylock.formats`` and the standard library
only (import-linter checks it).
"""
