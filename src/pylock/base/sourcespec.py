"""How a source is spelled (docs/sources.md): the one reader of ``--source``, ``PYLOCK_SOURCE``
and ``[tool.pylock].source``, without opening anything.

``sources.spec.open_source`` opens what ``parse_source`` read; ``Settings.resolve`` reads
``--source`` and ``PYLOCK_SOURCE`` with it on every run, and ``pylock lock`` reads the source it
would use with it even when the lock is current and nothing is fetched. So a misspelled source
is bad input (exit 2) at once, on every run, with no network: never a mirror directory that
happens to be called ``githb``, nor an "up to date" that never looked at it.

Standard library only: Settings are resolved on the full path of every command.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pylock.base.fsutil import url_scheme
from pylock.errors import ExternalError, InputError

SourceKind = Literal["github", "catalog", "index", "mirror"]
KINDS: tuple[SourceKind, ...] = ("github", "catalog", "index", "mirror")
_KIND: dict[str, SourceKind] = {kind: kind for kind in KINDS}
BARE_SCHEMES = ("http", "https", "file")
"""A bare value (no ``kind:`` prefix) may be a URL of these schemes, or a path."""

FORMS = (
    "github (the python-build-standalone releases on GitHub)",
    "github:<repository API URL> (e.g. github:https://api.github.com/repos/OWNER/REPO)",
    "catalog:<URL or path> (uv's download-metadata.json format)",
    "index (the PBS versions index that uv reads) or index:<URL or path> (that NDJSON format)",
    "mirror:<URL or path> (laid out as {base}/{build}/{asset} with a SHA256SUMS per build)",
    "a bare URL or path (a catalog when it ends in .json, an index in .ndjson, else a mirror)",
)


@dataclass(frozen=True)
class SourceSpec:
    """A source as spelled: its kind and where it is (None: the kind's default, the public
    GitHub releases or the public index)."""

    kind: SourceKind
    location: str | None

    @property
    def reads_network(self) -> bool:
        """Whether reading it needs the network (a default, or an http(s) URL)."""
        return self.location is None or url_scheme(self.location) in ("http", "https")


def bad_source(spec: str, where: str, why: str, suggestion: str = "") -> InputError:
    """The one paragraph for a source that cannot be read as one: what, where, why, the forms."""
    from pylock.base.credentials import redact_text

    place = f"{where}: " if where else ""
    return InputError(
        redact_text(f"{place}{spec!r} is not a source: {why}."),  # no password in a message
        hint=f"{suggestion}Valid forms: " + "; ".join(FORMS) + ".",
    )


def _did_you_mean(word: str, choices: tuple[str, ...], after: str = "") -> str:
    import difflib

    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f"Did you mean `{close[0]}{after}`? " if close else ""


def parse_source(spec: str, *, where: str = "", base_dir: Path | None = None) -> SourceSpec:
    """Read a source's spelling; InputError (exit 2) naming ``where`` when it is none.

    ``github`` and ``index`` alone are the defaults; ``kind:<rest>`` names one explicitly
    (``github:`` wants an http(s) API URL); a bare value is a catalog when it ends in ``.json``,
    an index in ``.ndjson``, else a mirror. With ``base_dir`` (the project directory, which a
    relative path is read from), a bare word that names nothing there and is close to a keyword
    (``githb``, ``Github``, ``indx``) is taken for that keyword misspelled, not for a mirror
    directory: "did you mean `github`?".
    """
    value = spec.strip()
    if not value:
        raise bad_source(spec, where, "it is empty")
    if value in ("github", "index"):
        return SourceSpec(_KIND[value], None)
    kind, colon, rest = value.partition(":")
    rest = rest.strip()
    if colon and kind in _KIND:
        if not rest:
            raise bad_source(spec, where, f"nothing follows {kind}:")
        if kind == "github":
            _check_github_api(spec, rest, where)
        return SourceSpec(_KIND[kind], rest)
    scheme = url_scheme(value)  # the one "is this a URL?" (C:\pbs is a path)
    if scheme is not None and scheme not in BARE_SCHEMES:
        suggestion = _did_you_mean(scheme, (*KINDS, *BARE_SCHEMES), after=":")
        raise bad_source(spec, where, f"unknown prefix {scheme!r}", suggestion)
    if scheme is not None:
        from urllib.parse import urlsplit

        bare_path = urlsplit(value).path.lower()
    else:
        bare_path = value.lower()
    if bare_path.endswith(".json"):
        return SourceSpec("catalog", value)
    if bare_path.endswith(".ndjson"):
        return SourceSpec("index", value)
    if scheme is None and base_dir is not None and _a_word(value):
        suggestion = _did_you_mean(value, ("github", "index"))
        if suggestion and not os.path.lexists(base_dir / Path(value).expanduser()):
            raise bad_source(
                spec,
                where,
                f"there is no mirror directory {value!r} in {base_dir.absolute()}",
                suggestion,
            )
    return SourceSpec("mirror", value)


def _a_word(value: str) -> bool:
    """A bare name with no path separator: what a misspelled keyword looks like."""
    return not any(sep in value for sep in ("/", "\\", os.sep)) and not value.startswith("~")


def _check_github_api(spec: str, rest: str, where: str) -> None:
    from urllib.parse import urlsplit

    if url_scheme(rest) in ("http", "https") and urlsplit(rest).hostname:
        return
    import re

    suggestion = ""
    if re.fullmatch(r"[\w.-]+/[\w.-]+", rest):
        suggestion = f"Did you mean github:https://api.github.com/repos/{rest}? "
    raise bad_source(spec, where, "github: must be followed by an http(s) API URL", suggestion)


def offline_routes(command: str) -> str:
    """The ways to read a source with no network, as advice for ``command`` (``pylock lock``,
    ``pylock list``)."""
    return (
        f"Without network, `{command} --source catalog:FILE` reads a copy of uv's "
        "download-metadata.json and `--source mirror:DIR` a directory laid out as `pylock mirror` "
        "fills one (docs/sources.md)."
    )


@contextlib.contextmanager
def naming_offline_routes(spec: str, command: str) -> Iterator[None]:
    """A network failure (or ``--offline``) while reading the network source ``spec`` also names
    the sources that need no network (``offline_routes``): advice about a proxy alone leaves a
    user on a plane with nothing to do. The error is otherwise unchanged."""
    try:
        yield
    except ExternalError as error:
        if parse_source(spec).reads_network:
            routes = offline_routes(command)
            error.hint = f"{error.hint} {routes}" if error.hint else routes
        raise
