"""The bundled libraries: the probe the install runs, what it parses, and what the receipt keeps.

The probe is run in real interpreters here (the Python running the tests, and installs whose
``bin/python3.X`` delegates to it), and its answers are held to what that interpreter reports
through the ordinary public APIs, read independently of pylock's parsing.
"""

from __future__ import annotations

import dataclasses
import json
import pyexpat
import sqlite3
import ssl
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from archives import build_pbs_archive, delegating_interpreter, make_target
from pylock.install.components import (
    NO_ANSWER,
    NOT_RUN,
    PROBE,
    PROBED,
    Component,
    Components,
    Licenses,
    licenses_from_python_json,
    parse_probe,
)
from pylock.install.installer import install
from pylock.install.receipt import META_DIR, RECEIPT_NAME, Receipt, read_receipt, write_receipt

REAL = ".".join(str(part) for part in sys.version_info[:3])
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in is a /bin/sh script")

# A PYTHON.json's licence keys as PBS writes them (its format 8, described in PBS's own docs).
PYTHON_JSON = {
    "licenses": ["Python-2.0", "CNRI-Python"],
    "license_path": "licenses/LICENSE.cpython.txt",
    "build_info": {
        "core": {"objs": [], "links": []},
        "extensions": {
            "_ssl": [{"in_core": False, "licenses": ["Apache-2.0"], "links": []}],
            "_sqlite3": [{"licenses": [], "license_public_domain": True, "links": []}],
            "_tkinter": [{"licenses": ["TCL", "X11", "MIT"], "links": []}],
            "readline": [{"licenses": ["GPL-3.0-only"]}, {"licenses": ["BSD-3-Clause"]}],
            "_json": [{"in_core": True}],
        },
    },
}


def _by_name(components: Components) -> dict[str, Component]:
    return {c.name: c for c in components.libraries}


def _self_report(python: str) -> dict[str, str]:
    """What ``python`` says of four libraries through the public APIs, parsed plainly."""
    code = (
        "import ssl, sqlite3, zlib, pyexpat\n"
        "print(ssl.OPENSSL_VERSION.split()[1])\n"
        "print(sqlite3.sqlite_version)\n"
        "print(zlib.ZLIB_RUNTIME_VERSION)\n"
        "print(pyexpat.EXPAT_VERSION.split('_', 1)[1])\n"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    openssl, sqlite, zlib_version, expat = out.stdout.split()
    return {"openssl": openssl, "sqlite": sqlite, "zlib": zlib_version, "expat": expat}


# -- the probe in a real interpreter ---------------------------------------------------------------


def test_the_probe_reports_what_this_interpreter_reports_about_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", PROBE], capture_output=True, text=True, check=True
    )
    first, *rest = result.stdout.splitlines()
    assert first.split() == [str(part) for part in sys.version_info]
    components = parse_probe(rest)
    assert components.status == PROBED
    found = {name: c.version for name, c in _by_name(components).items()}
    assert found["openssl"] == ssl.OPENSSL_VERSION.split()[1]
    assert found["sqlite"] == sqlite3.sqlite_version
    assert found["zlib"] == zlib.ZLIB_RUNTIME_VERSION
    assert found["expat"] == pyexpat.EXPAT_VERSION.split("_", 1)[1]
    assert _by_name(components)["openssl"].reported == ssl.OPENSSL_VERSION
    # the decimal module's own library, read the public way
    import decimal

    assert found.get("mpdecimal") == getattr(decimal, "__libmpdec_version__", None)


def test_a_module_that_is_there_without_a_readable_version_is_listed_without_one() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", PROBE], capture_output=True, text=True, check=True
    )
    found = _by_name(parse_probe(result.stdout.splitlines()[1:]))
    try:
        import _tkinter  # noqa: F401
    except ImportError:
        assert "tk" not in found
    else:  # Tk's patch level needs a display: never guessed from TK_VERSION ("8.6")
        assert found["tk"].version is None and found["tk"].reported is None


# -- parsing ---------------------------------------------------------------------------------------


def _line(name: str, module: str, value: str) -> str:
    return f"@pylock-component\t{name}\t{module}\t{value}"


