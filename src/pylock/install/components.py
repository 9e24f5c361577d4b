"""The libraries bundled into an installed interpreter, as the interpreter itself reports them.

Which OpenSSL, SQLite, zlib or expat a python-build-standalone build carries decides which CVEs
affect it, and no file in the archive states those versions. The interpreter does: ``_ssl``
reports the OpenSSL it was linked with, ``_sqlite3`` the SQLite, and so on. So the one run of the
new interpreter that the install makes anyway (install/interpreter.py) also runs ``PROBE``: after
printing its version it imports each module of ``PRODUCTS`` and prints what that module reports.
What it prints is parsed here into ``Component`` values, which the receipt records
(install/receipt.py) and ``pylock show --components`` and ``pylock sbom`` read.

Rules (docs/sbom.md):

- A module that does not import is not listed: its library is not in the build (or cannot load
  here, which for a bundled library means the same thing to a scanner).
- A module that imports but whose version cannot be read reliably (Tk's patch level needs a
  display, libuuid has no version call, a symbol that is not exported) is listed with no version.
  Nothing is guessed: a version appears only when the library said it, and only when it has the
  shape that library gives its versions (``OpenSSL 3.0.15 3 Sep 2024`` -> ``3.0.15``).
- The probe never fails an install. Each reading is guarded in the interpreter, and if the run
  ends without the end marker (a crash while importing a module) the components are recorded as
  not reported, and the version check alone decides.

The full flavor's ``PYTHON.json`` also states licences, for the interpreter and per extension
module (the licences of the libraries that extension links); ``licenses_from_python_json`` reads
those. Standard library only: the receipt, which ``pylock check`` reads, imports this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

PROBED = "probed"
"""The interpreter ran the probe to its end: ``libraries`` is what it could see."""
NOT_RUN = "not-run"
"""The interpreter was not run (a target for another platform): the components are unknown."""
NO_ANSWER = "no-answer"
"""The interpreter ran and reported its version, but not its components (it stopped before the
end marker, or it is not a CPython that runs the probe)."""
STATUSES = (PROBED, NOT_RUN, NO_ANSWER)


@dataclass(frozen=True)
class Product:
    """A library the probe looks for: how to read its version, and how it is named elsewhere."""

    name: str  # the component name and the purl name: "openssl"
    module: str  # the stdlib module that carries it: "_ssl"
    reading: str | None  # a Python expression over the imported module ``m``; None: unreadable
    version: str | None  # the shape of its version in what ``reading`` gives, group 1 the version
    cpe: str | None  # NVD's "vendor:product", where the product has a well-known CPE
    optional: bool = False  # ``reading`` gives None when this library is absent from the build


PRODUCTS: tuple[Product, ...] = (
    # ssl.OPENSSL_VERSION, not the _INFO tuple: OpenSSL 3 encodes 3.0.19 as (3, 0, 0, 19, 0).
    Product(
        "openssl",
        "_ssl",
        "m.OPENSSL_VERSION",
        r"OpenSSL (\d+\.\d+\.\d+[a-z]?)(?: .*)?",
        "openssl:openssl",
    ),
    Product(
        "sqlite", "_sqlite3", "m.sqlite_version", r"(\d+\.\d+\.\d+(?:\.\d+)?)", "sqlite:sqlite"
    ),
    # The runtime version, not ZLIB_VERSION (the header the module was compiled against). A
    # zlib-ng in compatibility mode says "1.3.1.zlib-ng": that is not zlib 1.3.1, so it gets no
    # version here, and zlib-ng is listed on its own.
    Product("zlib", "zlib", "m.ZLIB_RUNTIME_VERSION", r"(\d+\.\d+(?:\.\d+){0,2})", "zlib:zlib"),
    Product(
        "zlib-ng",
        "zlib",
        "getattr(m, 'ZLIBNG_VERSION', None)",
        r"(\d+\.\d+\.\d+)",
        None,
        optional=True,
    ),
    Product(
        "expat", "pyexpat", "m.EXPAT_VERSION", r"expat_(\d+\.\d+\.\d+)", "libexpat_project:libexpat"
    ),
    Product("mpdecimal", "_decimal", "m.__libmpdec_version__", r"(\d+\.\d+\.\d+)", None),
    # Tcl's own answer needs a Tcl interpreter (no display); Tk's patch level needs Tk loaded,
    # which needs a display, and TK_VERSION is only "8.6": Tk is listed without a version.
    Product("tcl", "_tkinter", "_tcl(m)", r"(\d+\.\d+\.\d+)", None),
    Product("tk", "_tkinter", None, None, None),
    # ncurses' own spelling: major.minor.patch-date, e.g. 6.4.20221231 (the compiled-in header;
    # PBS links ncurses statically, so the header is the library).
    Product("ncurses", "_curses", "_join(m.ncurses_version)", r"(\d+\.\d+\.\d{8})", "gnu:ncurses"),
    # The runtime rl_library_version; libedit answers "EditLine wrapper" (see ``_identify``).
    Product("readline", "readline", "m._READLINE_LIBRARY_VERSION", r"(\d+\.\d+)", "gnu:readline"),
    # No Python attribute: the library's own version call, found through the extension module
    # (or the process, for a built-in module). An unexported symbol leaves the version unknown.
    Product("xz", "_lzma", "_sym(m, 'lzma_version_string')", r"(\d+\.\d+\.\d+)", "tukaani:xz"),
    Product(
        "bzip2", "_bz2", "_sym(m, 'BZ2_bzlibVersion')", r"(\d+\.\d+\.\d+)(?:,.*)?", "bzip:bzip2"
    ),
    Product(
        "libffi",
        "_ctypes",
        "_sym(m, 'ffi_get_version')",
        r"(\d+\.\d+\.\d+)",
        "libffi_project:libffi",
    ),
    Product("zstd", "_zstd", "m.zstd_version", r"(\d+\.\d+\.\d+)", "facebook:zstandard"),
    Product("gdbm", "_gdbm", "_join(m._GDBM_VERSION)", r"(\d+\.\d+(?:\.\d+)?)", "gnu:gdbm"),
    Product("libuuid", "_uuid", None, None, None),
)
"""Every library the probe looks for, in the order it is listed."""

BY_NAME = {product.name: product for product in PRODUCTS}
LIBEDIT = Product("libedit", "readline", None, None, None)
"""What ``readline`` is when it answers "EditLine wrapper" (libedit has no version call)."""

_MARK = "@pylock-component"
_END = "@pylock-end"


def _probe_source() -> str:
    """The program the new interpreter runs (``python -I -S -B -c PROBE``).

    Its first line of output is ``sys.version_info`` as before, flushed, so the version check
    never depends on the rest. Then one tab-separated line per module that imports, and an end
    marker. It runs on every CPython pylock installs, so it is plain old syntax; nothing is
    imported that the readings do not need (no json, no re: each costs milliseconds). A
    library's own version call is made through ``_ctypes`` directly, which is what
    ``ctypes.CDLL(path).f`` with ``restype = c_char_p`` does, without the ~8 ms of importing the
    ``ctypes`` package (``dlopen`` of the extension module: ``dlsym`` then searches it and the
    libraries it links; ``None``, the process, for a built-in module).
    """
    readings = ",\n".join(
        f"    ({p.name!r}, {p.module!r}, {p.optional!r}, "
        f"{'None' if p.reading is None else 'lambda m: ' + p.reading})"
        for p in PRODUCTS
    )
    return f"""\
