"""Where pylock keeps things: the archive/HTTP cache and the installed interpreters.

``PYLOCK_CACHE_DIR`` and ``PYLOCK_PYTHON_DIR`` override the per-user defaults, as
``UV_CACHE_DIR`` and ``UV_PYTHON_INSTALL_DIR`` do for uv. On Linux and other XDG systems the
defaults follow the XDG base directory spec here, with ``os`` alone (``$XDG_CACHE_HOME/pylock``,
``$XDG_DATA_HOME/pylock/python``, an unset, blank or relative variable meaning ``~/.cache`` and
``~/.local/share``), because the no-op ``pylock sync`` needs them and platformdirs (or even
pathlib) costs more to import than that whole command; macOS and Windows ask platformdirs,
imported only then. ``*_path`` give strings for the no-op path, ``*_dir`` the same as Paths.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

_XDG = not (sys.platform == "darwin" or sys.platform == "win32" or os.name == "nt")


def cache_path(env: Mapping[str, str]) -> str:
    if value := env.get("PYLOCK_CACHE_DIR"):
        return os.path.expanduser(value)
    if _XDG:
        return os.path.join(_xdg(env, "XDG_CACHE_HOME", "~/.cache"), "pylock")
    import platformdirs

    return platformdirs.user_cache_dir("pylock", appauthor=False)


def python_path(env: Mapping[str, str]) -> str:
    if value := env.get("PYLOCK_PYTHON_DIR"):
        return os.path.expanduser(value)
    if _XDG:
        return os.path.join(_xdg(env, "XDG_DATA_HOME", "~/.local/share"), "pylock", "python")
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("pylock", appauthor=False), "python")


def cache_dir(environ: Mapping[str, str]) -> Path:
    from pathlib import Path

    return Path(cache_path(environ))


def python_dir(environ: Mapping[str, str]) -> Path:
    from pathlib import Path

    return Path(python_path(environ))


def _xdg(env: Mapping[str, str], name: str, default: str) -> str:
    """An XDG base directory: the variable when it is an absolute path, else ``default``."""
    value = env.get(name, "").strip()
    return value if os.path.isabs(value) else os.path.expanduser(default)
