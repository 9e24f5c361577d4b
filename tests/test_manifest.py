"""[tool.pylock]: version requests, loading and its errors, CLI overrides, and drift
(docs/lockfile.md §8)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from packaging.version import Version

from pylock.errors import InputError
from pylock.project.manifest import (
    FLAVORS,
    Manifest,
    Request,
    load,
    parse_python_request,
)
from pylock.project.platforms import Platform, parse_platform
from pylock.resolution.drift import Drift, drift, locked_manifest
from pylock.resolution.lockfile import Lock, LockedManifest, Target

LINUX = parse_platform("linux-x86_64-gnu")
MAC = parse_platform("macos-aarch64-none")
WINDOWS = parse_platform("windows-x86_64-none")

# --- version requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "specifier", "freethreaded", "prereleases"),
    [
        ("3.12", "3.12", "==3.12.*", False, False),
        ("3", "3", "==3.*", False, False),
        ("3.12.8", "3.12.8", "==3.12.8", False, False),
        (" 3.12 ", "3.12", "==3.12.*", False, False),
        (">=3.11,<3.13", ">=3.11,<3.13", "<3.13,>=3.11", False, False),
        (">= 3.11, < 3.13", ">=3.11,<3.13", "<3.13,>=3.11", False, False),
        ("~=3.12.1", "~=3.12.1", "~=3.12.1", False, False),
        ("==3.12.*", "==3.12.*", "==3.12.*", False, False),
        ("!=3.12.3", "!=3.12.3", "!=3.12.3", False, False),
        ("3.13t", "3.13t", "==3.13.*", True, False),
        ("3.14.2t", "3.14.2t", "==3.14.2", True, False),
        ("3.14.0rc2", "3.14.0rc2", "==3.14.0rc2", False, True),
        ("3.14.0rc2t", "3.14.0rc2t", "==3.14.0rc2", True, True),
        ("3.14.0RC2", "3.14.0rc2", "==3.14.0rc2", False, True),
        (">=3.15.0a1", ">=3.15.0a1", ">=3.15.0a1", False, True),
    ],
)
def test_request_forms(
    text: str, normalised: str, specifier: str, freethreaded: bool, prereleases: bool
) -> None:
    request = parse_python_request(text)
    assert request.text == normalised
    assert str(request.specifier) == specifier
    assert request.freethreaded is freethreaded
    assert request.prereleases is prereleases


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("3.12", ["3.12.0", "3.12.8", "3.12.14"], ["3.11.9", "3.13.0", "3.12.0rc1", "3.1.2"]),
        ("3", ["3.10.0", "3.14.2"], ["4.0.0", "3.15.0rc1"]),
        ("3.12.8", ["3.12.8"], ["3.12.9", "3.12.7"]),
        (">=3.11,<3.13", ["3.11.0", "3.12.8"], ["3.10.16", "3.13.0", "3.13.0rc1"]),
        ("~=3.12.1", ["3.12.1", "3.12.9"], ["3.12.0", "3.13.0"]),
        ("3.13t", ["3.13.1"], ["3.14.0"]),
        ("3.14.0rc2", ["3.14.0rc2"], ["3.14.0rc1", "3.14.0"]),
        (">=3.15.0a1", ["3.15.0a1", "3.15.0rc1", "3.15.0"], ["3.14.7"]),
    ],
)
def test_contains(text: str, inside: list[str], outside: list[str]) -> None:
    request = parse_python_request(text)
    assert [v for v in inside if request.contains(Version(v))] == inside
    assert [v for v in outside if request.contains(Version(v))] == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("latest", "not a PEP 440 version specifier"),
        ("python3.12", "not a PEP 440 version specifier"),
        ("3.12.*", "not a version like 3.12"),
        ("3.12.8.1", "not a version like 3.12"),
        ("3.14rc1", "not a version like 3.12"),
        (">=3.13t", "only accepted on a bare version"),
        (">=3.11,<3.13t", "only accepted on a bare version"),
        (">=3.11,", "not a PEP 440 version specifier"),
        ("=>3.11", "not a PEP 440 version specifier"),
    ],
)
def test_bad_requests_name_where_and_the_accepted_forms(text: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_python_request(text, where="pyproject.toml [tool.pylock].python")
    assert "pyproject.toml [tool.pylock].python" in caught.value.message
    assert why in caught.value.message
    assert caught.value.hint is not None and "3.13t" in caught.value.hint
    assert caught.value.exit_code == 2


# --- loading ----------------------------------------------------------------------------------


def _pyproject(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_reads_every_key(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path,
        """
