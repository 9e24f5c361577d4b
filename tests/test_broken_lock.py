"""A way out of a broken python.lock: every command that meets one names `pylock lock --upgrade`,
and that command does replace it, saying what it found."""

from __future__ import annotations

from pathlib import Path

import pytest

from clirun import pylock
from pbs_server import FakePBS
from pylock.resolution import lockfile

BROKEN = {
    "empty": "",
    "not TOML": "lock-version = 1\n[[target]\n",
    "newer lock-version": 'lock-version = 99\ncreated-by = "pylock 9"\n',
    "invalid": None,  # the real lock with a damaged sha256
    "not UTF-8": b"lock-version = 1\n\xff\xfe\n",
}


def _break(lock_path: Path, kind: str) -> bytes:
    content = BROKEN[kind]
    if content is None:
        content = lock_path.read_text("utf-8").replace('sha256 = "', 'sha256 = "zz', 1)
    data = content if isinstance(content, bytes) else content.encode()
    lock_path.write_bytes(data)
    return data


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_every_command_points_at_the_way_out_and_it_works(
    kind: str, synced: Path, fake_pbs: FakePBS, capsys: pytest.CaptureFixture[str]
) -> None:
    lock_path = synced / "python.lock"
    good = lockfile.read(lock_path)
    broken = _break(lock_path, kind)
    project = ("-p", str(synced))

    code, out, err = pylock(capsys, *project, "lock", "--source", fake_pbs.spec)
    assert code == 2, out + err
    assert "pylock lock --upgrade" in err and str(lock_path) in err
    if kind == "empty":
        assert f"{lock_path} is empty." in err
    assert "Traceback" not in err
    assert lock_path.read_bytes() == broken  # refused, untouched

    for command in (("sync",), ("which",), ("show",), ("check",)):
        code, out, err = pylock(capsys, *project, *command)
        assert code == 2, (command, out, err)
        assert "pylock lock --upgrade" in out + err, (command, out, err)

    code, out, err = pylock(
        capsys, *project, "lock", "--upgrade", "--dry-run", "--source", fake_pbs.spec
    )
    assert code == 0, err
    assert "would replace it with a new lock" in err
    assert lock_path.read_bytes() == broken

    code, out, err = pylock(capsys, *project, "lock", "--upgrade", "--source", fake_pbs.spec)
    assert code == 0, err
    assert err.startswith("warning: python.lock could not be read (")
    assert "replaced it with a new lock" in err
    assert "Updated python.lock:" in out
    assert lockfile.read(lock_path).targets == good.targets
    code, out, err = pylock(capsys, *project, "sync")
    assert (code, err) == (0, "")
    assert "already installed" in out


def test_a_readable_lock_is_not_reported_as_replaced(
    synced: Path, fake_pbs: FakePBS, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = pylock(capsys, "-p", str(synced), "lock", "--upgrade", "--source", fake_pbs.spec)
    assert (code, err) == (0, "")
