"""Installing a verified archive: safe extraction, layout and version checks, atomic placement.

Every archive here is synthetic (tests/archives.py) but PBS-shaped, and its interpreter is a
``/bin/sh`` script that really runs and reports a version, so the checks are the real ones.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import platform
import re
import signal
import stat
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import pytest

import pylock.install.installer
from archives import (
    HOSTILE,
    MTIME,
    NOT_A_TAR,
    build_pbs_archive,
    delegating_interpreter,
    file,
    hardlink,
    hostile_archive,
    install_members,
    make_target,
    placed,
    tar_bytes,
)
from pylock.errors import InputError, VerificationError
from pylock.install.installer import install
from pylock.install.receipt import (
    BUILD_NAME,
    META_DIR,
    RECORD_NAME,
    Receipt,
    format_record,
    read_receipt,
    read_record,
    record_digest,
    scan_tree,
)
from pylock.install.store import Store, lock_path
from pylock.project.platforms import KNOWN_PLATFORMS, host_platform
from pylock.resolution.lockfile import Target

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the synthetic interpreters are /bin/sh scripts"
)


def install_archive(
    archive: Path,
    target: Target,
    dest: Path,
    *,
    run_interpreter: bool | None = None,
    reinstall: bool = False,
) -> Receipt:
    """``install``'s receipt: most tests only care what was installed."""
    outcome = install(archive, target, dest, run_interpreter=run_interpreter, reinstall=reinstall)
    return outcome.receipt


DEST = "cpython-3.12.8"


def _names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def _write_archive(tmp_path: Path, data: bytes, name: str = "archive") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _leftovers(parent: Path, *expected: str) -> set[str]:
    """What is in ``parent`` besides the given names and the destination's lock file."""
    return set(_names(parent)) - {*expected, lock_path(parent / DEST).name}


def _other_platform(*, os_name: str = "linux") -> str:
    """A platform key that is not this host's, so the interpreter is not run."""
    host = host_platform().key
    return next(p.key for p in KNOWN_PLATFORMS if p.os == os_name and p.key != host)


