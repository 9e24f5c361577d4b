"""One settings object per command, resolved once from the flags and the environment.

Every knob a command reads from outside its own inputs is decided here, once, by
``Settings.resolve``, which the CLI layer calls with ``os.environ`` and the command's flags; the
library below it reads no environment variable and takes the result as a parameter, so two
modules cannot disagree about a setting, and a Python caller or a test injects one whole:

- ``offline``: ``--offline``, else ``PYLOCK_OFFLINE`` (1/true/yes/on; 0/false/no/off or empty
  is off; anything else is an error);
- ``mirror``: ``--mirror``, else ``PYLOCK_MIRROR``, else the manifest's ``mirror``
  (``mirror_for``: a relative directory there is relative to the project);
- ``source``: ``--source``, else the manifest's ``source``, else ``PYLOCK_SOURCE``, else
  ``github`` (``source_for``; the variable is a default, as docs/cli.md says, so a project that
  names its source keeps it on every machine); ``--source`` and ``PYLOCK_SOURCE`` are spelled
  as docs/sources.md says (``sourcespec.parse_source``) or the run stops;
- directories: ``PYLOCK_CACHE_DIR`` and ``PYLOCK_PYTHON_DIR`` (locations.py has the defaults);
- the HTTP policy (timeouts, retries, back-off, CA bundle): ``--http-timeout``/
  ``--http-deadline`` over ``PYLOCK_HTTP_TIMEOUT``/``PYLOCK_HTTP_DEADLINE``, ``SSL_CERT_FILE``/
  ``SSL_CERT_DIR``, with ``offline`` applied. Tests inject a policy without back-off;
- install ceilings: ``PYLOCK_MAX_INSTALL_BYTES`` and ``PYLOCK_MAX_INSTALL_MEMBERS``;
- credentials for private mirrors (``credentials``, credentials.py): ``PYLOCK_MIRROR_TOKEN``, the
  netrc file's path (``NETRC``, else ``~/.netrc``; not read here) and any user name and password
  in the ``--mirror``/``PYLOCK_MIRROR``/``--source``/``PYLOCK_SOURCE`` URLs, taken out of them:
  ``mirror``, ``source`` and ``env_source`` hold the URLs' display forms (``user:****@``), so
  nothing that quotes a setting can print a secret. The manifest's ``mirror`` and ``source`` are
  added by ``remote``, which also names the origins the token may go to; the HTTP policy
  carries the result to the one client that sends it;
- GitHub tokens: the environment is carried whole (``environ``), and sources/ applies the gh
  CLI's rules for which variable goes to which host;
- ``sigstore_offline``: ``PYLOCK_SIGSTORE_OFFLINE`` (same spellings as ``PYLOCK_OFFLINE``), or
  ``offline``: verify attestations against the Sigstore trust root already on this machine
  instead of refreshing it through TUF first (docs/provenance.md);
- tokens: the environment is carried whole (``environ``), and sources/ applies the gh CLI's rules
  for which variable goes to which host;
- output: ``color`` (``--color``; ``auto`` becomes ``never`` when ``NO_COLOR`` is set to
  anything non-empty, https://no-color.org) and ``progress`` (``--no-progress``).

Every value is validated on every run, even one the command will not need (a bad
``PYLOCK_HTTP_TIMEOUT`` is an error on a run that finds its archive cached, or that the
console script answers from its memo), and the message quotes the value and where it came
from: envvalues.py reads and checks them, for ``resolve`` here and for the memo's fast path,
which calls the same ``envvalues.read`` without building Settings. Standard library only: the
launcher builds one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pylock.base import envvalues, locations
from pylock.base.credentials import Credentials, redact_url, spelled_url
from pylock.base.envvalues import DEFAULT_DEADLINE as DEFAULT_DEADLINE
from pylock.base.envvalues import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from pylock.base.envvalues import MAX_BYTES_ENV as MAX_BYTES_ENV
from pylock.base.envvalues import MAX_MEMBERS_ENV as MAX_MEMBERS_ENV
from pylock.base.envvalues import SIGSTORE_OFFLINE_ENV as SIGSTORE_OFFLINE_ENV
from pylock.base.envvalues import color_choice as color_choice
from pylock.base.envvalues import env_flag as env_flag
from pylock.base.envvalues import http_values
from pylock.base.fsutil import file_url_path, url_scheme
from pylock.base.sourcespec import parse_source
from pylock.errors import InputError

DEFAULT_SOURCE = "github"
DEFAULT_RETRIES = 3
DEFAULT_MIN_SPEED = 1024


@dataclass(frozen=True)
class HttpPolicy:
    """Knobs for one program run; tests shorten the backoff and timeouts to keep the suite fast.

    ``timeout`` is the stall rule, as ``UV_HTTP_TIMEOUT`` and pip's ``--timeout`` are: a read
    that waits longer fails, and so does a body averaging under ``min_speed`` bytes/s over any
    ``timeout`` seconds (a trickle never trips a read timeout). A stalled body is not retried,
    so a stall costs at most ``timeout`` seconds. ``deadline`` bounds a whole transfer (None:
    no bound). ``ca_file``/``ca_dir`` are ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (None: certifi's).
    """

    offline: bool = False
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    timeout: float = DEFAULT_TIMEOUT
    min_speed: int = DEFAULT_MIN_SPEED
    deadline: float | None = DEFAULT_DEADLINE
    ca_file: str | None = None
    ca_dir: str | None = None
    # Who may be sent which credential (credentials.py); not a knob, so not compared.
    credentials: Credentials = field(default=Credentials(), compare=False, repr=False)

    @property
    def stall_timeout(self) -> float:
        return self.timeout


def http_policy(
    environ: Mapping[str, str],
    *,
    offline: bool = False,
    timeout: float | str | None = None,
    deadline: float | str | None = None,
) -> HttpPolicy:
    """The policy of one command: a flag beats its environment variable, which beats the default
    (``envvalues.http_values`` reads and checks them; a deadline of 0 means none)."""
    timeout, deadline = http_values(environ, timeout=timeout, deadline=deadline)
    return _policy(environ, offline, timeout, deadline)


def _policy(
    environ: Mapping[str, str], offline: bool, timeout: float, deadline: float | None
) -> HttpPolicy:
    return HttpPolicy(
        offline=offline,
        timeout=timeout,
        deadline=deadline,
        ca_file=environ.get("SSL_CERT_FILE") or None,
        ca_dir=environ.get("SSL_CERT_DIR") or None,
    )


def check_mirror(spelled: str, where: str) -> None:
    """A mirror (``--mirror``, ``PYLOCK_MIRROR``, the manifest's ``mirror``) is a directory, an
    http(s) URL or a ``file:`` URL of this machine: what a download can read
    (``fetch.download``); anything else is bad input naming ``where``, on every run."""
    scheme = url_scheme(spelled)
    if scheme is None or scheme in ("http", "https") or file_url_path(spelled) is not None:
        return
    why = (
        "which names another machine (a file: URL must name this one)"
        if scheme == "file"
        else "which is neither a directory nor an http(s) or file: URL"
    )
    raise InputError(
        f"{where} is {redact_url(spelled)!r}, {why}.",
        hint=f"Set {where} to a mirror's https:// URL or a directory laid out as "
        "{mirror}/{build}/{asset} (docs/mirror.md).",
    )


@dataclass(frozen=True)
class Remote:
    """Where one project's bytes come from, as ``Settings.remote`` resolves them: the mirror and
    the source in their display forms (a URL's password shown as ``****``), where the source was
    named, and the HTTP policy whose credentials cover both."""

    mirror: str | None
    source: str
    source_where: str
    http: HttpPolicy


@dataclass(frozen=True)
class Settings:
    offline: bool
    mirror: str | None  # --mirror or PYLOCK_MIRROR; the manifest's comes in through mirror_for
    source: str | None  # --source; the manifest's and PYLOCK_SOURCE come in through source_for
    cache_dir: Path
    python_dir: Path
    http: HttpPolicy  # offline already applied
    environ: Mapping[str, str] = field(repr=False)  # tokens (sources/) and child processes
    color: str = "auto"  # --color: auto | always | never (NO_COLOR already applied to auto)
    progress: bool = True  # False: --no-progress
    max_install_bytes: int | None = None  # PYLOCK_MAX_INSTALL_BYTES (None: by archive size)
    max_install_members: int | None = None  # PYLOCK_MAX_INSTALL_MEMBERS
    env_source: str | None = None  # PYLOCK_SOURCE
    credentials: Credentials = field(default=Credentials(), repr=False)  # also in ``http``
    sigstore_offline: bool = False  # PYLOCK_SIGSTORE_OFFLINE or offline: no TUF refresh

    @classmethod
    def resolve(
        cls,
        *,
        environ: Mapping[str, str],
        offline: bool = False,
        mirror: str | None = None,
        source: str | None = None,
        http: HttpPolicy | None = None,
        http_timeout: float | str | None = None,
        http_deadline: float | str | None = None,
        color: str = "auto",
        progress: bool = True,
    ) -> Settings:
        """Flags (the arguments) over ``environ``; the CLI calls it once per command with
        ``os.environ``, tests and Python callers with a mapping of their own. ``http`` injects a
        whole policy (tests: no back-off), to which ``offline`` is still applied."""
        offline, timeout, deadline, max_bytes, max_members, _, sigstore_offline = envvalues.read(
            environ, offline=offline, http_timeout=http_timeout, http_deadline=http_deadline
        )
        policy = _policy(environ, offline, timeout, deadline)
        if http is not None:
            policy = replace(http, offline=True) if offline else http
        credentials = Credentials.from_environ(environ)
        from_env = environ.get("PYLOCK_MIRROR") or None
        for spelled, where in ((mirror, "--mirror"), (from_env, "PYLOCK_MIRROR")):
            if spelled is not None:  # fetchable, whether or not this command downloads
                check_mirror(spelled, where)
        if mirror:
            credentials, mirror = credentials.take(mirror, "--mirror")
        else:
            credentials, mirror = credentials.take(from_env, "PYLOCK_MIRROR")
        env_source = environ.get("PYLOCK_SOURCE", "").strip() or None
        for spelled, where in ((source, "--source"), (env_source, "PYLOCK_SOURCE")):
            if spelled is not None:  # spelled right, whether or not this command reads it
                parse_source(spelled, where=where)
        credentials, source = credentials.take_source(source, "--source")
        credentials, env_source = credentials.take_source(env_source, "PYLOCK_SOURCE")
        # --mirror/PYLOCK_MIRROR and --source beat the manifest, so their origins are settled.
        credentials = credentials.with_endpoints(mirror, source)
        return cls(
            offline=offline,
            mirror=mirror,
            source=source,
            cache_dir=locations.cache_dir(environ),
            python_dir=locations.python_dir(environ),
            http=replace(policy, credentials=credentials),
            environ=environ,
            color=color_choice(color, environ),
            progress=progress,
            max_install_bytes=max_bytes,
            max_install_members=max_members,
            env_source=env_source,
            credentials=credentials,
            sigstore_offline=sigstore_offline,
        )

    def remote(self, *, mirror: str | None, source: str | None, manifest_path: Path) -> Remote:
        """The mirror (``mirror_for``) and the source (``source_for``) of the project whose
        manifest, at ``manifest_path``, names ``mirror`` and ``source`` (None: it names none, or
        there is no manifest), and the HTTP policy for them: a user name and password in the
        manifest's URL join the credentials (for that URL's origin), and ``PYLOCK_MIRROR_TOKEN``
        may go to the mirror's and the source's origins. Every command that reads a source or
        downloads an archive fetches under ``Remote.http``."""
        credentials = self.credentials
        if self.mirror is None:
            where = f"{manifest_path} [tool.pylock].mirror"
            if mirror is not None:
                check_mirror(mirror, where)
            credentials, mirror = credentials.take(mirror, where)
        if self.source is None:
            where = f"{manifest_path} [tool.pylock].source"
            credentials, source = credentials.take_source(source, where)
        chosen_mirror = self.mirror_for(mirror, manifest_path.parent)
        spec, source_where = self.source_for(source, manifest_path)
        credentials = credentials.with_endpoints(chosen_mirror, spec)
        return Remote(
            chosen_mirror, spec, source_where, replace(self.http, credentials=credentials)
        )

    def mirror_for(self, spelled: str | None, project_dir: Path) -> str | None:
        """Where downloads come from: --mirror, else PYLOCK_MIRROR, else the manifest's mirror
        ``spelled`` (a relative directory there is relative to the project, wherever pylock
        runs)."""
        if self.mirror:
            return self.mirror
        if not spelled:
            return None
        if url_scheme(spelled) is not None:
            return redact_url(spelled)  # a URL, shown without its password
        path = Path(spelled).expanduser()
        return str(path if path.is_absolute() else project_dir / path)

    def source_for(self, manifest_source: str | None, manifest_path: Path) -> tuple[str, str]:
        """The source to read (a URL in it in its display form) and where it was named (for
        error messages), its spelling checked (``sourcespec.parse_source``, with relative paths
        read from the project directory): every command that names a source checks it, even one
        that will not read it (a current ``pylock lock``)."""
        if self.source:
            spec, where = self.source, "--source"
        elif manifest_source:
            spelled = spelled_url(manifest_source)
            if spelled is not None:
                manifest_source = spelled[0] + redact_url(spelled[1])
            spec, where = manifest_source, f"{manifest_path} [tool.pylock].source"
        elif self.env_source:
            spec, where = self.env_source, "PYLOCK_SOURCE"
        else:
            spec, where = DEFAULT_SOURCE, "the default source"
        parse_source(spec, where=where, base_dir=manifest_path.parent)
        return spec, where
