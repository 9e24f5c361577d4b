"""How results read: colour, labels and the text of tables, changes and summaries.

Formatting without typer, and one printer: ``error_line``, the ``error:`` line every path
prints. The typer commands (app.py), the typer-free commands (console.py), ``run``'s child
(child.py) and the progress bars all render through here, so a word or a colour is chosen in
one place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from pylock.base.envvalues import use_color as use_color
from pylock.project.provenance import record_json

if TYPE_CHECKING:
    from pylock.commands.listing import Offer
    from pylock.commands.show import Inventory, Shown
    from pylock.project.provenance import Record
    from pylock.resolution.locker import Change, Kept
    from pylock.resolution.lockfile import Target


STATUS_COLORS = {"pass": "32", "fail": "1;31", "error": "1;31", "skip": "33"}
"""ANSI colours of ``pylock check``'s statuses: green, bold red, bold red, yellow (uv's own
palette for success, failure and what was left out)."""


def status_painter(choice: str, stream: TextIO) -> Callable[[str, str], str] | None:
    """How ``check``'s report styles a status word on ``stream`` (``CheckReport.lines``):
    coloured when ``--color`` (with ``NO_COLOR`` applied) says so for that stream, else
    None, plain."""
    if not use_color(choice, stream):
        return None
    return lambda status, text: f"\x1b[{STATUS_COLORS.get(status, '0')}m{text}\x1b[0m"


def label(word: str, code: str, color: str) -> str:
    """``error:``/``warning:``, coloured (ANSI ``code``) when ``--color`` says so for stderr."""
    return f"\x1b[{code}m{word}\x1b[0m:" if use_color(color, sys.stderr) else f"{word}:"


SHA_SHOWN = 12
"""Hex digits of a sha256 shown where two must be told apart (as the install dirs name them)."""


def error_line(message: str, *, color: str = "auto") -> None:
    """``error: message`` on stderr, the label coloured as ``--color`` says: every error path
    (a PylockError, an OSError, a bug, ``run``'s missing command) prints through here, and
    every URL in the message is shown without its password (``credentials.redact_text``)."""
    from pylock.base.credentials import redact_text

    print(f"{label('error', '1;31', color)} {redact_text(message)}", file=sys.stderr)


def provenance_text(record: Record | None) -> str:
    """A target's recorded provenance as ``show``, ``list`` and ``lock`` print it: who built it
    (the signer workflow and ref) and from which commit; empty when nobody looked."""
    return _signed(record_json(record))


def _signed(recorded: object) -> str:
    """``provenance_text`` of a record as ``record_json`` spells it (``show``'s rows)."""
    if isinstance(recorded, dict):
        return f"signed by {recorded['workflow']} at {str(recorded['commit'])[:12]}"
    return "no attestation" if recorded is not None else ""


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
    proved = provenance_text(new.provenance if new is not None else None)
    signed = f"; {proved}" if proved else ""
    if change.kind == "added":
        return f"  + {where}: {spell(new)}{signed}"
    if change.kind == "removed":
        return f"  - {where}: {spell(old)}"
    if change.kind == "upgraded" and old is not None and new is not None:
        if spell(old) != spell(new):
            return f"  ~ {where}: {spell(old)} -> {spell(new)}{signed}"
        if old.sha256 != new.sha256:
            was, now = old.sha256[:SHA_SHOWN], new.sha256[:SHA_SHOWN]
            return f"  ~ {where}: {spell(new)}, new bytes: sha256 {was}… -> {now}…{signed}"
        return f"  ~ {where}: {spell(new)}, url {old.url} -> {new.url}{signed}"
    if change.kind == "proved":
        return f"  * {where}: {spell(new)}{signed}"
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


def describe_kept(kept: Kept) -> str:
    """Why ``lock --upgrade`` left a pin where it was (docs/provenance.md, no silent downgrade)."""
    where = f"{kept.request} {kept.platform}" if kept.request else kept.platform
    return (
        f"kept {where} at {kept.locked.version} ({kept.locked.build}), "
        f"{provenance_text(kept.locked.provenance)}: {kept.newer.version} "
        f"({kept.newer.build}) has no attestation, and pylock lock never moves a proved target "
        'to an unattested build. To move anyway, set [tool.pylock.provenance] policy = "off".'
    )


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def show_rows(
    shown: Shown, inventories: tuple[Inventory, ...] | None = None
) -> list[dict[str, object]]:
    """``pylock show --format json``'s rows, which the text table is drawn from too; with
    ``inventories`` (``--components``), each row also holds its target's bundled libraries."""
    rows: list[dict[str, object]] = []
    for index, found in enumerate(shown.installations):
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
                "provenance": record_json(target.provenance),
                "installed": found.installed,
                "path": str(found.path) if found.installed else None,
            }
        )
        if inventories is not None:
            rows[-1]["components"] = components_row(inventories[index])
    return rows