def test_parse_takes_each_library_own_version_shape() -> None:
    components = parse_probe(
        [
            _line("openssl", "_ssl", "OpenSSL 3.0.15 3 Sep 2024"),
            _line("bzip2", "_bz2", "1.0.8, 13-Jul-2019"),
            _line("expat", "pyexpat", "expat_2.6.4"),
            _line("ncurses", "_curses", "6.4.20221231"),
            _line("zlib", "zlib", "1.3.1.zlib-ng"),  # zlib-ng's compat string is not zlib 1.3.1
            _line("zlib-ng", "zlib", "2.2.4"),
            _line("readline", "readline", "EditLine wrapper"),
            _line("tk", "_tkinter", ""),
            "@pylock-end",
        ]
    )
    assert components.status == PROBED
    assert [(c.name, c.version, c.reported) for c in components.libraries] == [
        ("openssl", "3.0.15", "OpenSSL 3.0.15 3 Sep 2024"),
        ("bzip2", "1.0.8", "1.0.8, 13-Jul-2019"),
        ("expat", "2.6.4", "expat_2.6.4"),
        ("ncurses", "6.4.20221231", "6.4.20221231"),
        ("zlib", None, "1.3.1.zlib-ng"),
        ("zlib-ng", "2.2.4", "2.2.4"),
        ("libedit", None, "EditLine wrapper"),
        ("tk", None, None),
    ]


def test_parse_guesses_nothing_from_an_odd_answer() -> None:
    components = parse_probe(
        [
            _line("openssl", "_ssl", "LibreSSL 3.8.2"),  # another product: no OpenSSL version
            _line("sqlite", "_sqlite3", "three"),
            "@pylock-end",
        ]
    )
    assert [(c.name, c.version) for c in components.libraries] == [
        ("openssl", None),
        ("sqlite", None),
    ]


def test_parse_reads_past_noise_and_ignores_what_it_does_not_know() -> None:
    components = parse_probe(
        [
            "\x1b[?1034h" + _line("readline", "readline", "8.2"),  # a terminal escape before it
            _line("nonesuch", "_nonesuch", "1.0.0"),
            _line("openssl", "_hashlib", "OpenSSL 3.0.15"),  # not the module that carries it
            _line("sqlite", "_sqlite3", "3.47.1"),
            _line("sqlite", "_sqlite3", "9.9.9"),  # the first answer stands
            "@pylock-end",
        ]
    )
    assert [(c.name, c.version) for c in components.libraries] == [
        ("readline", "8.2"),
        ("sqlite", "3.47.1"),
    ]


def test_without_the_end_marker_the_components_were_not_reported() -> None:
    assert parse_probe([_line("sqlite", "_sqlite3", "3.47.1")]) == Components(NO_ANSWER)
    assert parse_probe([]) == Components(NO_ANSWER)


# -- licences --------------------------------------------------------------------------------------


def test_licences_from_python_json() -> None:
    licenses = licenses_from_python_json(json.dumps(PYTHON_JSON).encode())
    assert licenses == Licenses(
        interpreter=("Python-2.0", "CNRI-Python"),
        modules=(("_ssl", ("Apache-2.0",)), ("_tkinter", ("TCL", "X11", "MIT"))),
        public_domain=("_sqlite3",),
    )
    # readline has two candidates (readline or libedit): which one this build has is unknown
    assert licenses.for_module("readline") == ()


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[]", b'{"licenses": "MIT"}', b'{"version": "8"}']
)
def test_a_python_json_without_usable_licences_records_none(data: bytes) -> None:
    assert licenses_from_python_json(data) is None


# -- the receipt -----------------------------------------------------------------------------------


def _receipt(**changes: object) -> Receipt:
    receipt = Receipt(
        target=make_target(b"archive bytes"),
        pylock_version="0.1.0",
        installed_at="2025-01-02T03:04:05.678901Z",
        tree_digest="ab" * 32,
        interpreter="bin/python3.12",
    )
    return dataclasses.replace(receipt, **changes)  # type: ignore[arg-type]


def test_a_receipt_with_components_and_licences_round_trips(tmp_path: Path) -> None:
    receipt = _receipt(
        components=Components(
            PROBED,
            (
                Component("openssl", "3.0.15", "_ssl", "OpenSSL 3.0.15 3 Sep 2024"),
                Component("tk", None, "_tkinter", None),
            ),
        ),
        licenses=licenses_from_python_json(json.dumps(PYTHON_JSON).encode()),
    )
    write_receipt(tmp_path, receipt)
    assert read_receipt(tmp_path) == receipt


