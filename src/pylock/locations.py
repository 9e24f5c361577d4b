"""Where pylock keeps things: the archive/HTTP cache and the installed interpreters.

``PYLOCK_CACHE_DIR`` and ``PYLOCK_PYTHON_DIR`` override the per-user platformdirs defaults, as
``UV_CACHE_DIR`` and ``UV_PYTHON_INSTALL_DIR`` do for uv. platformdirs is imported lazily: the
no-op sync path may not need it at all when the environment names the directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if value := env.get("PYLOCK_CACHE_DIR"):
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("pylock", appauthor=False))


def python_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if value := env.get("PYLOCK_PYTHON_DIR"):
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("pylock", appauthor=False)) / "python"
