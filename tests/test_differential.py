"""The console script's fast path and the full CLI give the same outcome on every input.

A synced project is broken one way at a time (each field of the receipt, the lock and the
manifest wrong in turn, unknown keys, deep nesting, missing files, and edits that change bytes
but not meaning); then ``pylock sync`` runs through the console script's entry point
(``pylock.cli.launcher.main``: the no-op memo first) and through ``pylock.cli.app.main`` (typer, the
full path), each from the same starting state. Exit code, stdout and stderr must be identical:
already installed, reinstalled, or the same error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from archives import asset_name, build_pbs_archive
from clirun import pylock
from pbs_server import FakePBS
from pylock.cli import launcher
from pylock.fast import noop
from pylock.project.platforms import host_platform

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the synthetic interpreters are /bin/sh scripts"
)

HOST = host_platform()
BUILD = "20260101"
DEEP = "[" * 3000 + "]" * 3000
MANIFEST = f'[tool.pylock]\npython = "3.12"\nplatforms = ["{HOST.key}"]\n'
PROVENANCE = "[tool.pylock.provenance]\n"
PROOF = (
    '{ signer = "https://github.com/astral-sh/python-build-standalone/.github/workflows/'
    'release.yml@refs/heads/main", repository = "https://github.com/astral-sh/'
    'python-build-standalone", commit = "abc", issuer = "https://token.actions.'
    'githubusercontent.com", log-index = 7 }'
)

Edit = Callable[["Project"], None]


class Project:
    """The synced project's three inputs, to break one at a time."""

    def __init__(self, root: Path, receipt: Path) -> None:
        self.lock = root / "python.lock"
        self.pyproject = root / "pyproject.toml"
        self.receipt = receipt

    def sub_lock(self, old: str, new: str) -> None:
        text = self.lock.read_text("utf-8")
        assert old in text, old
        self.lock.write_text(text.replace(old, new, 1), "utf-8")

    def drop_lock_line(self, pattern: str) -> None:
        text, found = re.subn(rf"(?m)^{pattern}\n", "", self.lock.read_text("utf-8"), count=1)
        assert found == 1, pattern
        self.lock.write_text(text, "utf-8")

    def edit_receipt(self, change: Callable[[dict[str, object]], object]) -> None:
        document = json.loads(self.receipt.read_text("utf-8"))
        change(document)
        self.receipt.write_text(json.dumps(document, indent=2), "utf-8")

    def edit_receipt_target(self, key: str, value: object) -> None:
        def change(document: dict[str, object]) -> None:
            target = document["target"]
            assert isinstance(target, dict)
            target[key] = value

        self.edit_receipt(change)


def _receipt_field(key: str, value: object) -> Edit:
    return lambda p: p.edit_receipt(lambda d: d.__setitem__(key, value))


def _receipt_drop(key: str) -> Edit:
    return lambda p: p.edit_receipt(lambda d: d.pop(key))


def _target_field(key: str, value: object) -> Edit:
    return lambda p: p.edit_receipt_target(key, value)


def _moved_to_a_mirror(receipt: dict[str, object]) -> None:
    """The receipt of an install made from a mirror's copy: ``{mirror}/{build}/{asset}``."""
    target = receipt["target"]
    assert isinstance(target, dict)
    build, asset = str(target["url"]).rsplit("/", 2)[1:]
    target["url"] = f"https://mirror.example/pbs/{build}/{asset}"


def _lock(old: str, new: str) -> Edit:
    return lambda p: p.sub_lock(old, new)


def _manifest(text: str) -> Edit:
    return lambda p: p.pyproject.write_text(text, "utf-8")


SECOND_TARGET = (
    '\n[[target]]\nplatform = "windows-x86_64-none"\ntriple = "x86_64-pc-windows-msvc"\n'
    'implementation = "cpython"\nversion = "3.12.8"\nbuild = "20260101"\n'
    'flavor = "install_only_stripped"\nvariant = "default"\n'
    'url = "https://example.com/cpython-3.12.8%2B20260101-x86_64-pc-windows-msvc-'
    'install_only_stripped.tar.gz"\nsize = 10\nsha256 = "{sha}"\n'
)

