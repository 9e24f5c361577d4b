"""One settings object per command: flag > environment > manifest, read in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylock.base.settings import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, Settings, http_policy
from pylock.errors import InputError
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
    assert settings.http.offline is offline


def test_an_injected_policy_is_kept_and_made_offline_when_asked() -> None:
    fast = HttpPolicy(retries=1, backoff=0.0, timeout=2.0)
    assert Settings.resolve(environ={}, http=fast).http == fast
    offline = Settings.resolve(environ={"PYLOCK_OFFLINE": "1"}, http=fast).http
    assert offline.offline and offline.backoff == 0.0 and offline.retries == 1
    assert Settings.resolve(environ={}).http == HttpPolicy()  # the defaults, no CA override


def test_mirror_is_flag_then_environment_then_manifest(tmp_path: Path) -> None:
    manifest = load(_manifest(tmp_path, 'mirror = "mirror-dir"\n'))
    env = {"PYLOCK_MIRROR": "https://env.example/pbs"}
    assert (
        Settings.resolve(mirror="/flag", environ=env).mirror_for(
            manifest.mirror, manifest.path.parent
        )
        == "/flag"
    )
    assert (
        Settings.resolve(environ=env).mirror_for(manifest.mirror, manifest.path.parent)
        == "https://env.example/pbs"
    )
    relative = Settings.resolve(environ={}).mirror_for(manifest.mirror, manifest.path.parent)
    assert relative == str(tmp_path / "project" / "mirror-dir")  # the project's, not the cwd's
    url = load(_manifest(tmp_path, 'mirror = "https://m.example/x"\n'))
    assert (
        Settings.resolve(environ={}).mirror_for(url.mirror, url.path.parent)
        == "https://m.example/x"
    )
    assert Settings.resolve(environ={}).mirror_for(None, tmp_path) is None


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


def test_directories(tmp_path: Path) -> None:
    env = {"PYLOCK_CACHE_DIR": str(tmp_path / "c"), "PYLOCK_PYTHON_DIR": str(tmp_path / "p")}
    settings = Settings.resolve(environ=env)
    assert settings.cache_dir == tmp_path / "c"
    assert settings.python_dir == tmp_path / "p"
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


def test_policy_defaults_env_and_flags() -> None:
    default = http_policy({})
    assert (default.timeout, default.deadline) == (DEFAULT_TIMEOUT, DEFAULT_DEADLINE)
    env = {"PYLOCK_HTTP_TIMEOUT": "5", "PYLOCK_HTTP_DEADLINE": "0"}
    assert (http_policy(env).timeout, http_policy(env).deadline) == (5.0, None)
    flagged = http_policy(env, timeout=2.0, deadline=60.0, offline=True)
    assert (flagged.timeout, flagged.deadline, flagged.offline) == (2.0, 60.0, True)


@pytest.mark.parametrize("raw", ["soon", "-1", "0", "nan", "inf"])
def test_bad_timeout_is_refused_as_bad_input(raw: str) -> None:
    with pytest.raises(InputError, match="PYLOCK_HTTP_TIMEOUT is"):
        http_policy({"PYLOCK_HTTP_TIMEOUT": raw})


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"PYLOCK_OFFLINE": "maybe"}, "PYLOCK_OFFLINE is 'maybe'"),
        ({"PYLOCK_HTTP_DEADLINE": "-1"}, "PYLOCK_HTTP_DEADLINE is '-1', which is negative"),
        ({"PYLOCK_MAX_INSTALL_BYTES": "lots"}, "PYLOCK_MAX_INSTALL_BYTES is 'lots'"),
    ],
)
def test_every_environment_value_is_checked_on_every_resolve(
    environ: dict[str, str], words: str
) -> None:
    """A bad value is an error even when a flag would override it or the command would not
    need it, quoting the value and naming the variable."""
    with pytest.raises(InputError, match=words):
        Settings.resolve(environ=environ, offline=True, http_timeout=5.0)


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--http-timeout", -5.0, "'-5.0', which is not a positive number of seconds"),
        ("--http-timeout", 0.0, "'0.0', which is not a positive number of seconds"),
        ("--http-deadline", -1.0, "'-1.0', which is negative"),
    ],
)
def test_a_bad_timeout_flag_says_what_is_wrong_with_it(flag: str, value: float, words: str) -> None:
    option = "http_timeout" if flag == "--http-timeout" else "http_deadline"
    with pytest.raises(InputError, match=words):
        Settings.resolve(environ={}, **{option: value})
