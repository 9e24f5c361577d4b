"""``pylock check`` through its library API: each check's verdicts, messages, exit codes, JSON."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

import archives
from pylock.base.settings import Settings
from pylock.checking.checks import CHECK_NAMES, CheckOptions, run_checks
from pylock.checking.report import CheckReport
from pylock.install import installer as install
from pylock.install import receipt
from pylock.install.store import install_dir_name
from pylock.net.http import HttpPolicy
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile
from pylock.resolution.lockfile import Lock, LockedManifest, Target

GITHUB = "https://github.com/astral-sh/python-build-standalone/releases/download"
TRIPLES = {
    "linux-x86_64-gnu": "x86_64-unknown-linux-gnu",
    "macos-aarch64-none": "aarch64-apple-darwin",
    "windows-x86_64-none": "x86_64-pc-windows-msvc",
}
PLATFORMS = tuple(TRIPLES)
SCHEMA = json.loads(
    (Path(__file__).parents[1] / "docs" / "check-report.schema.json").read_text("utf-8")
)
FAST = HttpPolicy(retries=0, backoff=0.0, timeout=10.0)


def archive_bytes(platform: str) -> bytes:
    """Stand-in archive content, different per platform."""
    return f"not really a tarball for {platform}\n".encode() * 100


def make_target(
    platform: str,
    *,
    version: str = "3.12.8",
    build: str = "20241219",
    flavor: str = "install_only_stripped",
    base: str = GITHUB,
    content: bytes | None = None,
) -> Target:
    triple = TRIPLES[platform]
    data = archive_bytes(platform) if content is None else content
    asset = f"cpython-{version}%2B{build}-{triple}-{flavor}.tar.gz"
    return Target(
        platform=platform,
        triple=triple,
        implementation="cpython",
        version=version,
        build=build,
        flavor=flavor,
        variant="default",
        url=f"{base}/{build}/{asset}",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def make_lock(targets: list[Target], python: str = "3.12") -> Lock:
    platforms = tuple(sorted(t.platform for t in targets))
    return Lock(
        manifest=LockedManifest(python=python, platforms=platforms),
        targets=tuple(sorted(targets, key=lambda t: t.platform)),
    )


def pyproject_text(**table: object) -> str:
    lines = ["[project]", 'name = "demo"', 'version = "0"', "", "[tool.pylock]"]
    for key, value in table.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose manifest and fresh lock agree: 3.12.8 for the three sample platforms."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        pyproject_text(python="3.12", platforms=list(PLATFORMS)), "utf-8"
    )
    lock = make_lock([make_target(p) for p in PLATFORMS])
    (root / "python.lock").write_text(lockfile.dumps(lock), "utf-8")
    return root


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """An environment whose install dir is private to the test and holds nothing yet."""
    return {"PYLOCK_PYTHON_DIR": str(tmp_path / "pythons")}


def check(project_dir: Path, environ: Mapping[str, str], **options: Any) -> CheckReport:
    """``run_checks`` with ``options``; the ones that are settings (--mirror, --offline) go
    into the one Settings the library takes, with a policy that does not wait to retry."""
    flags = {k: options.pop(k) for k in ("mirror", "offline") if k in options}
    settings = Settings.resolve(environ=environ, http=FAST, **flags)
    report = run_checks(project_dir, CheckOptions(**options), settings=settings)
    validate_schema(report.to_json(), SCHEMA)
    return report


def set_manifest(project_dir: Path, **table: object) -> None:
    (project_dir / "pyproject.toml").write_text(pyproject_text(**table), "utf-8")


# --- a tiny validator for the JSON Schema subset docs/check-report.schema.json uses -------------

_TYPES: dict[str, Callable[[object], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_KNOWN_KEYWORDS = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "enum", "const",
    "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "minLength", "minimum", "pattern", "oneOf",
}  # fmt: skip


def schema_errors(
    value: object, schema: Mapping[str, Any], root: Mapping[str, Any], at: str = "$"
) -> list[str]:
    unknown = set(schema) - _KNOWN_KEYWORDS
    assert not unknown, f"the test validator does not implement {unknown} (used at {at})"
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/")
        return schema_errors(value, root["$defs"][ref[len("#/$defs/") :]], root, at)
    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{at}: {value!r} is not of type {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{at}: too short")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{at}: {value!r} < {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{at}: missing {key!r}")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors.extend(schema_errors(item, properties[key], root, f"{at}.{key}"))
            elif schema.get("additionalProperties") is False:
                errors.append(f"{at}: unexpected key {key!r}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1 << 30):
            errors.append(f"{at}: {len(value)} items")
        if "items" in schema:
            for index, item in enumerate(value):
                errors.extend(schema_errors(item, schema["items"], root, f"{at}[{index}]"))
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not schema_errors(value, s, root, at)]
        if len(matches) != 1:
            found = [schema_errors(value, s, root, at) for s in schema["oneOf"]]
            errors.append(f"{at}: matches {len(matches)} of oneOf, not 1: {found}")
    return errors


def validate_schema(document: object, schema: Mapping[str, Any]) -> None:
    json.dumps(document)  # must be plain JSON
    errors = schema_errors(document, schema, schema)
    assert not errors, "\n".join(errors)


def test_schema_validator_catches_what_the_schema_forbids(
    project: Path, environ: dict[str, str]
) -> None:
    report = run_checks(
        project, CheckOptions(), settings=Settings.resolve(environ=environ)
    ).to_json()
    validate_schema(report, SCHEMA)
    broken: dict[str, Any] = json.loads(json.dumps(report))
    broken["checks"][0]["status"] = "passed"
    broken["checks"][1]["data"]["drift"] = [{"input": "python"}]
    broken["checks"].pop()
    errors = schema_errors(broken, SCHEMA, SCHEMA)
    assert any("'passed' not in" in e for e in errors)
    assert any("missing 'recorded'" in e for e in errors)
    assert any("6 items" in e for e in errors)


# --- lock-valid and lock-current ----------------------------------------------------------------


def test_fresh_lock_passes_and_optional_checks_skip(project: Path, environ: dict[str, str]) -> None:
    report = check(project, environ)
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    statuses = {c.name: c.status for c in report.checks}
    assert statuses == {
        "lock-valid": "pass",
        "lock-current": "pass",
        "installed": "skip",  # nothing installed, and not required
        "tree": "skip",
        "remote": "skip",
        "provenance": "skip",  # not asked for: no network, no sigstore
        "venv": "skip",  # no .venv in the project
    }
    assert report.exit_code == 0 and report.ok
    assert "3 targets" in report.get("lock-valid").summary
    assert report.lines()[-1] == "pylock check: all checks passed."


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            {"python": "3.13"},
            "python: 3.12.8 (locked) -> 3.13",
        ),
        (
            {"python": "3.12.9"},
            "python: 3.12.8 (locked) -> 3.12.9",
        ),
        (
            {"python": "3.12t"},
            "python: 3.12.8 (locked) -> 3.12t",
        ),
        (
            {"platforms": [*PLATFORMS, "linux-aarch64-gnu"]},
            "missing linux-aarch64-gnu",
        ),
        (
            {"flavor": "install_only"},
            "flavor: install_only_stripped (locked) -> install_only",
        ),
        (
            {"build": "20250115"},
            "build: 20241219 (locked) -> 20250115",
        ),
    ],
    ids=["python-minor", "python-patch", "freethreaded", "new-platform", "flavor-pin", "build-pin"],
)
def test_manifest_edits_that_break_satisfiability_fail_lock_current(
    project: Path, environ: dict[str, str], table: dict[str, object], expected: str
) -> None:
    set_manifest(project, **{"python": "3.12", "platforms": list(PLATFORMS), **table})
    report = check(project, environ)
    current = report.get("lock-current")
    assert current.status == "fail", current
    assert report.get("lock-valid").status == "pass"
    assert report.exit_code == 1
    assert any(expected in detail for detail in current.details), current.details
    assert all(detail.endswith("(run `pylock lock`)") for detail in current.details)
    assert "run `pylock lock`" in current.summary
    drift = current.data["drift"]
    assert isinstance(drift, list) and len(drift) == 1
    assert drift[0]["input"] == next(iter(table))
    text = "\n".join(report.lines())
    assert expected in text and "lock-current" in text


@pytest.mark.parametrize(
    "table",
    [
        {"source": "mirror:https://pbs.internal.example/releases/download"},
        {"mirror": "https://pbs.internal.example/releases/download"},
        {"platforms": list(reversed(PLATFORMS))},
        {"platforms": PLATFORMS[:1]},  # extra targets in the lock are fine
        {"python": ">=3.12"},
        {"python": "3.12.8"},
        {"flavor": "install_only_stripped", "build": "20241219"},
    ],
    ids=["source", "mirror", "reordered", "fewer-platforms", "specifier", "exact", "pins-held"],
)
def test_manifest_edits_that_keep_satisfiability_pass(
    project: Path, environ: dict[str, str], table: dict[str, object]
) -> None:
    set_manifest(project, **{"python": "3.12", "platforms": list(PLATFORMS), **table})
    report = check(project, environ)
    assert report.get("lock-current").status == "pass", report.get("lock-current")
    assert report.exit_code == 0


def test_without_platforms_in_the_manifest_any_target_satisfies(
    project: Path, environ: dict[str, str]
) -> None:
    """Check builds the request from the manifest alone: no host platform is added."""
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nrequires-python = ">=3.11"\n', "utf-8"
    )
    lock = make_lock([make_target("windows-x86_64-none")], python=">=3.11")
    (project / "python.lock").write_text(lockfile.dumps(lock), "utf-8")
    report = check(project, environ, platform="linux-x86_64-gnu")
    assert report.get("lock-current").status == "pass", report.get("lock-current")
    installed = report.get("installed")
    assert installed.status == "skip"
    assert "pylock lock --platform linux-x86_64-gnu" in installed.summary


def test_requires_python_is_the_fallback_request(project: Path, environ: dict[str, str]) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nrequires-python = ">=3.13"\n'
        f"[tool.pylock]\nplatforms = {json.dumps(list(PLATFORMS))}\n",
        "utf-8",
    )
    current = check(project, environ).get("lock-current")
    assert current.status == "fail"
    assert "python: 3.12.8 (locked) -> >=3.13" in current.details[0]


def test_unreadable_manifest_is_an_input_error(project: Path, environ: dict[str, str]) -> None:
    (project / "pyproject.toml").write_text("[tool.pylock\npython = 3.12\n", "utf-8")
    report = check(project, environ)
    current = report.get("lock-current")
    assert current.status == "error" and current.exit_code == 2
    assert "pyproject.toml" in current.summary and "line 1" in current.summary
    assert report.exit_code == 2


def test_missing_manifest_is_an_input_error(project: Path, environ: dict[str, str]) -> None:
    (project / "pyproject.toml").unlink()
    report = check(project, environ)
    assert report.get("lock-current").status == "error"
    assert report.exit_code == 2


def _first(text: str, old: str, new: str) -> str:
    """Replace the first occurrence, which is in target[0] (linux-x86_64-gnu, sorted first)."""
    assert old in text, old
    return text.replace(old, new, 1)


T0 = make_target("linux-x86_64-gnu")
LOCK_EDITS: list[tuple[str, Callable[[str], str], str]] = [
    ("sha256-case", lambda t: _first(t, T0.sha256, T0.sha256.upper()), "sha256"),
    ("sha256-short", lambda t: _first(t, T0.sha256, T0.sha256[:63]), "sha256"),
    ("size-zero", lambda t: _first(t, f"size = {T0.size}", "size = 0"), "size"),
    ("size-string", lambda t: _first(t, f"size = {T0.size}", f'size = "{T0.size}"'), "size"),
    ("url-http", lambda t: _first(t, "https://github.com", "http://github.com"), "url"),
    ("url-ftp", lambda t: _first(t, "https://github.com", "ftp://github.com"), "url"),
    (
        "platform",
        lambda t: _first(t, 'platform = "linux-x86_64-gnu"', 'platform = "linux-x86_64-foo"'),
        "platform",
    ),
    (
        "triple",
        lambda t: _first(
            t, 'triple = "x86_64-unknown-linux-gnu"', 'triple = "aarch64-unknown-linux-gnu"'
        ),
        "triple",
    ),
    ("version", lambda t: _first(t, 'version = "3.12.8"', 'version = "3.12.9"'), "version"),
    ("build", lambda t: _first(t, 'build = "20241219"', 'build = "20250115"'), "build"),
    (
        "flavor",
        lambda t: _first(t, 'flavor = "install_only_stripped"', 'flavor = "install_only"'),
        "flavor",
    ),
    (
        "implementation",
        lambda t: _first(t, 'implementation = "cpython"', 'implementation = "pypy"'),
        "implementation",
    ),
    ("missing-sha256", lambda t: _first(t, f'sha256 = "{T0.sha256}"\n', ""), "sha256"),
]


@pytest.mark.parametrize(
    ("edit", "key"), [(e, k) for _, e, k in LOCK_EDITS], ids=[i for i, _, _ in LOCK_EDITS]
)
def test_hand_edited_lock_fields_fail_lock_valid_naming_target_and_key(
    project: Path, environ: dict[str, str], edit: Callable[[str], str], key: str
) -> None:
    path = project / "python.lock"
    path.write_text(edit(path.read_text("utf-8")), "utf-8")
    report = check(project, environ)
    valid = report.get("lock-valid")
    assert valid.status == "fail"
    assert valid.exit_code == 2 and report.exit_code == 2
    # Targets are named by index and by the platform their table says (as edited).
    label = "target[0] (linux-x86_64-foo)" if key == "platform" else "target[0] (linux-x86_64-gnu)"
    assert any(d.startswith(f"{label}.{key}: ") for d in valid.details), valid.details
    problems = valid.data["problems"]
    assert isinstance(problems, list) and problems
    assert all("target[0]" in p["where"] for p in problems), problems
    # Without a valid lock nothing else can be judged.
    for name in CHECK_NAMES[1:]:
        assert report.get(name).status == "skip"
        assert report.get(name).summary == "lock invalid"


def test_every_problem_is_reported(project: Path, environ: dict[str, str]) -> None:
    path = project / "python.lock"
    text = path.read_text("utf-8")
    text = _first(text, f"size = {T0.size}", "size = -1")
    mac = make_target("macos-aarch64-none")
    text = _first(text, mac.sha256, "0" * 10)
    path.write_text(text, "utf-8")
    details = check(project, environ).get("lock-valid").details
    assert any("target[0] (linux-x86_64-gnu).size" in d for d in details), details
    assert any("target[1] (macos-aarch64-none).sha256" in d for d in details), details


def test_duplicate_platform_fails_lock_valid(project: Path, environ: dict[str, str]) -> None:
    path = project / "python.lock"
    text = path.read_text("utf-8")
    block = text[text.index("[[target]]") :].split("\n\n")[0]
    path.write_text(text.rstrip("\n") + "\n\n" + block + "\n", "utf-8")
    valid = check(project, environ).get("lock-valid")
    assert valid.status == "fail"
    assert any("duplicate" in d and "linux-x86_64-gnu" in d for d in valid.details), valid.details


def test_newer_lock_version_says_to_upgrade_pylock(project: Path, environ: dict[str, str]) -> None:
    path = project / "python.lock"
    path.write_text(_first(path.read_text("utf-8"), "lock-version = 1", "lock-version = 7"))
    report = check(project, environ)
    valid = report.get("lock-valid")
    assert valid.status == "fail" and report.exit_code == 2
    assert "upgrade pylock" in valid.summary
    assert any("lock-version" in d for d in valid.details)


def test_missing_lock_is_unreadable(project: Path, environ: dict[str, str]) -> None:
    (project / "python.lock").unlink()
    report = check(project, environ, installed_required=True, deep=True)
    valid = report.get("lock-valid")
    assert valid.status == "error" and "pylock lock" in valid.summary
    assert report.exit_code == 2
    for name in CHECK_NAMES[1:]:
        assert report.get(name).status == "skip"
        assert report.get(name).summary == "lock unreadable"


def test_lock_that_is_not_toml_is_unreadable(project: Path, environ: dict[str, str]) -> None:
    (project / "python.lock").write_text('lock-version = 1\n[[target]\nurl = "x"\n', "utf-8")
    report = check(project, environ)
    valid = report.get("lock-valid")
    assert valid.status == "error"
    assert "line 2" in valid.summary and "python.lock" in valid.summary
    assert report.exit_code == 2
    assert report.get("lock-current").summary == "lock unreadable"


def test_check_imports_no_heavy_modules() -> None:
    """`pylock check` must start fast: no httpx, tomlkit or rich behind the offline checks."""
    code = (
        "import sys, pylock.checking.checks\n"
        "heavy = [m for m in ('httpx', 'tomlkit', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_text_report_has_one_line_per_check_and_details(
    project: Path, environ: dict[str, str]
) -> None:
    set_manifest(project, python="3.13", platforms=list(PLATFORMS), build="20250115")
    lines = check(project, environ).lines()
    heads = [line for line in lines if not line.startswith(" ")]
    assert [h.split()[:2] for h in heads[:5]] == [
        ["pass", "lock-valid"],
        ["fail", "lock-current"],
        ["skip", "installed"],
        ["skip", "tree"],
        ["skip", "remote"],
    ]
    indented = [line.strip() for line in lines if line.startswith(" ")]
    assert indented == [
        "python: 3.12.8 (locked) -> 3.13 (run `pylock lock`)",
        "build: 20241219 (locked) -> 20250115 (run `pylock lock`)",
    ]
    assert lines[-1] == "pylock check: lock-current did not pass (exit 1)."


# --- remote -------------------------------------------------------------------------------------


def serve_lock(project_dir: Path, server: HTTPServer, contents: Mapping[str, bytes]) -> Lock:
    """Lock every platform at the loopback server, serving ``contents`` for each archive."""
    base = server.url_for("/releases/download").rstrip("/")
    targets = [make_target(p, base=base) for p in PLATFORMS]
    for target in targets:
        path = target.url[len(server.url_for("/")) - 1 :]
        server.expect_request(path.replace("%2B", "+")).respond_with_data(
            contents[target.platform], content_type="application/gzip"
        )
    lock = make_lock(targets)
    (project_dir / "python.lock").write_text(lockfile.dumps(lock), "utf-8")
    return lock


def test_remote_passes_when_every_url_serves_the_locked_bytes(
    project: Path, environ: dict[str, str], httpserver: HTTPServer
) -> None:
    serve_lock(project, httpserver, {p: archive_bytes(p) for p in PLATFORMS})
    report = check(project, environ, remote=True)
    remote = report.get("remote")
    assert remote.status == "pass", remote
    assert report.exit_code == 0
    targets = remote.data["targets"]
    assert isinstance(targets, list)
    assert [t["platform"] for t in targets] == list(PLATFORMS)
    assert all(t["status"] == "pass" for t in targets)
    assert {t["sha256"] for t in targets} == {
        hashlib.sha256(archive_bytes(p)).hexdigest() for p in PLATFORMS
    }
    assert len(httpserver.log) == 3


def test_remote_fails_when_the_server_serves_different_bytes(
    project: Path, environ: dict[str, str], httpserver: HTTPServer
) -> None:
    contents = {p: archive_bytes(p) for p in PLATFORMS}
    good = contents["macos-aarch64-none"]
    contents["macos-aarch64-none"] = good[:-1] + b"?"  # same size, different bytes
    serve_lock(project, httpserver, contents)
    report = check(project, environ, remote=True)
    remote = report.get("remote")
    assert remote.status == "fail" and report.exit_code == 1
    by_platform = {t["platform"]: t for t in remote.data["targets"]}  # type: ignore[attr-defined]
    assert by_platform["macos-aarch64-none"]["status"] == "fail"
    assert (
        by_platform["macos-aarch64-none"]["sha256"]
        == hashlib.sha256(contents["macos-aarch64-none"]).hexdigest()
    )
    assert by_platform["linux-x86_64-gnu"]["status"] == "pass"
    assert any(d.startswith("fail") and "macos-aarch64-none" in d for d in remote.details)


def test_remote_fails_on_a_different_size_without_reading_it_all(
    project: Path, environ: dict[str, str], httpserver: HTTPServer
) -> None:
    contents = {p: archive_bytes(p) for p in PLATFORMS}
    contents["windows-x86_64-none"] += b"trailing"
    serve_lock(project, httpserver, contents)
    remote = check(project, environ, remote=True).get("remote")
    assert remote.status == "fail"
    (windows,) = [t for t in remote.data["targets"] if t["platform"] == "windows-x86_64-none"]  # type: ignore[attr-defined]
    assert windows["status"] == "fail"
    assert str(len(contents["windows-x86_64-none"])) in windows["message"]


def test_remote_404_is_a_network_error(
    project: Path, environ: dict[str, str], httpserver: HTTPServer
) -> None:
    lock = serve_lock(project, httpserver, {p: archive_bytes(p) for p in PLATFORMS})
    httpserver.clear()
    for target in lock.targets[1:]:
        path = target.url[len(httpserver.url_for("/")) - 1 :].replace("%2B", "+")
        httpserver.expect_request(path).respond_with_data(archive_bytes(target.platform))
    httpserver.no_handler_status_code = 404
    report = check(project, environ, remote=True)
    remote = report.get("remote")
    assert remote.status == "error" and remote.exit_code == 3
    assert report.exit_code == 3
    assert any("linux-x86_64-gnu" in d and "404" in d for d in remote.details), remote.details


def test_a_failed_check_outranks_a_network_error(
    project: Path, environ: dict[str, str], httpserver: HTTPServer
) -> None:
    serve_lock(project, httpserver, {p: b"x" for p in PLATFORMS})
    set_manifest(project, python="3.13", platforms=list(PLATFORMS))
    httpserver.clear()  # every URL now 500s
    report = check(project, environ, remote=True)
    assert report.get("remote").exit_code == 3
    assert report.get("lock-current").exit_code == 1
    assert report.exit_code == 1


def test_remote_uses_the_mirror_and_never_the_locked_host(
    project: Path, environ: dict[str, str], httpserver: HTTPServer
) -> None:
    """The lock points at github.com; with a mirror configured only the mirror is asked."""
    for platform in PLATFORMS:
        target = make_target(platform)
        httpserver.expect_request(f"/mirror/{target.build}/{target.asset_name}").respond_with_data(
            archive_bytes(platform)
        )
    mirror = httpserver.url_for("/mirror")
    set_manifest(project, python="3.12", platforms=list(PLATFORMS), mirror=mirror)
    remote = check(project, environ, remote=True).get("remote")
    assert remote.status == "pass", remote
    assert remote.data["mirror"] == mirror
    assert all(t["url"].startswith(mirror) for t in remote.data["targets"])  # type: ignore[attr-defined]
    assert len(httpserver.log) == 3


def test_mirror_option_beats_environment_beats_manifest(
    project: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    """A mirror directory works too (file URLs), so precedence is testable without a server."""
    dirs = {}
    for name in ("option", "env", "manifest"):
        root = tmp_path / name
        for platform in PLATFORMS:
            target = make_target(platform)
            (root / target.build).mkdir(parents=True, exist_ok=True)
            content = archive_bytes(platform) if name == "option" else b"wrong"
            (root / target.build / target.asset_name).write_bytes(content)
        dirs[name] = str(root)
    set_manifest(project, python="3.12", platforms=list(PLATFORMS), mirror=dirs["manifest"])
    env = {**environ, "PYLOCK_MIRROR": dirs["env"]}
    assert check(project, environ, remote=True).get("remote").data["mirror"] == dirs["manifest"]
    assert check(project, env, remote=True).get("remote").data["mirror"] == dirs["env"]
    chosen = check(project, env, remote=True, mirror=dirs["option"]).get("remote")
    assert chosen.data["mirror"] == dirs["option"]
    assert chosen.status == "pass"


def test_remote_with_offline_is_refused(project: Path, environ: dict[str, str]) -> None:
    report = check(project, environ, remote=True, offline=True)
    assert report.get("remote").status == "error"
    assert "offline" in report.get("remote").summary
    assert report.exit_code == 2


def test_remote_reads_file_urls(project: Path, environ: dict[str, str], tmp_path: Path) -> None:
    store = tmp_path / "store"
    targets = []
    for platform in PLATFORMS:
        target = make_target(platform, base=(store).as_uri())
        (store / target.build).mkdir(parents=True, exist_ok=True)
        (store / target.build / target.asset_name).write_bytes(archive_bytes(platform))
        targets.append(target)
    (project / "python.lock").write_text(lockfile.dumps(make_lock(targets)), "utf-8")
    report = check(project, environ, remote=True)
    assert report.get("lock-valid").status == "pass"
    assert report.get("remote").status == "pass", report.get("remote")
    missing = store / targets[0].build / targets[0].asset_name
    missing.unlink()
    remote = check(project, environ, remote=True).get("remote")
    assert remote.status == "error" and remote.exit_code == 3


# --- installed ----------------------------------------------------------------------------------


def fake_install(install_dir: Path, target: Target, interpreter: str = "bin/python3.12") -> None:
    """What a sync leaves for the installed check: the interpreter file and a receipt."""
    (install_dir / interpreter).parent.mkdir(parents=True, exist_ok=True)
    (install_dir / interpreter).write_bytes(b"#!interpreter\n")
    receipt.write_receipt(
        install_dir,
        receipt.Receipt(
            target=target,
            pylock_version="0.1.0",
            installed_at="2025-01-02T03:04:05Z",
            tree_digest="0" * 64,
            interpreter=interpreter,
        ),
    )


def default_dir(environ: Mapping[str, str], target: Target) -> Path:
    return Path(environ["PYLOCK_PYTHON_DIR"]) / install_dir_name(target)


def test_installed_passes_when_the_receipt_names_the_locked_archive(
    project: Path, environ: dict[str, str]
) -> None:
    target = make_target("linux-x86_64-gnu")
    fake_install(default_dir(environ, target), target)
    report = check(project, environ, platform="linux-x86_64-gnu", installed_required=True)
    installed = report.get("installed")
    assert installed.status == "pass", installed
    assert installed.data["install_dir"] == str(default_dir(environ, target))
    assert report.exit_code == 0


def test_platform_option_takes_a_triple_too(project: Path, environ: dict[str, str]) -> None:
    target = make_target("macos-aarch64-none")
    fake_install(default_dir(environ, target), target)
    report = check(project, environ, platform="aarch64-apple-darwin")
    assert report.get("installed").status == "pass"
    assert report.get("installed").data["platform"] == "macos-aarch64-none"


def test_a_receipt_from_another_build_fails_naming_each_field(
    project: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    into = tmp_path / "opt-python"
    older = make_target("linux-x86_64-gnu", version="3.12.7", build="20241016", content=b"old")
    fake_install(into, older)
    report = check(project, environ, platform="linux-x86_64-gnu", into=into)
    installed = report.get("installed")
    assert installed.status == "fail" and report.exit_code == 1
    locked = make_target("linux-x86_64-gnu")
    assert installed.details == (
        f"sha256: {older.sha256} (installed) != {locked.sha256} (locked)",
        "version: 3.12.7 (installed) != 3.12.8 (locked)",
        "build: 20241016 (installed) != 20241219 (locked)",
    )
    assert [m["field"] for m in installed.data["mismatches"]] == [  # type: ignore[attr-defined]
        "sha256",
        "version",
        "build",
    ]
    assert f"pylock sync --reinstall --into {into}" in installed.summary


def test_a_receipt_for_another_platform_fails(
    project: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    into = tmp_path / "opt-python"
    fake_install(into, make_target("macos-aarch64-none"))
    installed = check(project, environ, platform="linux-x86_64-gnu", into=into).get("installed")
    assert installed.status == "fail"
    fields = [m["field"] for m in installed.data["mismatches"]]  # type: ignore[attr-defined]
    assert fields == ["sha256", "platform"]


def test_a_receipt_with_another_url_for_the_same_bytes_passes(
    project: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    """A lock re-pointed at a mirror keeps its sha256: the install is still the locked one."""
    into = tmp_path / "opt-python"
    locked = make_target("linux-x86_64-gnu")
    moved = f"https://mirror.example/pbs/{locked.build}/{locked.asset_name.replace('+', '%2B')}"
    fake_install(into, dataclasses.replace(locked, url=moved))
    installed = check(project, environ, platform="linux-x86_64-gnu", into=into).get("installed")
    assert installed.status == "pass", installed


def test_not_installed_skips_unless_required(project: Path, environ: dict[str, str]) -> None:
    relaxed = check(project, environ, platform="linux-x86_64-gnu")
    assert relaxed.get("installed").status == "skip"
    assert "pylock sync" in relaxed.get("installed").summary
    assert relaxed.exit_code == 0
    strict = check(project, environ, platform="linux-x86_64-gnu", installed_required=True)
    assert strict.get("installed").status == "fail"
    assert "not installed" in strict.get("installed").summary
    assert strict.exit_code == 1


def test_not_installed_mentions_other_builds_for_the_platform(
    project: Path, environ: dict[str, str]
) -> None:
    older = make_target("linux-x86_64-gnu", version="3.12.7", build="20241016", content=b"old")
    fake_install(default_dir(environ, older), older)
    other_platform = make_target("windows-x86_64-none", content=b"win")
    fake_install(default_dir(environ, other_platform), other_platform)
    installed = check(project, environ, platform="linux-x86_64-gnu").get("installed")
    assert installed.status == "skip"
    assert installed.details == (
        f"another build is installed for linux-x86_64-gnu: {install_dir_name(older)}",
    )


def test_no_lock_target_for_the_platform(project: Path, environ: dict[str, str]) -> None:
    relaxed = check(project, environ, platform="linux-aarch64-gnu").get("installed")
    assert relaxed.status == "skip"
    assert "pylock lock --platform linux-aarch64-gnu" in relaxed.summary
    strict = check(project, environ, platform="linux-aarch64-gnu", installed_required=True)
    assert strict.get("installed").status == "fail" and strict.exit_code == 1


def test_host_platform_is_the_default(project: Path, environ: dict[str, str]) -> None:
    host = host_platform().key
    report = check(project, environ)
    assert report.get("installed").data["platform"] == host


def test_unknown_platform_option_is_an_input_error(project: Path, environ: dict[str, str]) -> None:
    report = check(project, environ, platform="linux-x86_64-glibc")
    installed = report.get("installed")
    assert installed.status == "error" and installed.exit_code == 2
    assert "linux-x86_64-gnu" in installed.summary  # the suggestion
    assert report.exit_code == 2


def test_installed_with_a_missing_interpreter_fails(project: Path, environ: dict[str, str]) -> None:
    target = make_target("linux-x86_64-gnu")
    install_dir = default_dir(environ, target)
    fake_install(install_dir, target)
    (install_dir / "bin" / "python3.12").unlink()
    installed = check(project, environ, platform="linux-x86_64-gnu").get("installed")
    assert installed.status == "fail"
    assert "bin/python3.12" in installed.summary and "is missing" in installed.summary


def test_pylock_offline_in_the_environment_refuses_remote(
    project: Path, environ: dict[str, str]
) -> None:
    report = check(project, {**environ, "PYLOCK_OFFLINE": "1"}, remote=True)
    assert report.get("remote").status == "error"
    assert "PYLOCK_OFFLINE" in report.get("remote").summary
    # The other checks never need the network, so offline mode does not affect them.
    assert check(project, {**environ, "PYLOCK_OFFLINE": "1"}).exit_code == 0


# --- tree (--deep) ------------------------------------------------------------------------------


@pytest.fixture
def installed_project(project: Path, environ: dict[str, str], tmp_path: Path) -> tuple[Path, Path]:
    """A project locking one synthetic archive for linux-x86_64-gnu, installed by
    install/installer.py."""
    archive = tmp_path / "archive.tar.gz"
    data = archives.build_pbs_archive(archive, version="3.12.8", flavor="install_only")
    target = archives.make_target(data, platform="linux-x86_64-gnu", flavor="install_only")
    (project / "python.lock").write_text(lockfile.dumps(make_lock([target])), "utf-8")
    set_manifest(project, python="3.12", platforms=["linux-x86_64-gnu"])
    install_dir = default_dir(environ, target)
    install.install(archive, target, install_dir, run_interpreter=False)
    return project, install_dir


def deep_check(project_dir: Path, environ: Mapping[str, str], **options: Any) -> CheckReport:
    return check(
        project_dir,
        environ,
        platform="linux-x86_64-gnu",
        installed_required=True,
        deep=True,
        **options,
    )


def test_an_untouched_install_passes_the_deep_check(
    installed_project: tuple[Path, Path], environ: dict[str, str]
) -> None:
    project_dir, install_dir = installed_project
    # The interpreter writes bytecode caches as it runs: they are not part of the tree.
    cache = install_dir / "lib" / "python3.12" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "new.cpython-312.pyc").write_bytes(b"bytecode")
    report = deep_check(project_dir, environ)
    assert report.get("installed").status == "pass", report.get("installed")
    tree = report.get("tree")
    assert tree.status == "pass", tree
    assert isinstance(tree.data["files"], int) and tree.data["files"] > 5
    assert report.exit_code == 0


def test_deep_check_lists_exactly_the_added_removed_and_modified_paths(
    installed_project: tuple[Path, Path], environ: dict[str, str]
) -> None:
    project_dir, install_dir = installed_project
    (install_dir / "lib/python3.12/os.py").write_text("import evil\n", "utf-8")
    (install_dir / "lib/python3.12/evil.py").write_text("print('hi')\n", "utf-8")
    (install_dir / "include/python3.12/Python.h").unlink()
    report = deep_check(project_dir, environ)
    tree = report.get("tree")
    assert tree.status == "fail" and report.exit_code == 1
    assert report.get("installed").status == "pass"  # the receipt itself still matches
    assert tree.data["added"] == ["lib/python3.12/evil.py"]
    assert tree.data["removed"] == ["include/python3.12/Python.h"]
    assert tree.data["modified"] == ["lib/python3.12/os.py"]
    assert tree.details == (
        "removed   include/python3.12/Python.h",
        "added     lib/python3.12/evil.py",
        "modified  lib/python3.12/os.py",
    )
    assert "1 added, 1 removed, 1 modified" in tree.summary
    assert "pylock sync --reinstall" in tree.summary


def test_deep_check_sees_mode_and_symlink_changes(
    installed_project: tuple[Path, Path], environ: dict[str, str]
) -> None:
    project_dir, install_dir = installed_project
    (install_dir / "lib/python3.12/os.py").chmod(0o777)
    link = install_dir / "bin/python3"
    link.unlink()
    link.symlink_to("idle3.12")
    tree = deep_check(project_dir, environ).get("tree")
    assert tree.status == "fail"
    assert tree.data["modified"] == ["bin/python3", "lib/python3.12/os.py"]
    assert tree.data["added"] == [] and tree.data["removed"] == []


def test_deep_check_lists_twenty_paths_and_counts_the_rest(
    installed_project: tuple[Path, Path], environ: dict[str, str]
) -> None:
    project_dir, install_dir = installed_project
    for index in range(25):
        (install_dir / f"share/added-{index:02d}.txt").write_text("x", "utf-8")
    tree = deep_check(project_dir, environ).get("tree")
    assert tree.status == "fail"
    assert len(tree.details) == 21
    assert tree.details[0] == "added     share/added-00.txt"
    assert tree.details[19] == "added     share/added-19.txt"
    assert tree.details[20] == "... and 5 more"
    assert len(tree.data["added"]) == 25  # type: ignore[arg-type]  # JSON keeps the full list


def test_deep_check_notices_a_rewritten_record(
    installed_project: tuple[Path, Path], environ: dict[str, str]
) -> None:
    """Changing a file and "fixing" RECORD to match does not fool the receipt's digest."""
    project_dir, install_dir = installed_project
    (install_dir / "lib/python3.12/os.py").write_text("import evil\n", "utf-8")
    record = install_dir / receipt.META_DIR / receipt.RECORD_NAME
    record.write_text(receipt.format_record(receipt.scan_tree(install_dir)), "utf-8")
    tree = deep_check(project_dir, environ).get("tree")
    assert tree.status == "fail"
    assert tree.details == (
        "RECORD was changed after installation (its digest is not the receipt's)",
    )