CASES: dict[str, Edit] = {
    "untouched": lambda p: None,
    # the receipt, each field wrong in turn
    "receipt: receipt_version 2": _receipt_field("receipt_version", 2),
    "receipt: no target": _receipt_drop("target"),
    "receipt: target is a string": _receipt_field("target", "x"),
    "receipt: tree_digest not a sha256": _receipt_field("tree_digest", "nothex"),
    "receipt: interpreter outside the tree": _receipt_field("interpreter", "../bin/python3"),
    "receipt: interpreter absolute": _receipt_field("interpreter", "/usr/bin/python3"),
    "receipt: no installed_at": _receipt_drop("installed_at"),
    "receipt: no pylock_version": _receipt_drop("pylock_version"),
    "receipt: pylock_version a number": _receipt_field("pylock_version", 1),
    "receipt: an unknown key": _receipt_field("comment", "hello"),
    "receipt: other platform": _target_field("platform", "windows-x86_64-none"),
    "receipt: other triple": _target_field("triple", "x86_64-pc-windows-msvc"),
    "receipt: other implementation": _target_field("implementation", "pypy"),
    "receipt: other version": _target_field("version", "3.12.7"),
    "receipt: other build": _target_field("build", "20250101"),
    "receipt: other flavor": _target_field("flavor", "install_only"),
    "receipt: other variant": _target_field("variant", "freethreaded"),
    "receipt: other url (same bytes)": lambda p: p.edit_receipt(_moved_to_a_mirror),
    "receipt: size a string": _target_field("size", "847"),
    "receipt: other sha256": _target_field("sha256", "0" * 64),
    "receipt: deep nesting": lambda p: p.receipt.write_text("[" * 100_000 + "]" * 100_000),
    "receipt: not JSON": lambda p: p.receipt.write_text("{"),
    "receipt: missing": lambda p: p.receipt.unlink(),
    # the lock
    # the default policy recorded that the fake GitHub has no attestation: lock-version 3
    "lock: lock-version 2 with provenance": _lock("lock-version = 3", "lock-version = 2"),
    "lock: lock-version 4": _lock("lock-version = 3", "lock-version = 4"),
    "lock: provenance never looked at": lambda p: p.drop_lock_line('provenance = "none"'),
    "lock: provenance a number": _lock('provenance = "none"', "provenance = 5"),
    "lock: provenance a proof": _lock('provenance = "none"', f"provenance = {PROOF}"),
    "lock: provenance a proof without its commit": _lock(
        'provenance = "none"', "provenance = " + PROOF.replace('commit = "abc", ', "")
    ),
    "lock: created-by a number": _lock('created-by = "pylock"', "created-by = 5"),
    "lock: [manifest] python = 5": _lock('python = "3.12"', "python = 5"),
    "lock: unknown top-level key": _lock("created-by", 'extra = "key"\ncreated-by'),
    "lock: unknown [manifest] key": _lock("[manifest]", "[manifest]\nsource = 'github'"),
    "lock: unknown target key": _lock("[[target]]", "[[target]]\ncomment = 'x'"),
    "lock: a second target whose sha256 is not hex": lambda p: p.lock.write_text(
        p.lock.read_text("utf-8") + SECOND_TARGET.format(sha="z" * 64), "utf-8"
    ),
    "lock: a valid second target": lambda p: p.lock.write_text(
        p.lock.read_text("utf-8") + SECOND_TARGET.format(sha="a" * 64), "utf-8"
    ),
    "lock: size a string": _lock("size = ", "size = '1'\nx = "),
    "lock: no size (a catalog states none)": lambda p: p.drop_lock_line(r"size = \d+"),
    "lock: [manifest] exclude-newer recorded": _lock(
        "[manifest]", '[manifest]\nexclude-newer = "2026-01-01"'
    ),
    "lock: [manifest] exclude-newer not a day": _lock(
        "[manifest]", '[manifest]\nexclude-newer = "2026-02-30"'
    ),
    "lock: other version": _lock('version = "3.12.8"', 'version = "3.12.9"'),
    "lock: variant unknown": _lock('variant = "default"', 'variant = "fast"'),
    "lock: deep nesting": lambda p: p.lock.write_text(
        p.lock.read_text("utf-8") + f"\n[deep]\nx = {DEEP}\n", "utf-8"
    ),
    "lock: invalid TOML": lambda p: p.lock.write_text("lock-version = ", "utf-8"),
    "lock: not UTF-8": lambda p: p.lock.write_bytes(b"\xff\xfe"),
    "lock: missing": lambda p: p.lock.unlink(),
    "lock: reformatted (same data)": lambda p: p.lock.write_text(
        p.lock.read_text("utf-8").replace(" = ", "="), "utf-8"
    ),
    # the manifest
    "manifest: stale python": _manifest('[tool.pylock]\npython = "3.13"\n'),
    "manifest: python a number": _manifest("[tool.pylock]\npython = 3.12\n"),
    "manifest: unknown key": _manifest('[tool.pylock]\npython = "3.12"\npythn = "3"\n'),
    "manifest: empty platforms": _manifest('[tool.pylock]\npython = "3.12"\nplatforms = []\n'),
    "manifest: other platform": _manifest(
        '[tool.pylock]\npython = "3.12"\nplatforms = ["windows-aarch64-none"]\n'
    ),
    "manifest: source a number": _manifest('[tool.pylock]\npython = "3.12"\nsource = 5\n'),
    "manifest: blank mirror": _manifest('[tool.pylock]\npython = "3.12"\nmirror = " "\n'),
    "manifest: other build pinned": _manifest(
        '[tool.pylock]\npython = "3.12"\nbuild = "20250101"\n'
    ),
    "manifest: flavor pinned": _manifest(
        '[tool.pylock]\npython = "3.12"\nflavor = "install_only_stripped"\n'
    ),
    "manifest: exclude-newer the build's day": _manifest(
        MANIFEST + 'exclude-newer = "2026-01-01"\n'
    ),
    "manifest: exclude-newer as YYYYMMDD": _manifest(MANIFEST + 'exclude-newer = "20260101"\n'),
    "manifest: exclude-newer a TOML date": _manifest(MANIFEST + "exclude-newer = 2026-01-01\n"),
    "manifest: exclude-newer before the build": _manifest(
        MANIFEST + 'exclude-newer = "2025-12-31"\n'
    ),
    "manifest: exclude-newer not a day": _manifest(MANIFEST + 'exclude-newer = "2026-02-30"\n'),
    "manifest: exclude-newer a date and time": _manifest(
        MANIFEST + 'exclude-newer = "2026-01-01T00:00"\n'
    ),
    "manifest: exclude-newer a number": _manifest(MANIFEST + "exclude-newer = 20260101\n"),
    "manifest: a range": _manifest('[tool.pylock]\npython = ">=3.12,<3.13"\n'),
    "manifest: provenance required": _manifest(MANIFEST + PROVENANCE + 'policy = "require"\n'),
    "manifest: provenance off": _manifest(MANIFEST + PROVENANCE + 'policy = "off"\n'),
    "manifest: provenance of another repository": _manifest(
        MANIFEST + PROVENANCE + 'repository = "someone/else"\n'
    ),
    "manifest: provenance policy unknown": _manifest(MANIFEST + PROVENANCE + 'policy = "on"\n'),
    "manifest: provenance key unknown": _manifest(MANIFEST + PROVENANCE + 'owner = "x"\n'),
    "manifest: deep nesting elsewhere": _manifest(MANIFEST + f"\n[tool.other]\nx = {DEEP}\n"),
    "manifest: invalid TOML": _manifest("[tool.pylock\n"),
    "manifest: a comment (same data)": _manifest("# hello\n" + MANIFEST),
    "manifest: missing": lambda p: p.pyproject.unlink(),
}

