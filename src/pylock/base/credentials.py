"""Credentials for private mirrors: where a run finds them, which request may carry which, and
the one rule for showing a URL that holds one.

A company mirror (Artifactory, Nexus, a bucket behind a proxy) wants a credential, and a pip or
uv user already has one in one of three places; pylock reads the same three (docs/sources.md,
"Credentials"), in this order for a request to a given origin:

1. a user name and password in the URL itself (``--mirror``, ``PYLOCK_MIRROR``, ``--source``,
   ``PYLOCK_SOURCE`` or the manifest's ``mirror``/``source``). They are taken out of the URL
   when the setting is read (``given``) and kept in memory for the run, for that URL's origin
   only; from then on pylock carries the URL in its display form (``redact_url``);
2. ``PYLOCK_MIRROR_TOKEN``, as ``Authorization: Bearer``, to the origins of the configured
   mirror and of an http(s) ``mirror:``/``catalog:``/``index:`` source (``with_endpoints``);
   never to any other host, so a token meant for the mirror cannot follow a manifest to GitHub;
3. a ``netrc`` entry for the request's host (``NETRC``, else ``~/.netrc``), read only when a
   request is about to be sent: the no-op ``sync`` never reads it. A ``default`` entry is not
   used: it names no host, and a credential goes only to the host it was meant for.

A URL's user name without a password (``https://ci@host/``) picks the netrc entry with that
login, and is sent alone when there is none.

``for_request`` decides which one a request to a URL carries, and says which it was (never its
value) for the 401/403 message. The HTTP client (``pylock.net.http``) calls it for the first
request of a fetch and sends the answer only to that origin: a redirect elsewhere (a CDN, a
presigned object-store URL) carries no credential at all.

Nothing persisted or printed may carry a secret: ``redact_url``/``redact_text`` are the display
rule (uv's: ``https://user:****@host/…``, a lone user name as ``****``, which is often a token),
and ``without_userinfo`` is what a file keeps (python.lock, the HTTP cache, ``export uv``): no
user information at all, as uv's lockfile does, so the file means the same to every teammate,
who brings their own credential.

Standard library only; ``re``, ``netrc`` and ``base64`` are imported when first needed, so
resolving the settings costs the full path of ``sync`` nothing it did not already import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from pylock.base.envvalues import TOKEN_ENV as TOKEN_ENV
from pylock.base.envvalues import mirror_token
from pylock.base.urltext import MASK as MASK
from pylock.base.urltext import masked as _masked
from pylock.base.urltext import redact_url as redact_url
from pylock.base.urltext import split_netloc as _split_netloc

NETRC_ENV = "NETRC"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SOURCE_KINDS = ("github", "catalog", "index", "mirror")
_TOKEN_KINDS = ("catalog", "index", "mirror")

Origin = tuple[str, str, int]
"""(scheme, host, port) of a URL, lower-case, with the scheme's default port filled in."""

WAYS = (
    "a user name and password in the mirror or source URL (`user:password@` before the host; "
    "used for that run only and never written anywhere), a netrc entry (`machine HOST login USER "
    f"password PASSWORD` in ~/.netrc, or the file {NETRC_ENV} names), or {TOKEN_ENV} (sent as a "
    "Bearer token to the mirror's and the source's host only)"
)
"""The ways to give a credential, as a 401/403 message lists them."""


# --- the display and persistence rules -----------------------------------------------------