def components_row(inventory: Inventory) -> dict[str, object]:
    """One target's ``components`` in ``show --components --format json``."""
    licenses = inventory.licenses
    return {
        "known": inventory.known,
        "note": inventory.note,
        "libraries": [
            {
                "name": c.name,
                "version": c.version,
                "module": c.module,
                "reported": c.reported,
                **({"licenses": list(inventory.library_licenses(c))} if licenses else {}),
            }
            for c in inventory.libraries
        ],
        "licenses": None if licenses is None else list(licenses.interpreter),
    }


def show_text(rows: list[dict[str, object]], *, matrix: bool) -> str:
    """``pylock show``'s table: a header row, then a line per target; under it who built it when
    the lock records that, and with ``--components`` a line per bundled library (or the note
    saying why they are unknown)."""
    heading = f"{'REQUEST':<10} " if matrix else ""
    lines = [
        f"{heading}{'PLATFORM':<24} {'VERSION':<10} {'BUILD':<8}  {'FLAVOR':<22} "
        f"{'SHA256':<12}  INSTALLED AT\n"
    ]
    for row in rows:
        where = row["path"] if row["installed"] else "not installed"
        request = f"{row['request']!s:<10} " if matrix else ""
        lines.append(
            f"{request}{row['platform']!s:<24} {row['version']!s:<10} {row['build']}  "
            f"{row['flavor']!s:<22} {str(row['sha256'])[:12]}  {where}\n"
        )
        signed = _signed(row.get("provenance"))
        if signed:
            lines.append(f"{'':<{len(request) + 25}}{signed}\n")
        components = row.get("components")
        if isinstance(components, dict):
            lines.extend(_components_text(components))
    return "".join(lines)


def _components_text(components: dict[str, object]) -> list[str]:
    if not components["known"]:
        return [f"    components unknown: {components['note']}.\n"]
    libraries = components["libraries"]
    assert isinstance(libraries, list)
    if not libraries:
        return ["    no bundled library found\n"]
    lines = []
    for library in libraries:
        version = library["version"] or "(version not reported)"
        said = library["module"]
        if library["reported"]:
            said = f"{said}: {library['reported']}"
        lines.append(f"    {library['name']:<10} {version:<22} ({said})\n")
    return lines


def offers_text(offers: list[Offer]) -> str:
    """``pylock list``'s table: a header row, then a line per archive, the locked one marked
    ``*``."""
    lines = [
        f"  {'VERSION':<10} {'BUILD':<8}  {'PLATFORM':<24} {'VARIANT':<18} {'FLAVOR':<22} "
        f"{'SIZE':>10}\n"
    ]
    for offer in offers:
        mark = "*" if offer.locked else " "
        size = f"{offer.size / 1e6:7.1f} MB" if offer.size is not None else "        ?"
        signed = provenance_text(offer.provenance) if offer.locked else ""
        lines.append(
            f"{mark} {offer.version:<10} {offer.build}  {offer.platform:<24} "
            f"{offer.variant:<18} {offer.flavor:<22} {size}"
            + (f"  {signed}" if signed else "")
            + "\n"
        )
    return "".join(lines)
