"""The values of the settings the environment and the flags give, read and validated.

``Settings.resolve`` (settings.py) builds its one object from ``read``, and the console
script's fast path (cli/launcher.py), which answers a command from its memo without building
Settings, calls the same ``read`` first: so a bad value (``PYLOCK_HTTP_TIMEOUT=abc``,
``PYLOCK_OFFLINE=maybe``) is refused on every run, the no-op one included, and in the same
words. Apart from settings.py because that module needs ``dataclasses`` and ``pathlib``, which
cost more to import than the no-op command itself; this one needs nothing but ``errors``.

Every check of a setting's value goes into ``read``; the message quotes the value and where it
came from.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from pylock.errors import InputError

DEFAULT_TIMEOUT = 30.0
DEFAULT_DEADLINE = 1800.0
OFFLINE_ENV = "PYLOCK_OFFLINE"
TIMEOUT_ENV = "PYLOCK_HTTP_TIMEOUT"
DEADLINE_ENV = "PYLOCK_HTTP_DEADLINE"
MAX_BYTES_ENV = "PYLOCK_MAX_INSTALL_BYTES"
MAX_MEMBERS_ENV = "PYLOCK_MAX_INSTALL_MEMBERS"
SIGSTORE_OFFLINE_ENV = "PYLOCK_SIGSTORE_OFFLINE"
TOKEN_ENV = "PYLOCK_MIRROR_TOKEN"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_INF = float("inf")


def read(
    environ: Mapping[str, str],
    *,
    offline: bool = False,
    http_timeout: float | str | None = None,
    http_deadline: float | str | None = None,
) -> tuple[bool, float, float | None, int | None, int | None, str | None, bool]:
    """``(offline, timeout, deadline, max install bytes, max install members, mirror token,
    sigstore offline)``: the flags over ``environ``, every value validated in this one order
    (an InputError names the first bad one), so ``Settings.resolve`` and the console script's
    fast path refuse the same input with the same words. A plain tuple, not a NamedTuple: the
    fast path does not import ``typing``."""
    offline = env_flag(environ, OFFLINE_ENV) or offline
    timeout, deadline = http_values(environ, timeout=http_timeout, deadline=http_deadline)
    return (
        offline,
        timeout,
        deadline,
        count(environ, MAX_BYTES_ENV),
        count(environ, MAX_MEMBERS_ENV),
        mirror_token(environ),
        env_flag(environ, SIGSTORE_OFFLINE_ENV) or offline,
    )


def mirror_token(environ: Mapping[str, str]) -> str | None:
    """``PYLOCK_MIRROR_TOKEN``, or None when unset or blank. Visible ASCII without spaces is
    what a header value carries unchanged (a line break or a byte outside ASCII would make the
    HTTP library fail with the value in its message); anything else is an InputError that never
    quotes the value."""
    token = environ.get(TOKEN_ENV, "").strip() or None
    if token is not None and not (
        token.isascii() and token.isprintable() and not any(c.isspace() for c in token)
    ):
        raise _input_error(
            f"{TOKEN_ENV} holds a character a token cannot contain (a space, a line break or a "
            "character outside ASCII); its value is not shown.",
            hint=f"Set {TOKEN_ENV} to the token alone, without `Bearer ` or quotes.",
        )
    return token


def color_choice(choice: str, environ: Mapping[str, str]) -> str:
    """``--color`` with ``NO_COLOR`` applied: ``auto`` is ``never`` when ``NO_COLOR`` is set to
    anything non-empty (https://no-color.org); ``always`` and ``never`` are kept as given."""
    return "never" if choice == "auto" and environ.get("NO_COLOR") else choice


def use_color(choice: str, stream: TextIO | None) -> bool:
    """``--color`` as resolved (``color_choice``: ``NO_COLOR`` already applied to ``auto``):
    ``always``, ``never``, or ``auto`` = ``stream`` is a terminal. The one rule for every colour
    pylock prints (cli/render.py), and for the memo, which must not replay a coloured answer
    into a pipe (fast/memo.py). No stream at all (the caller closed it) is no terminal."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return stream is not None and stream.isatty()


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    """A boolean environment variable: 1, true, yes or on (any case) is set; 0, false, no, off
    or empty is not; anything else is an InputError quoting it (``maybe`` is not silently off)."""
    raw = environ.get(name, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _input_error(
        f"{name} is {raw!r}, which is neither on nor off.",
        hint=f"Set {name} to 1 or 0 (true/false, yes/no and on/off work too), or unset it.",
    )


def http_values(
    environ: Mapping[str, str],
    *,
    timeout: float | str | None = None,
    deadline: float | str | None = None,
) -> tuple[float, float | None]:
    """``(timeout, deadline)``: a flag beats its environment variable, which beats the default.

    A flag may be given as typed (the CLI passes the text, so a message quotes ``-5``, not
    ``-5.0``) or as a number (a Python caller). A deadline of 0 means none (None). A value that
    is not a positive number is an InputError naming where it came from; the environment's
    values are checked even when a flag overrides them.
    """
    env_timeout = _env_seconds(environ, TIMEOUT_ENV, DEFAULT_TIMEOUT)
    env_deadline = _env_seconds(environ, DEADLINE_ENV, DEFAULT_DEADLINE, zero_ok=True)
    timeout_s = env_timeout if timeout is None else _seconds(_typed(timeout), "--http-timeout")
    deadline_s = (
        env_deadline
        if deadline is None
        else _seconds(_typed(deadline), "--http-deadline", zero_ok=True)
    )
    return timeout_s, deadline_s or None


def _typed(value: float | str) -> str:
    return value if isinstance(value, str) else repr(value)


def _env_seconds(
    environ: Mapping[str, str], name: str, default: float, zero_ok: bool = False
) -> float:
    raw = environ.get(name, "").strip()
    return _seconds(raw, name, zero_ok=zero_ok) if raw else default


def _seconds(raw: str, where: str, *, zero_ok: bool = False) -> float:
    """``raw`` as a number of seconds, positive (or 0 when ``zero_ok``) and finite, else the
    InputError of ``bad_seconds`` quoting ``raw`` as given."""
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not (value > 0 or (zero_ok and value == 0)) or value != value or value == _INF:
        raise bad_seconds(where, raw, zero_ok=zero_ok)
    return value


def bad_seconds(where: str, raw: str, *, zero_ok: bool) -> InputError:
    """A timeout that is not a number of seconds, or not a positive one, quoted as given."""
    try:
        number: float | None = float(raw)
    except ValueError:
        number = None
    if number is None or number != number:
        why = "which is not a number of seconds"
    elif number == _INF:
        why = "which is not a finite number of seconds"
    elif zero_ok:
        why = "which is negative"
    else:
        why = "which is not a positive number of seconds"
    none = " (0 means none)" if zero_ok else ""
    return _input_error(
        f"{where} is {raw!r}, {why}.",
        hint=f"Set {where} to a positive number of seconds, e.g. 30{none}.",
    )


def count(environ: Mapping[str, str], name: str) -> int | None:
    """A positive whole number from the environment, or None when unset or blank."""
    raw = environ.get(name, "").strip()
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) == 0:  # int("²") would raise
        raise _input_error(
            f"{name} is {raw!r}, which is not a positive whole number.",
            hint=f"Set {name} to a positive number, or unset it for the default.",
        )
    return int(raw)


def _input_error(message: str, *, hint: str) -> InputError:
    """An InputError, its module loaded only when a value is bad (the memo path's is good)."""
    from pylock.errors import InputError

    return InputError(message, hint=hint)
