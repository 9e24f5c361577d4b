"""The console script's fast path and the full CLI give the same answer on every input.

A synced project (with a ``.venv`` on its interpreter) is broken one way at a time: each field
of the receipt, the lock and the manifest wrong in turn, unknown keys, deep nesting, missing
files, edits that change bytes but not meaning, the interpreter deleted or replaced, the venv
changed, an invalid setting in the environment or on the command line. Then each command run
all day (``sync``, ``which``, ``run``, ``show``, ``check``, ``check --installed``, ``venv``)
runs through the console script's entry point (``pylock.cli.launcher.main``: the memo first)
and through ``pylock.cli.app.main`` (typer, the full path), each from the same starting state,
which holds the memo the full path wrote for the untouched project. Exit code, stdout and
stderr must be identical: the same answer, the same repair, or the same error.
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
from pylock.cli.app import main as typer_main
from pylock.fast import argv, memo
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
    """The synced project's inputs, to break one at a time."""

    def __init__(self, root: Path, receipt: Path) -> None:
        self.root = root
        self.lock = root / "python.lock"
        self.pyproject = root / "pyproject.toml"
        self.receipt = receipt
        self.install = receipt.parent.parent
        document = json.loads(receipt.read_text("utf-8"))
        self.interpreter = self.install / document["interpreter"]
        self.venv = root / ".venv"
        self.pyvenv_cfg = self.venv / "pyvenv.cfg"

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
    "lock: unknown [manifest] key": _lock("[manifest]", "[manifest]\nmirror = 'x'"),
    "lock: a source in lock-version 1": _lock("[manifest]", "[manifest]\nsource = 'github'"),
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
    # the install: "installed" is the receipt and the interpreter file it names
    "install: interpreter deleted": lambda p: p.interpreter.unlink(),
    "install: interpreter a directory": lambda p: _replace(p.interpreter, Path.mkdir),
    "install: interpreter a dangling symlink": lambda p: _replace(
        p.interpreter, lambda path: path.symlink_to("nowhere")
    ),
    "install: interpreter a symlink to a file": lambda p: _replace(
        p.interpreter, lambda path: path.symlink_to(p.receipt)
    ),
    "install: a file added": lambda p: (p.install / "bin" / "extra").write_text("x"),
    "install: directory gone": lambda p: shutil.rmtree(p.install),
    # the venv: pyvenv.cfg, its home, its marks, what a killed --clear leaves beside it
    ".venv: missing": lambda p: shutil.rmtree(p.venv),
    ".venv: no pyvenv.cfg": lambda p: p.pyvenv_cfg.unlink(),
    ".venv: pyvenv.cfg other home": lambda p: _venv_cfg(p, "/usr/bin", "3.12.8"),
    ".venv: pyvenv.cfg other version": lambda p: _venv_cfg(p, p.install / "bin", "3.12.7"),
    ".venv: pyvenv.cfg no version": lambda p: p.pyvenv_cfg.write_text(
        f"home = {p.install / 'bin'}\n", "utf-8"
    ),
    ".venv: pyvenv.cfg reformatted (same data)": lambda p: p.pyvenv_cfg.write_text(
        f"home={p.install / 'bin'}\r\nversion=3.12.8\r\n", "utf-8"
    ),
    ".venv: home through a symlink": lambda p: _venv_cfg(p, _link(p, p.install / "bin"), "3.12.8"),
    ".venv: home with ..": lambda p: _venv_cfg(p, p.install / "bin" / ".." / "bin", "3.12.8"),
    ".venv: home relative": lambda p: _venv_cfg(
        p, Path(os.path.relpath(p.install / "bin")), "3.12.8"
    ),
    ".venv: incomplete": lambda p: (p.venv / ".pylock-incomplete").write_bytes(b""),
    ".venv: incomplete a dangling symlink": lambda p: (p.venv / ".pylock-incomplete").symlink_to(
        "nowhere"
    ),
    ".venv: a symlink to a venv": lambda p: _symlinked_venv(p),
    ".venv: a file": lambda p: (shutil.rmtree(p.venv), p.venv.write_text("x")),
    ".venv: an old venv moved aside": lambda p: shutil.copytree(
        p.venv, p.root / ".venv.pylock-replaced-999999"
    ),
    ".venv: pyvenv.cfg unreadable (a directory)": lambda p: _replace(p.pyvenv_cfg, Path.mkdir),
}


def _replace(path: Path, make: Callable[[Path], object]) -> None:
    path.unlink()
    make(path)


def _venv_cfg(p: Project, home: Path | str, version: str) -> None:
    p.pyvenv_cfg.write_text(f"home = {home}\nversion = {version}\n", "utf-8")