def redact_text(text: str) -> str:
    """``text`` with every URL in it shown by ``redact_url``: the last line of defence for an
    error, a warning or a traceback, whose words may quote a URL from anywhere (an exception
    from a library, a value read from pyproject.toml)."""
    if "@" not in text:
        return text
    import re

    return re.sub(
        r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s@]*(?:@[^/?#\s@]*)*)@",
        lambda m: f"{m.group(1)}{_masked(m.group(2))}@",
        text,
    )


def without_userinfo(url: str) -> str:
    """``url`` with no user information at all: what a file that may be committed or shared
    keeps (python.lock, the HTTP cache's records, ``export uv``)."""
    _, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_url(url)
    userinfo, hostport = _split_netloc(parts.netloc)
    if userinfo is None:
        return url
    return urlunsplit(parts._replace(netloc=hostport))


def has_userinfo(url: str) -> bool:
    """Whether ``url`` carries a user name or password."""
    return without_userinfo(url) != url


def origin(url: str) -> Origin | None:
    """The origin of an http(s) URL; None for anything else (a path, ``file:``, a bad port)."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, parts.hostname.lower(), port


def may_follow(start: Origin | None, hop: Origin | None) -> bool:
    """Whether a credential meant for ``start`` may go to ``hop`` on a redirect: the same
    origin, or the same host moved from http on port 80 to https on 443 (the upgrade httpx and
    browsers allow). Anything else gets no credential."""
    if start is None or hop is None:
        return False
    if start == hop:
        return True
    return start == ("http", hop[1], 80) and hop == ("https", start[1], 443)


def spelled_url(spec: str) -> tuple[str, str, str] | None:
    """(prefix, http(s) URL, kind) inside a source spelling (docs/sources.md): ``mirror:URL``
    gives ("mirror:", URL, "mirror"), a bare URL ("", URL, "bare"); None when the source names
    no http(s) URL (``github``, ``index``, a path). ``sources.spec.open_source`` reads the same
    spellings; a test holds the two to the same URL."""
    value = spec.strip()
    kind, colon, rest = value.partition(":")
    prefix = ""
    if colon and kind in _SOURCE_KINDS:
        prefix, value = f"{kind}:", rest.strip()
    else:
        kind = "bare"
    if not value.lower().startswith(("http://", "https://")):
        return None
    return prefix, value, kind


# --- what a run may authenticate with ------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """A user name (and password) taken out of a URL the user gave, kept for its origin only."""

    origin: Origin
    username: str = field(repr=False)  # a lone user name is often a token
    password: str | None = field(repr=False)
    where: str  # the setting it came from, for messages: "--mirror", "PYLOCK_MIRROR", ...


@dataclass(frozen=True)
class Credential:
    """What one request carries: the ``Authorization`` value and, for messages, what it is."""

    header: str = field(repr=False)
    source: str  # e.g. "the netrc entry for mirror.example in /home/me/.netrc"


@dataclass(frozen=True)
class Credentials:
    """The credentials of one run (``Settings.credentials``, then the HTTP policy's).

    ``given`` holds what URLs carried, ``token`` is ``PYLOCK_MIRROR_TOKEN`` and goes to
    ``token_origins`` only, ``netrc`` is the path of the netrc file (read only when a request
    needs it; it may not exist). Secrets are left out of ``repr``.
    """

    given: tuple[Given, ...] = ()
    token: str | None = field(default=None, repr=False)
    token_origins: frozenset[Origin] = frozenset()
    netrc: str | None = None
    netrc_named: str = "~/.netrc"  # how messages name it: "NETRC (/path)" or "~/.netrc"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Credentials:
        """``PYLOCK_MIRROR_TOKEN`` and where the netrc file is (``NETRC``, else ``~/.netrc``);
        the file itself is not read here. A token a header cannot carry is an InputError that
        never quotes it."""
        token = mirror_token(environ)
        named = environ.get(NETRC_ENV, "").strip()
        if named:
            return cls(
                token=token,
                netrc=str(Path(named).expanduser()),
                netrc_named=f"{NETRC_ENV} ({named})",
            )
        home = environ.get("HOME")  # as Python's netrc module and pip find it
        try:
            path: str | None = str((Path(home) if home else Path.home()) / ".netrc")
        except RuntimeError:  # no home directory at all: no netrc file
            path = None
        return cls(token=token, netrc=path)

    def take(self, value: str | None, where: str) -> tuple[Credentials, str | None]:
        """A setting that may be a URL with a user name and password: the credentials with
        them added (for that URL's origin), and the setting in its display form."""
        if value is None or "@" not in value:
            return self, value
        shown = redact_url(value)
        if shown == value:
            return self, value
        try:
            parts = urlsplit(value)
            found = origin(value)
        except ValueError:
            return self, shown
        userinfo, _ = _split_netloc(parts.netloc)
        if found is None or userinfo is None or MASK in userinfo:
            return self, shown
        user, colon, password = userinfo.partition(":")
        added = Given(found, unquote(user), unquote(password) if colon else None, where)
        return replace(self, given=(*self.given, added)), shown

    def take_source(self, spec: str | None, where: str) -> tuple[Credentials, str | None]:
        """``take`` for a source spelling (``mirror:URL``, ``catalog:URL``, a bare URL, …)."""
        found = spelled_url(spec) if spec else None
        if found is None:
            return self, spec
        prefix, url, _ = found
        taken, shown = self.take(url, where)
        return taken, f"{prefix}{shown}"

    def with_endpoints(self, mirror: str | None, source: str | None) -> Credentials:
        """The token's origins: the mirror's, when it is an http(s) URL, and an http(s)
        ``mirror:``/``catalog:``/``index:`` source's (or a bare URL's). Never a ``github`` source:
        it has its own tokens (``sources.spec.github_token``)."""
        origins = set(self.token_origins)
        if mirror is not None and (found := origin(mirror)) is not None:
            origins.add(found)
        spelled = spelled_url(source) if source else None
        found = origin(spelled[1]) if spelled is not None and spelled[2] != "github" else None
        if found is not None:
            origins.add(found)
        return replace(self, token_origins=frozenset(origins))

    # --- one request ---------------------------------------------------------------------

    def for_request(self, url: str) -> tuple[Credential | None, str]:
        """The credential a request to ``url`` carries, by the order in the module docstring,
        and a sentence saying what was sent or why nothing was (for a 401/403 message; it never
        holds a secret)."""
        here = origin(url)
        if here is None:
            return None, "nothing: credentials go to http(s) URLs only"
        host = here[1]
        user, password, where = self._from_url(url, here)
        chosen: Credential | None = None
        if password is not None:
            chosen = _basic(user or "", password, f"the user name and password in {where}")
        elif self.token is not None and here in self.token_origins:
            chosen = Credential(f"Bearer {self.token}", f"{TOKEN_ENV} (as a Bearer token)")
        if chosen is not None:
            return chosen, chosen.source
        entry, why_not = self._netrc_entry(host, user)
        if entry is not None:
            login, secret = entry
            chosen = _basic(login, secret, f"the netrc entry for {host} in {self.netrc_named}")
        elif user is not None:
            chosen = _basic(user, "", f"the user name in {where}, without a password")
        if chosen is not None:
            return chosen, chosen.source
        reasons = ["no user name or password in the URL or the setting it came from"]
        if self.token is None:
            reasons.append(f"{TOKEN_ENV} is not set")
        else:
            reasons.append(
                f"{TOKEN_ENV} is set, but goes only to the mirror's and the source's hosts"
            )
        reasons.append(why_not)
        return None, "no credential: " + "; ".join(reasons)

    def _from_url(self, url: str, here: Origin) -> tuple[str | None, str | None, str]:
        """(user name, password, where they came from) for ``url``: its own user information
        when it carries a real one, else what a setting's URL gave for this origin."""
        try:
            userinfo, _ = _split_netloc(urlsplit(url).netloc)
        except ValueError:
            userinfo = None
        if userinfo is not None and MASK not in userinfo:
            user, colon, password = userinfo.partition(":")
            return unquote(user), unquote(password) if colon else None, "the URL"
        wanted = userinfo.partition(":")[0] if userinfo is not None else ""
        matches = [g for g in self.given if g.origin == here]
        named = [g for g in matches if wanted and wanted != MASK and g.username == wanted]
        for given in named or matches:
            return given.username, given.password, f"the {given.where} URL"
        return None, None, "the URL"

    def _netrc_entry(self, host: str, login: str | None) -> tuple[tuple[str, str] | None, str]:
        """(login, password) of the netrc entry for ``host`` (with that ``login``, when one is
        named), or None and why not."""
        if self.netrc is None:
            return None, "no netrc file"
        import netrc

        try:
            entries = netrc.netrc(self.netrc).hosts
        except FileNotFoundError:
            return None, f"{self.netrc_named} does not exist"
        except netrc.NetrcParseError as exc:
            where = f" (line {exc.lineno})" if exc.lineno else ""
            return None, f"{self.netrc_named} could not be parsed{where}"
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            return None, f"{self.netrc_named} could not be read ({reason})"
        for machine, (found_login, _, secret) in entries.items():
            if machine.lower() != host or machine == "default":
                continue
            if login is not None and found_login != login:
                return (
                    None,
                    f"{self.netrc_named} has an entry for {host}, for another login",
                )
            return (found_login or "", secret or ""), ""
        return None, f"{self.netrc_named} has no entry for {host}"


def _basic(user: str, password: str, source: str) -> Credential:
    import base64

    raw = f"{user}:{password}".encode()
    return Credential(f"Basic {base64.b64encode(raw).decode('ascii')}", source)
