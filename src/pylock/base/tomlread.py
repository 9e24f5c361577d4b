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

__all__ = ["MAX_DEPTH", "TOMLDecodeError", "describe", "error_line", "loads", "type_name"]

MAX_DEPTH = 64
"""Arrays and tables nested deeper than this are refused. pylock's own keys are at most four
levels deep; thousands of levels make the parser (and any code walking the values) recurse until
Python gives up with a RecursionError, which must be a clear input error instead."""


class NestingError(TOMLDecodeError):  # type: ignore[misc,unused-ignore]  # untyped on 3.10
    """A document whose arrays or tables nest deeper than ``MAX_DEPTH`` (no line number: the
    whole value is at fault, not one line of it)."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)  # 3.14's TOMLDecodeError wants (msg, doc, pos)


def loads(text: str) -> dict[str, object]:
    """The parsed document; TOMLDecodeError for bad syntax and for nesting beyond MAX_DEPTH."""
    try:
        document: dict[str, object] = tomllib.loads(text)
    except RecursionError:
        raise _too_deep() from None
    if not _within_depth(document):
        raise _too_deep()
    return document


def _too_deep() -> NestingError:
    return NestingError(f"arrays or tables are nested more than {MAX_DEPTH} levels deep")


def _within_depth(document: dict[str, object]) -> bool:
    """Whether no value nests deeper than MAX_DEPTH (walked with a stack, never recursion)."""
    pending: list[tuple[dict[str, object] | list[object], int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return False
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def describe(error: TOMLDecodeError, where: str) -> str:
    """``<where>, line N: invalid TOML: <what>.``: one wording for every TOML file pylock reads."""
    lineno, message = error_line(error)
    at = f", line {lineno}" if lineno else ""
    return f"{where}{at}: invalid TOML: {message}."


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
