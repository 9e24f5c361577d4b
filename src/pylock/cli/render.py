"""How results read: colour, labels and the text of tables, changes and summaries.

Pure formatting, no printing and no typer: the typer commands (app.py), the typer-free
``sync``/``check`` (console.py) and the progress bars all render through here, so a word or a
colour is chosen in one place.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pylock.commands.listing import Offer
    from pylock.commands.show import Shown
    from pylock.resolution.locker import Change
    from pylock.resolution.lockfile import Target


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


SHA_SHOWN = 12
"""Hex digits of a sha256 shown where two must be told apart (as the install dirs name them)."""


def spell_target(target: Target | None) -> str:
    """``3.12.8 (20241219, install_only)``: a lock entry as a change line names it."""
    if target is None:
        return "?"
    return f"{target.version} ({target.build}, {target.flavor})"


def describe_change(change: Change) -> str:
    """One line of ``pylock lock``'s summary. A change that leaves version, build and flavor as
    they were says what did change: the bytes (both sha256 prefixes) or only the URL."""
    spell = spell_target
    where = f"{change.request} {change.platform}" if change.request else change.platform
    old, new = change.old, change.new
    if change.kind == "added":
        return f"  + {where}: {spell(new)}"
    if change.kind == "removed":
        return f"  - {where}: {spell(old)}"
    if change.kind == "upgraded" and old is not None and new is not None:
        if spell(old) != spell(new):
            return f"  ~ {where}: {spell(old)} -> {spell(new)}"
        if old.sha256 != new.sha256:
            was, now = old.sha256[:SHA_SHOWN], new.sha256[:SHA_SHOWN]
            return f"  ~ {where}: {spell(new)}, new bytes: sha256 {was}… -> {now}…"
        return f"  ~ {where}: {spell(new)}, url {old.url} -> {new.url}"
    return f"    {where}: {spell(new)}"


def new_bytes_warning(change: Change) -> str:
    """The warning ``pylock lock`` prints for a build whose bytes changed under its name."""
    was = change.old.sha256[:SHA_SHOWN] if change.old is not None else "?"
    now = change.new.sha256[:SHA_SHOWN] if change.new is not None else "?"
    where = f"{change.request} {change.platform}" if change.request else change.platform
    return (
        f"{where}: the same build {spell_target(change.new)} now has other bytes (sha256 "
        f"{was}… -> {now}…): the archive was published again under its old name. Find out why "
        "(a PBS release note, your mirror's history) before you commit python.lock."
    )


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def show_rows(shown: Shown) -> list[dict[str, object]]:
    """``pylock show --format json``'s rows, which the text table is drawn from too."""
    rows: list[dict[str, object]] = []
    for found in shown.installations:
        target = found.target
        request = {"request": target.request or shown.lock.manifest.python} if shown.matrix else {}
        rows.append(
            {
                **request,
                "platform": target.platform,
                "version": target.version,
                "build": target.build,
                "flavor": target.flavor,
                "variant": target.variant,
                "sha256": target.sha256,
                "installed": found.installed,
                "path": str(found.path) if found.installed else None,
            }
        )
    return rows


def show_text(rows: list[dict[str, object]], *, matrix: bool) -> str:
    """``pylock show``'s table: a line per target."""
    lines = []
    for row in rows:
        where = row["path"] if row["installed"] else "not installed"
        request = f"{row['request']!s:<10} " if matrix else ""
        lines.append(
            f"{request}{row['platform']!s:<24} {row['version']!s:<10} {row['build']}  "
            f"{row['flavor']!s:<22} {str(row['sha256'])[:12]}  {where}\n"
        )
    return "".join(lines)


def offers_text(offers: list[Offer]) -> str:
    """``pylock list``'s table: a line per archive, the locked one marked ``*``."""
    lines = []
    for offer in offers:
        mark = "*" if offer.locked else " "
        size = f"{offer.size / 1e6:7.1f} MB" if offer.size is not None else "        ?"
        lines.append(
            f"{mark} {offer.version:<10} {offer.build}  {offer.platform:<24} "
            f"{offer.variant:<18} {offer.flavor:<22} {size}\n"
        )
    return "".join(lines)
