"""open_source: every spelling of docs/manifest.md, "source", and the errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylock.errors import InputError
from pylock.sources.catalog import CatalogSource
from pylock.sources.github import GitHubSource
from pylock.sources.index import IndexSource
from pylock.sources.mirror import MirrorSource
from pylock.sources.source import SourceContext
from pylock.sources.spec import DEFAULT_GITHUB_API, open_source


def test_github_default(source_context: SourceContext) -> None:
    source = open_source("github", source_context)
    assert isinstance(source, GitHubSource)
    assert source.api_url == DEFAULT_GITHUB_API
    assert source.description == f"github:{DEFAULT_GITHUB_API}"
    explicit = open_source(f"github:{DEFAULT_GITHUB_API}/", source_context)
    assert isinstance(explicit, GitHubSource)
    assert explicit.description == source.description


def test_github_any_api_url(source_context: SourceContext) -> None:
    url = "https://ghe.example.com/api/v3/repos/acme/pbs-fork"
    source = open_source(f"github:{url}", source_context)
    assert isinstance(source, GitHubSource)
    assert source.api_url == url


@pytest.mark.parametrize(
    ("spec", "kind", "location"),
    [
        ("catalog:meta/pbs.json", CatalogSource, "{tmp}/meta/pbs.json"),
        ("catalog:https://example.com/meta", CatalogSource, "https://example.com/meta"),
        ("mirror:https://pbs.example/download", MirrorSource, "https://pbs.example/download"),
        ("mirror:./pbs", MirrorSource, "{tmp}/pbs"),
        ("mirror:/srv/pbs", MirrorSource, "/srv/pbs"),
        ("pbs.json", CatalogSource, "{tmp}/pbs.json"),
        ("https://example.com/uv/meta.json", CatalogSource, "https://example.com/uv/meta.json"),
        ("https://example.com/m.JSON?token=1", CatalogSource, "https://example.com/m.JSON?token=1"),
        ("file:///srv/pbs/meta.json", CatalogSource, "/srv/pbs/meta.json"),
        ("https://pbs.example/download", MirrorSource, "https://pbs.example/download"),
        ("/srv/pbs", MirrorSource, "/srv/pbs"),
        ("file:///srv/pbs", MirrorSource, "/srv/pbs"),
        ("../shared/pbs", MirrorSource, "{tmp}/../shared/pbs"),
    ],
)
def test_spellings(
    source_context: SourceContext, tmp_path: Path, spec: str, kind: type, location: str
) -> None:
    source = open_source(spec, source_context)
    assert isinstance(source, kind)
    assert isinstance(source, CatalogSource | MirrorSource)
    if location.startswith("http"):
        assert source.location.url == location
    else:
        assert source.location.path == Path(location.format(tmp=tmp_path))
    prefix = "catalog:" if kind is CatalogSource else "mirror:"
    assert source.description == (spec if spec.startswith(prefix) else prefix + spec)


def test_opening_reads_nothing(source_context: SourceContext) -> None:
    # A missing catalog is only noticed when releases are asked for.
    open_source("catalog:missing.json", source_context)
    open_source("mirror:missing-dir", source_context)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("github:ftp://example.com/repos/a/b", "http(s) API URL"),
        ("github:not a url", "http(s) API URL"),
        ("foo:bar", "unknown prefix 'foo'"),
        ("s3://bucket/pbs", "unknown prefix 's3'"),
        ("", "empty"),
        ("   ", "empty"),
        ("catalog:", "nothing follows catalog:"),
        ("mirror:  ", "nothing follows mirror:"),
    ],
)
def test_bad_spellings(source_context: SourceContext, spec: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        open_source(spec, source_context, where="pyproject.toml [tool.pylock] source")
    text = str(info.value)
    assert info.value.exit_code == 2
    assert text.startswith("pyproject.toml [tool.pylock] source:")
    assert reason in text
    for form in ("github", "github:<repository API URL>", "catalog:<URL or path>", "mirror:"):
        assert form in text


def test_owner_repo_shorthand_suggests_the_api_url(source_context: SourceContext) -> None:
    with pytest.raises(InputError) as info:
        open_source("github:astral-sh/python-build-standalone", source_context, where="--source")
    assert "github:https://api.github.com/repos/astral-sh/python-build-standalone" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("index:file:///srv/pbs/v.ndjson", "/srv/pbs/v.ndjson"),
        ("index:file://localhost/srv/pbs/v.ndjson", "/srv/pbs/v.ndjson"),
        ("catalog:file:///srv/pbs/m.json", "/srv/pbs/m.json"),
        ("mirror:file:///srv/pbs%20mirror", "/srv/pbs mirror"),
    ],
)
def test_file_urls_name_this_machine(source_context: SourceContext, spec: str, path: str) -> None:
    """Sources read file: URLs by fsutil.file_url_path, the rule sync and check use too."""
    source = open_source(spec, source_context)
    assert isinstance(source, CatalogSource | IndexSource | MirrorSource)
    assert source.location.path == Path(path)


def test_a_file_url_of_another_host_is_refused(source_context: SourceContext) -> None:
    with pytest.raises(InputError) as info:
        open_source("index:file://build-host/srv/pbs/v.ndjson", source_context)
    assert "must name this machine" in info.value.message


@pytest.mark.parametrize(("scheme", "what"), [("catalog", "catalog file"), ("index", "index file")])
@pytest.mark.parametrize("make", ["missing", "directory"])
def test_a_local_source_file_that_is_not_there_is_bad_input(
    source_context: SourceContext, tmp_path: Path, scheme: str, what: str, make: str
) -> None:
    """A path naming nothing (or a directory) is the user's to fix (exit 2), and says which."""
    path = tmp_path / "pbs.data"
    if make == "directory":
        path.mkdir()
    source = open_source(f"{scheme}:{path}", source_context)
    with pytest.raises(InputError) as raised:
        list(source.releases(build=None, platforms=None))
    assert raised.value.exit_code == 2
    said = "is a directory, not a file" if make == "directory" else "not found"
    assert raised.value.message == f"Source {scheme}:{path}: {path} {said}."
    assert "the right file (relative paths are read from the project directory)" in str(
        raised.value.hint
    )


@pytest.mark.parametrize(
    "spec",
    [
        "catalog:ftp://example.com/c.json",
        "index:s3://bucket/v.ndjson",
        "mirror:ftp://example.com/pbs",
    ],
)
def test_a_url_pylock_cannot_read_is_refused_as_a_url(
    source_context: SourceContext, tmp_path: Path, spec: str
) -> None:
    """ "Is this a URL?" has one answer (``fsutil.url_scheme``): ftp://… is a URL of a scheme
    pylock does not read, refused as one, not a relative path under the project."""
    with pytest.raises(InputError) as info:
        list(open_source(spec, source_context).releases())
    scheme = spec.split(":")[1]
    assert info.value.exit_code == 2
    assert f"{scheme}: URLs" in info.value.message and str(tmp_path) not in info.value.message