def _link(p: Project, target: Path) -> Path:
    link = p.root / "bin-link"
    link.symlink_to(target)
    return link


def _symlinked_venv(p: Project) -> None:
    real = p.root / "real-venv"
    p.venv.rename(real)
    p.venv.symlink_to(real)


RUN = ["run", "--", "sh", "-c", 'printf "%s|%s\\n" "$PYLOCK_PYTHON" "${PATH%%:*}"; exit 7']
COMMANDS: dict[str, list[str]] = {
    "sync": ["sync"],
    "sync -q": ["sync", "-q"],
    "which": ["which"],
    "run": RUN,
    "show": ["show"],
    "show --format json": ["show", "--format", "json"],
    "check": ["check"],
    "check --installed": ["check", "--installed"],
    "check --format json": ["check", "--format", "json"],
    "venv": ["venv"],
}
VARIANTS = ("sync -q", "show --format json", "check --format json")
"""Another rendering of a command's answer: run on a part of the table (each kind of input),
the whole of it going to the command itself."""
VARIANT_CASES = (
    "untouched",
    "receipt: other url (same bytes)",
    "receipt: other build",
    "receipt: not JSON",
    "lock: other version",
    "lock: reformatted (same data)",
    "lock: [manifest] python = 5",
    "manifest: stale python",
    "manifest: a comment (same data)",
    "install: interpreter deleted",
    ".venv: pyvenv.cfg other home",
    ".venv: home through a symlink",
)

OPTIONS: dict[str, list[str]] = {
    "--frozen with a stale manifest": ["--frozen"],
    "--platform of another target": ["--platform", "windows-x86_64-none"],
    "--into an empty place": ["--into", "{tmp}/opt-python"],
    "--python a request": ["--python", "3.12"],
    "--python a locked version": ["--python", "3.12.8"],
    "--python none of the lock's": ["--python", "3.13"],
    "--venv .venv": ["--venv", "{project}/.venv"],
    "--venv elsewhere": ["--venv", "{tmp}/elsewhere"],
    "--color always": ["--color", "always"],
    "a venv PATH": ["{project}/other-venv"],
}
WHICH_OPTIONS = ("--platform", "--python", "--into", "--color")
TAKES = {
    command: {
        option
        for option, words in OPTIONS.items()
        if (words[0] in argv.COMMAND_FLAGS[name] + argv.COMMAND_VALUES[name])
        or words[0] in argv.GLOBAL_VALUES
        or (name == "venv" and not words[0].startswith("-"))
    }
    for command, name in ((c, words[0]) for c, words in COMMANDS.items())
}
SETTINGS: dict[str, tuple[dict[str, str], list[str]]] = {
    "PYLOCK_HTTP_TIMEOUT=abc": ({"PYLOCK_HTTP_TIMEOUT": "abc"}, []),
    "PYLOCK_HTTP_DEADLINE=-1": ({"PYLOCK_HTTP_DEADLINE": "-1"}, []),
    "PYLOCK_OFFLINE=maybe": ({"PYLOCK_OFFLINE": "maybe"}, []),
    "PYLOCK_MAX_INSTALL_BYTES=lots": ({"PYLOCK_MAX_INSTALL_BYTES": "lots"}, []),
    "PYLOCK_MAX_INSTALL_MEMBERS=0": ({"PYLOCK_MAX_INSTALL_MEMBERS": "0"}, []),
    "PYLOCK_SIGSTORE_OFFLINE=maybe": ({"PYLOCK_SIGSTORE_OFFLINE": "maybe"}, []),
    "PYLOCK_MIRROR_TOKEN with a space": ({"PYLOCK_MIRROR_TOKEN": "abc def"}, []),
    "PYLOCK_MIRROR_TOKEN (valid)": ({"PYLOCK_MIRROR_TOKEN": "abc.def-123"}, []),
    "PYLOCK_OFFLINE=1 (valid)": ({"PYLOCK_OFFLINE": "1"}, []),
    "NO_COLOR=1 (valid)": ({"NO_COLOR": "1"}, []),
    "--http-timeout -5": ({}, ["--http-timeout", "-5"]),
    "--http-deadline inf": ({}, ["--http-deadline", "inf"]),
}


def _fingerprint(tree: Path) -> list[tuple[str, int, int, int, int]]:
    """What changes when anything in ``tree`` does: each entry's name, type and mode, size,
    mtime and inode (the tree itself included), without reading a byte."""
    entries = []
    for path in (tree, *sorted(tree.rglob("*"))) if tree.is_dir() else (tree,):
        try:
            found = path.lstat()
        except OSError:
            return []
        entries.append((str(path), found.st_mode, found.st_size, found.st_mtime_ns, found.st_ino))
    return entries