[project]
name = "demo"
requires-python = ">=3.10"

[tool.pylock]
python = "3.12"
platforms = ["windows-x86_64-none", "x86_64-unknown-linux-gnu", "macos-aarch64-none"]
flavor = "install_only"
build = "20241219"
source = "catalog:./metadata.json"
mirror = "https://pbs.internal.example/releases/download"
""",
    )
    manifest = load(path)
    assert manifest == Manifest(
        path=path,
        python=parse_python_request("3.12"),
        platforms=(WINDOWS, LINUX, MAC),
        flavor="install_only",
        build="20241219",
        source="catalog:./metadata.json",
        mirror="https://pbs.internal.example/releases/download",
    )


def test_load_without_a_pylock_table_uses_requires_python(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[project]\nname = "demo"\nrequires-python = ">=3.11"\n')
    manifest = load(path)
    assert manifest.python == parse_python_request(">=3.11")
    assert (manifest.platforms, manifest.flavor, manifest.build) == (None, None, None)
    assert (manifest.source, manifest.mirror) == (None, None)


def test_pylock_python_wins_over_requires_python(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path, '[project]\nrequires-python = ">=3.10"\n[tool.pylock]\npython = "3.13t"\n'
    )
    assert load(path).python == parse_python_request("3.13t")


def test_no_python_anywhere_loads_but_cannot_make_a_request(tmp_path: Path) -> None:
    manifest = load(_pyproject(tmp_path, '[tool.pylock]\nplatforms = ["linux-x86_64-gnu"]\n'))
    assert manifest.python is None
    with pytest.raises(InputError) as caught:
        Request.from_manifest(manifest)
    assert caught.value.hint is not None
    assert "[tool.pylock].python or project.requires-python, or pass --python" in (
        caught.value.hint
    )
    request = Request.from_manifest(manifest, python="3.12")
    assert request.python.text == "3.12"


def test_a_missing_pyproject_says_to_run_pylock_init(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path / "pyproject.toml")
    assert str(tmp_path / "pyproject.toml") in caught.value.message
    assert caught.value.hint is not None and "`pylock init`" in caught.value.hint


def test_toml_syntax_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[project]\nname = "demo"\n\n[tool.pylock]\npython = 3.12"\n')
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.message.startswith(f"{path}, line 5: invalid TOML")


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("pyton", "python"), ("platform", "platforms"), ("flavour", "flavor"), ("mirrors", "mirror")],
)
def test_unknown_keys_suggest_the_closest(tmp_path: Path, key: str, suggestion: str) -> None:
    path = _pyproject(tmp_path, f'[tool.pylock]\npython = "3.12"\n{key} = "x"\n')
    with pytest.raises(InputError) as caught:
        load(path)
    assert f"unknown key {key!r}" in caught.value.message
    assert f"Did you mean {suggestion!r}?" in caught.value.message
    assert str(path) in caught.value.message


@pytest.mark.parametrize(
    ("line", "where", "said"),
    [
        ("python = 3.12", "[tool.pylock].python", 'python = "3.12"'),
        ("python = [3.12]", "[tool.pylock].python[0]", "must be a string, not a number"),
        ("python = []", "[tool.pylock].python", "lists no Python versions"),
        ("python = ['3.12', ' 3.12']", "[tool.pylock].python[1]", "repeats"),
        ('platforms = "linux-x86_64-gnu"', "[tool.pylock].platforms", "must be an array"),
        ("platforms = [1]", "[tool.pylock].platforms[0]", "must be a string"),
        ("platforms = []", "[tool.pylock].platforms", "lists no platforms"),
        ("flavor = 1", "[tool.pylock].flavor", "must be a string"),
        ("build = 20241219", "[tool.pylock].build", 'build = "20241219"'),
        ("build = true", "[tool.pylock].build", "must be a string, not a boolean"),
        ("source = 1", "[tool.pylock].source", "must be a string"),
        ("source = ''", "[tool.pylock].source", "is empty"),
        ("mirror = {url = 'x'}", "[tool.pylock].mirror", "must be a string, not a table"),
    ],
)
def test_wrong_types_name_the_file_and_key(
    tmp_path: Path, line: str, where: str, said: str
) -> None:
    python = "" if line.startswith("python") else 'python = "3.12"\n'
    path = _pyproject(tmp_path, f"[tool.pylock]\n{python}{line}\n")
    with pytest.raises(InputError) as caught:
        load(path)
    text = str(caught.value)
    assert f"{path} {where}" in text
    assert said in text


def test_pylock_that_is_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\[tool.pylock\] must be a table"):
        load(_pyproject(tmp_path, '[tool]\npylock = "3.12"\n'))


def test_an_unknown_platform_names_its_index_and_suggests(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path,
        '[tool.pylock]\npython = "3.12"\nplatforms = ["linux-x86_64-gnu", "macos-arm46"]\n',
    )
    with pytest.raises(InputError) as caught:
        load(path)
    assert f"{path} [tool.pylock].platforms[1]" in caught.value.message
    assert "'macos-arm46'" in caught.value.message


def test_a_platform_and_its_triple_are_one_platform(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path,
        '[tool.pylock]\npython = "3.12"\n'
        'platforms = ["linux-x86_64-gnu", "x86_64-unknown-linux-gnu", "macos-aarch64-none"]\n',
    )
    assert load(path).platforms == (LINUX, MAC)


def test_a_bad_python_request_names_the_key(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[tool.pylock]\npython = ">=3.13t"\n')
    with pytest.raises(InputError) as caught:
        load(path)
    assert f"{path} [tool.pylock].python" in caught.value.message


def test_a_bad_requires_python_names_it(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[project]\nrequires-python = "3.x"\n')
    with pytest.raises(InputError) as caught:
        load(path)
    assert f"{path} project.requires-python" in caught.value.message


@pytest.mark.parametrize("flavor", FLAVORS)
def test_every_documented_flavor_loads(tmp_path: Path, flavor: str) -> None:
    path = _pyproject(tmp_path, f'[tool.pylock]\npython = "3.12"\nflavor = "{flavor}"\n')
    assert load(path).flavor == flavor


def test_flavor_list_is_the_documented_one() -> None:
    configs = ["debug", "noopt", "lto", "pgo", "pgo+lto"]
    assert set(FLAVORS) == {
        "install_only",
        "install_only_stripped",
        *(f"{c}-full" for c in configs),
        *(f"{c}+static-full" for c in configs),
    }


@pytest.mark.parametrize(
    ("flavor", "suggestion"),
    [
        ("stripped", None),
        ("install-only", "install_only"),
        ("pgo+lto", "pgo+lto-full"),
        ("freethreaded+pgo+lto-full", "pgo+lto-full"),
        ("full", None),
    ],
)
def test_bad_flavors(tmp_path: Path, flavor: str, suggestion: str | None) -> None:
    path = _pyproject(tmp_path, f'[tool.pylock]\npython = "3.12"\nflavor = "{flavor}"\n')
    with pytest.raises(InputError) as caught:
        load(path)
    assert f"{path} [tool.pylock].flavor" in caught.value.message
    if suggestion is not None:
        assert f"Did you mean {suggestion!r}?" in caught.value.message
    assert caught.value.hint is not None and "install_only_stripped" in caught.value.hint


@pytest.mark.parametrize("build", ["2024-12-19", "2024121", "latest", "202412190"])
def test_bad_builds(tmp_path: Path, build: str) -> None:
    path = _pyproject(tmp_path, f'[tool.pylock]\npython = "3.12"\nbuild = "{build}"\n')
    with pytest.raises(InputError, match="8 digits"):
        load(path)


# --- requests ---------------------------------------------------------------------------------


def _request(
    python: str = "3.12",
    platforms: tuple[Platform, ...] = (LINUX,),
    flavor: str | None = None,
    build: str | None = None,
) -> Request:
    return Request(parse_python_request(python), tuple(sorted(platforms)), flavor, build)


@pytest.mark.parametrize(
    ("python", "flavor", "variant"),
    [
        ("3.12", None, "default"),
        ("3.12", "install_only", "default"),
        ("3.12", "pgo+lto-full", "default"),
        ("3.13t", None, "freethreaded"),
        ("3.13t", "pgo+lto-full", "freethreaded"),
        ("3.12", "debug-full", "debug"),
        ("3.12", "debug+static-full", "debug"),
        ("3.13t", "debug-full", "freethreaded+debug"),
    ],
)
def test_variant(python: str, flavor: str | None, variant: str) -> None:
    assert _request(python, flavor=flavor).variant == variant


def test_locked_manifest_normalises_the_inputs() -> None:
    request = _request(">= 3.11, <3.13", (LINUX,), "install_only", "20241219")
    assert locked_manifest(request, (WINDOWS, LINUX, MAC)) == LockedManifest(
        python=">=3.11,<3.13",
        platforms=("linux-x86_64-gnu", "macos-aarch64-none", "windows-x86_64-none"),
        flavor="install_only",
        build="20241219",
    )
    assert locked_manifest(request, None).platforms == ()


def _manifest(
    tmp_path: Path, platforms: tuple[Platform, ...] | None = None, **values: str | None
) -> Manifest:
    return Manifest(
        path=tmp_path / "pyproject.toml",
        python=parse_python_request(values.get("python") or "3.12"),
        platforms=platforms,
        flavor=values.get("flavor"),
        build=values.get("build"),
        source=values.get("source"),
        mirror=values.get("mirror"),
    )


def test_from_manifest_without_overrides(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, (WINDOWS, LINUX), flavor="install_only", build="20241219")
    assert Request.from_manifest(manifest, default_platforms=(MAC,)) == _request(
        "3.12", (LINUX, WINDOWS), "install_only", "20241219"
    )


def test_from_manifest_cli_overrides_replace_python_flavor_build(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, (LINUX,), flavor="install_only", build="20241219")
    request = Request.from_manifest(
        manifest, python="3.13t", flavor="pgo+lto-full", build="20250115"
    )
    assert request == _request("3.13t", (LINUX,), "pgo+lto-full", "20250115")


def test_from_manifest_cli_platforms_extend_and_are_deduplicated(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, (WINDOWS, LINUX))
    request = Request.from_manifest(
        manifest, platforms=["x86_64-unknown-linux-gnu", MAC, "macos-aarch64-none"]
    )
    assert request.platforms == (LINUX, MAC, WINDOWS)


def test_from_manifest_defaults_only_when_the_manifest_lists_none(tmp_path: Path) -> None:
    unlisted = _manifest(tmp_path, None)
    assert Request.from_manifest(unlisted, default_platforms=(MAC,)).platforms == (MAC,)
    assert Request.from_manifest(unlisted, platforms=["linux-x86_64-gnu"]).platforms == (LINUX,)
    both = Request.from_manifest(unlisted, platforms=["linux-x86_64-gnu"], default_platforms=(MAC,))
    assert both.platforms == (LINUX, MAC)
    assert Request.from_manifest(unlisted).platforms == ()


@pytest.mark.parametrize(
    ("option", "value"),
    [("python", ">=3.13t"), ("flavor", "fast"), ("build", "2024"), ("platforms", ["vax"])],
)
def test_from_manifest_bad_cli_values_name_the_option(
    tmp_path: Path, option: str, value: object
) -> None:
    manifest = _manifest(tmp_path, (LINUX,))
    with pytest.raises(InputError) as caught:
        Request.from_manifest(manifest, **{option: value})  # type: ignore[arg-type]
    flag = "--platform" if option == "platforms" else f"--{option}"
    assert flag in caught.value.message


# --- drift ------------------------------------------------------------------------------------

GITHUB = "https://github.com/astral-sh/python-build-standalone/releases/download"


def _target(
    platform: Platform,
    version: str = "3.12.8",
    build: str = "20241219",
    flavor: str = "install_only_stripped",
    variant: str = "default",
) -> Target:
    tail = f"{'freethreaded-' if 'freethreaded' in variant else ''}{flavor}.tar.gz"
    if flavor.endswith("-full"):
        tail = f"{'freethreaded+' if 'freethreaded' in variant else ''}{flavor}.tar.zst"
    url = f"{GITHUB}/{build}/cpython-{version}%2B{build}-{platform.triple}-{tail}"
    return Target(
        platform=platform.key,
        triple=platform.triple,
        implementation="cpython",
        version=version,
        build=build,
        flavor=flavor,
        variant=variant,
        url=url,
        size=1000,
        sha256=hashlib.sha256(url.encode()).hexdigest(),
    )


def _lock(*targets: Target, python: str = "3.12") -> Lock:
    return Lock(
        manifest=LockedManifest(python=python),
        targets=tuple(sorted(targets, key=lambda t: t.platform)),
    )


def test_a_lock_made_for_the_request_is_current() -> None:
    lock = _lock(_target(LINUX), _target(MAC))
    assert drift(lock, _request("3.12", (LINUX, MAC))) == []


def _load_request(tmp_path: Path, table: str) -> Request:
    return Request.from_manifest(load(_pyproject(tmp_path, "[tool.pylock]\n" + table)))


def test_reordered_platforms_stay_current(tmp_path: Path) -> None:
    lock = _lock(_target(LINUX), _target(MAC), _target(WINDOWS))
    request = _load_request(
        tmp_path,
        'python = "3.12"\n'
        'platforms = ["windows-x86_64-none", "macos-aarch64-none", "x86_64-unknown-linux-gnu"]\n',
    )
    assert drift(lock, request) == []


def test_a_changed_source_or_mirror_stays_current(tmp_path: Path) -> None:
    lock = _lock(_target(LINUX))
    before = _load_request(tmp_path, 'python = "3.12"\nplatforms = ["linux-x86_64-gnu"]\n')
    after = _load_request(
        tmp_path,
        'python = "3.12"\nplatforms = ["linux-x86_64-gnu"]\n'
        'source = "mirror:https://pbs.internal.example/pbs"\n'
        'mirror = "https://pbs.internal.example/pbs"\n',
    )
    assert drift(lock, before) == drift(lock, after) == []


@pytest.mark.parametrize("python", ["3.12", ">=3.12", "3.12.8", ">=3.11,<3.13", "3", "~=3.12.0"])
def test_a_wider_or_equal_python_request_stays_current(python: str) -> None:
    lock = _lock(_target(LINUX))  # resolved for "3.12"
    assert drift(lock, _request(python)) == []


def test_extra_targets_are_fine() -> None:
    lock = _lock(_target(LINUX), _target(MAC), _target(WINDOWS))
    assert drift(lock, _request("3.12", (MAC,))) == []


def test_an_unpinned_flavor_or_build_accepts_any_non_debug_target() -> None:
    lock = _lock(_target(LINUX, flavor="pgo+lto-full", build="20240107"))
    assert drift(lock, _request("3.12")) == []


def test_a_request_listing_no_platforms_needs_some_target() -> None:
    assert drift(_lock(_target(MAC)), _request("3.12", ())) == []
    assert drift(_lock(), _request("3.12", ())) == [
        Drift("platforms", "no targets (locked)", "at least one platform", "pylock lock")
    ]


def test_a_missing_platform_drifts() -> None:
    lock = _lock(_target(LINUX))
    assert drift(lock, _request("3.12", (LINUX, WINDOWS))) == [
        Drift(
            input="platforms",
            recorded="linux-x86_64-gnu (locked)",
            current="linux-x86_64-gnu, windows-x86_64-none; missing windows-x86_64-none",
            fix="pylock lock",
        )
    ]


def test_a_python_request_the_lock_misses_drifts() -> None:
    lock = _lock(_target(LINUX), _target(MAC))
    found = drift(lock, _request(">=3.13", (LINUX, MAC)))
    assert found == [Drift("python", "3.12.8 (locked)", ">=3.13", "pylock lock")]
    assert str(found[0]) == "python: 3.12.8 (locked) -> >=3.13 (run `pylock lock`)"


def test_a_pre_release_lock_does_not_satisfy_a_final_request() -> None:
    lock = _lock(_target(LINUX, version="3.14.0rc2"))
    assert [d.input for d in drift(lock, _request("3.14"))] == ["python"]
    assert drift(lock, _request("3.14.0rc2")) == []


def test_asking_for_free_threading_drifts_a_default_lock() -> None:
    lock = _lock(_target(LINUX, version="3.13.1"))
    assert drift(lock, _request("3.13t")) == [
        Drift("python", "3.13.1 (locked)", "3.13t", "pylock lock")
    ]


def test_dropping_free_threading_drifts_a_free_threaded_lock() -> None:
    lock = _lock(_target(LINUX, version="3.13.1", variant="freethreaded"))
    assert drift(lock, _request("3.13t")) == []
    assert drift(lock, _request("3.13")) == [
        Drift("python", "3.13.1t (locked)", "3.13", "pylock lock")
    ]


def test_a_pinned_flavor_must_equal_every_target() -> None:
    lock = _lock(_target(LINUX), _target(MAC, flavor="install_only"))
    assert drift(lock, _request("3.12", (LINUX, MAC), flavor="install_only")) == [
        Drift("flavor", "install_only_stripped (locked)", "install_only", "pylock lock")
    ]
    assert drift(lock, _request("3.12", (MAC,), flavor="install_only")) == [
        Drift("flavor", "install_only_stripped (locked)", "install_only", "pylock lock")
    ]


def test_a_debug_lock_drifts_once_the_debug_flavor_is_unpinned() -> None:
    lock = _lock(_target(LINUX, flavor="debug-full", variant="debug"))
    assert drift(lock, _request("3.12", flavor="debug-full")) == []
    assert drift(lock, _request("3.12")) == [
        Drift("flavor", "debug-full (locked)", "unpinned (a non-debug build)", "pylock lock")
    ]


def test_a_pinned_build_must_equal_every_target() -> None:
    lock = _lock(_target(LINUX), _target(MAC))
    assert drift(lock, _request("3.12", (LINUX, MAC), build="20241219")) == []
    assert drift(lock, _request("3.12", (LINUX, MAC), build="20250115")) == [
        Drift("build", "20241219 (locked)", "20250115", "pylock lock")
    ]


def test_every_failing_input_is_reported_once() -> None:
    lock = _lock(_target(LINUX), _target(MAC))
    request = _request(">=3.13", (LINUX, MAC, WINDOWS), flavor="pgo+lto-full", build="20250115")
    assert [d.input for d in drift(lock, request)] == ["platforms", "python", "flavor", "build"]


def test_a_wrongly_typed_key_names_the_toml_type(tmp_path: Path) -> None:
    """Messages say "not a string", as the lock's do, not Python's "not str"."""
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.pylock]\npython = "3.12"\nplatforms = "linux-x86_64-gnu"\n', "utf-8")
    with pytest.raises(InputError, match=r"must be an array of platform strings, not a string\."):
        load(path)
    path.write_text("[tool.pylock]\npython = 1979-05-27\n", "utf-8")
    with pytest.raises(InputError, match=r"must be a string, not a date\."):
        load(path)


def test_a_pyproject_that_is_not_utf8_is_not_called_a_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b'[tool.pylock]\npython = "3.12\xff"\n')
    with pytest.raises(InputError, match="not UTF-8") as raised:
        load(path)
    assert "syntax" not in str(raised.value)
    assert raised.value.exit_code == 2