def test_deep_check_with_into(project: Path, environ: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "archive.tar.gz"
    data = archives.build_pbs_archive(archive, version="3.12.8", flavor="install_only")
    target = archives.make_target(data, platform="linux-x86_64-gnu", flavor="install_only")
    (project / "python.lock").write_text(lockfile.dumps(make_lock([target])), "utf-8")
    set_manifest(project, python="3.12", platforms=["linux-x86_64-gnu"])
    into = tmp_path / "opt" / "python"
    install.install(archive, target, into, run_interpreter=False)
    assert deep_check(project, environ, into=into).exit_code == 0
    (into / "lib/python3.12/os.py").unlink()
    tree = deep_check(project, environ, into=into).get("tree")
    assert tree.status == "fail" and tree.data["removed"] == ["lib/python3.12/os.py"]
    assert f"pylock sync --reinstall --into {into}" in tree.summary


def test_deep_check_skips_without_an_install(project: Path, environ: dict[str, str]) -> None:
    report = check(project, environ, platform="linux-x86_64-gnu", deep=True)
    assert report.get("tree").status == "skip"
    assert report.exit_code == 0


def test_without_deep_the_installed_tree_is_never_read(
    project: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-hashing a tree costs a quarter second on a real install: only --deep pays it."""
    target = make_target("linux-x86_64-gnu")
    fake_install(default_dir(environ, target), target)
    scanned: list[Path] = []
    real_scan = receipt.scan_tree
    monkeypatch.setattr(receipt, "scan_tree", lambda path: scanned.append(path) or real_scan(path))
    report = check(project, environ, platform="linux-x86_64-gnu", installed_required=True)
    assert report.get("tree").status == "skip" and scanned == []
    report = check(project, environ, platform="linux-x86_64-gnu", deep=True)
    assert report.get("tree").status != "skip" and scanned == [default_dir(environ, target)]
