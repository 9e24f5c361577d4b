"""Editing ``pyproject.toml``: the one place pylock writes a user's manifest.

A project's pyproject.toml is hand-written and reviewed, so an edit changes the one value it is
about and leaves every other byte alone: comments, spacing, key order and line endings stay as
they were. tomlkit does the edit (so strings are correctly quoted) and is imported only here,
never on the fast path of ``pylock check`` or ``pylock sync``; the result is read back with the
standard library and must mean exactly what was intended, or nothing is written.

``pylock init`` adds the ``[tool.pylock]`` table (commands/init.py); ``pylock lock --python REQ``
sets ``[tool.pylock].python`` (``set_python``), as ``uv python pin`` writes ``.python-version``:
the request the lock answers is then the manifest's, so ``check``, ``sync`` and ``which`` agree
with the lock instead of calling it out of date.
"""

from __future__ import annotations

from pathlib import Path

from pylock.base import tomlread
from pylock.base.fsutil import atomic_write_bytes, read_input
from pylock.errors import InputError


def means(text: str, expected: dict[str, object]) -> bool:
    """Whether ``text`` is valid TOML whose data is exactly ``expected``."""
    try:
        return bool(tomlread.loads(text) == expected)
    except tomlread.TOMLDecodeError:
        return False


def set_python(path: Path, request: str) -> None:
    """Set ``[tool.pylock].python = request`` in ``path`` (adding the table when there is none),
    atomically, changing nothing else; an array of requests (a test matrix) is replaced too.
    Bytes that already say so are not rewritten."""
    import tomlkit

    raw = read_input(path, fix="run `pylock init` to create one with a [tool.pylock] table")
    original = raw.decode("utf-8")
    before = tomlread.loads(original)
    tool = before.get("tool", {})
    if not isinstance(tool, dict) or not isinstance(tool.get("pylock", {}), dict):
        raise InputError(  # pragma: no cover - the manifest was read successfully just before
            f"{path}: [tool.pylock] is not a table, so its python cannot be set.",
            hint="Write it as a [tool.pylock] section.",
        )
    table = dict(tool.get("pylock", {}))
    table["python"] = request
    expected = {**before, "tool": {**tool, "pylock": table}}

    document = tomlkit.parse(original)
    if "tool" not in document:
        document["tool"] = tomlkit.table(is_super_table=True)
    if "pylock" not in document["tool"]:
        document["tool"]["pylock"] = tomlkit.table()
    document["tool"]["pylock"]["python"] = request
    updated = tomlkit.dumps(document)
    if not means(updated, expected):  # pragma: no cover - a TOML shape tomlkit cannot edit
        raise InputError(
            f"Could not set [tool.pylock].python in {path} without changing its meaning.",
            hint=f'Set python = "{request}" in its [tool.pylock] table by hand, then run '
            "`pylock lock`.",
        )
    atomic_write_bytes(path, updated.encode("utf-8"))
