"""Spellings several inputs share, written once: a sha256 digest, a PBS build tag and a day.

python.lock (``sha256``, ``build``, ``exclude-newer``), the manifest (``build``,
``exclude-newer``), the install receipt (``tree_digest``), the archive cache (file names) and
the sources (release tags) all check the same spellings; they import these instead of each
writing the pattern again. ``counted`` is the one way a count is written in a message: "1
archive", "2 archives", never "1 archives" or "archive(s)".
"""

from __future__ import annotations

import re

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
"""A sha256 digest as pylock writes it: 64 lowercase hex digits (use ``fullmatch``)."""

BUILD_TAG = re.compile(r"\d{8}")
"""A python-build-standalone release tag: the date, ``YYYYMMDD`` (use ``fullmatch``)."""

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""A day as python.lock and the manifest write ``exclude-newer``: ``YYYY-MM-DD`` (use
``is_iso_date``, which also refuses days the calendar lacks)."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless there is exactly one (``plural``
    when adding "s" is wrong)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def is_iso_date(text: str) -> bool:
    """Whether ``text`` is a real calendar day spelled YYYY-MM-DD."""
    if not ISO_DATE.fullmatch(text):
        return False
    import datetime  # here, not at the top: most readers of these patterns never need it

    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True
