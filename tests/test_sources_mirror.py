"""The mirror source: {base}/{build}/{asset} with a SHA256SUMS per build, as a directory or URL."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pbs_server import FakePBS, synthetic_body
from pylock.errors import ExternalError, InputError
from pylock.project.platforms import parse_platform
from pylock.sources.mirror import MirrorSource, builds_in_listing
from pylock.sources.source import Release, SourceContext
from pylock.sources.spec import open_source

LINUX = "cpython-3.12.8+{tag}-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
MACOS = "cpython-3.12.8+{tag}-aarch64-apple-darwin-install_only_stripped.tar.gz"


def make_build(base: Path, tag: str, *, copied: bool = True) -> dict[str, str]:
    """A build directory as a mirror script leaves it; returns {name: sha256} of its archives."""
    directory = base / tag
    directory.mkdir(parents=True)
    sums = {}
    for template in (LINUX, MACOS):
        name = template.format(tag=tag)
        body = synthetic_body(name)
        sums[name] = hashlib.sha256(body).hexdigest()
        if copied or template == LINUX:
            (directory / name).write_bytes(body)
    text = "".join(f"{sha}  {name}\n" for name, sha in sorted(sums.items()))
    (directory / "SHA256SUMS").write_text(text + "not a checksum line\n", "utf-8")
    return sums


@pytest.fixture
def mirror_dir(tmp_path: Path) -> Path:
    base = tmp_path / "mirror"
    make_build(base, "20250101")
    make_build(base, "20240101", copied=False)  # the macOS archive was never copied
    make_build(base, "20241201")
    (base / "20230101").mkdir()  # a half-made build without SHA256SUMS
    (base / "latest").mkdir()  # not a build
    (base / "20220101.txt").write_text("notes", "utf-8")
    return base


def builds(releases: list[Release]) -> list[str]:
    return [r.build for r in releases]


def test_directory_mirror(mirror_dir: Path, source_context: SourceContext) -> None:
    releases = list(open_source(f"mirror:{mirror_dir}", source_context).releases())
    assert builds(releases) == ["20250101", "20241201", "20240101"]
    newest = releases[0]
    assert len(newest.artifacts) == 2
    for artifact in newest.artifacts:
        path = mirror_dir / "20250101" / artifact.asset.name
        assert artifact.url == path.resolve().as_uri()
        assert artifact.size == path.stat().st_size
        assert artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # Listed in SHA256SUMS but never copied: not offered.
    assert [a.platform.key for a in releases[2].artifacts] == ["linux-x86_64-gnu"]


def test_directory_mirror_relative_to_the_project(
    mirror_dir: Path, source_context: SourceContext
) -> None:
    source = open_source("mirror", source_context)  # a bare path: a mirror
    assert isinstance(source, MirrorSource)
    assert builds(list(source.releases())) == ["20250101", "20241201", "20240101"]


def test_directory_mirror_pinned_build_and_platforms(
    mirror_dir: Path, source_context: SourceContext
) -> None:
    mirror = MirrorSource(str(mirror_dir), source_context)
    macos = frozenset({parse_platform("macos-aarch64-none")})
    (release,) = list(mirror.releases(build="20241201", platforms=macos))
    assert [a.asset.name for a in release.artifacts] == [MACOS.format(tag="20241201")]
    assert list(mirror.releases(build="20230101")) == []  # no SHA256SUMS
    assert list(mirror.releases(build="20990101")) == []


def test_missing_directory_is_bad_input(source_context: SourceContext, tmp_path: Path) -> None:
    source = open_source("mirror:no/such/dir", source_context)
    with pytest.raises(InputError) as info:
        list(source.releases())
    assert info.value.exit_code == 2
    assert str(tmp_path / "no" / "such" / "dir") in str(info.value)


class _Recorder(http.server.SimpleHTTPRequestHandler):
    """``python -m http.server``'s own handler, remembering the paths it was asked for."""

    def __init__(self, *args: Any, paths: list[str], **kwargs: Any) -> None:
        self.paths = paths
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.paths.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_mirror(mirror_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """The mirror directory served by the stdlib http.server at /pbs/; yields (base, paths)."""
    paths: list[str] = []
    handler = functools.partial(_Recorder, directory=str(mirror_dir.parent), paths=paths)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    (mirror_dir.parent / "pbs").symlink_to(mirror_dir)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pbs", paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_url_mirror_from_an_http_server_listing(
    http_mirror: tuple[str, list[str]], source_context: SourceContext
) -> None:
    base, paths = http_mirror
    source = open_source(base, source_context)  # a bare URL not ending .json: a mirror
    assert isinstance(source, MirrorSource)
    releases = source.releases()
    first = next(releases)
    assert first.build == "20250101"
    assert paths == ["/pbs/", "/pbs/20250101/SHA256SUMS"]  # lazily, one build at a time
    rest = list(releases)
    # 20230101 is listed but has no SHA256SUMS (404): passed over.
    assert builds(rest) == ["20241201", "20240101"]
    name = LINUX.format(tag="20250101")
    artifact = next(a for a in first.artifacts if a.asset.name == name)
    assert artifact.url == f"{base}/20250101/{name.replace('+', '%2B')}"
    assert artifact.size is None
    assert artifact.sha256 == hashlib.sha256(synthetic_body(name)).hexdigest()
    # Without the local copy to check, the URL mirror offers what SHA256SUMS lists.
    assert len(rest[1].artifacts) == 2


