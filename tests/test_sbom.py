"""``pylock show --components`` and ``pylock sbom``, through the CLI.

Every document is checked by cyclonedx-python-lib's strict JSON validator against the CycloneDX
1.6 schema (a real peer, not a look at a few keys), and the library versions in it are held to
what the installed interpreter reports about itself, read by the test through the public APIs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archives import asset_name, build_pbs_archive, delegating_interpreter
from clirun import pylock, run_in_new_interpreter
from conftest import REAL, SyncedTemplate
from pbs_server import FakePBS
from pylock.install.receipt import META_DIR, RECEIPT_NAME
from pylock.install.store import Store
from pylock.project.platforms import KNOWN_PLATFORMS, host_platform
from pylock.resolution import lockfile

HOST = host_platform()
OTHER = next(p for p in KNOWN_PLATFORMS if p.os == HOST.os and p.key != HOST.key)
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="stand-ins are /bin/sh scripts")


def validated(text: str) -> dict[str, object]:
    """The document, once the strict CycloneDX 1.6 validator found nothing wrong with it."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    document = json.loads(text)
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    return document


def self_report(python: str | Path) -> dict[str, str]:
    """What ``python`` says of OpenSSL, SQLite, zlib and expat through the public APIs."""
    code = (
        "import ssl, sqlite3, zlib, pyexpat\n"
        "print(ssl.OPENSSL_VERSION.split()[1])\n"
        "print(sqlite3.sqlite_version)\n"
        "print(zlib.ZLIB_RUNTIME_VERSION)\n"
        "print(pyexpat.EXPAT_VERSION.split('_', 1)[1])\n"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    openssl, sqlite, zlib_version, expat = out.stdout.split()
    return {"openssl": openssl, "sqlite": sqlite, "zlib": zlib_version, "expat": expat}


def props(component: dict[str, object]) -> dict[str, str]:
    raw = component.get("properties", [])
    assert isinstance(raw, list)
    return {p["name"]: p["value"] for p in raw}


def libraries(document: dict[str, object]) -> dict[str, dict[str, object]]:
    components = document.get("components", [])
    assert isinstance(components, list)
    return {c["name"]: c for c in components if c["type"] == "library"}


@pytest.fixture
def project(fake_pbs: FakePBS, tmp_path: Path, synced_template: SyncedTemplate) -> Path:
    """The session's synced project: its install's interpreter runs the Python of the tests."""
    synced_template.publish(fake_pbs)  # for `sync --reinstall`
    return synced_template.synced(tmp_path / "proj")


def _strip_components(project: Path) -> None:
    """Make the install's receipt one an older pylock wrote: no ``components`` key."""
    (target,) = lockfile.read(project / "python.lock").targets
    found = Store(Path(os.environ["PYLOCK_PYTHON_DIR"])).find(target)
    path = found.path / META_DIR / RECEIPT_NAME
    document = json.loads(path.read_text())
    del document["components"]
    path.write_text(json.dumps(document, indent=2) + "\n")


# -- show --components ---------------------------------------------------------------------------


def test_show_components_lists_each_library_of_the_install(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pylock(capsys, "-p", str(project), "show", "--components")
    assert code == 0, err
    reported = self_report(sys.executable)
    header, first, *rest = out.splitlines()
    assert header.startswith("PLATFORM ")
    assert REAL in first
    by_name = {line.split()[0]: line.split()[1] for line in rest}
    for name, version in reported.items():
        assert by_name[name] == version, name
    code, out, _ = pylock(capsys, "-p", str(project), "show", "--components", "--format", "json")
    assert code == 0
    (row,) = json.loads(out)["targets"]
    assert row["components"]["known"] is True and row["components"]["note"] is None
    found = {c["name"]: c["version"] for c in row["components"]["libraries"]}
    assert {name: found[name] for name in reported} == reported
    # without --components, show is what it was
    code, out, _ = pylock(capsys, "-p", str(project), "show", "--format", "json")
    assert "components" not in json.loads(out)["targets"][0]


def test_an_older_receipt_gets_a_note_and_the_command_that_records_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _strip_components(project)
    code, out, err = pylock(capsys, "-p", str(project), "show", "--components")
    assert code == 0, err
    assert "components unknown: installed by pylock" in out
    assert "`pylock sync --reinstall`" in out
    code, out, _ = pylock(capsys, "-p", str(project), "show", "--components", "--format", "json")
    (row,) = json.loads(out)["targets"]
    assert row["components"]["known"] is False and row["components"]["libraries"] == []
    assert "pylock sync --reinstall" in row["components"]["note"]
    code, out, err = pylock(capsys, "-p", str(project), "sbom")
    assert code == 0, err
    assert "components unknown" in err and "`pylock sync --reinstall`" in err
    document = validated(out)
    assert props(document["metadata"]["component"])["pylock:components"].startswith("unknown: ")
    assert libraries(document) == {}
    # the advised command works in this state, and records them
    assert pylock(capsys, "-p", str(project), "sync", "--reinstall")[0] == 0
    code, out, _ = pylock(capsys, "-p", str(project), "show", "--components")
    assert "components unknown" not in out
    assert self_report(sys.executable)["openssl"] in out


# -- sbom ----------------------------------------------------------------------------------------


def test_the_sbom_of_an_installed_interpreter(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "sbom.cdx.json"
    output.parent.mkdir()
    code, out, err = pylock(capsys, "-p", str(project), "sbom", "-o", str(output))
    assert code == 0, err
    assert err == "" and f"Wrote {output}" in out
    document = validated(output.read_text("utf-8"))
    (target,) = lockfile.read(project / "python.lock").targets

    subject = document["metadata"]["component"]
    assert (subject["name"], subject["version"], subject["type"]) == (
        "cpython",
        REAL,
        "application",
    )
    assert subject["hashes"] == [{"alg": "SHA-256", "content": target.sha256}]
    assert subject["externalReferences"] == [{"type": "distribution", "url": target.url}]
    assert subject["purl"].startswith(f"pkg:generic/cpython@{REAL}?")
    assert f"checksum=sha256:{target.sha256}" in subject["purl"]
    assert subject["cpe"] == f"cpe:2.3:a:python:python:{REAL}:*:*:*:*:*:*:*"
    assert subject["licenses"] == [{"license": {"id": "Python-2.0"}}]
    properties = props(subject)
    for key in ("build", "platform", "triple", "flavor", "variant"):
        assert properties[f"pylock:{key}"] == getattr(target, key)
    assert properties["pylock:installed"] == "true"
    assert properties["pylock:components"] == "recorded"

    found = libraries(document)
    cpe_names = {
        "openssl": "openssl:openssl",
        "sqlite": "sqlite:sqlite",
        "zlib": "zlib:zlib",
        "expat": "libexpat_project:libexpat",
    }
    for name, version in self_report(sys.executable).items():
        library = found[name]
        assert library["version"] == version
        assert library["purl"] == f"pkg:generic/{name}@{version}"
        assert library["cpe"] == f"cpe:2.3:a:{cpe_names[name]}:{version}:*:*:*:*:*:*:*"
    for library in found.values():  # nothing without a version gets a CPE (it would match all)
        assert ("version" in library) or "cpe" not in library
    (edges,) = [d for d in document["dependencies"] if d["ref"] == subject["bom-ref"]]
    assert sorted(edges["dependsOn"]) == sorted(c["bom-ref"] for c in found.values())


def test_the_sbom_goes_to_stdout_by_default(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pylock(capsys, "-p", str(project), "sbom")
    assert code == 0, err
    assert validated(out)["metadata"]["component"]["name"] == "cpython"
    code, dash, _ = pylock(capsys, "-p", str(project), "sbom", "-o", "-")
    assert code == 0 and validated(dash)["metadata"]["component"]["version"] == REAL


@needs_posix
def test_a_target_not_installed_here_is_listed_from_the_lock(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = "20260101"
    assets = [
        (
            asset_name(version=REAL, build=build, triple=HOST.triple, flavor="install_only"),
            build_pbs_archive(version=REAL, interpreter=delegating_interpreter()),
        ),
        (
            asset_name(version=REAL, build=build, triple=OTHER.triple, flavor="install_only"),
            build_pbs_archive(version=REAL),
        ),
    ]
    fake_pbs.add_release(build, assets)
    minor = ".".join(REAL.split(".")[:2])
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{minor}"\nplatforms = ["{HOST.key}", "{OTHER.key}"]\n', "utf-8"
    )
    assert pylock(capsys, "-p", str(tmp_path), "lock", "--source", fake_pbs.spec)[0] == 0

    # nothing synced yet: both listed from the lock, both unknown, each says what to run
    code, out, err = pylock(capsys, "-p", str(tmp_path), "sbom")
    assert code == 0, err
    document = validated(out)
    assert document["metadata"]["component"]["bom-ref"] == "project"
    interpreters = {props(c)["pylock:platform"]: c for c in document["components"]}
    assert set(interpreters) == {HOST.key, OTHER.key}
    host_note = props(interpreters[HOST.key])["pylock:components"]
    assert host_note.startswith("unknown: not installed here") and "`pylock sync`" in host_note
    assert f"synced on a {OTHER.key} machine" in props(interpreters[OTHER.key])["pylock:components"]
    assert err.count("components unknown") == 2

    assert pylock(capsys, "-p", str(tmp_path), "sync")[0] == 0
    code, out, err = pylock(capsys, "-p", str(tmp_path), "sbom")
    assert code == 0
    document = validated(out)
    interpreters = {
        props(c)["pylock:platform"]: c for c in document["components"] if c["type"] == "application"
    }
    assert props(interpreters[HOST.key])["pylock:installed"] == "true"
    assert props(interpreters[OTHER.key])["pylock:installed"] == "false"
    assert "unknown" in props(interpreters[OTHER.key])["pylock:components"]
    assert err.count("components unknown") == 1 and OTHER.key in err
    edges = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert sorted(edges["project"]) == sorted(c["bom-ref"] for c in interpreters.values())
    assert edges[interpreters[OTHER.key]["bom-ref"]] == []
    assert "openssl" in libraries(document)
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "show", "--components")
    assert f"the {OTHER.key} interpreter is not installed here" in out
    # installed here for the other platform (never run): still unknown, and it says why
    assert pylock(capsys, "-p", str(tmp_path), "sync", "--platform", OTHER.key)[0] == 0
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "show", "--components")
    assert f"the {OTHER.key} interpreter cannot run on this host" in out
    assert f"synced on a {OTHER.key} machine" in out


@pytest.mark.parametrize("value", ["spdx-json", "xml", "json"])
def test_an_unknown_format_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, out, err = pylock(capsys, "-p", str(project), "sbom", "--format", value)
    assert code == 2 and out == ""
    assert f"Unknown --format {value!r}" in err and "cyclonedx" in err


def test_output_into_a_missing_directory_is_a_usage_error_naming_it(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such"
    code, out, err = pylock(capsys, "-p", str(project), "sbom", "-o", str(missing / "s.json"))
    assert code == 2 and out == ""
    assert f"the directory {missing} does not exist" in err
    assert not missing.exists()
    code, _, err = pylock(capsys, "-p", str(project), "sbom", "-o", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_all_and_python_together_are_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = pylock(capsys, "-p", str(project), "sbom", "--all", "--python", "3.12")
    assert code == 2 and "--all and --python" in err


def test_only_the_sbom_command_imports_the_cyclonedx_library(project: Path) -> None:
    watch = ("cyclonedx", "packageurl")
    for args in (("show", "--components"), ("check",)):
        code, _, imported = run_in_new_interpreter("-p", str(project), *args, watch=watch)
        assert code == 0 and imported == [], args
    code, _, imported = run_in_new_interpreter("-p", str(project), "sbom", watch=watch)
    assert code == 0 and imported == ["cyclonedx", "packageurl"]


@needs_posix
def test_a_full_archive_licences_reach_show_and_the_sbom(
    fake_pbs: FakePBS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_components import PYTHON_JSON

    build, flavor = "20260101", "pgo+lto-full"
    data = build_pbs_archive(
        version=REAL, flavor=flavor, interpreter=delegating_interpreter(), python_json=PYTHON_JSON
    )
    name = asset_name(version=REAL, build=build, triple=HOST.triple, flavor=flavor)
    fake_pbs.add_release(build, [(name, data)])
    minor = ".".join(REAL.split(".")[:2])
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{minor}"\nplatforms = ["{HOST.key}"]\nflavor = "{flavor}"\n',
        "utf-8",
    )
    assert pylock(capsys, "-p", str(tmp_path), "lock", "--source", fake_pbs.spec)[0] == 0
    assert pylock(capsys, "-p", str(tmp_path), "sync")[0] == 0
    code, out, err = pylock(capsys, "-p", str(tmp_path), "sbom")
    assert code == 0, err
    document = validated(out)
    subject = document["metadata"]["component"]
    assert sorted(lic["license"]["id"] for lic in subject["licenses"]) == [
        "CNRI-Python",
        "Python-2.0",
    ]
    assert props(subject)["pylock:licenses-from"] == "PYTHON.json"
    found = libraries(document)
    assert found["openssl"]["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert found["sqlite"]["licenses"] == [{"license": {"name": "Public Domain"}}]
    assert "licenses" not in found["tcl"]  # _tkinter's list is Tcl's, Tk's and X11's at once
    code, out, _ = pylock(capsys, "-p", str(tmp_path), "show", "--components", "--format", "json")
    (row,) = json.loads(out)["targets"]
    assert row["components"]["licenses"] == ["Python-2.0", "CNRI-Python"]
    by_name = {c["name"]: c for c in row["components"]["libraries"]}
    assert by_name["openssl"]["licenses"] == ["Apache-2.0"]
    assert by_name["tcl"]["licenses"] == []


# -- a real CPython ------------------------------------------------------------------------------


@needs_posix
def test_the_sbom_of_a_real_cpython_matches_what_it_reports_about_itself(
    fake_pbs: FakePBS,
    real_archive: tuple[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """This CPython repackaged as a PBS archive (its own OpenSSL, SQLite, zlib and expat), synced
    for real: the SBOM's versions are the installed interpreter's own answers."""
    from real_interpreter import lock_real, publish_real

    publish_real(fake_pbs, real_archive)
    project = lock_real(tmp_path, fake_pbs, capsys)
    assert pylock(capsys, "-p", str(project), "sync")[0] == 0
    code, which, _ = pylock(capsys, "-p", str(project), "which")
    assert code == 0
    installed = Path(which.strip())
    code, out, err = pylock(capsys, "-p", str(project), "sbom")
    assert code == 0, err
    document = validated(out)
    found = libraries(document)
    reported = self_report(installed)
    for name in ("openssl", "sqlite", "zlib", "expat"):
        assert found[name]["version"] == reported[name], name
