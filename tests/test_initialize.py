"""`pylock init`: the [tool.pylock] table is added and every other byte is left alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.version import Version

from pylock.commands.init import default_python_request, init_pyproject
from pylock.errors import InputError
from pylock.project.manifest import load, parse_python_request
from pylock.project.platforms import parse_platform

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ORIGINAL = """\
# A hand-written project file: comments, odd spacing and key order must survive.
[project]
name    =   "demo"   # aligned by hand
version = "1.0"
requires-python = ">=3.10"
dependencies = [
    "httpx",  # trailing comma, comment
]

[tool.black]
line-length=88

[tool.ruff]  # after black on purpose
select = [ "E",'F' ]
"""


def test_a_new_file_holds_just_the_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    assert init_pyproject(path, python="3.12", platforms=["linux-x86_64-gnu"]) is True
    assert path.read_text(encoding="utf-8") == (
        '[tool.pylock]\npython = "3.12"\nplatforms = ["linux-x86_64-gnu"]\n'
    )
    manifest = load(path)
    assert manifest.python == parse_python_request("3.12")
    assert manifest.platforms == (parse_platform("linux-x86_64-gnu"),)


def test_an_existing_file_keeps_every_byte_and_gains_the_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(ORIGINAL, encoding="utf-8")
    assert (
        init_pyproject(path, python="3.13t", platforms=["linux-x86_64-gnu", "macos-aarch64-none"])
        is False
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith(ORIGINAL)
    assert text[len(ORIGINAL) :] == (
        '\n[tool.pylock]\npython = "3.13t"\n'
        'platforms = ["linux-x86_64-gnu", "macos-aarch64-none"]\n'
    )
    data = tomllib.loads(text)
    assert data["tool"]["black"] == {"line-length": 88}
    assert data["tool"]["pylock"] == {
        "python": "3.13t",
        "platforms": ["linux-x86_64-gnu", "macos-aarch64-none"],
    }


def test_a_file_without_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "demo"', encoding="utf-8")
    init_pyproject(path, python="3.12", platforms=[])
    assert path.read_text(encoding="utf-8") == (
        '[project]\nname = "demo"\n\n[tool.pylock]\npython = "3.12"\n'
    )


def test_windows_line_endings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    original = b'[project]\r\nname = "demo"\r\n'
    path.write_bytes(original)
    init_pyproject(path, python="3.12", platforms=["windows-x86_64-none"])
    data = path.read_bytes()
    assert data.startswith(original)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert load(path).platforms == (parse_platform("windows-x86_64-none"),)


def test_tool_as_an_inline_table_is_extended_in_place(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('# keep me\ntool = {black = {line-length = 88}}\n\n[project]\nname = "x"\n')
    init_pyproject(path, python="3.12", platforms=["linux-x86_64-gnu"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# keep me\n")
    assert text.endswith('\n\n[project]\nname = "x"\n')
    data = tomllib.loads(text)
    assert data["tool"]["black"] == {"line-length": 88}
    assert data["tool"]["pylock"] == {"python": "3.12", "platforms": ["linux-x86_64-gnu"]}
    assert data["project"] == {"name": "x"}


def test_values_are_validated_and_normalised(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    init_pyproject(
        path,
        python=" >= 3.11 , <3.13 ",
        platforms=["x86_64-unknown-linux-gnu", "linux-x86_64-gnu", "aarch64-apple-darwin"],
    )
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["tool"]["pylock"] == {
        "python": ">=3.11,<3.13",
        "platforms": ["linux-x86_64-gnu", "macos-aarch64-none"],
    }


@pytest.mark.parametrize(
    ("python", "platforms", "said"),
    [
        ("3.12.*", ["linux-x86_64-gnu"], "--python"),
        ("3.12", ["linux-x86_64-gnu", "linux-amd46"], "'linux-amd46'"),
    ],
)
def test_bad_values_change_nothing(
    tmp_path: Path, python: str, platforms: list[str], said: str
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(ORIGINAL, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        init_pyproject(path, python=python, platforms=platforms)
    assert said in caught.value.message
    assert path.read_text(encoding="utf-8") == ORIGINAL
    assert not (tmp_path / "missing.toml").exists()
    with pytest.raises(InputError):
        init_pyproject(tmp_path / "missing.toml", python=python, platforms=platforms)
    assert not (tmp_path / "missing.toml").exists()


@pytest.mark.parametrize(
    "existing",
    [
        '[tool.pylock]\npython = "3.11"\n',
        '[project]\nname = "x"\n[tool.pylock]\n',
        'tool.pylock.python = "3.11"\n',
        '[tool]\npylock = {python = "3.11"}\n',
    ],
)
def test_an_existing_pylock_table_is_refused(tmp_path: Path, existing: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(existing, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        init_pyproject(path, python="3.12", platforms=["linux-x86_64-gnu"])
    assert caught.value.exit_code == 2
    assert "already has a [tool.pylock] table" in caught.value.message
    assert str(path) in caught.value.message
    assert path.read_text(encoding="utf-8") == existing


def test_invalid_toml_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        init_pyproject(path, python="3.12", platforms=[])
    assert caught.value.message.startswith(f"{path}, line 2: invalid TOML")
    assert path.read_text(encoding="utf-8") == '[project]\nname = "x\n'


def test_no_temp_file_is_left_behind(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(ORIGINAL, encoding="utf-8")
    init_pyproject(path, python="3.12", platforms=["linux-x86_64-gnu"])
    assert [child.name for child in tmp_path.iterdir()] == ["pyproject.toml"]


def test_default_python_request_is_this_interpreters_minor_version() -> None:
    request = default_python_request()
    assert request == f"{sys.version_info[0]}.{sys.version_info[1]}"
    running = Version(".".join(str(part) for part in sys.version_info[:3]))
    assert parse_python_request(request).contains(running)