OPTIONS: dict[str, list[str]] = {
    "--frozen with a stale manifest": ["--frozen"],
    "--platform of another target": ["--platform", "windows-x86_64-none"],
    "--into an empty place": ["--into", "{tmp}/opt-python"],
}


def test_the_fast_and_the_full_path_agree_on_every_input(
    fake_pbs: FakePBS,
    tmp_path: Path,
    isolated_environment: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert len(CASES) + len(OPTIONS) >= 40
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(MANIFEST, "utf-8")
    fake_pbs.add_release(
        BUILD,
        [
            (
                asset_name(version="3.12.8", build=BUILD, triple=HOST.triple, flavor=flavor),
                build_pbs_archive(version="3.12.8", flavor=flavor),
            )
            for flavor in ("install_only", "install_only_stripped")
        ],
    )
    assert pylock(capsys, "-p", str(project), "lock", "--source", fake_pbs.spec)[0] == 0
    assert pylock(capsys, "-p", str(project), "sync")[0] == 0
    home = isolated_environment
    (receipt,) = (home / "python").glob("*/.pylock/receipt.json")
    memos = home / "cache" / noop.MEMO_DIR
    saved = {
        path: path.read_bytes() for path in (project / "python.lock", project / "pyproject.toml")
    }
    saved[receipt] = receipt.read_bytes()
    saved.update((path, path.read_bytes()) for path in memos.iterdir())
    listings = {root: set(root.iterdir()) for root in (home / "python", home / "cache", memos)}

    def restore() -> None:
        """Undo a run cheaply: what the cases edit, and whatever a run added."""
        for root, before in listings.items():
            for path in set(root.iterdir()) - before:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        for path, data in saved.items():
            path.write_bytes(data)
        if (tmp_path / "opt-python").exists():
            shutil.rmtree(tmp_path / "opt-python")

    def fast(args: list[str]) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["pylock", *args])
        with pytest.raises(SystemExit) as exited:
            launcher.main()
        out, err = capsys.readouterr()
        code = exited.value.code
        return (code if isinstance(code, int) else 1), out, err

    restore()
    assert (
        noop.check(str(project), environ=os.environ) is not None
    )  # the untouched project takes the fast path
    runs = [(name, edit, ["sync"]) for name, edit in CASES.items()]
    stale = _manifest('[tool.pylock]\npython = "3.13"\n')
    runs += [
        (name, stale if "stale" in name else CASES["untouched"], ["sync", *options])
        for name, options in OPTIONS.items()
    ]
    disagreements = []
    outcomes: dict[str, int] = {}
    printed: dict[str, str] = {}
    for name, edit, command in runs:
        args = ["-p", str(project), *(a.format(tmp=tmp_path) for a in command)]
        results = []
        for run in (fast, lambda a: pylock(capsys, *a)):
            restore()
            edit(Project(project, receipt))
            results.append(run(args))
        if results[0] != results[1]:
            disagreements.append(f"{name}:\n  fast: {results[0]}\n  full: {results[1]}")
        outcomes[name], printed[name] = results[1][0], results[1][1]
        assert "Traceback" not in results[1][2], name
    assert not disagreements, "\n".join(disagreements)
    # The table is not vacuous: it holds no-ops, reinstalls and each kind of error.
    assert {0, 1, 2} <= set(outcomes.values())
    assert outcomes["untouched"] == 0
    assert "already installed" in printed["receipt: other url (same bytes)"]  # no reinstall
    assert "Installed" in printed["receipt: other build"]
    assert outcomes["lock: [manifest] python = 5"] == 2
    assert outcomes["lock: a second target whose sha256 is not hex"] == 2
    assert outcomes["manifest: stale python"] == 1
    # provenance: a record the policy accepts is current, one it does not is stale (1), and a
    # malformed record or policy is bad input (2)
    for name in (
        "lock: provenance never looked at",
        "lock: provenance a proof",
        "manifest: provenance off",
    ):
        assert outcomes[name] == 0 and "already installed" in printed[name], name
    assert outcomes["manifest: provenance required"] == 1
    assert outcomes["manifest: provenance of another repository"] == 0  # a record of none
    for name in (
        "lock: lock-version 2 with provenance",
        "lock: lock-version 4",
        "lock: provenance a number",
        "lock: provenance a proof without its commit",
        "manifest: provenance policy unknown",
        "manifest: provenance key unknown",
    ):
        assert outcomes[name] == 2, name
    # exclude-newer (the full path's manifest.load and drift decide) and a lock without sizes
    for name in (
        "manifest: exclude-newer the build's day",
        "manifest: exclude-newer as YYYYMMDD",
        "manifest: exclude-newer a TOML date",
        "lock: no size (a catalog states none)",
        "lock: [manifest] exclude-newer recorded",
    ):
        assert outcomes[name] == 0 and "already installed" in printed[name], name
    assert outcomes["manifest: exclude-newer before the build"] == 1  # stale: `pylock lock`
    for name in (
        "manifest: exclude-newer not a day",
        "manifest: exclude-newer a date and time",
        "manifest: exclude-newer a number",
        "lock: [manifest] exclude-newer not a day",
    ):
        assert outcomes[name] == 2, name
