"""A test matrix through the library: ``lock_project`` with several python requests.

Each request must resolve exactly as it would alone, editing or adding one must leave the others'
targets as they were, and a matrix whose requests only moved must be rewritten without a request
to the source. The releases are published on the fake GitHub on loopback (``test_locking``'s
helpers), with archives for every platform asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pbs_server import FakePBS, synthetic_body
from pylock import lockfile
from pylock.errors import InputError
from pylock.manifest import load, pair_requests
from test_locking import FLAVORS, LINUX, MAC, Contexts, asset_name, publish, run

OLD, NEW = "20241219", "20250115"


def publish_versions(fake: FakePBS, tag: str, versions: tuple[str, ...], *keys: str) -> None:
    """One release holding several versions (``publish`` makes a release of one)."""
    names = [asset_name(v, tag, k, f) for v in versions for k in keys for f in FLAVORS]
    fake.add_release(tag, [(n, synthetic_body(n)) for n in names])


def write(root: Path, pythons: list[str], platforms: tuple[str, ...] = (LINUX,)) -> None:
    listed = ", ".join(f'"{p}"' for p in pythons)
    keys = ", ".join(f'"{p}"' for p in platforms)
    (root / "pyproject.toml").write_text(
        f"[tool.pylock]\npython = [{listed}]\nplatforms = [{keys}]\n", "utf-8"
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
        ("3.12", OLD, "kept from python.lock (run `pylock lock --upgrade` to move it)"),
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
    write(project, ["3.13", "3.12"])
    run(project, contexts, source=releases.spec)
    result = run(project, contexts, source=releases.spec, python="3.12")
    assert not result.lock.is_matrix
    assert result.lock.manifest.python == "3.12"
    assert [(c.request, c.kind) for c in result.changes if c.kind != "unchanged"] == [
        ("3.13", "removed")
    ]
    assert "lock-version = 1" in (project / "python.lock").read_text("utf-8")


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
