"""A test matrix through the library: ``lock_project`` with several python requests.

Each request must resolve exactly as it would alone, editing or adding one must leave the others'
targets as they were, and a matrix whose requests only moved must be rewritten without a request
to the source. The releases are published on the fake GitHub on loopback (``test_locking``'s
helpers), with archives for every platform asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from pbs_server import FakePBS, synthetic_body
from pylock.base.settings import Settings
from pylock.commands.mirror import MirrorOptions, fill_mirror
from pylock.errors import InputError
from pylock.install.receipt import META_DIR, RECEIPT_NAME, Receipt, read_receipt, receipt_json
from pylock.net.http import HttpPolicy
from pylock.project.manifest import Request, load
from pylock.resolution import lockfile
from pylock.resolution.drift import matrix_drift, pair_requests
from test_locking import FLAVORS, LINUX, MAC, Contexts, asset_name, publish, run

OLD, NEW = "20241219", "20250115"


def publish_versions(fake: FakePBS, tag: str, versions: tuple[str, ...], *keys: str) -> None:
    """One release holding several versions (``publish`` makes a release of one)."""
    names = [asset_name(v, tag, k, f) for v in versions for k in keys for f in FLAVORS]
    fake.add_release(tag, [(n, synthetic_body(n)) for n in names])


def write(
    root: Path, pythons: list[str], platforms: tuple[str, ...] = (LINUX,), source: str = ""
) -> None:
    listed = ", ".join(f'"{p}"' for p in pythons)
    keys = ", ".join(f'"{p}"' for p in platforms)
    named = f'source = "{source}"\n' if source else ""  # the project's own: never recorded
    (root / "pyproject.toml").write_text(
        f"[tool.pylock]\npython = [{listed}]\nplatforms = [{keys}]\n{named}", "utf-8"
    )


@pytest.fixture
def contexts() -> Contexts:
    return Contexts()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def releases(fake_pbs: FakePBS) -> FakePBS:
    publish(fake_pbs, OLD, "3.12.7", LINUX, MAC)
    publish_versions(fake_pbs, NEW, ("3.12.8", "3.13.1"), LINUX, MAC)
    return fake_pbs


def test_each_request_resolves_as_it_would_alone(
    releases: FakePBS, project: Path, tmp_path: Path, contexts: Contexts
) -> None:
    write(project, ["3.13", "3.12", "3.12.7"], (LINUX, MAC))
    matrix = run(project, contexts, source=releases.spec).lock
    assert matrix.manifest.pythons == ("3.13", "3.12", "3.12.7")
    for request in matrix.manifest.pythons:
        alone = tmp_path / f"alone-{request}"
        alone.mkdir()
        write(alone, [request], (LINUX, MAC))
        single = run(alone, contexts, source=releases.spec).lock
        assert single.targets == matrix.view(request).targets
        assert single.manifest == matrix.view(request).manifest


def test_an_exact_pin_spans_two_releases_and_says_why(
    releases: FakePBS, project: Path, contexts: Contexts
) -> None:
    write(project, ["3.13", "3.12.7"])
    result = run(project, contexts, source=releases.spec)
    assert [(n.request, n.build, n.reason) for n in result.releases] == [
        ("3.13", NEW, "the newest release in the lock"),
        ("3.12.7", OLD, "the newest release with a 3.12.7 build for every platform"),
    ]


def test_adding_a_request_keeps_the_others_pins(
    fake_pbs: FakePBS, project: Path, contexts: Contexts
) -> None:
    publish(fake_pbs, OLD, "3.12.7", LINUX)
    write(project, ["3.12"])
    run(project, contexts, source=fake_pbs.spec)
    before = lockfile.read(project / "python.lock")

    publish_versions(fake_pbs, NEW, ("3.12.8", "3.13.1"), LINUX)
    write(project, ["3.12", "3.13"])
    result = run(project, contexts, source=fake_pbs.spec)
    assert result.lock.view("3.12").targets == before.targets  # not moved to 3.12.8
    assert [(c.request, c.kind) for c in result.changes] == [
        ("3.12", "unchanged"),
        ("3.13", "added"),
    ]
    assert [(n.request, n.build, n.reason) for n in result.releases] == [
        (
            "3.12",
            OLD,
            f"kept from python.lock (run `pylock lock --upgrade --source {fake_pbs.spec}` to "
            "move it)",  # the lock records the --source it was resolved from
        ),
        ("3.13", NEW, "the newest release in the lock"),
    ]
    upgraded = run(project, contexts, source=fake_pbs.spec, upgrade=True)
    assert {t.build for t in upgraded.lock.targets} == {NEW}
    assert upgraded.releases == ()


def test_reordering_rewrites_the_order_without_asking_the_source(
    releases: FakePBS, project: Path, contexts: Contexts
) -> None:
    write(project, ["3.13", "3.12"])
    first = run(project, contexts, source=releases.spec).lock
    calls = contexts.calls
    write(project, ["3.12", "3.13"])
    result = run(project, contexts, source=releases.spec)
    assert contexts.calls == calls  # every request still satisfied: no client
    assert result.written
    assert result.lock.manifest.pythons == ("3.12", "3.13")
    assert [t.request for t in result.lock.targets] == ["3.12", "3.13"]
    for request in ("3.12", "3.13"):
        assert result.lock.view(request).targets == first.view(request).targets
    again = run(project, contexts, source=releases.spec)
    assert not again.written and contexts.calls == calls


def test_a_new_platform_reaches_every_request(
    releases: FakePBS, project: Path, contexts: Contexts
) -> None:
    write(project, ["3.13", "3.12"])
    run(project, contexts, source=releases.spec)
    write(project, ["3.13", "3.12"], (LINUX, MAC))
    lock = run(project, contexts, source=releases.spec).lock
    assert [(t.request, t.platform, t.version) for t in lock.targets] == [
        ("3.13", LINUX, "3.13.1"),
        ("3.13", MAC, "3.13.1"),
        ("3.12", LINUX, "3.12.8"),
        ("3.12", MAC, "3.12.8"),
    ]


def test_python_option_replaces_the_whole_list(
    releases: FakePBS, project: Path, contexts: Contexts
) -> None:
    write(project, ["3.13", "3.12"], source=releases.spec)
    run(project, contexts)
    result = run(project, contexts, python="3.12")
    assert not result.lock.is_matrix
    assert result.lock.manifest.python == "3.12"
    assert [(c.request, c.kind) for c in result.changes if c.kind != "unchanged"] == [
        ("3.13", "removed")
    ]
    text = (project / "python.lock").read_text("utf-8")
    assert 'python = "3.12"\n' in text and "request = " not in text
    # version 3, not 1: the default provenance policy recorded that no attestation was found
    assert "lock-version = 3" in text and 'provenance = "none"' in text
    assert result.pinned is not None and result.pinned.was == ("3.13", "3.12")
    assert load(project / "pyproject.toml").pythons[0].text == "3.12"  # the manifest agrees
    assert not load(project / "pyproject.toml").more_pythons


def test_pairing_same_text_first_then_in_order() -> None:
    assert pair_requests(("3.13", "3.12"), ["3.12", "3.13"]) == [1, 0]
    assert pair_requests(("3.13", "3.12", "3.11"), ["3.13", "3.10", "3.11"]) == [0, 1, 2]
    assert pair_requests(("3.13",), ["3.13", "3.12"]) == [0, None]
    assert pair_requests((), ["3.13"]) == [None]


def test_the_manifest_matrix_and_its_default(project: Path) -> None:
    write(project, ["3.13t", " 3.12 ", ">=3.10, <3.12"])
    manifest = load(project / "pyproject.toml")
    assert [p.text for p in manifest.pythons] == ["3.13t", "3.12", ">=3.10,<3.12"]
    assert manifest.python is not None and manifest.python.text == "3.13t"
    write(project, ["3.12", "3.12 "])
    with pytest.raises(InputError, match=r"python\[1\]"):
        load(project / "pyproject.toml")


# --- with the sources branch: exclude-newer, sizeless targets, pylock mirror ------------------


def test_exclude_newer_applies_to_every_request_and_is_recorded_once(
    releases: FakePBS, project: Path, tmp_path: Path, contexts: Contexts
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.pylock]\npython = ["3.12", "3.12.7"]\nplatforms = ["linux-x86_64-gnu"]\n'
        f'exclude-newer = "2024-12-31"\nsource = "{releases.spec}"\n',
        "utf-8",
    )
    matrix = run(project, contexts).lock
    # 3.12 alone would take 3.12.8 from NEW; as of 2024-12-31 only OLD exists, for both requests
    assert [(t.request, t.version, t.build) for t in matrix.targets] == [
        ("3.12", "3.12.7", OLD),
        ("3.12.7", "3.12.7", OLD),
    ]
    text = (project / "python.lock").read_text("utf-8")
    assert text.count("exclude-newer") == 1
    assert 'exclude-newer = "2024-12-31"' in text.split("[[target]]")[0]
    # version 3 (a matrix with provenance records; 2 would hold the matrix alone)
    assert text.startswith(lockfile.HEADER) and "lock-version = 3" in text
    for request in matrix.manifest.pythons:
        assert matrix.view(request).manifest.exclude_newer == "2024-12-31"

    # an earlier day: each request's targets drift on exclude-newer, each finding naming it
    (project / "pyproject.toml").write_text(
        '[tool.pylock]\npython = ["3.12", "3.12.7"]\nplatforms = ["linux-x86_64-gnu"]\n'
        'exclude-newer = "2024-12-01"\n',
        "utf-8",
    )
    requests = Request.matrix(load(project / "pyproject.toml"), default_platforms=())
    found = matrix_drift(matrix, requests)
    assert [(d.request, d.input, d.current) for d in found] == [
        ("3.12", "exclude-newer", "no build after 2024-12-01"),
        ("3.12.7", "exclude-newer", "no build after 2024-12-01"),
    ]
    # --exclude-newer overrides the manifest for every request at once
    later = run(project, contexts, source=releases.spec, exclude_newer="20250131", upgrade=True)
    assert [t.version for t in later.lock.targets] == ["3.12.8", "3.12.7"]
    assert later.lock.manifest.exclude_newer == "2025-01-31"


def sizeless(request: str, version: str) -> lockfile.Target:
    name = asset_name(version, OLD, LINUX)
    return lockfile.Target(
        platform=LINUX,
        triple="x86_64-unknown-linux-gnu",
        implementation="cpython",
        version=version,
        build=OLD,
        flavor="install_only_stripped",
        variant="default",
        url=f"https://example.invalid/{OLD}/{name.replace('+', '%2B')}",
        size=None,
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        request=request,
    )


def test_a_matrix_target_may_leave_out_its_size_and_its_receipt_records_neither(
    tmp_path: Path,
) -> None:
    lock = lockfile.Lock(
        manifest=lockfile.LockedManifest(
            python="3.12", platforms=(LINUX,), more_pythons=("3.11",), exclude_newer="2024-12-31"
        ),
        targets=(sizeless("3.12", "3.12.7"), sizeless("3.11", "3.11.11")),
    )
    text = lockfile.dumps(lock)
    assert "size" not in text and text.count("request = ") == 2
    path = tmp_path / "python.lock"
    path.write_text(text, "utf-8")
    read = lockfile.read(path)
    assert (read.manifest, read.targets, read.lock_version) == (lock.manifest, lock.targets, 2)
    assert lockfile.dumps(lockfile.read(path)) == text

    receipt = Receipt(
        target=lock.targets[1],
        pylock_version="0.1.0",
        installed_at="2026-01-01T00:00:00Z",
        tree_digest="0" * 64,
        interpreter="bin/python3",
    )
    recorded = json.loads(receipt_json(receipt))["target"]
    assert "request" not in recorded and "size" not in recorded
    assert list(recorded) == [n for n in lockfile.ARCHIVE_FIELDS if n != "size"]
    install = tmp_path / "install"
    (install / META_DIR).mkdir(parents=True)
    (install / META_DIR / RECEIPT_NAME).write_text(receipt_json(receipt), "utf-8")
    assert read_receipt(install) == replace(receipt, target=replace(lock.targets[1], request=None))


def test_mirror_fills_every_requests_archives_once(
    releases: FakePBS, project: Path, tmp_path: Path, contexts: Contexts
) -> None:
    write(project, ["3.13", "3.12", "3.12.8"], (LINUX, MAC))
    lock = run(project, contexts, source=releases.spec).lock
    assert len(lock.targets) == 6  # 3.12 and 3.12.8 lock the same two archives
    quick = HttpPolicy(retries=1, backoff=0.0, timeout=10.0)
    out_dir = tmp_path / "mirror"
    releases.download_log.clear()
    settings = Settings.resolve(environ=os.environ, http=quick)
    result = fill_mirror(project, MirrorOptions(out_dir), settings=settings)
    names = {asset_name(v, NEW, k) for v in ("3.13.1", "3.12.8") for k in (LINUX, MAC)}
    assert {a.path.name for a in result.archives} == names and len(result.archives) == 4
    assert result.downloaded == 4 and len(releases.download_log) == 4
    assert sorted(p.name for p in (out_dir / NEW).iterdir()) == sorted([*names, "SHA256SUMS"])

    # --platform picks that platform's archive of every request
    only = fill_mirror(
        project, MirrorOptions(tmp_path / "linux", platforms=(LINUX,)), settings=settings
    )
    assert {a.path.name for a in only.archives} == {
        asset_name(v, NEW, LINUX) for v in ("3.13.1", "3.12.8")
    }
