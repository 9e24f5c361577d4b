"""The memo: a command's last verdict, replayed while everything it rested on is unchanged.

The commands run dozens of times a day (``sync`` on every shell start and CI step, ``$(pylock
which)`` in scripts, ``pylock run`` in Makefiles, ``pylock check`` in every CI job) almost always
get the answer they got last time, and the full path that proves it (validating python.lock,
the manifest against it, the receipt of the install) costs several times the reads themselves
in imports alone. So the full path, each time it reaches a verdict that it would repeat on the
same inputs (exit 0, nothing on stderr), records in a small file in the cache dir
(``remember``):

- the **key**: everything besides the files that decides the answer: the pylock version, the
  command, the current directory, the install root (``PYLOCK_PYTHON_DIR`` or its default), this
  host's platform key, the colour of the output (and whether stdout is a terminal), and the
  command line's options as given (``command_key``);
- the **evidence**: what the verdict rested on, noted by the full path as it read it
  (``Evidence``): the exact bytes it parsed of each file (python.lock, pyproject.toml, the
  receipt, a ``pyvenv.cfg``), or that nothing was there; that the interpreter a receipt names is
  a regular file (``layout.has_interpreter``, the store's own test); that two paths are one
  directory (a venv's ``home``); and so on, each a predicate tested again with the same
  primitive;
- the **answer**: what the command printed on stdout.

``recall`` returns the answer only when the memo for the same key holds and every piece of
evidence still holds now. The full path's answer is a function of the key and the evidence (a
test holds the two paths to the same answer on every input, tests/test_differential.py), so
the replay cannot disagree with it: a changed byte anywhere, a deleted interpreter, a new
aside directory, send the command down the full path, which reports whatever is wrong. The
memo is trusted as the install directory is: whoever can rewrite it could rewrite the
interpreter too, and ``pylock check --deep`` never reads it. Deleting the cache only costs one
full-path run.

Standard library only, and cheap to import: ``os`` and ``stat`` (not ``json``, whose ``re``
would cost more than the rest of the command, nor ``zlib``, whose loading costs more than
hashing the key with an integer).
"""

from __future__ import annotations

import os
import stat
import sys

from pylock import __version__
from pylock.base import hostinfo, layout, locations
from pylock.base.envvalues import color_choice
from pylock.fast.argv import GLOBAL_DEFAULTS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from collections.abc import Mapping

MEMO_DIR = "memo"
"""The memos' directory inside the cache dir: one file per key."""

_MAGIC = b"pylock memo 3\n"
_DEFAULTS: dict[str, str | bool] = {**GLOBAL_DEFAULTS, "format": "text"}
"""Option values that are the same as not giving the option at all."""

CONTENT = b"content"  # the file holds exactly these bytes
ABSENT = b"absent"  # nothing at all at the path (not even a dangling symlink)
REGULAR = b"regular"  # the interpreter a receipt names is a regular file in its install dir
SAME = b"same"  # two paths name one file (the same device and inode)
DIRECTORY = b"directory"  # a directory, not a symlink to one
NO_PREFIX = b"no-prefix"  # no entry of the directory starts with this name
_KINDS = (CONTENT, ABSENT, REGULAR, SAME, DIRECTORY, NO_PREFIX)

Observation = tuple[bytes, str, bytes]
"""(kind, path, value): CONTENT's bytes, REGULAR's interpreter, SAME's other path, NO_PREFIX's
prefix; empty for the others."""


class Evidence:
    """What one verdict rests on, noted by the full path while it reads (see the module
    docstring). A plain class: the full path builds one per command, and the fast path never
    needs it."""

    __slots__ = ("complete", "observations")

    def __init__(self) -> None:
        self.observations: list[Observation] = []
        self.complete = True

    def content(self, path: str | os.PathLike[str], data: bytes | None) -> None:
        """The verdict parsed exactly ``data`` from ``path`` (None: nothing was there)."""
        if data is None:
            self.absent(path)
        else:
            self._add(CONTENT, path, data)

    def absent(self, path: str | os.PathLike[str]) -> None:
        self._add(ABSENT, path, b"")

    def interpreter(self, install_dir: str | os.PathLike[str], interpreter: str) -> None:
        """The receipt's interpreter is a file in ``install_dir`` (``layout.has_interpreter``)."""
        self._add(REGULAR, install_dir, _bytes(interpreter))

    def same_file(self, path: str | os.PathLike[str], other: str | os.PathLike[str]) -> None:
        self._add(SAME, path, _bytes(_absolute(other)))

    def directory(self, path: str | os.PathLike[str]) -> None:
        self._add(DIRECTORY, path, b"")

    def no_entry_starting(self, directory: str | os.PathLike[str], prefix: str) -> None:
        self._add(NO_PREFIX, directory, _bytes(prefix))

    def _add(self, kind: bytes, path: str | os.PathLike[str], value: bytes) -> None:
        observation = (kind, _absolute(path), value)
        if observation not in self.observations:  # a file read twice is one observation
            self.observations.append(observation)

    def unknown(self) -> None:
        """The verdict rests on something no observation captures (a directory listing, a
        receipt that could not be read): it is never replayed."""
        self.complete = False


