"""``[tool.pylock]`` -> a Manifest and the Request to resolve.

INTERFACE (fixed; other modules depend on it).

Whether a lock still satisfies a Request is resolution/drift.py's: it reads both, and this
module must not know the lock's shape. ``pylock lock`` (keep pins, touch no network),
``pylock sync`` and ``pylock check`` (lock-current) all call that one test, so they agree
exactly on what "current" means.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pylock.base import tomlread
from pylock.base.fsutil import read_input, read_input_if_any
from pylock.errors import InputError
from pylock.formats import BUILD_TAG, is_iso_date
from pylock.project.platforms import Platform, parse_platform
from pylock.project.provenance import DEFAULT_POLICY, ProvenancePolicy, parse_policy

PYPROJECT = "pyproject.toml"

# A bare version as people write it for Python: 3, 3.12, 3.12.8, 3.14.0rc2 (pre-releases only on
# a full X.Y.Z, the only place CPython ever puts them), optionally followed by "t".
_BARE_VERSION = re.compile(
    r"(?P<version>\d+(?:\.\d+){0,2}|\d+\.\d+\.\d+(?:a|b|c|rc|alpha|beta|pre|preview)\d+)"
    r"(?P<t>t)?",
    re.IGNORECASE,
)
_ACCEPTED_FORMS = (
    "Accepted forms: a version such as 3.12 (newest 3.12.x), 3 or 3.12.8 (exact), a "
    "pre-release such as 3.14.0rc2, a PEP 440 specifier set such as >=3.11,<3.13 or ~=3.12.1, "
    "and a 't' suffix on a bare version for the free-threaded build (3.13t, 3.14.0rc2t)."
)

_FULL_CONFIGS = ("debug", "noopt", "lto", "pgo", "pgo+lto")
FLAVORS: tuple[str, ...] = (
    "install_only_stripped",
    "install_only",
    *(f"{config}-full" for config in _FULL_CONFIGS),
    *(f"{config}+static-full" for config in _FULL_CONFIGS),
)
"""Every flavor a manifest may pin; variant tokens (``freethreaded``) are never part of one."""

_MANIFEST_KEYS = (
    "python",
    "platforms",
    "flavor",
    "build",
    "source",
    "mirror",
    "exclude-newer",
    "provenance",
)


@dataclass(frozen=True)
class PythonRequest:
    """A version request: ``3.12``, ``3.12.8``, ``>=3.11,<3.13``, ``3.13t``, ``3.14.0rc2t``."""

    text: str  # normalised spelling, written to the lock's [manifest].python
    specifier: SpecifierSet
    freethreaded: bool
    prereleases: bool  # True only when the request itself names a pre-release

    def contains(self, version: Version) -> bool:
        """Whether ``version`` satisfies the request; pre-releases only if the request names one."""
        return self.specifier.contains(version, prereleases=self.prereleases)


def _bad_request(text: str, where: str, why: str) -> InputError:
    location = f" in {where}" if where else ""
    return InputError(
        f"Invalid Python version request {text!r}{location}: {why}.", hint=_ACCEPTED_FORMS
    )


def parse_python_request(text: str, *, where: str = "") -> PythonRequest:
    """InputError (exit 2) naming ``where`` (e.g. ``pyproject.toml [tool.pylock].python``)."""
    spelled = "".join(text.split())
    if not spelled:
        raise _bad_request(text, where, "it is empty")
    bare = _BARE_VERSION.fullmatch(spelled)
    if bare is not None:
        # A bare version means "this release series": 3.12 -> ==3.12.*, 3.12.8 -> ==3.12.8.
        version = Version(bare["version"])
        parts = bare["version"].count(".") + 1
        exact = version.is_prerelease or parts == 3
        specifier = f"=={version}" if exact else f"=={version}.*"
        freethreaded = bare["t"] is not None
        return PythonRequest(
            text=f"{version}{'t' if freethreaded else ''}",
            specifier=SpecifierSet(specifier),
            freethreaded=freethreaded,
            prereleases=version.is_prerelease,
        )
    if spelled[0].isdigit():
        raise _bad_request(text, where, "it is not a version like 3.12 or 3.12.8")
    specifiers: list[Specifier] = []
    for part in spelled.split(","):
        if part.endswith("t") and part[:1] in "<>=!~":
            raise _bad_request(
                text,
                where,
                "the free-threaded 't' suffix is only accepted on a bare version (3.13t), "
                "not inside a specifier",
            )
        try:
            specifiers.append(Specifier(part))
        except InvalidSpecifier:
            raise _bad_request(
                text, where, f"{part!r} is not a PEP 440 version specifier"
            ) from None
    prereleases = False
    for spec in specifiers:
        # "===" compares arbitrary strings: not a version, so never a pre-release.
        with contextlib.suppress(InvalidVersion):
            prereleases |= Version(spec.version.removesuffix(".*")).is_prerelease
    return PythonRequest(
        text=",".join(str(spec) for spec in specifiers),
        specifier=SpecifierSet(",".join(str(spec) for spec in specifiers)),
        freethreaded=False,
        prereleases=prereleases,
    )


def parse_flavor(text: str, *, where: str = "") -> str:
    """A flavor a manifest or ``--flavor`` may pin; anything else -> InputError naming ``where``."""
    if text in FLAVORS:
        return text
    close = difflib.get_close_matches(text, FLAVORS, n=1, cutoff=0.6)
    suggestion = f" Did you mean {close[0]!r}?" if close else ""
    location = f" in {where}" if where else ""
    raise InputError(
        f"Unknown flavor {text!r}{location}.{suggestion}",
        hint="Valid flavors: " + ", ".join(FLAVORS) + ". Free-threaded builds are asked for "
        "with a 't' on the python request (3.13t), not with the flavor.",
    )


def parse_build(text: str, *, where: str = "") -> str:
    """A PBS release tag (``YYYYMMDD``); anything else -> InputError naming ``where``."""
    if BUILD_TAG.fullmatch(text):
        return text
    location = f" in {where}" if where else ""
    raise InputError(
        f"Invalid build {text!r}{location}: a build is a python-build-standalone release tag, "
        '8 digits such as "20241219".',
        hint="Use a tag listed at https://github.com/astral-sh/python-build-standalone/releases.",
    )


def parse_exclude_newer(value: object, *, where: str = "") -> str:
    """``exclude-newer`` as ``YYYY-MM-DD``, from an ISO date, ``YYYYMMDD`` or a TOML date.

    A PBS build tag is its release day, so a day is the whole precision there is: a date-time
    would pretend to more, and is refused rather than silently cut to its day.
    """
    import datetime

    location = f" in {where}" if where else ""
    hint = 'Write a day: "2025-01-15" (or 20250115 on the command line).'
    if isinstance(value, datetime.datetime) or (
        isinstance(value, str) and re.search(r"\d[T ]\d", value.strip())
    ):
        raise InputError(
            f"Invalid exclude-newer {value!s}{location}: PBS builds are dated by day, so "
            "exclude-newer is a date, not a date and time.",
            hint=hint,
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = value.strip() if isinstance(value, str) else ""
    if BUILD_TAG.fullmatch(text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if is_iso_date(text):
        return text
    shown = repr(value) if isinstance(value, str) else f"of type {tomlread.type_name(value)}"
    raise InputError(
        f"Invalid exclude-newer {shown}{location}: it is not a date such as 2025-01-15 or "
        "20250115.",
        hint=hint,
    )


def build_of_day(day: str) -> str:
    """``2025-01-15`` -> ``20250115``: the newest build tag a day admits."""
    return day.replace("-", "")


def is_debug_flavor(flavor: str | None) -> bool:
    """Whether ``flavor`` is a debug build (``debug-full``, ``debug+static-full``)."""
    if flavor is None or not flavor.endswith("-full"):
        return False
    return "debug" in flavor.removesuffix("-full").split("+")


@dataclass(frozen=True)
class Manifest:
    """The ``[tool.pylock]`` table as written (``None``: the key is absent)."""

    path: Path  # the pyproject.toml it came from
    python: PythonRequest | None  # [tool.pylock].python (its first), else project.requires-python
    platforms: tuple[Platform, ...] | None
    flavor: str | None
    build: str | None
    source: str | None
    mirror: str | None
    exclude_newer: str | None = None  # "YYYY-MM-DD"
    more_pythons: tuple[PythonRequest, ...] = ()  # a matrix: the requests after the first
    provenance: ProvenancePolicy = DEFAULT_POLICY  # [tool.pylock.provenance]

    @property
    def pythons(self) -> tuple[PythonRequest, ...]:
        """Every request in manifest order (the first is the default); empty when none."""
        return () if self.python is None else (self.python, *self.more_pythons)


_CREATE = "run `pylock init` to create one with a [tool.pylock] table"
"""What to do about a pyproject.toml that is not there (``fsutil.read_input`` builds the hint)."""


def read_toml(path: Path, *, hint: str, raw: bytes | None = None) -> dict[str, object]:
    """Parse a TOML file (or ``raw``, the bytes already read from it); a syntax error ->
    InputError with the file, the line and ``hint`` (which is about fixing syntax, so bytes
    that are not UTF-8 get a hint of their own). A path that names no readable file ->
    InputError (exit 2) naming it (``fsutil.read_input``, the rule for every input file)."""
    try:
        text = (read_bytes(path) if raw is None else raw).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path} is not UTF-8 text: {error}.", hint=f"Save {path.name} as UTF-8."
        ) from None
    try:
        document = tomlread.loads(text)
    except tomlread.TOMLDecodeError as error:
        raise InputError(tomlread.describe(error, str(path)), hint=hint) from None
    return document


def _string(table: Mapping[str, object], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        scalar = isinstance(value, (int, float)) and not isinstance(value, bool)
        raise InputError(
            f"{where} must be a string, not {tomlread.type_name(value)}.",
            hint=f'Quote it: {key} = "{value}".' if scalar else f'Write it as {key} = "...".',
        )
    if not value.strip():
        raise InputError(f"{where} is empty.", hint=f"Set a value or remove the {key} key.")
    return value.strip()


def read_bytes(path: Path) -> bytes:
    """The bytes of the pyproject.toml at ``path``, for ``load(path, raw=...)``: missing, a
    directory or unreadable -> InputError (exit 2) naming it, as ``load`` says it."""
    return read_input(path, fix=_CREATE)


def load_if_any(path: Path) -> tuple[Manifest | None, bytes | None]:
    """The manifest and the exact bytes it was read from, or (None, None) when nothing at all
    is at ``path``: sync, which, export, list and mirror work from the lock alone (copied into
    a Docker build, say). One that is there but cannot be read is an error, as for ``load``."""
    raw = read_input_if_any(path, fix=_CREATE)
    return (None, None) if raw is None else (load(path, raw=raw), raw)


def load(path: Path, *, raw: bytes | None = None) -> Manifest:
    """Read ``pyproject.toml`` (or parse ``raw``, the bytes already read from ``path``) with the
    stdlib TOML reader; every bad key -> InputError (2)."""
    document = read_toml(path, hint="Fix the TOML syntax at that line.", raw=raw)
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise InputError(f"{path}: `tool` must be a table, not {tomlread.type_name(tool)}.")
    table = tool.get("pylock", {})
    if not isinstance(table, dict):
        raise InputError(
            f"{path}: [tool.pylock] must be a table, not {tomlread.type_name(table)}.",
            hint="Write it as a [tool.pylock] section.",
        )
    for key in table:
        if key not in _MANIFEST_KEYS:
            close = difflib.get_close_matches(key, _MANIFEST_KEYS, n=1, cutoff=0.5)
            suggestion = f" Did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"{path}: unknown key {key!r} in [tool.pylock].{suggestion}",
                hint="Known keys: " + ", ".join(_MANIFEST_KEYS) + ".",
            )

    def where(key: str) -> str:
        return f"{path} [tool.pylock].{key}"

    python: PythonRequest | None = None
    more_pythons: tuple[PythonRequest, ...] = ()
    if isinstance(table.get("python"), list):
        python, *rest = _python_list(table["python"], where("python"))
        more_pythons = tuple(rest)
    elif (python_text := _string(table, "python", where("python"))) is not None:
        python = parse_python_request(python_text, where=where("python"))
    else:
        project = document.get("project", {})
        if isinstance(project, dict):
            requires = _string(project, "requires-python", f"{path} project.requires-python")
            if requires is not None:
                python = parse_python_request(requires, where=f"{path} project.requires-python")

    platforms: tuple[Platform, ...] | None = None
    if "platforms" in table:
        raw = table["platforms"]
        if not isinstance(raw, list):
            raise InputError(
                f"{where('platforms')} must be an array of platform strings, "
                f"not {tomlread.type_name(raw)}.",
                hint='For example: platforms = ["linux-x86_64-gnu", "macos-aarch64-none"].',
            )
        if not raw:
            raise InputError(
                f"{where('platforms')} lists no platforms.",
                hint="List at least one, or remove the key to lock this host's platform.",
            )
        found: list[Platform] = []
        for index, item in enumerate(raw):
            item_where = f"{where('platforms')}[{index}]"
            if not isinstance(item, str):
                raise InputError(
                    f"{item_where} must be a string, not {tomlread.type_name(item)}.",
                    hint='For example: platforms = ["linux-x86_64-gnu"].',
                )
            platform = parse_platform(item, where=item_where)
            if platform not in found:
                found.append(platform)
        platforms = tuple(found)

    flavor = _string(table, "flavor", where("flavor"))
    if flavor is not None:
        flavor = parse_flavor(flavor, where=where("flavor"))

    raw_build = table.get("build")
    if isinstance(raw_build, int) and not isinstance(raw_build, bool):
        raise InputError(
            f"{where('build')} must be a string, not an integer.",
            hint=f'Quote it: build = "{raw_build}".',
        )
    build = _string(table, "build", where("build"))
    if build is not None:
        build = parse_build(build, where=where("build"))

    return Manifest(
        path=path,
        python=python,
        platforms=platforms,
        flavor=flavor,
        build=build,
        source=_string(table, "source", where("source")),
        mirror=_string(table, "mirror", where("mirror")),
        exclude_newer=parse_exclude_newer(table["exclude-newer"], where=where("exclude-newer"))
        if "exclude-newer" in table
        else None,
        more_pythons=more_pythons,
        provenance=parse_policy(table["provenance"], where=f"{path} [tool.pylock.provenance]")
        if "provenance" in table
        else DEFAULT_POLICY,
    )


def _python_list(raw: list[object], where: str) -> list[PythonRequest]:
    """``python = ["3.12", "3.11"]``: a test matrix, the first being the default interpreter."""
    example = 'For example: python = ["3.12", "3.11", "3.13t"] (the first is the default).'
    if not raw:
        raise InputError(f"{where} lists no Python versions.", hint=example)
    found: list[PythonRequest] = []
    for index, item in enumerate(raw):
        item_where = f"{where}[{index}]"
        if not isinstance(item, str):
            raise InputError(
                f"{item_where} must be a string, not {tomlread.type_name(item)}.", hint=example
            )
        request = parse_python_request(item, where=item_where)
        same = [i for i, seen in enumerate(found) if seen.text == request.text]
        if same:
            raise InputError(
                f"{item_where} repeats {where}[{same[0]}] ({request.text!r}).",
                hint="List each Python version request once.",
            )
        found.append(request)
    return found


@dataclass(frozen=True)
class Request:
    """What to resolve: the manifest with this run's CLI overrides applied."""

    python: PythonRequest
    platforms: tuple[Platform, ...]  # sorted, deduplicated; empty only when checking a manifest
    # that lists none (then any non-empty lock satisfies the platform part)
    flavor: str | None
    build: str | None
    exclude_newer: str | None = None  # "YYYY-MM-DD": resolve as if no later release existed
    provenance: ProvenancePolicy = DEFAULT_POLICY  # who must have built what is locked

    @property
    def newest_build(self) -> str | None:
        """The newest build tag exclude-newer admits (None: any)."""
        return build_of_day(self.exclude_newer) if self.exclude_newer is not None else None

    @property
    def variant(self) -> str:
        """default | freethreaded | debug | freethreaded+debug (debug only via a debug flavor)."""
        debug = is_debug_flavor(self.flavor)
        if self.python.freethreaded:
            return "freethreaded+debug" if debug else "freethreaded"
        return "debug" if debug else "default"

    @classmethod
    def matrix(
        cls,
        manifest: Manifest,
        *,
        python: str | None = None,
        platforms: Iterable[str | Platform] = (),
        flavor: str | None = None,
        build: str | None = None,
        exclude_newer: str | None = None,
        default_platforms: Iterable[Platform] = (),
    ) -> tuple[Request, ...]:
        """One Request per manifest python request (the default first); ``--python`` replaces
        the whole list with its one request, as it replaces a single one. Every other input
        (platforms, flavor, build, exclude-newer) is shared by all of them."""
        platforms, default_platforms = tuple(platforms), tuple(default_platforms)
        one = cls.from_manifest(
            manifest,
            python=python,
            platforms=platforms,
            flavor=flavor,
            build=build,
            exclude_newer=exclude_newer,
            default_platforms=default_platforms,
        )
        if python is not None:
            return (one,)
        return tuple(replace(one, python=each) for each in manifest.pythons)

    @classmethod
    def from_manifest(
        cls,
        manifest: Manifest,
        *,
        python: str | None = None,
        platforms: Iterable[str | Platform] = (),
        flavor: str | None = None,
        build: str | None = None,
        exclude_newer: str | None = None,
        default_platforms: Iterable[Platform] = (),
    ) -> Request:
        """Apply one run's CLI options.

        ``--python``/``--flavor``/``--build``/``--exclude-newer`` replace the manifest's values;
        ``--platform`` adds to its platforms, or to ``default_platforms`` (usually this host)
        when it lists none. A pinned build newer than exclude-newer can never resolve, so that
        pair is refused here, naming both.
        """
        request = (
            parse_python_request(python, where="--python")
            if python is not None
            else manifest.python
        )
        if request is None:
            raise InputError(
                f"No Python version requested in {manifest.path}.",
                hint="Set [tool.pylock].python or project.requires-python, or pass --python.",
            )
        chosen = set(manifest.platforms if manifest.platforms else default_platforms)
        for item in platforms:
            chosen.add(
                item if isinstance(item, Platform) else parse_platform(item, where="--platform")
            )
        pinned = parse_build(build, where="--build") if build is not None else manifest.build
        day = (
            parse_exclude_newer(exclude_newer, where="--exclude-newer")
            if exclude_newer is not None
            else manifest.exclude_newer
        )
        if pinned is not None and day is not None and pinned > build_of_day(day):
            build_from = "--build" if build is not None else f"{manifest.path} [tool.pylock].build"
            day_from = (
                "--exclude-newer"
                if exclude_newer is not None
                else f"{manifest.path} [tool.pylock].exclude-newer"
            )
            raise InputError(
                f"The pinned build {pinned} ({build_from}) is newer than exclude-newer {day} "
                f"({day_from}), so nothing can satisfy both.",
                hint="Pin an older build, or move exclude-newer to that build's day or later.",
            )
        return cls(
            python=request,
            platforms=tuple(sorted(chosen)),
            flavor=parse_flavor(flavor, where="--flavor")
            if flavor is not None
            else manifest.flavor,
            build=pinned,
            exclude_newer=day,
            provenance=manifest.provenance,
        )