def _forked(main: Callable[[], object]) -> tuple[int, str, str]:
    """Run ``main`` in a forked child with its own stdout and stderr pipes: ``pylock run``
    replaces its process with the command, so it cannot run in the test's. A fork (not a new
    interpreter) keeps each of the many runs cheap; the exec itself is real."""
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: never returns into pytest
        code = 70
        try:
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            sys.stdout = os.fdopen(1, "w", closefd=False)
            sys.stderr = os.fdopen(2, "w", closefd=False)
            try:
                main()
                code = 0
            except SystemExit as exited:
                code = exited.code if isinstance(exited.code, int) else 1
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(out_write)
    os.close(err_write)
    with os.fdopen(out_read, "rb") as out, os.fdopen(err_read, "rb") as err:
        printed, said = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), printed.decode(), said.decode()


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_the_fast_and_the_full_path_agree_on_every_input(
    command: str,
    fake_pbs: FakePBS,
    tmp_path: Path,
    isolated_environment: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert len(CASES) >= 80
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(tmp_path)  # the relative paths of the cases are relative to tmp_path
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
    monkeypatch.setenv("PYLOCK_SOURCE", fake_pbs.spec)  # not --source: a lock recording none
    assert pylock(capsys, "-p", str(project), "lock")[0] == 0
    monkeypatch.delenv("PYLOCK_SOURCE")
    assert pylock(capsys, "-p", str(project), "sync")[0] == 0
    home = isolated_environment
    (receipt,) = (home / "python").glob("*/.pylock/receipt.json")
    untouched = Project(project, receipt)
    untouched.venv.mkdir()
    _venv_cfg(untouched, untouched.install / "bin", "3.12.8")
    args = ["-p", str(project), *COMMANDS[command]]
    # The full path answers the untouched project once and remembers it: every case starts
    # from that memo, which the fast path must not replay for any input that changed.
    if command == "run":
        assert _forked(lambda: typer_main(args))[0] == 7
    else:
        assert pylock(capsys, *args)[0] == 0
    memos = home / "cache" / memo.MEMO_DIR
    saved = {
        path: path.read_bytes()
        for path in (project / "python.lock", project / "pyproject.toml", *memos.iterdir())
    }
    backup = tmp_path / "backup"
    trees = {untouched.install: backup / "install", untouched.venv: backup / "venv"}
    for tree, copy in trees.items():
        shutil.copytree(tree, copy, symlinks=True)
    intact = {tree: _fingerprint(tree) for tree in trees}
    roots = (home / "python", home / "cache", memos, project, tmp_path)
    listings = {root: set(root.iterdir()) for root in roots}

    def restore() -> None:
        """Undo a run: the install and the venv as they were (copied back when anything in
        them changed), what the cases edit, and whatever a run added."""
        for tree, copy in trees.items():
            if _fingerprint(tree) == intact[tree]:
                continue
            if tree.is_symlink() or tree.is_file():
                tree.unlink()
            elif tree.exists():
                shutil.rmtree(tree)
            shutil.copytree(copy, tree, symlinks=True)
            intact[tree] = _fingerprint(tree)
        for root, before in listings.items():
            root.mkdir(parents=True, exist_ok=True)
            for path in set(root.iterdir()) - before:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        for path, data in saved.items():
            path.write_bytes(data)

    def fast(words: list[str]) -> tuple[int, str, str]:
        def script() -> None:
            monkeypatch.setattr(sys, "argv", ["pylock", *words])
            launcher.main()

        if command == "run":
            return _forked(script)
        with pytest.raises(SystemExit) as exited:
            script()
        out, err = capsys.readouterr()
        code = exited.value.code
        return (code if isinstance(code, int) else 1), out, err

    def full(words: list[str]) -> tuple[int, str, str]:
        if command == "run":
            return _forked(lambda: typer_main(words))
        return pylock(capsys, *words)

    restore()
    parsed = argv.parse(args)
    assert parsed is not None  # the console script parses it itself: memo, then console.run_*
    assert launcher._recall(*parsed) is not None  # the untouched project: answered from the memo

    cases = {n: CASES[n] for n in VARIANT_CASES} if command in VARIANTS else CASES
    runs: list[tuple[str, Edit, list[str], dict[str, str]]] = [
        (name, edit, args, {}) for name, edit in cases.items()
    ]
    stale = _manifest('[tool.pylock]\npython = "3.13"\n')
    for name in sorted(TAKES[command]):
        words = [w.format(tmp=tmp_path, project=project) for w in OPTIONS[name]]
        cut = 3 if command == "run" else len(args)  # run's options go before its command
        edit = stale if "stale" in name else CASES["untouched"]
        runs.append((name, edit, [*args[:cut], *words, *args[cut:]], {}))
    for name, (environ, words) in SETTINGS.items():
        if words and words[0] not in argv.COMMAND_VALUES[COMMANDS[command][0]]:
            continue
        cut = 3 if command == "run" else len(args)
        runs.append((name, CASES["untouched"], [*args[:cut], *words, *args[cut:]], environ))
    disagreements = []
    outcomes: dict[str, tuple[int, str, str]] = {}
    for name, edit, words, environ in runs:
        results = []
        for run in (fast, full):
            restore()
            edit(Project(project, receipt))
            with monkeypatch.context() as patch:
                for variable, value in environ.items():
                    patch.setenv(variable, value)
                results.append(run(words))
        if results[0] != results[1]:
            disagreements.append(f"{name}:\n  fast: {results[0]}\n  full: {results[1]}")
        outcomes[name] = results[1]
        assert "Traceback" not in results[1][2], (name, results[1])
    assert not disagreements, "\n".join(disagreements)
    _assert_not_vacuous(command, outcomes)


def _assert_not_vacuous(command: str, outcomes: dict[str, tuple[int, str, str]]) -> None:
    """The table holds answers, repairs and each kind of error for every command."""
    codes = {name: outcome[0] for name, outcome in outcomes.items()}
    ok = 7 if command == "run" else 0  # run exits as its command does
    assert codes["untouched"] == ok
    assert {ok, 2} <= set(codes.values())
    for name in SETTINGS.keys() & codes.keys():
        assert codes[name] == (ok if "valid" in name else 2), name
    assert "PYLOCK_HTTP_TIMEOUT is 'abc'" in outcomes["PYLOCK_HTTP_TIMEOUT=abc"][2]
    assert codes["lock: [manifest] python = 5"] == 2
    if command in ("which", "run", "check --installed"):
        for name in ("install: interpreter deleted", "install: directory gone"):
            assert codes[name] == 1, name  # never answered from the memo
    if command.startswith("sync"):
        assert 1 in codes.values()
        assert codes["install: interpreter deleted"] == 0  # reinstalled, not replayed
        assert outcomes["install: interpreter deleted"][1] == outcomes["receipt: other build"][1]
    if command == "sync":
        assert "Installed" in outcomes["install: interpreter deleted"][1]
        printed = {name: outcome[1] for name, outcome in outcomes.items()}
        assert "already installed" in printed["receipt: other url (same bytes)"]  # no reinstall
        assert "Installed" in printed["receipt: other build"]
        assert codes["manifest: stale python"] == 1
        for name in (
            "manifest: exclude-newer the build's day",
            "manifest: exclude-newer as YYYYMMDD",
            "manifest: exclude-newer a TOML date",
            "lock: no size (a catalog states none)",
            "lock: [manifest] exclude-newer recorded",
        ):
            assert codes[name] == 0 and "already installed" in printed[name], name
        assert codes["manifest: exclude-newer before the build"] == 1  # stale: `pylock lock`
        for name in (
            "manifest: exclude-newer not a day",
            "manifest: exclude-newer a date and time",
            "manifest: exclude-newer a number",
            "lock: [manifest] exclude-newer not a day",
        ):
            assert codes[name] == 2, name
        # provenance: a record the policy accepts is current, one it does not is stale (1), and
        # a malformed record or policy is bad input (2)
        for name in (
            "lock: provenance never looked at",
            "lock: provenance a proof",
            "manifest: provenance off",
        ):
            assert codes[name] == 0 and "already installed" in printed[name], name
        assert codes["manifest: provenance required"] == 1
        assert codes["manifest: provenance of another repository"] == 0  # a record of none
        for name in (
            "lock: lock-version 2 with provenance",
            "lock: lock-version 4",
            "lock: provenance a number",
            "lock: provenance a proof without its commit",
            "manifest: provenance policy unknown",
            "manifest: provenance key unknown",
        ):
            assert codes[name] == 2, name
    if command == "which":
        assert outcomes["manifest: stale python"][2].startswith("warning: ")
        assert codes["manifest: stale python"] == 0
    if command.startswith("check"):
        assert codes[".venv: pyvenv.cfg other home"] == 1
        assert codes[".venv: home through a symlink"] == 0
    if command == "check":
        assert codes[".venv: incomplete"] == 1
    if command == "venv":
        assert "Already up to date" in outcomes["untouched"][1]
        assert codes[".venv: pyvenv.cfg other home"] == 2