def _absolute(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def holds(observation: Observation) -> bool:
    """Whether an observation is still true, tested with the primitive the full path uses."""
    kind, path, value = observation
    try:
        if kind == CONTENT:
            return _read(path) == value
        if kind == ABSENT:
            return not os.path.lexists(path)
        if kind == REGULAR:
            return layout.has_interpreter(path, _text(value))
        if kind == SAME:
            one, other = os.stat(path), os.stat(_text(value))
            return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)
        if kind == DIRECTORY:
            return stat.S_ISDIR(os.lstat(path).st_mode)
        if kind == NO_PREFIX:
            prefix = os.path.normcase(_text(value))
            return not any(os.path.normcase(n).startswith(prefix) for n in os.listdir(path))
    except (OSError, ValueError):  # ValueError: a NUL in a path
        return False
    return False


def command_key(
    command: str, options: Mapping[str, str | bool | None], environ: Mapping[str, str]
) -> list[bytes]:
    """Everything besides the evidence that decides ``command``'s answer: the pylock version,
    the command, the current directory (the options' relative paths, and the paths printed,
    depend on it), the install root, this host, the colour the output would get (``--color``
    with ``NO_COLOR`` applied, and whether stdout is a terminal), and the options as given. An
    option at its default (None, False, a global's default) is left out, so the console script
    and the typer app key a plain command line alike."""
    given = sorted(
        name if value is True else f"{name}={value}"
        for name, value in options.items()
        if value is not None and value is not False and _DEFAULTS.get(name) != value
    )
    color = color_choice(str(options.get("color") or "auto"), environ)
    terminal = sys.stdout is not None and sys.stdout.isatty()
    return [
        _bytes(__version__),
        _bytes(command),
        _bytes(os.getcwd()),
        _bytes(locations.python_path(environ)),
        _bytes(hostinfo.host_key()),
        _bytes(f"{color}{' terminal' if terminal else ''}"),
        *(_bytes(option) for option in given),
    ]


def _pack(fields: list[bytes]) -> bytes:
    """Length-prefixed fields: no json (and so no ``re``) on the fast path."""
    return b"".join([_MAGIC, *(b"%d\n%s" % (len(value), value) for value in fields)])


def _unpack(raw: bytes) -> list[bytes] | None:
    if not raw.startswith(_MAGIC):
        return None
    fields: list[bytes] = []
    position = len(_MAGIC)
    while position < len(raw):
        end = raw.find(b"\n", position)
        head = raw[position:end]
        if end < 0 or not head.isdigit():
            return None
        position = end + 1 + int(head)
        if position > len(raw):
            return None
        fields.append(raw[end + 1 : position])
    return fields


_SPREAD = (1 << 61) - 1  # a Mersenne prime: the packed key as a number modulo it


def memo_path(key: list[bytes], environ: Mapping[str, str]) -> str:
    """One memo per key; the name only spreads keys out (the memo holds the key to compare,
    so two keys that share a name only cost each other a full run)."""
    name = f"{int.from_bytes(_pack(key), 'little') % _SPREAD:016x}.memo"
    return os.path.join(locations.cache_path(environ), MEMO_DIR, name)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _parse(fields: list[bytes]) -> tuple[list[bytes], list[Observation], bytes] | None:
    """(key, evidence, answer) from a memo's fields: ``count, key..., count, (kind, path,
    value)..., answer``; None when they do not have that shape."""
    if not fields or not fields[0].isdigit():
        return None
    keys = int(fields[0])
    rest = fields[1 + keys :]
    if len(fields) < 1 + keys or not rest or not rest[0].isdigit():
        return None
    count = int(rest[0])
    body = rest[1:]
    if len(body) != 3 * count + 1:
        return None
    observations: list[Observation] = []
    for index in range(count):
        kind, path, value = body[3 * index : 3 * index + 3]
        if kind not in _KINDS:
            return None
        observations.append((kind, _text(path), value))
    return fields[1 : 1 + keys], observations, body[-1]


def recall(key: list[bytes], environ: Mapping[str, str]) -> str | None:
    """The answer the full path gave for ``key``, if every piece of its evidence still holds."""
    raw = _read(memo_path(key, environ))
    fields = None if raw is None else _unpack(raw)
    parsed = None if fields is None else _parse(fields)
    if parsed is None:
        return None
    recorded, observations, answer = parsed
    if recorded != key:
        return None
    for observation in observations:
        if not holds(observation):
            return None
    return _text(answer)


def remember(key: list[bytes], evidence: Evidence, answer: str, environ: Mapping[str, str]) -> None:
    """Record the full path's ``answer`` for ``key`` and what it rested on; best effort: a memo
    that cannot be written only means the next run takes the full path again. Nothing is
    written when the evidence is incomplete, or when what was observed no longer holds (an
    input changed while the command ran: the next run must look again)."""
    if not evidence.complete:
        return
    for observation in evidence.observations:
        if observation[0] != CONTENT and not holds(observation):
            return
    from pathlib import Path

    from pylock.base.fsutil import atomic_write_bytes
    from pylock.errors import PylockError

    fields = [b"%d" % len(key), *key, b"%d" % len(evidence.observations)]
    for kind, path, value in evidence.observations:
        fields += [kind, _bytes(path), value]
    fields.append(_bytes(answer))
    where = Path(memo_path(key, environ))
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(where, _pack(fields), durable=False)  # a lost memo costs a run
    except (OSError, PylockError):
        pass