import sys
print(*tuple(sys.version_info))
sys.stdout.flush()
def _join(parts):
    return '.'.join(str(part) for part in parts)
def _sym(m, name):
    import _ctypes
    class _Text(_ctypes._SimpleCData):
        _type_ = 'z'
    class _Function(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL
        _restype_ = _Text
    handle = _ctypes.dlopen(getattr(m, '__file__', None))
    return _Function(_ctypes.dlsym(handle, name))().decode('utf-8', 'replace')
def _tcl(m):
    tcl = m.create(None, 'pylock', 'Tk', False, False, False, False, None)
    return tcl.call('info', 'patchlevel')
def _probe():
    for name, module, optional, read in [
{readings}
    ]:
        try:
            m = __import__(module)
        except BaseException:
            continue
        value = ''
        if read is not None:
            try:
                value = read(m)
            except BaseException:
                value = ''
            if value is None and optional:
                continue
            value = '' if value is None else ' '.join(str(value).split())
        sys.stdout.write('{_MARK}\\t%s\\t%s\\t%s\\n' % (name, module, value))
    sys.stdout.write('{_END}\\n')
_probe()
"""


PROBE = _probe_source()
"""Run as ``python -I -S -B -c PROBE`` by install/interpreter.py: the version, then components."""


@dataclass(frozen=True)
class Component:
    """One bundled library, as the installed interpreter reported it."""

    name: str  # "openssl"
    version: str | None  # "3.0.19"; None: the module is there, its version could not be read
    module: str  # the stdlib module it was seen through: "_ssl"
    reported: str | None  # what the interpreter said, verbatim ("OpenSSL 3.0.19 27 Jan 2026")

    @property
    def product(self) -> Product:
        return LIBEDIT if self.name == LIBEDIT.name else BY_NAME[self.name]


@dataclass(frozen=True)
class Components:
    """What the install learnt about the bundled libraries, and how (``status``)."""

    status: str  # PROBED, NOT_RUN or NO_ANSWER
    libraries: tuple[Component, ...] = ()


def _identify(product: Product, reported: str) -> Component:
    """The component a reading names: the version only when it has the library's own shape."""
    if product.name == "readline" and reported.startswith("EditLine"):
        return Component(LIBEDIT.name, None, product.module, reported)
    version = None
    if product.version is not None and reported:
        match = re.fullmatch(product.version, reported)
        version = match.group(1) if match else None
    return Component(product.name, version, product.module, reported or None)


def parse_probe(lines: list[str]) -> Components:
    """The components in the probe's output after its version line; NO_ANSWER without the end
    marker (an interpreter that stopped half-way, or one that does not run the probe at all).

    A reading is taken from its marker on, so whatever a module printed before it (readline has
    been known to emit a terminal escape) does not hide it; a line naming a product this pylock
    does not know, or a module other than the product's, is ignored.
    """
    found: dict[str, Component] = {}
    for line in lines:
        if _END in line:
            return Components(PROBED, tuple(found.values()))
        start = line.find(_MARK + "\t")
        if start < 0:
            continue
        fields = line[start:].rstrip("\r\n").split("\t")
        if len(fields) != 4:
            continue
        _, name, module, reported = fields
        product = BY_NAME.get(name)
        if product is None or product.module != module or name in found:
            continue
        found[name] = _identify(product, reported.strip())
    return Components(NO_ANSWER)


# -- the receipt's spelling ------------------------------------------------------------------------


def components_json(components: Components) -> dict[str, object]:
    return {
        "status": components.status,
        "libraries": [
            {"name": c.name, "version": c.version, "module": c.module, "reported": c.reported}
            for c in components.libraries
        ],
    }


def components_from_json(data: object) -> Components | None:
    """The receipt's ``components``; None when malformed (the caller treats the whole receipt
    as unreadable, as it does for any other field of the wrong type)."""
    if not isinstance(data, dict) or data.get("status") not in STATUSES:
        return None
    raw = data.get("libraries")
    if not isinstance(raw, list):
        return None
    libraries = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        name, version, module, reported = (
            item.get(key) for key in ("name", "version", "module", "reported")
        )
        if not isinstance(name, str) or (name not in BY_NAME and name != LIBEDIT.name):
            return None
        if not isinstance(module, str) or not all(
            value is None or isinstance(value, str) for value in (version, reported)
        ):
            return None
        libraries.append(Component(name, version, module, reported))
    return Components(str(data["status"]), tuple(libraries))


# -- licences from PYTHON.json ---------------------------------------------------------------------


@dataclass(frozen=True)
class Licenses:
    """The licences a full archive's ``PYTHON.json`` states (SPDX identifiers as PBS writes them).

    ``interpreter``: the distribution's (``licenses``). ``modules``: per extension module, the
    licences of the libraries it links (``build_info.extensions.<name>[].licenses``), only for
    extensions with one candidate that states them; ``public_domain``: those PBS marks as public
    domain (SQLite), which has no SPDX identifier.
    """

    interpreter: tuple[str, ...]
    modules: tuple[tuple[str, tuple[str, ...]], ...] = ()
    public_domain: tuple[str, ...] = ()

    def for_module(self, module: str) -> tuple[str, ...]:
        return dict(self.modules).get(module, ())


def _strings(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return None
    return tuple(value)


def licenses_from_python_json(data: bytes) -> Licenses | None:
    """The licences in a ``PYTHON.json``; None when it states none or does not parse (a file
    that says nothing usable about licences records nothing, it does not fail the install)."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    interpreter = _strings(document.get("licenses"))
    build_info = document.get("build_info")
    extensions = build_info.get("extensions") if isinstance(build_info, dict) else None
    modules: list[tuple[str, tuple[str, ...]]] = []
    public_domain: list[str] = []
    if isinstance(extensions, dict):
        for name, candidates in sorted(extensions.items()):
            if not isinstance(candidates, list) or len(candidates) != 1:
                continue  # several candidates (readline or libedit): which one is unknown
            candidate = candidates[0]
            if not isinstance(candidate, dict):
                continue
            licenses = _strings(candidate.get("licenses"))
            if licenses:
                modules.append((name, licenses))
            if candidate.get("license_public_domain") is True:
                public_domain.append(name)
    if interpreter is None and not modules and not public_domain:
        return None
    return Licenses(interpreter or (), tuple(modules), tuple(public_domain))


def licenses_json(licenses: Licenses) -> dict[str, object]:
    return {
        "interpreter": list(licenses.interpreter),
        "modules": {name: list(values) for name, values in licenses.modules},
        "public_domain": list(licenses.public_domain),
    }


def licenses_from_json(data: object) -> Licenses | None:
    """The receipt's ``licenses``; None when malformed."""
    if not isinstance(data, dict):
        return None
    interpreter = _strings(data.get("interpreter"))
    public_domain = _strings(data.get("public_domain"))
    raw_modules = data.get("modules")
    if interpreter is None or public_domain is None or not isinstance(raw_modules, dict):
        return None
    modules = []
    for name, values in sorted(raw_modules.items()):
        licenses = _strings(values)
        if licenses is None:
            return None
        modules.append((name, licenses))
    return Licenses(interpreter, tuple(modules), public_domain)