def test_an_older_receipt_without_components_stays_readable(tmp_path: Path) -> None:
    write_receipt(tmp_path, _receipt())
    document = json.loads((tmp_path / META_DIR / RECEIPT_NAME).read_text())
    assert "components" not in document and "licenses" not in document  # as older pylocks wrote
    receipt = read_receipt(tmp_path)
    assert receipt is not None and receipt.components is None and receipt.licenses is None


@pytest.mark.parametrize(
    "components",
    [
        "probed",
        {"status": "maybe", "libraries": []},
        {"status": "probed"},
        {"status": "probed", "libraries": [{"name": "openssl"}]},
        {"status": "probed", "libraries": [{"name": "nonesuch", "module": "x"}]},
        {"status": "probed", "libraries": [{"name": "zlib", "module": "zlib", "version": 1}]},
    ],
)
def test_a_malformed_components_field_makes_the_receipt_unreadable(
    tmp_path: Path, components: object
) -> None:
    write_receipt(tmp_path, _receipt())
    path = tmp_path / META_DIR / RECEIPT_NAME
    document = json.loads(path.read_text())
    document["components"] = components
    path.write_text(json.dumps(document))
    assert read_receipt(tmp_path) is None  # then sync reinstalls: never half-trusted


# -- the install -----------------------------------------------------------------------------------


@needs_posix
def test_an_install_records_what_its_interpreter_reports(tmp_path: Path) -> None:
    data = build_pbs_archive(version=REAL, interpreter=delegating_interpreter())
    (tmp_path / "a.tar.gz").write_bytes(data)
    outcome = install(tmp_path / "a.tar.gz", make_target(data, version=REAL), tmp_path / "py")
    components = outcome.receipt.components
    assert components is not None and components.status == PROBED
    found = {name: c.version for name, c in _by_name(components).items()}
    for name, version in _self_report(sys.executable).items():
        assert found[name] == version, name
    assert read_receipt(tmp_path / "py") == outcome.receipt


@needs_posix
def test_a_stand_in_that_only_reports_its_version_installs_with_components_not_reported(
    tmp_path: Path,
) -> None:
    data = build_pbs_archive()  # bin/python3.12 prints the version fields and nothing else
    (tmp_path / "a.tar.gz").write_bytes(data)
    receipt = install(tmp_path / "a.tar.gz", make_target(data), tmp_path / "py").receipt
    assert receipt.components == Components(NO_ANSWER)


@needs_posix
def test_an_interpreter_that_fails_after_its_version_still_installs(tmp_path: Path) -> None:
    """The version decides: a crash while importing a module only loses the components."""
    script = (
        b'#!/bin/sh\necho "3 12 8 final 0"\necho "@pylock-component\tzlib\tzlib\t1.3"\nexit 139\n'
    )
    data = build_pbs_archive(interpreter=script)
    (tmp_path / "a.tar.gz").write_bytes(data)
    receipt = install(tmp_path / "a.tar.gz", make_target(data), tmp_path / "py").receipt
    assert receipt.components == Components(NO_ANSWER)


def test_a_target_for_another_platform_is_not_run_and_says_so(tmp_path: Path) -> None:
    data = build_pbs_archive()
    (tmp_path / "a.tar.gz").write_bytes(data)
    receipt = install(
        tmp_path / "a.tar.gz", make_target(data), tmp_path / "py", run_interpreter=False
    ).receipt
    assert receipt.components == Components(NOT_RUN)


@needs_posix
def test_a_full_archive_records_the_licences_its_python_json_states(tmp_path: Path) -> None:
    flavor = "pgo+lto-full"
    data = build_pbs_archive(flavor=flavor, python_json=PYTHON_JSON)
    (tmp_path / "a.tar.zst").write_bytes(data)
    receipt = install(
        tmp_path / "a.tar.zst", make_target(data, flavor=flavor), tmp_path / "py"
    ).receipt
    assert receipt.licenses is not None
    assert receipt.licenses.interpreter == ("Python-2.0", "CNRI-Python")
    assert receipt.licenses.for_module("_ssl") == ("Apache-2.0",)
    assert not (tmp_path / "py" / "PYTHON.json").exists()  # read, not installed
    plain = build_pbs_archive()
    (tmp_path / "b.tar.gz").write_bytes(plain)
    assert (
        install(tmp_path / "b.tar.gz", make_target(plain), tmp_path / "q").receipt.licenses is None
    )
