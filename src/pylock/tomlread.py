"""Reading TOML with the standard library (``tomli`` on 3.10), and saying where it broke.

Reading python.lock and pyproject.toml is on the fast path of ``pylock check`` and a no-op
``pylock sync``, so it never touches tomlkit (which only ``pylock init`` needs, to write).
"""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
    from tomllib import TOMLDecodeError
else:  # pragma: no cover - exercised on 3.10 only
    # mypy checks for 3.10, where tomli may not be installed: it is then untyped, not an error.
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    from tomli import TOMLDecodeError  # type: ignore[import-not-found,unused-ignore]

__all__ = ["TOMLDecodeError", "error_line", "loads", "type_name"]


def loads(text: str) -> dict[str, object]:
    document: dict[str, object] = tomllib.loads(text)
    return document


def error_line(error: TOMLDecodeError) -> tuple[int | None, str]:
    """The line number and the bare message of a TOML error (3.10-3.12 only put it in the text)."""
    message = str(error)
    lineno: int | None = getattr(error, "lineno", None)
    found = re.search(r"\s*\(at line (\d+), column \d+\)", message)
    if found is not None:
        lineno = lineno or int(found[1])
        message = message[: found.start()] + message[found.end() :]
    return lineno, message


def type_name(value: object) -> str:
    """A parsed TOML value's type as error messages say it: "a string", "an array", "a table"."""
    if isinstance(value, bool):  # before int: a bool is an int to Python, not to TOML
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # a datetime, date or time