# -- layouts and formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavor", "fmt"),
    [
        ("install_only", "gz"),
        ("install_only", "zst"),
        ("install_only_stripped", "gz"),
        ("pgo+lto-full", "zst"),
        ("pgo+lto-full", "gz"),
    ],
)
def test_install_layouts_and_formats(tmp_path: Path, flavor: str, fmt: str) -> None:
    data = build_pbs_archive(flavor=flavor, fmt=fmt)
    archive = _write_archive(tmp_path, data)
    target = make_target(data, flavor=flavor)
    dest = tmp_path / DEST

    receipt = install_archive(archive, target, dest)

    assert receipt.target == target
    assert receipt.interpreter == "bin/python3.12"
    assert read_receipt(dest) == receipt
    assert (dest / BUILD_NAME).read_text() == "20241219\n"
    # python/ (and python/install/ of a full archive) is stripped; build/, licenses/ and
    # PYTHON.json are not installed.
    assert _names(dest) == [".pylock", "BUILD", "bin", "include", "lib", "share"]
    python = dest / receipt.interpreter
    assert python == dest / "bin" / "python3.12"
    assert stat.S_IMODE(python.stat().st_mode) == 0o755
    assert (dest / "bin" / "python3").readlink() == Path("python3.12")
    # The installed interpreter runs from its final place and says what it is.
    result = subprocess.run([python, "-V"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "Python 3.12.8"
    assert _leftovers(tmp_path, DEST, "archive") == set()


def test_full_and_install_only_give_the_same_tree(tmp_path: Path) -> None:
    digests = []
    for flavor in ("install_only", "pgo+lto-full"):
        data = build_pbs_archive(flavor=flavor)
        archive = _write_archive(tmp_path, data, f"{flavor}.tar")
        receipt = install_archive(
            archive, make_target(data, flavor=flavor), tmp_path / flavor / "py"
        )
        digests.append(receipt.tree_digest)
    assert digests[0] == digests[1]


def test_tree_digest_matches_record_and_a_fresh_scan(tmp_path: Path) -> None:
    data = build_pbs_archive()
    receipt = install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    dest = tmp_path / DEST
    record_text = (dest / META_DIR / RECORD_NAME).read_text()
    assert receipt.tree_digest == record_digest(record_text)
    assert scan_tree(dest) == read_record(dest)
    assert record_digest(format_record(scan_tree(dest))) == receipt.tree_digest
    paths = [entry.path for entry in read_record(dest)]
    assert "bin/python3.12" in paths and "bin/idle3" in paths
    assert not any("__pycache__" in path for path in paths)
    # __pycache__ is still installed, only not recorded (the interpreter rewrites it).
    assert (dest / "lib/python3.12/__pycache__/os.cpython-312.pyc").is_file()


def test_scan_tree_sees_modified_added_and_removed_files(tmp_path: Path) -> None:
    data = build_pbs_archive()
    install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    dest = tmp_path / DEST
    recorded = read_record(dest)

    os_py = dest / "lib/python3.12/os.py"
    original = os_py.read_bytes()
    os_py.write_bytes(original + b"# tampered\n")
    assert scan_tree(dest) != recorded
    os_py.write_bytes(original)
    assert scan_tree(dest) == recorded

    (dest / "lib/python3.12/sitecustomize.py").write_text("import evil\n")
    assert scan_tree(dest) != recorded
    (dest / "lib/python3.12/sitecustomize.py").unlink()
    assert scan_tree(dest) == recorded

    (dest / "include/python3.12/Python.h").unlink()
    assert scan_tree(dest) != recorded

    # Writing bytecode is what the interpreter does: it does not count as a change.
    (dest / "include/python3.12/Python.h").write_bytes(b'#include "patchlevel.h"\n')
    (dest / "include/python3.12/Python.h").chmod(0o644)
    (dest / "lib/python3.12/__pycache__/new.cpython-312.pyc").write_bytes(b"pyc")
    assert scan_tree(dest) == recorded


def test_exec_bit_change_changes_the_scan(tmp_path: Path) -> None:
    data = build_pbs_archive()
    install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    dest = tmp_path / DEST
    (dest / "lib/python3.12/os.py").chmod(0o755)
    assert scan_tree(dest) != read_record(dest)


@pytest.mark.parametrize(
    ("version", "variant", "interpreter"),
    [
        ("3.13.1", "freethreaded", "bin/python3.13t"),
        ("3.12.8", "debug", "bin/python3.12d"),
        ("3.13.1", "freethreaded+debug", "bin/python3.13td"),
        ("3.15.0rc1", "default", "bin/python3.15"),
        ("3.14.0a3", "default", "bin/python3.14"),
    ],
)
def test_variants_and_prereleases(
    tmp_path: Path, version: str, variant: str, interpreter: str
) -> None:
    data = build_pbs_archive(version=version, variant=variant)
    target = make_target(data, version=version, variant=variant)
    receipt = install_archive(_write_archive(tmp_path, data), target, tmp_path / DEST)
    assert receipt.interpreter == interpreter
    assert (tmp_path / DEST / interpreter).is_file()


def test_windows_layout(tmp_path: Path) -> None:
    data = build_pbs_archive(windows=True)
    target = make_target(data, platform="windows-x86_64-none")
    receipt = install_archive(_write_archive(tmp_path, data), target, tmp_path / DEST)
    assert receipt.interpreter == "python.exe"
    assert not (tmp_path / DEST / "bin").exists()  # no bin/python symlink on Windows
    assert (tmp_path / DEST / "Lib" / "os.py").is_file()


def test_adds_bin_python_when_the_archive_lacks_it(tmp_path: Path) -> None:
    data = build_pbs_archive(python_symlink=False)
    install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    dest = tmp_path / DEST
    assert (dest / "bin" / "python").readlink() == Path("python3.12")
    assert "bin/python" in {entry.path for entry in read_record(dest)}
    assert scan_tree(dest) == read_record(dest)


def test_falls_back_to_bin_python3(tmp_path: Path) -> None:
    tree = install_members()
    script = next(m for m in tree if m.name == "bin/python3.12")
    tree = [m for m in tree if not m.name.startswith("bin/python")]
    data = tar_bytes(placed([*tree, replace(script, name="bin/python3")]))
    receipt = install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert receipt.interpreter == "bin/python3"
    assert (tmp_path / DEST / "bin" / "python").readlink() == Path("python3")


def test_modes_are_sanitised_and_mtimes_kept(tmp_path: Path) -> None:
    extra = [
        file("python/lib/setuid", b"x", mode=0o4777),
        file("python/lib/group-writable", b"x", mode=0o666),
        file("python/lib/owner-unreadable", b"x", mode=0o044),
    ]
    data = build_pbs_archive(extra_members=extra)
    install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    lib = tmp_path / DEST / "lib"
    assert stat.S_IMODE((lib / "setuid").stat().st_mode) == 0o755
    assert stat.S_IMODE((lib / "group-writable").stat().st_mode) == 0o644
    assert stat.S_IMODE((lib / "owner-unreadable").stat().st_mode) == 0o644
    assert (lib / "python3.12" / "os.py").stat().st_mtime == MTIME


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["gz", "zst"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused_whole(tmp_path: Path, case: str, fmt: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    data = hostile_archive(case, fmt=fmt)
    archive = _write_archive(tmp_path, data)
    with pytest.raises(VerificationError) as error:
        install_archive(archive, make_target(data), work / DEST)
    assert error.value.exit_code == 1
    assert repr(HOSTILE[case][-1].name) in error.value.message or (
        repr(HOSTILE[case][0].name) in error.value.message
    )
    assert "Nothing was installed" in error.value.message
    # Nothing in the parent dir (no temp dir, no escaped file), nothing beside it either.
    assert _leftovers(work) == set()
    assert _names(tmp_path) == ["archive", "work"]
    assert not Path("/pylock-test-escape").exists()


@pytest.mark.parametrize("case", sorted(NOT_A_TAR))
def test_not_a_tar_is_refused(tmp_path: Path, case: str) -> None:
    data = NOT_A_TAR[case]
    with pytest.raises(VerificationError, match="Refusing to install") as error:
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert error.value.exit_code == 1
    assert _leftovers(tmp_path, "archive") == set()


def test_hardlink_to_a_later_member_is_refused(tmp_path: Path) -> None:
    extra = [hardlink("python/lib/early", "python/lib/late"), file("python/lib/late", b"x")]
    data = build_pbs_archive(extra_members=extra)
    with pytest.raises(VerificationError, match="not a file extracted before it"):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)


def test_wrong_patchlevel_version_is_refused(tmp_path: Path) -> None:
    data = build_pbs_archive(header_version="3.12.7")
    with pytest.raises(VerificationError) as error:
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert "3.12.7" in error.value.message and "3.12.8" in error.value.message
    assert "include/python3.12/patchlevel.h" in error.value.message
    assert _leftovers(tmp_path, "archive") == set()


def test_variant_mismatch_is_refused(tmp_path: Path) -> None:
    data = build_pbs_archive(version="3.13.1")  # a default build locked as free-threaded
    target = make_target(data, version="3.13.1", variant="freethreaded")
    with pytest.raises(VerificationError, match=r"include/python3\.13t/patchlevel\.h"):
        install_archive(_write_archive(tmp_path, data), target, tmp_path / DEST)


@pytest.mark.parametrize(
    ("locked", "reported"),
    [
        ("3.12.8", "3.12.9"),
        ("3.15.0rc1", "3.15.0rc2"),
        ("3.15.0rc1", "3.15.0"),
        ("3.13.0", "3.12.0"),
    ],
)
def test_interpreter_reporting_another_version_is_refused(
    tmp_path: Path, locked: str, reported: str
) -> None:
    data = build_pbs_archive(version=locked, reported_version=reported)
    with pytest.raises(VerificationError) as error:
        install_archive(
            _write_archive(tmp_path, data), make_target(data, version=locked), tmp_path / DEST
        )
    assert f"reports Python {reported}" in error.value.message
    assert _leftovers(tmp_path, "archive") == set()


def test_version_probe_works_with_a_real_cpython(tmp_path: Path) -> None:
    version = platform.python_version()
    if not re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", version):
        pytest.skip(f"this Python's version {version!r} is a development build")
    data = build_pbs_archive(version=version, interpreter=delegating_interpreter())
    receipt = install_archive(
        _write_archive(tmp_path, data), make_target(data, version=version), tmp_path / DEST
    )
    result = subprocess.run(
        [tmp_path / DEST / receipt.interpreter, "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == sys.version


def test_interpreter_is_only_run_for_this_hosts_platform(tmp_path: Path) -> None:
    data = build_pbs_archive(reported_version="3.12.9")
    archive = _write_archive(tmp_path, data)
    foreign = make_target(data, platform=_other_platform())
    install_archive(archive, foreign, tmp_path / "foreign")  # cannot run it: trusts patchlevel.h
    with pytest.raises(VerificationError, match=r"reports Python 3\.12\.9"):
        install_archive(archive, foreign, tmp_path / "forced", run_interpreter=True)
    install_archive(archive, make_target(data), tmp_path / "skipped", run_interpreter=False)


def test_interpreter_that_fails_is_refused(tmp_path: Path) -> None:
    failing = b"#!/bin/sh\necho boom >&2\nexit 3\n"
    tree = [
        replace(m, data=failing) if m.name == "bin/python3.12" else m for m in install_members()
    ]
    data = tar_bytes(placed(tree))
    with pytest.raises(VerificationError, match=r"failed \(exit 3: boom\)"):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)


def _repacked(data: bytes, fmt: int, extra: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """A .tar.gz archive's members rewritten by tarfile in another tar format, plus ``extra``."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w", format=fmt) as tar,
    ):
        for info in source:
            body = source.extractfile(info) if info.isreg() else None
            tar.addfile(info, body)
        for info, body in extra:
            info.size = len(body) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(body) if info.isreg() else None)
    return gzip.compress(out.getvalue())


def _info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, linkname, 0o644, MTIME
    return info


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_names_and_link_targets_are_installed(tmp_path: Path, fmt: int) -> None:
    """GNU ``L``/``K`` headers (what PBS's own archives use) and pax ``path``/``linkpath``."""
    deep = "lib/python3.12/site-packages/" + "a-long-directory-name/" * 6
    data = _repacked(
        build_pbs_archive(),
        fmt,
        [
            (_info("python/" + deep + "module.py"), b"deep = True\n"),
            (_info("python/lib/deep-link", tarfile.SYMTYPE, "../" + deep + "module.py"), b""),
        ],
    )
    dest = tmp_path / DEST
    install_archive(_write_archive(tmp_path, data), make_target(data), dest)
    assert len(deep) > 100
    assert (dest / deep / "module.py").read_bytes() == b"deep = True\n"
    assert (dest / "lib" / "deep-link").read_bytes() == b"deep = True\n"
    recorded = {entry.path: entry for entry in read_record(dest)}
    assert recorded["lib/deep-link"].digest == "->../" + deep + "module.py"
    assert deep + "module.py" in recorded
    assert scan_tree(dest) == read_record(dest)


def test_sparse_member_is_refused(tmp_path: Path) -> None:
    sparse = _info("python/lib/sparse.bin")
    sparse.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}
    data = _repacked(build_pbs_archive(), tarfile.PAX_FORMAT, [(sparse, b"abc")])
    with pytest.raises(VerificationError, match=r"'python/lib/sparse.bin' has an unsupported tar"):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert _leftovers(tmp_path, "archive") == set()


LATIN1 = b"caf\xe9".decode("utf-8", "surrogateescape")  # raw bytes that are not UTF-8


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (_info(f"python/lib/{LATIN1}.py"), "is not valid UTF-8"),
        (_info("python/lib/link", tarfile.SYMTYPE, LATIN1), "which is not valid UTF-8"),
        (_info("python/lib/link", tarfile.SYMTYPE, "a\tb"), "which contains a control"),
        (_info("python/lib/link", tarfile.SYMTYPE, "a\\b"), "which contains a backslash"),
    ],
)
def test_names_and_link_targets_that_cannot_be_recorded_are_refused(
    tmp_path: Path, member: tarfile.TarInfo, why: str
) -> None:
    """RECORD is UTF-8 text, one line per entry: a symlink target that is not (a GNU header
    holds raw bytes) is refused like such a member name, not a crash while writing RECORD."""
    data = _repacked(build_pbs_archive(), tarfile.GNU_FORMAT, [(member, b"x = 1\n")])
    with pytest.raises(VerificationError, match=why):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert _leftovers(tmp_path, "archive") == set()


@pytest.mark.parametrize("mtime", ["nan", "inf", "1e300", "-1e300"])
def test_a_modification_time_out_of_range_is_refused(tmp_path: Path, mtime: str) -> None:
    odd = _info("python/lib/odd-mtime.py")
    odd.pax_headers = {"mtime": mtime}
    data = _repacked(build_pbs_archive(), tarfile.PAX_FORMAT, [(odd, b"x = 1\n")])
    with pytest.raises(VerificationError, match=r"'python/lib/odd-mtime.py' has a modification"):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert _leftovers(tmp_path, "archive") == set()


@pytest.mark.parametrize("cut", ["mid-file", "garbage-after-a-member"])
def test_a_damaged_tar_inside_a_whole_gzip_is_refused(tmp_path: Path, cut: str) -> None:
    """The gzip layer is intact here, so only the tar reader can notice (tarfile itself would
    take a bad header after the first member for the end of the archive)."""
    tar = gzip.decompress(build_pbs_archive(padding=100_000))
    at = tar.index(b"python/lib/python3.12/_padding.bin")  # its header; data follows
    end = at + 512 + 50_000 if cut == "mid-file" else at
    data = gzip.compress(tar[:end] + (b"" if cut == "mid-file" else b"\xff" * 512))
    with pytest.raises(VerificationError, match="is corrupt or not a tar archive"):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert _leftovers(tmp_path, "archive") == set()


def test_no_helper_thread_outlives_an_install(tmp_path: Path) -> None:
    data = build_pbs_archive()
    install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / "ok")
    bad = hostile_archive("dotdot")
    with pytest.raises(VerificationError):
        install_archive(_write_archive(tmp_path, bad, "bad"), make_target(bad), tmp_path / "no")
    assert [t for t in threading.enumerate() if t.name == "pylock-inflate"] == []


# -- an existing destination ----------------------------------------------------------------------


def test_already_installed_is_a_no_op(tmp_path: Path) -> None:
    data = build_pbs_archive()
    archive = _write_archive(tmp_path, data)
    target = make_target(data)
    first = install_archive(archive, target, tmp_path / DEST)
    archive.unlink()  # the second call must not even need the archive
    assert install_archive(archive, target, tmp_path / DEST) == first
    store = Store(tmp_path / "root")
    assert store.find(target, tmp_path / DEST).installed
    assert not store.find(replace(target, build="20250101"), tmp_path / DEST).installed
    assert not store.find(target, tmp_path / "elsewhere").installed


def test_reinstall_replaces_a_matching_install(tmp_path: Path) -> None:
    data = build_pbs_archive()
    archive = _write_archive(tmp_path, data)
    target = make_target(data)
    first = install_archive(archive, target, tmp_path / DEST)
    (tmp_path / DEST / "lib/python3.12/os.py").write_text("tampered\n")
    second = install_archive(archive, target, tmp_path / DEST, reinstall=True)
    assert second.installed_at != first.installed_at
    assert second.tree_digest == first.tree_digest
    assert scan_tree(tmp_path / DEST) == read_record(tmp_path / DEST)
    assert _leftovers(tmp_path, DEST, "archive") == set()


def test_replaces_another_pylock_install(tmp_path: Path) -> None:
    old_data = build_pbs_archive(version="3.12.7")
    old_target = make_target(old_data, version="3.12.7")
    install_archive(_write_archive(tmp_path, old_data, "old"), old_target, tmp_path / DEST)
    new_data = build_pbs_archive(version="3.12.8")
    new_target = make_target(new_data)
    receipt = install_archive(
        _write_archive(tmp_path, new_data, "new"), new_target, tmp_path / DEST
    )
    assert read_receipt(tmp_path / DEST) == receipt
    assert receipt.target == new_target
    assert not (tmp_path / DEST / "include/python3.12/patchlevel.h").read_text().count("3.12.7")
    assert _leftovers(tmp_path, DEST, "old", "new") == set()


def test_a_failed_replacement_keeps_the_previous_install(tmp_path: Path) -> None:
    data = build_pbs_archive()
    first = install_archive(
        _write_archive(tmp_path, data, "good"), make_target(data), tmp_path / DEST
    )
    bad = build_pbs_archive(version="3.12.9", reported_version="3.12.1")
    with pytest.raises(VerificationError):
        install_archive(
            _write_archive(tmp_path, bad, "bad"),
            make_target(bad, version="3.12.9"),
            tmp_path / DEST,
        )
    assert read_receipt(tmp_path / DEST) == first
    assert scan_tree(tmp_path / DEST) == read_record(tmp_path / DEST)
    assert _leftovers(tmp_path, DEST, "good", "bad") == set()


def test_ctrl_c_mid_install_leaves_the_previous_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build_pbs_archive()
    first = install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    newer = build_pbs_archive(version="3.12.9")

    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt  # after extraction, before the swap

    monkeypatch.setattr(pylock.install.installer, "check_layout", interrupted)
    with pytest.raises(KeyboardInterrupt):
        install_archive(
            _write_archive(tmp_path, newer, "newer"),
            make_target(newer, version="3.12.9"),
            tmp_path / DEST,
        )
    assert read_receipt(tmp_path / DEST) == first
    assert scan_tree(tmp_path / DEST) == read_record(tmp_path / DEST)
    assert _leftovers(tmp_path, DEST, "archive", "newer") == set()


def test_a_directory_that_is_not_a_pylock_install_is_never_touched(tmp_path: Path) -> None:
    dest = tmp_path / DEST
    dest.mkdir()
    (dest / "precious.txt").write_text("keep me\n")
    data = build_pbs_archive()
    with pytest.raises(InputError, match="not a pylock install") as error:
        install_archive(_write_archive(tmp_path, data), make_target(data), dest)
    assert error.value.exit_code == 2
    assert _names(dest) == ["precious.txt"]
    assert (dest / "precious.txt").read_text() == "keep me\n"
    assert _leftovers(tmp_path, DEST, "archive") == set()


def test_an_empty_directory_is_installed_into(tmp_path: Path) -> None:
    """A Dockerfile's ``mkdir -p /opt/python`` before ``pylock sync --into /opt/python``."""
    dest = tmp_path / DEST
    dest.mkdir()
    data = build_pbs_archive()
    receipt = install_archive(_write_archive(tmp_path, data), make_target(data), dest)
    assert (dest / receipt.interpreter).is_file()
    assert (dest / ".pylock" / "receipt.json").is_file()


def test_a_file_in_the_way_is_never_touched(tmp_path: Path) -> None:
    (tmp_path / DEST).write_text("a file\n")
    data = build_pbs_archive()
    with pytest.raises(InputError, match="not a directory pylock installed"):
        install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert (tmp_path / DEST).read_text() == "a file\n"


def test_leftovers_of_an_interrupted_install_are_cleaned(tmp_path: Path) -> None:
    stale = tmp_path / f".{DEST}.tmp-0123456789abcdef"
    (stale / "bin").mkdir(parents=True)
    (stale / "bin" / "python3.12").write_text("half written")
    unrelated = tmp_path / ".other.tmp-0123456789abcdef"  # another destination's: not ours
    unrelated.mkdir()
    data = build_pbs_archive()
    install_archive(_write_archive(tmp_path, data), make_target(data), tmp_path / DEST)
    assert not stale.exists()
    assert unrelated.exists()


def test_crash_between_the_two_renames_restores_the_previous_install(tmp_path: Path) -> None:
    data = build_pbs_archive()
    archive = _write_archive(tmp_path, data)
    target = make_target(data)
    first = install_archive(archive, target, tmp_path / DEST)
    # The state a kill leaves after "rename old aside" and before "rename new in".
    aside = tmp_path / f".{DEST}.old-00000000deadbeef"
    (tmp_path / DEST).rename(aside)
    half = tmp_path / f".{DEST}.tmp-00000000deadbeef"
    half.mkdir()
    # The next run puts the previous install back; it is the locked one, so nothing else to do.
    assert install_archive(archive, target, tmp_path / DEST) == first
    assert scan_tree(tmp_path / DEST) == read_record(tmp_path / DEST)
    assert _leftovers(tmp_path, DEST, "archive") == set()


def test_an_old_install_left_aside_after_the_swap_is_deleted(tmp_path: Path) -> None:
    data = build_pbs_archive()
    archive = _write_archive(tmp_path, data)
    target = make_target(data)
    install_archive(archive, target, tmp_path / DEST)
    aside = tmp_path / f".{DEST}.old-00000000deadbeef"
    (aside / ".pylock").mkdir(parents=True)
    (aside / ".pylock" / "receipt.json").write_text("{}")
    install_archive(archive, target, tmp_path / DEST)
    assert not aside.exists()


# -- concurrency and kills ------------------------------------------------------------------------

CHILD = """
import json, sys
from pathlib import Path
from pylock.install.installer import install
from pylock.resolution.lockfile import Target
import filelock, pyzstd  # what install imports lazily: be ready to race at once
archive, dest, target = Path(sys.argv[1]), Path(sys.argv[2]), Target(**json.loads(sys.argv[3]))
print("ready", flush=True)
sys.stdin.readline()  # start together
print(install(archive, target, dest).receipt.installed_at)
"""


def _child(archive: Path, dest: Path, target: Target) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(archive), str(dest), json.dumps(asdict(target))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_processes_install_once_and_both_succeed(tmp_path: Path) -> None:
    data = build_pbs_archive(padding=8 * 1024 * 1024)
    archive = _write_archive(tmp_path, data)
    target = make_target(data)
    dest = tmp_path / DEST
    children = [_child(archive, dest, target) for _ in range(2)]
    for child in children:  # both imported everything and wait on stdin
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n", child.communicate()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    installed_at = {stdout.strip() for stdout, _ in outputs}
    receipt = read_receipt(dest)
    assert receipt is not None
    # Both report the one install (its timestamp has microseconds: two installs would differ).
    assert installed_at == {receipt.installed_at}
    assert scan_tree(dest) == read_record(dest)
    assert _leftovers(tmp_path, DEST, "archive") == set()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_killed_mid_extraction_then_a_rerun_installs_cleanly(tmp_path: Path) -> None:
    data = build_pbs_archive(padding=4 * 1024 * 1024)
    target = make_target(data)
    dest = tmp_path / DEST
    # The child reads the archive from a pipe we feed only half of: it is stuck mid-extraction,
    # with no timing involved, until we kill it.
    fifo = tmp_path / "archive.fifo"
    os.mkfifo(fifo)
    child = _child(fifo, dest, target)
    assert child.stdin is not None and child.stdout is not None
    assert child.stdout.readline() == "ready\n", child.communicate()
    child.stdin.write("go\n")
    child.stdin.flush()
    with fifo.open("wb") as pipe:
        pipe.write(data[: len(data) // 2])
        pipe.flush()
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(f".{DEST}.tmp-*/lib/python3.12/os.py")):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never started extracting"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert not dest.exists()
    assert list(tmp_path.glob(f".{DEST}.tmp-*"))  # the kill left a half-built temp dir

    archive = _write_archive(tmp_path, data)
    receipt = install_archive(archive, target, dest)
    assert read_receipt(dest) == receipt
    assert scan_tree(dest) == read_record(dest)
    assert _leftovers(tmp_path, DEST, "archive", "archive.fifo") == set()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("python/lib/" + "a" * 256, "has a component longer than 255 bytes"),
        ("python/lib/" + "\u00e9" * 128, "has a component longer than 255 bytes"),  # 256 bytes
        ("python/" + "/".join(["d" * 200] * 6), "is longer than 1024 bytes"),
        ("python/lib/" + "a" * 255, None),  # at the limit: fine
    ],
)
def test_over_long_names_are_refused_as_archive_faults(
    tmp_path: Path, name: str, why: str | None
) -> None:
    data = build_pbs_archive(extra_members=[file(name, b"x")])
    archive = _write_archive(tmp_path, data)
    (tmp_path / "work").mkdir()
    if why is None:
        install_archive(archive, make_target(data), tmp_path / "work" / DEST)
        return
    with pytest.raises(VerificationError, match=why) as error:
        install_archive(archive, make_target(data), tmp_path / "work" / DEST)
    assert "characters)" in error.value.message  # the name is cut, the message stays short
    assert _leftovers(tmp_path / "work") == set()
