"""How results read: colour, labels and the text of tables, changes and summaries.

Pure formatting, no printing and no typer: the typer commands (app.py), the typer-free
``sync``/``check`` (console.py) and the progress bars all render through here, so a word or a
colour is chosen in one place.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pylock.lock.locker import Change


def use_color(choice: str, stream: TextIO) -> bool:
    """``--color`` as resolved (``Settings.color``: ``NO_COLOR`` already applied to ``auto`` by
    ``color_choice``, once): ``always``, ``never``, or ``auto`` = a terminal."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return stream.isatty()


def label(word: str, code: str, color: str) -> str:
    """``error:``/``warning:``, coloured (ANSI ``code``) when ``--color`` says so for stderr."""
    return f"\x1b[{code}m{word}\x1b[0m:" if use_color(color, sys.stderr) else f"{word}:"


def describe_change(change: Change) -> str:
    def spell(target: object) -> str:
        version = getattr(target, "version", "?")
        build = getattr(target, "build", "?")
        flavor = getattr(target, "flavor", "?")
        return f"{version} ({build}, {flavor})"

    where = f"{change.request} {change.platform}" if change.request else change.platform
    if change.kind == "added":
        return f"  + {where}: {spell(change.new)}"
    if change.kind == "removed":
        return f"  - {where}: {spell(change.old)}"
    if change.kind == "upgraded":
        return f"  ~ {where}: {spell(change.old)} -> {spell(change.new)}"
    return f"    {where}: {spell(change.new)}"


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