def test_url_mirror_pinned_build_needs_no_listing(
    http_mirror: tuple[str, list[str]], source_context: SourceContext
) -> None:
    base, paths = http_mirror
    (release,) = list(MirrorSource(base + "/", source_context).releases(build="20241201"))
    assert release.build == "20241201"
    assert paths == ["/pbs/20241201/SHA256SUMS"]


def test_url_mirror_without_a_listing(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    base = f"{fake_pbs.url}/no-listing-here"
    with pytest.raises(ExternalError) as info:
        list(open_source(f"mirror:{base}", source_context).releases())
    assert info.value.exit_code == 3
    assert f"{base}/" in str(info.value)
    assert "Pin a build" in str(info.value)


def test_an_invalid_mirror_url_is_an_external_error_naming_the_source(
    source_context: SourceContext,
) -> None:
    # httpx refuses the URL before any socket is opened (the port is not a number).
    spec = "mirror:http://[::1/pbs"
    with pytest.raises(ExternalError) as info:
        list(open_source(spec, source_context).releases(build="20250101"))
    assert info.value.exit_code == 3
    text = str(info.value)
    assert text.startswith(f"Source {spec}: ")
    assert "20250101/SHA256SUMS" in text
    assert "Check the URL" in text


def test_fake_pbs_download_tree_is_a_mirror(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    for tag in ("20250101", "20240101"):
        names = [t.format(tag=tag) for t in (LINUX, MACOS)]
        fake_pbs.add_release(tag, [(n, synthetic_body(n)) for n in names])
    releases = list(open_source(f"mirror:{fake_pbs.download_base}", source_context).releases())
    assert builds(releases) == ["20250101", "20240101"]
    for release in releases:
        for artifact in release.artifacts:
            assert artifact.url == fake_pbs.download_url(release.build, artifact.asset.name)
            assert artifact.sha256 == fake_pbs.releases[release.build].sha256(artifact.asset.name)


@pytest.mark.parametrize(
    "page",
    [
        # python -m http.server
        '<ul><li><a href="20250101/">20250101/</a></li><li><a href="20240101/">20240101/</a>'
        '</li><li><a href="latest/">latest/</a></li></ul>',
        # nginx autoindex
        '<pre><a href="../">../</a>\n<a href="20250101/">20250101/</a>   19-Dec-2024 14:33  -\n'
        '<a href="20240101/">20240101/</a>   01-Jan-2024 10:00  -\n</pre>',
        # Apache mod_autoindex: sort links, a parent link, then children
        '<a href="?C=N;O=D">Name</a><a href="?C=M;O=A">Last modified</a>'
        '<a href="/pbs/">Parent Directory</a><a href="20240101/">20240101/</a>'
        '<a href="20250101/">20250101/</a><a href="20250101.txt">20250101.txt</a>',
        # Artifactory: absolute links
        "<a href='/artifactory/pbs/20250101/'>20250101/</a>"
        "<a href='http://mirror.example/artifactory/pbs/20240101/'>20240101/</a>"
        "<a href='http://elsewhere.example/artifactory/pbs/20230101/'>20230101/</a>"
        "<a href='/artifactory/other/20220101/'>20220101/</a>",
    ],
    ids=["http.server", "nginx", "apache", "artifactory"],
)
def test_builds_in_listing(page: str) -> None:
    listing = (
        "http://mirror.example/artifactory/pbs/"
        if "artifactory" in page
        else "http://mirror.example/pbs/"
    )
    assert builds_in_listing(page, listing) == ["20250101", "20240101"]
