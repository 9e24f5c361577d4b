"""The shell: the ``pylock`` console script. It parses the command line, resolves one
``Settings`` per command, calls the library and renders what it returns; it and the launcher's
one line are the only code that prints, and the only code that imports typer and rich.

- ``launcher``: the console script: ``sync``, ``check``, ``which``, ``run``, ``show`` and
  ``venv`` without typer, answered from the memo (fast/memo.py) when nothing changed.
- ``console``: error paragraphs and those six commands (``run_sync`` ... ``run_venv``), all
  without typer; each remembers an answer it would give again.
- ``child``: ``pylock run``'s command, exec'd as if run by itself (126/127 as a shell).
- ``app``: the typer app: every command and option; each body parses, calls the library
  (imported lazily per command) and renders.
- ``render``: colour, labels, and the text of tables, changes and summaries.
- ``progress``: the one download progress (bars on a terminal, lines on a pipe).

May import: every stage (commands and below), ``pylock.errors`` and ``pylock.formats``.
"""
