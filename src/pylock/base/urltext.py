"""The display rule for a URL that holds a credential, with string operations alone.

``redact_url`` is the one rule for showing a URL (uv's: ``https://user:****@host/…``), owned here
so that the no-op and memo paths (fast/memo.py), which must not import what credentials.py does,
apply the very same cut; credentials.py, which owns everything else about credentials, takes it
from here. No imports at all.
"""

from __future__ import annotations

MASK = "****"


def split_netloc(netloc: str) -> tuple[str | None, str]:
    """(user information or None, host[:port]); the last ``@`` ends the user information, as
    ``urlsplit`` reads it (an unescaped ``@`` in a password stays in the password)."""
    userinfo, at, hostport = netloc.rpartition("@")
    return (userinfo, hostport) if at else (None, netloc)


def masked(userinfo: str) -> str:
    """User information as it may be shown: the user name, never the password; a lone user
    name is often a token, so it is masked whole."""
    user, colon, _ = userinfo.partition(":")
    if colon:
        return f"{user}:{MASK}" if user else f":{MASK}"
    return MASK


def redact_url(url: str) -> str:
    """``url`` as it may be shown: ``user:password@`` becomes ``user:****@``, a lone user name
    ``****@`` (it is often a token), ``:password@`` ``:****@`` (uv's rule); anything else is
    returned as it is. Idempotent. A source spelling (``mirror:https://…``) is cut the same way."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    userinfo, hostport = split_netloc(rest[:end])
    if userinfo is None:
        return url
    return f"{scheme}://{masked(userinfo)}@{hostport}{rest[end:]}"
