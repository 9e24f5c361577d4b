"""The install receipt, the RECORD format and the tree rescan behind ``check --deep``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from archives import make_target
from pylock.errors import VerificationError
from pylock.install.receipt import (
    META_DIR,
    RECEIPT_NAME,
    RECORD_NAME,
    Receipt,
    RecordEntry,
    format_record,
    parse_record,
    read_receipt,
    read_record,
    record_digest,
    scan_tree,
    write_receipt,
)

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


def _names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def _receipt(**changes: object) -> Receipt:
    receipt = Receipt(
        target=make_target(b"archive bytes", version="3.15.0rc1"),
        pylock_version="0.1.0",
        installed_at="2025-01-02T03:04:05.678901Z",
        tree_digest="ab" * 32,
        interpreter="bin/python3.15",
    )
    return dataclasses.replace(receipt, **changes)  # type: ignore[arg-type]


def test_receipt_round_trip(tmp_path: Path) -> None:
    receipt = _receipt()
    write_receipt(tmp_path, receipt)
    assert read_receipt(tmp_path) == receipt
    # Only the receipt itself is left behind: the temp file was renamed into place.
    assert _names(tmp_path / META_DIR) == [RECEIPT_NAME]


def test_receipt_keeps_the_lock_entry_verbatim(tmp_path: Path) -> None:
    receipt = _receipt()
    write_receipt(tmp_path, receipt)
    document = json.loads((tmp_path / META_DIR / RECEIPT_NAME).read_text())
    assert document["target"] == {
        key: value
        for key, value in dataclasses.asdict(receipt.target).items()
        if key not in ("request", "provenance")
    }
    assert document["tree_digest"] == receipt.tree_digest


def test_write_receipt_replaces_an_older_one(tmp_path: Path) -> None:
    write_receipt(tmp_path, _receipt())
    newer = _receipt(installed_at="2026-01-01T00:00:00.000000Z")
    write_receipt(tmp_path, newer)
    assert read_receipt(tmp_path) == newer
    assert _names(tmp_path / META_DIR) == [RECEIPT_NAME]


def test_missing_receipt_is_none(tmp_path: Path) -> None:
    assert read_receipt(tmp_path) is None
    assert read_receipt(tmp_path / "does-not-exist") is None


def _document() -> dict[str, object]:
    """A valid receipt document, as fresh nested dicts each time."""
    return {
        "receipt_version": 1,
        # as receipt_json writes it: an absent optional key stays absent, not null
        "target": {k: v for k, v in dataclasses.asdict(_receipt().target).items() if v is not None},
        "pylock_version": "0.1.0",
        "installed_at": "2025-01-02T03:04:05Z",
        "tree_digest": "ab" * 32,
        "interpreter": "bin/python3.12",
    }


def _broken(key: str, value: object) -> dict[str, object]:
    document = _document()
    if key.startswith("target."):
        target = document["target"]
        assert isinstance(target, dict)
        target[key.removeprefix("target.")] = value
    else:
        document[key] = value
    return document


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe",
        b"[]",
        json.dumps(_broken("receipt_version", 2)).encode(),
        json.dumps(_broken("target", "cpython")).encode(),
        json.dumps(_broken("target.size", "123")).encode(),
        json.dumps(_broken("target.size", True)).encode(),
        json.dumps(_broken("target.sha256", None)).encode(),
        json.dumps(_broken("tree_digest", "not-a-digest")).encode(),
        json.dumps(_broken("interpreter", "../../usr/bin/python3")).encode(),
        json.dumps(_broken("interpreter", "/usr/bin/python3")).encode(),
        json.dumps(_broken("installed_at", 12)).encode(),
    ],
)
def test_unreadable_receipt_is_none_never_an_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / META_DIR).mkdir()
    (tmp_path / META_DIR / RECEIPT_NAME).write_bytes(content)
    assert read_receipt(tmp_path) is None


def test_the_valid_document_used_above_does_parse(tmp_path: Path) -> None:
    # Guards the parametrised test: its documents differ from a good one in one key only.
    (tmp_path / META_DIR).mkdir()
    (tmp_path / META_DIR / RECEIPT_NAME).write_text(json.dumps(_document()))
    receipt = read_receipt(tmp_path)
    assert receipt is not None and receipt.interpreter == "bin/python3.12"


def test_format_record_sorts_and_spells_modes() -> None:
    entries = [
        RecordEntry("lib/os.py", 0o644, "a" * 64),
        RecordEntry("bin/python3", 0o777, "->python3.12"),
        RecordEntry("bin/python3.12", 0o755, "b" * 64),
    ]
    assert format_record(entries) == (
        "bin/python3\t0777\t->python3.12\n"
        f"bin/python3.12\t0755\t{'b' * 64}\n"
        f"lib/os.py\t0644\t{'a' * 64}\n"
    )
    assert parse_record(format_record(entries)) == sorted(entries, key=lambda e: e.path)


def test_format_record_refuses_a_tab_in_a_path() -> None:
    with pytest.raises(ValueError, match="tab or newline"):
        format_record([RecordEntry("bad\tname", 0o644, "a" * 64)])


def test_read_record_missing_or_malformed(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match="Cannot read the install record"):
        read_record(tmp_path)
    (tmp_path / META_DIR).mkdir()
    (tmp_path / META_DIR / RECORD_NAME).write_text("bin/python3.12\t0755\n")
    with pytest.raises(VerificationError, match="line 1") as error:
        read_record(tmp_path)
    assert error.value.exit_code == 1


def _sample_tree(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python3.12").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "bin" / "python3.12").chmod(0o755)
    (root / "lib" / "python3.12" / "__pycache__").mkdir(parents=True)
    (root / "lib" / "python3.12" / "os.py").write_bytes(b"import sys\n")
    (root / "lib" / "python3.12" / "os.py").chmod(0o644)
    (root / "lib" / "python3.12" / "__pycache__" / "os.cpython-312.pyc").write_bytes(b"pyc")
    (root / "lib" / "empty").mkdir()
    (root / "lib" / "BUILD").write_bytes(b"not the top-level BUILD\n")
    (root / "lib" / "BUILD").chmod(0o644)
    (root / "BUILD").write_text("20241219\n")
    (root / META_DIR).mkdir()
    (root / META_DIR / RECORD_NAME).write_text("")


@needs_symlinks
def test_scan_tree_hashes_files_and_reads_links(tmp_path: Path) -> None:
    _sample_tree(tmp_path)
    (tmp_path / "bin" / "python3").symlink_to("python3.12")
    (tmp_path / "lib" / "dirlink").symlink_to("python3.12")  # a link to a dir is not followed
    assert scan_tree(tmp_path) == [
        RecordEntry("bin/python3", 0o777, "->python3.12"),
        RecordEntry("bin/python3.12", 0o755, hashlib.sha256(b"#!/bin/sh\necho hi\n").hexdigest()),
        RecordEntry("lib/BUILD", 0o644, hashlib.sha256(b"not the top-level BUILD\n").hexdigest()),
        RecordEntry("lib/dirlink", 0o777, "->python3.12"),
        RecordEntry("lib/python3.12/os.py", 0o644, hashlib.sha256(b"import sys\n").hexdigest()),
    ]


def test_scan_tree_of_many_files_matches_a_sequential_hash(tmp_path: Path) -> None:
    expected = []
    for index in range(300):
        data = f"file {index}\n".encode() * (index + 1)
        path = tmp_path / f"d{index % 7}" / f"f{index:03d}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
        relative = f"d{index % 7}/f{index:03d}"
        expected.append(RecordEntry(relative, 0o644, hashlib.sha256(data).hexdigest()))
    assert scan_tree(tmp_path) == sorted(expected, key=lambda e: e.path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_scan_tree_flags_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    [entry] = scan_tree(tmp_path)
    assert entry.path == "pipe" and entry.digest.startswith("!")


def test_record_digest_is_sha256_of_the_text() -> None:
    text = format_record([RecordEntry("a", 0o644, "c" * 64)])
    assert record_digest(text) == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platform", "mars-x86_64-none"),
        ("triple", "x86_64-unknown-mars"),
        ("implementation", "pypy"),
        ("build", "2025"),
        ("variant", "fast"),
        ("sha256", "AB" * 32),
        ("size", 0),
        ("url", "http://example.com/cpython.tar.gz"),
        ("version", "3.99.1"),
        ("flavor", "pgo+lto-full"),
        ("color", "blue"),
    ],
)
def test_a_receipt_target_is_decoded_by_the_lock_s_own_rules(
    tmp_path: Path, field: str, value: object
) -> None:
    """The receipt holds the lock's entry verbatim, so it is read by the lock's decoder: an
    entry python.lock would refuse is no receipt (the install is redone), never half-trusted."""
    from pylock.resolution import lockfile

    document = _broken(f"target.{field}", value)
    target = document["target"]
    assert isinstance(target, dict)
    lock_document = {
        "lock-version": 1,
        "created-by": "pylock",
        "manifest": {"python": "3.15", "platforms": []},
        "target": [{k: v for k, v in target.items() if v is not None}],
    }
    assert lockfile.validate(lock_document)[1] != []  # the lock refuses it ...
    (tmp_path / META_DIR).mkdir()
    (tmp_path / META_DIR / RECEIPT_NAME).write_text(json.dumps(document))
    assert read_receipt(tmp_path) is None  # ... and so does the receipt
