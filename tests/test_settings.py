"""One settings object per command: flag > environment > manifest, read in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylock.base.settings import Settings
from pylock.net.http import HttpPolicy
from pylock.project.manifest import load


def _manifest(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "project" / "pyproject.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'[tool.pylock]\npython = "3.12"\n{table}', "utf-8")
    return path


@pytest.mark.parametrize(
    ("flag", "value", "offline"),
    [
        (False, None, False),
        (False, "1", True),
        (False, " Yes ", True),
        (False, "on", True),
        (False, "0", False),
        (False, "", False),
        (True, None, True),
        (True, "0", True),  # a flag is never undone by the environment
    ],
)
def test_offline_is_the_flag_or_the_environment(
    flag: bool, value: str | None, offline: bool
) -> None:
    environ = {} if value is None else {"PYLOCK_OFFLINE": value}
    settings = Settings.resolve(offline=flag, environ=environ)
    assert settings.offline is offline
    assert settings.http_policy().offline is offline


def test_an_injected_policy_is_kept_and_made_offline_when_asked() -> None:
    fast = HttpPolicy(retries=1, backoff=0.0, timeout=2.0)
    assert Settings.resolve(environ={}, http=fast).http_policy() == fast
    offline = Settings.resolve(environ={"PYLOCK_OFFLINE": "1"}, http=fast).http_policy()
    assert offline.offline and offline.backoff == 0.0 and offline.retries == 1
    assert Settings.resolve(environ={}).http_policy() == HttpPolicy()


def test_mirror_is_flag_then_environment_then_manifest(tmp_path: Path) -> None:
    manifest = load(_manifest(tmp_path, 'mirror = "mirror-dir"\n'))
    env = {"PYLOCK_MIRROR": "https://env.example/pbs"}
    assert Settings.resolve(mirror="/flag", environ=env).mirror_for(manifest) == "/flag"
    assert Settings.resolve(environ=env).mirror_for(manifest) == "https://env.example/pbs"
    relative = Settings.resolve(environ={}).mirror_for(manifest)
    assert relative == str(tmp_path / "project" / "mirror-dir")  # the project's, not the cwd's
    url = load(_manifest(tmp_path, 'mirror = "https://m.example/x"\n'))
    assert Settings.resolve(environ={}).mirror_for(url) == "https://m.example/x"
    assert Settings.resolve(environ={}).mirror_for(None) is None


def test_source_is_flag_then_manifest_then_environment_then_github(tmp_path: Path) -> None:
    path = _manifest(tmp_path, "")
    env = {"PYLOCK_SOURCE": " catalog:/env.json "}
    assert Settings.resolve(source="mirror:/x", environ=env).source_for("github", path) == (
        "mirror:/x",
        "--source",
    )
    assert Settings.resolve(environ=env).source_for("catalog:/m.json", path) == (
        "catalog:/m.json",
        f"{path} [tool.pylock].source",
    )
    assert Settings.resolve(environ=env).source_for(None, path) == (
        "catalog:/env.json",
        "PYLOCK_SOURCE",
    )
    assert Settings.resolve(environ={}).source_for(None, path) == (
        "github",
        "the default source",
    )


def test_directories_and_the_store(tmp_path: Path) -> None:
    env = {"PYLOCK_CACHE_DIR": str(tmp_path / "c"), "PYLOCK_PYTHON_DIR": str(tmp_path / "p")}
    settings = Settings.resolve(environ=env)
    assert settings.cache_dir == tmp_path / "c"
    assert settings.python_dir == tmp_path / "p"
    assert settings.store().root == tmp_path / "p"
    assert settings.environ is env  # tokens are read from it by sources/, by their own rules


@pytest.mark.parametrize(
    ("flag", "no_color", "color"),
    [
        ("auto", None, "auto"),
        ("auto", "", "auto"),  # NO_COLOR counts only when non-empty
        ("auto", "1", "never"),
        ("always", "1", "always"),  # only an explicit --color always overrides NO_COLOR
        ("never", None, "never"),
    ],
)
def test_color_is_the_flag_with_no_color_applied(
    flag: str, no_color: str | None, color: str
) -> None:
    environ = {} if no_color is None else {"NO_COLOR": no_color}
    assert Settings.resolve(color=flag, environ=environ).color == color


def test_progress_is_on_unless_turned_off() -> None:
    assert Settings.resolve(environ={}).progress is True
    assert Settings.resolve(progress=False, environ={}).progress is False
