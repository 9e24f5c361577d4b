"""Spellings several inputs share, written once: a sha256 digest and a PBS build tag.

python.lock (``sha256``, ``build``), the manifest (``build``), the install receipt
(``tree_digest``), the archive cache (file names) and the sources (release tags) all check the
same two spellings; they import these instead of each writing the pattern again.
"""

from __future__ import annotations

import re

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
"""A sha256 digest as pylock writes it: 64 lowercase hex digits (use ``fullmatch``)."""

BUILD_TAG = re.compile(r"\d{8}")
"""A python-build-standalone release tag: the date, ``YYYYMMDD`` (use ``fullmatch``)."""
