"""A working PBS-layout interpreter for tests that need a real peer to run it (uv, ``-m venv``).

benchmarks/pbs_archive.py repackages the CPython running the tests in python-build-standalone's
``install_only`` layout, relocatable (``$ORIGIN`` RUNPATH) and verified by running it from a
temp dir. Building it takes a few seconds, so ``real_archive`` is built once per test session;
``publish_real`` puts it on the fake GitHub and ``lock_real`` locks a project on it.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from types import ModuleType

import pytest

from clirun import pylock
from pbs_server import FakePBS
from pylock.project.platforms import host_platform

_MODULE = Path(__file__).resolve().parent.parent / "benchmarks" / "pbs_archive.py"
VERSION = platform.python_version()
MINOR = ".".join(VERSION.split(".")[:2])


def _pbs_archive() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pbs_archive", _MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pbs_archive", module)
    spec.loader.exec_module(module)
    return module


BUILD: str = _pbs_archive().BUILD_TAG


def build_real_archive(out_dir: Path) -> tuple[str, bytes]:
    """(asset name, bytes) of this CPython as a PBS install_only archive; skips the test when
    this interpreter cannot be repackaged (no ``bin/pythonX.Y`` under its prefix)."""
    module = _pbs_archive()
    try:
        archive = module.build_archive(out_dir, host_platform().triple)
    except SystemExit as exc:
        pytest.skip(f"cannot repackage this Python as a PBS archive: {exc}")
    return archive.name, archive.path.read_bytes()


def publish_real(fake: FakePBS, archive: tuple[str, bytes]) -> str:
    """Publish the archive as release BUILD; its download URL."""
    name, data = archive
    fake.add_release(BUILD, [(name, data)])
    return fake.download_url(BUILD, name)


def lock_real(project: Path, fake: FakePBS, capsys: pytest.CaptureFixture[str]) -> Path:
    """A project whose python.lock pins the real archive for this host."""
    (project / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{VERSION}"\nplatforms = ["{host_platform().key}"]\n', "utf-8"
    )
    code, _, err = pylock(capsys, "-p", str(project), "lock", "--source", fake.spec)
    assert code == 0, err
    return project
