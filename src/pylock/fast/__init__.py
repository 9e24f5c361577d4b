"""The fast path: the command lines run all day (``sync``, ``check``, ``which``, ``run``, ``show``,
``venv``) parsed, and answered when nothing changed, before typer, httpx or any validator is
imported. It is the full path made cheap, never a copy: it replays the answer the full path
last recorded while everything that answer rested on holds, and hands everything else on.

- ``memo``: ``remember`` an answer with its evidence; ``recall`` replays it; ``Evidence``, which
  the full path fills as it reads.
- ``noop``: the no-op ``sync``'s report line, and its answer from the memo.
- ``argv``: the command line as the fast path parses it; the option tables typer hoists too.

May import: ``pylock.base``, ``pylock.errors``, ``pylock.formats`` and the standard library
only (import-linter checks it).
"""
