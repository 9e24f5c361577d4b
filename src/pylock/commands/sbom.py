"""``pylock sbom``: what is inside the locked interpreters, as a CycloneDX 1.6 JSON document.

Vulnerability scanners (grype, Dependency-Track, ...) read CycloneDX. The document describes
each locked target: the interpreter itself (``cpython``, its version, the PBS build, platform,
flavor and variant as properties, the archive's sha256 and URL, a purl, a CPE and the licence)
and, for an install here, every library the install's one interpreter run reported bundled
(install/components.py, recorded in the receipt): its version, a ``pkg:generic`` purl and, for
products NVD knows, a CPE, so scanners that match on CPE find its CVEs. The interpreter depends
on each of its libraries. A locked target that is not installed here (or whose receipt predates
component probing) is still listed, from the lock, with a property saying its components are
unknown and why (``show.inventory``, the rule ``show --components`` prints too).

The document is built with cyclonedx-python-lib, never assembled by hand: it is the reference
implementation of the format, so the output is what the schema means. That library is imported
here only, and this module only by the ``sbom`` command (docs/sbom.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.license import DisjunctiveLicense
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import fixup_id
from packageurl import PackageURL

from pylock import __version__
from pylock.base.fsutil import atomic_write_bytes
from pylock.base.settings import Settings
from pylock.commands.show import Inventory, inventories, show_lock
from pylock.errors import InputError
from pylock.install.components import Component
from pylock.resolution.lockfile import LOCK_FILENAME, Target
from pylock.resolution.selection import read_lock

FORMATS = ("cyclonedx-json",)
"""What ``--format`` accepts. SPDX is not written: it would need spdx-tools, a dependency this
issue did not take on (docs/sbom.md says how to convert)."""
STDOUT = "-"

CPYTHON_LICENSES = ("Python-2.0",)
"""CPython's licence (the LICENSE file every CPython carries), for a flavor without a
PYTHON.json that states its own (``install_only``)."""
_PREFIX = "pylock:"
_CPE_VERSION = re.compile(r"[0-9A-Za-z._-]+")
_RELEASE = re.compile(r"(\d+\.\d+\.\d+)((?:a|b|rc)\d+)?")
_NCURSES = re.compile(r"(\d+\.\d+)\.(\d{8})")


@dataclass(frozen=True)
class SbomOptions:
    python: str | None = None  # one request's interpreters (default: the first request's)
    every: bool = False  # every request's
    output: str | None = None  # a file path; None or "-": the text is returned, not written
    output_format: str = FORMATS[0]


@dataclass(frozen=True)
class SbomResult:
    text: str  # the document
    path: Path | None  # where it was written; None: not written (stdout)
    inventories: tuple[Inventory, ...]  # one per listed target, with the notes of unknown ones


def check_format(value: str) -> str:
    """``--format``; an unknown one is bad input (exit 2)."""
    if value in FORMATS:
        return value
    hint = "Use --format cyclonedx-json (the default)."
    if value == "spdx-json":
        hint = (
            "pylock writes CycloneDX only; convert it to SPDX with a converter such as "
            "`cyclonedx convert` (docs/sbom.md)."
        )
    raise InputError(f"Unknown --format {value!r}.", hint=hint)


def output_path(output: str | None) -> Path | None:
    """Where ``-o`` writes (None: stdout); an error before any work when it cannot be written
    there: a missing directory is named, exit 2."""
    if output is None or output == STDOUT:
        return None
    path = Path(output)
    if path.is_dir():
        raise InputError(f"-o {output} is a directory.", hint="Pass a file path, e.g. sbom.json.")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(
            f"Cannot write -o {output}: the directory {parent} does not exist.",
            hint=f"Create it first (`mkdir -p {parent}`) or write elsewhere.",
        )
    return path


def write_sbom(project_dir: Path, options: SbomOptions, *, settings: Settings) -> SbomResult:
    """The CycloneDX document of the selected locked targets; written to ``options.output``
    (atomically) when that names a file."""
    check_format(options.output_format)
    if options.every and options.python is not None:
        raise InputError(
            "--all and --python cannot be combined.",
            hint="Pass --python REQ for one request's interpreters, or --all for every one.",
        )
    path = output_path(options.output)
    lock = read_lock(project_dir)
    python = None if options.every else (options.python or lock.manifest.python)
    found = inventories(show_lock(lock, settings=settings, python=python))
    name = project_dir.resolve().name or "project"
    text = JsonV1Dot6(build_bom(found, project=name)).output_as_string(indent=2) + "\n"
    if path is not None:
        atomic_write_bytes(path, text.encode("utf-8"))
    return SbomResult(text, path, found)


def build_bom(found: Iterable[Inventory], *, project: str) -> Bom:
    """The BOM: each target's interpreter and libraries, and who depends on what.

    One target: the interpreter is the BOM's subject (``metadata.component``). Several (more
    platforms or requests): the subject is the project, which depends on each interpreter.
    """
    bom = Bom()
    bom.metadata.tools.components.add(
        CdxComponent(type=ComponentType.APPLICATION, name="pylock", version=__version__)
    )
    interpreters: list[CdxComponent] = []
    seen: set[str] = set()
    for inventory in found:
        interpreter = _interpreter(inventory)
        if str(interpreter.bom_ref) in seen:  # two requests that locked the same archive
            continue
        seen.add(str(interpreter.bom_ref))
        libraries = _libraries(inventory, str(interpreter.bom_ref))
        interpreters.append(interpreter)
        for library in libraries:
            bom.components.add(library)
        bom.register_dependency(interpreter, libraries)
    if len(interpreters) == 1:
        bom.metadata.component = interpreters[0]
        return bom
    subject = CdxComponent(
        type=ComponentType.APPLICATION,
        name=project,
        bom_ref="project",
        properties=[Property(name=_PREFIX + "lock", value=LOCK_FILENAME)],
    )
    bom.metadata.component = subject
    for interpreter in interpreters:
        bom.components.add(interpreter)
    bom.register_dependency(subject, interpreters)
    return bom


def _interpreter(inventory: Inventory) -> CdxComponent:
    """The interpreter: what the lock says of its archive, and what the receipt adds."""
    target = inventory.installation.target
    receipt = inventory.installation.receipt if inventory.installation.installed else None
    properties = [
        ("build", target.build),
        ("platform", target.platform),
        ("triple", target.triple),
        ("flavor", target.flavor),
        ("variant", target.variant),
        ("request", inventory.request),
        ("installed", "true" if receipt is not None else "false"),
        ("components", "recorded" if inventory.known else f"unknown: {inventory.note}"),
    ]
    if receipt is not None:
        properties += [
            ("installed-by", receipt.pylock_version),
            ("installed-at", receipt.installed_at),
        ]
    licenses = inventory.licenses
    stated = licenses is not None and bool(licenses.interpreter)
    properties.append(
        ("licenses-from", "PYTHON.json" if stated else "CPython's LICENSE (no PYTHON.json)")
    )
    return CdxComponent(
        type=ComponentType.APPLICATION,
        name=target.implementation,
        version=target.version,
        bom_ref=_ref(target),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=target.sha256)],
        external_references=[
            ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(target.url))
        ],
        purl=PackageURL(
            type="generic",
            name=target.implementation,
            version=target.version,
            qualifiers={"download_url": target.url, "checksum": f"sha256:{target.sha256}"},
        ),
        cpe=_python_cpe(target.version),
        licenses=_licenses(licenses.interpreter if stated and licenses else CPYTHON_LICENSES),
        properties=[Property(name=_PREFIX + key, value=value) for key, value in properties],
    )


def _ref(target: Target) -> str:
    """A bom-ref unique per locked archive (the same build for two platforms is two archives)."""
    return (
        f"{target.implementation}-{target.version}+{target.build}-{target.platform}-"
        f"{target.flavor}-{target.variant}-{target.sha256[:12]}"
    )


def _libraries(inventory: Inventory, parent: str) -> list[CdxComponent]:
    return [_library(inventory, library, parent) for library in inventory.libraries]


def _library(inventory: Inventory, library: Component, parent: str) -> CdxComponent:
    """One bundled library, with the licences ``Inventory.library_licenses`` gives it."""
    properties = [Property(name=_PREFIX + "module", value=library.module)]
    if library.reported:
        properties.append(Property(name=_PREFIX + "reported", value=library.reported))
    if library.version is None:
        properties.append(Property(name=_PREFIX + "version", value="not reported"))
    return CdxComponent(
        type=ComponentType.LIBRARY,
        name=library.name,
        version=library.version,
        bom_ref=f"{parent}/{library.name}",
        purl=PackageURL(type="generic", name=library.name, version=library.version),
        cpe=_library_cpe(library),
        licenses=_licenses(inventory.library_licenses(library)),
        properties=properties,
    )


def _licenses(values: Iterable[str]) -> list[DisjunctiveLicense]:
    """SPDX identifiers as ids (the schema checks them against the SPDX list); anything else,
    such as "Public Domain", as a named licence."""
    result = []
    for value in values:
        spdx = fixup_id(value)
        result.append(DisjunctiveLicense(id=spdx) if spdx else DisjunctiveLicense(name=value))
    return result


def _cpe(vendor_product: str, version: str, update: str = "*") -> str | None:
    """A CPE 2.3 name; None for a version a CPE cannot hold unescaped."""
    if not _CPE_VERSION.fullmatch(version) or not _CPE_VERSION.fullmatch(update.strip("*") or "x"):
        return None
    return f"cpe:2.3:a:{vendor_product}:{version}:{update}:*:*:*:*:*:*"


def _python_cpe(version: str) -> str | None:
    """NVD's CPE for CPython: ``python:python``, a pre-release in the update field
    (``3.15.0rc1`` -> ``3.15.0:rc1``)."""
    match = _RELEASE.fullmatch(version)
    if match is None:
        return None
    return _cpe("python:python", match.group(1), match.group(2) or "*")


def _library_cpe(library: Component) -> str | None:
    """A CPE only for a product NVD knows and a version the library reported: a CPE without a
    version would match every CVE the product ever had. ncurses' patch date goes in the update
    field, as NVD writes it (``6.4.20221231`` -> ``6.4:20221231``)."""
    vendor_product = library.product.cpe
    if vendor_product is None or library.version is None:
        return None
    if library.name == "ncurses" and (match := _NCURSES.fullmatch(library.version)):
        return _cpe(vendor_product, match.group(1), match.group(2))
    return _cpe(vendor_product, library.version)
