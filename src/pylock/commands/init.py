"""``pylock init``: add a ``[tool.pylock]`` table to ``pyproject.toml``.

A project's pyproject.toml is hand-written and reviewed, so init appends its table and leaves
every other byte alone: comments, spacing, key order and line endings stay exactly as they were.
tomlkit renders the new table (so its strings are correctly quoted) and is imported only here,
never on the fast path of ``pylock check`` or ``pylock sync``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pylock.base.fsutil import atomic_write_bytes
from pylock.errors import InputError
from pylock.project.edit import means
from pylock.project.manifest import parse_python_request, read_toml
from pylock.project.platforms import parse_platform


def default_python_request() -> str:
    """The running interpreter's ``X.Y``: the version a new project most likely already uses."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _table_values(python: str, platforms: list[str]) -> dict[str, object]:
    """The validated, normalised values of the new table (platform keys, never triples)."""
    request = parse_python_request(python, where="--python")
    keys: list[str] = []
    for index, text in enumerate(platforms):
        key = parse_platform(text, where=f"--platform (#{index + 1})").key
        if key not in keys:
            keys.append(key)
    values: dict[str, object] = {"python": request.text}
    if keys:
        values["platforms"] = keys
    return values


def _render_table(values: dict[str, object]) -> str:
    import tomlkit

    table = tomlkit.table()
    for key, value in values.items():
        table[key] = value
    tool = tomlkit.table(is_super_table=True)
    tool["pylock"] = table
    document = tomlkit.document()
    document["tool"] = tool
    return tomlkit.dumps(document)


def _appended(original: str, table: str) -> str:
    """``original`` unchanged, then a blank line, then ``table``, in the file's own line endings."""
    newline = "\r\n" if "\r\n" in original else "\n"
    table = table.replace("\n", newline)
    if not original.strip():
        return original + table
    body = original if original.endswith(newline) else original + newline
    if not body.endswith(newline * 2):
        body += newline
    return body + table


def _inserted(original: str, values: dict[str, object]) -> str:
    """Fallback for a file where a ``[tool.pylock]`` header cannot simply be appended (``tool``
    written as an inline table): let tomlkit put the table inside it, changing only that value."""
    import tomlkit
    from tomlkit.items import InlineTable

    document = tomlkit.parse(original)
    tool = document["tool"]
    assert isinstance(tool, dict)
    table = tomlkit.inline_table() if isinstance(tool, InlineTable) else tomlkit.table()
    for key, value in values.items():
        table[key] = value
    tool["pylock"] = table
    return tomlkit.dumps(document)


def init_pyproject(path: Path, *, python: str, platforms: list[str]) -> bool:
    """Add ``[tool.pylock]`` with ``python`` and ``platforms`` to ``path`` (created if missing).

    Returns True when a new file was created, False when an existing one was extended. A file
    that already has a ``[tool.pylock]`` table is left alone: InputError (exit 2).
    """
    values = _table_values(python, platforms)
    table = _render_table(values)
    if not path.exists():
        atomic_write_bytes(path, table.encode("utf-8"))
        return True

    document = read_toml(path, hint="Fix the TOML syntax at that line, then run `pylock init`.")
    tool = document.get("tool", {})
    if isinstance(tool, dict) and "pylock" in tool:
        raise InputError(
            f"{path} already has a [tool.pylock] table.",
            hint="Edit that table by hand, or remove it and run `pylock init` again.",
        )
    if not isinstance(tool, dict):
        raise InputError(f"{path}: `tool` must be a table, so [tool.pylock] cannot be added to it.")

    original = path.read_bytes().decode("utf-8")
    expected = {**document, "tool": {**tool, "pylock": values}}
    updated = _appended(original, table)
    if not means(updated, expected):
        updated = _inserted(original, values)
    if not means(updated, expected):  # pragma: no cover - a TOML shape neither way can extend
        raise InputError(
            f"Could not add [tool.pylock] to {path} without changing its meaning.",
            hint="Add the [tool.pylock] table by hand.",
        )
    atomic_write_bytes(path, updated.encode("utf-8"))
    return False
