"""A working PBS-layout interpreter for tests that need a real peer to run it (uv, ``-m venv``).

pylock.commands.standin repackages the CPython running the tests in python-build-standalone's
``install_only`` layout, relocatable (``$ORIGIN`` RUNPATH); benchmarks/pbs_archive.py proves
such an archive runs from where it is extracted. Building it takes seconds, so the
``standin_archive`` fixture (tests/conftest.py) builds it once per test run; ``publish_real``
puts it on the fake GitHub and ``lock_real`` locks a project on it.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from clirun import pylock
from pbs_server import FakePBS
from pylock.commands.standin import BUILD_TAG, Archive, build_archive
from pylock.errors import ExternalError
from pylock.project.platforms import host_platform

VERSION = platform.python_version()
MINOR = ".".join(VERSION.split(".")[:2])
BUILD: str = BUILD_TAG


def build_real_archive(out_dir: Path) -> Archive:
    """This CPython as a PBS install_only archive in ``out_dir`` (reused when already there, as
    ``build_archive`` does); skips the test when this interpreter cannot be repackaged (not
    Linux, no ``bin/pythonX.Y`` under its prefix). Compression level 1, as ``pylock demo``
    builds it: level 6 takes twice as long for a tenth fewer bytes."""
    try:
        return build_archive(out_dir, host_platform().triple, compresslevel=1)
    except ExternalError as exc:
        pytest.skip(f"cannot repackage this Python as a PBS archive: {exc}")


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
