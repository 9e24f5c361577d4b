"""The github source against the loopback fake of GitHub's releases API."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from pytest_httpserver import HTTPServer

from pbs_server import FakePBS, sha256_hex, synthetic_body
from pylock.errors import ExternalError, RateLimitError
from pylock.net.http import HttpPolicy, make_client
from pylock.project.platforms import parse_platform
from pylock.sources.github import PER_PAGE, GitHubSource, next_link
from pylock.sources.source import Release, SourceContext
from pylock.sources.spec import github_token, open_source

LINUX = "cpython-3.12.8+{tag}-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
MACOS = "cpython-3.12.8+{tag}-aarch64-apple-darwin-install_only_stripped.tar.gz"
WINDOWS = "cpython-3.12.8+{tag}-x86_64-pc-windows-msvc-install_only_stripped.tar.gz"


def archives(tag: str, *templates: str) -> list[tuple[str, bytes]]:
    names = [t.format(tag=tag) for t in templates or (LINUX,)]
    return [(n, synthetic_body(n)) for n in names]


def source(fake: FakePBS, context: SourceContext, **kwargs: object) -> GitHubSource:
    return GitHubSource(fake.api_url, context, **kwargs)  # type: ignore[arg-type]


def builds(releases: list[Release]) -> list[str]:
    return [r.build for r in releases]


def test_releases_newest_first_with_sha256_size_and_url(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    for tag in ("20240101", "20250101", "20230101"):
        fake_pbs.add_release(tag, archives(tag, LINUX, MACOS))
    releases = list(open_source(fake_pbs.spec, source_context).releases())
    assert builds(releases) == ["20250101", "20240101", "20230101"]
    artifact = releases[0].artifacts[0]
    name = LINUX.format(tag="20250101")
    assert artifact.asset.name == name
    assert artifact.sha256 == sha256_hex(synthetic_body(name))
    assert artifact.size == len(synthetic_body(name))
    assert artifact.url == fake_pbs.download_url("20250101", name)
    assert "%2B" in artifact.url
    assert {a.platform.key for a in releases[0].artifacts} == {
        "linux-x86_64-gnu",
        "macos-aarch64-none",
    }


def test_requests_carry_github_api_headers(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    fake_pbs.add_release("20250101", archives("20250101"))
    list(source(fake_pbs, source_context).releases())
    (request,) = fake_pbs.api_log
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.query["per_page"] == str(PER_PAGE)
    assert "authorization" not in request.headers


def test_pages_are_fetched_only_when_needed(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    tags = [f"2025010{d}" for d in range(1, 8)]
    for tag in tags:
        fake_pbs.add_release(tag, archives(tag))
    releases = source(fake_pbs, source_context, per_page=2).releases()
    assert fake_pbs.log == []  # opening the generator fetches nothing

    assert next(releases).build == "20250107"
    assert len(fake_pbs.api_log) == 1
    assert next(releases).build == "20250106"
    assert len(fake_pbs.api_log) == 1  # still on the first page
    assert next(releases).build == "20250105"
    assert len(fake_pbs.api_log) == 2

    rest = [r.build for r in releases]
    assert rest == ["20250104", "20250103", "20250102", "20250101"]
    pages = [r.query.get("page", "1") for r in fake_pbs.api_log]
    assert pages == ["1", "2", "3", "4"]
    # Later pages follow GitHub's Link form, /repositories/{id}/releases.
    assert fake_pbs.api_log[1].path.startswith("/repositories/")


def test_pinned_build_fetches_only_that_tag(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    for tag in ("20250101", "20240101"):
        fake_pbs.add_release(tag, archives(tag))
    gh = source(fake_pbs, source_context)
    assert builds(list(gh.releases(build="20240101"))) == ["20240101"]
    assert [r.path for r in fake_pbs.log] == [
        "/repos/astral-sh/python-build-standalone/releases/tags/20240101"
    ]
    assert list(gh.releases(build="20990101")) == []
    assert fake_pbs.log[-1].status == 404


def test_checksum_precedence_digest_then_sums_then_sidecar(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    tag = "20250101"
    a, b, c, d = (
        t.format(tag=tag) for t in (LINUX, MACOS, WINDOWS, LINUX.replace("3.12.8", "3.11.11"))
    )
    release = fake_pbs.add_release(
        tag,
        archives(tag, LINUX, MACOS, WINDOWS, LINUX.replace("3.12.8", "3.11.11")),
        digests={a},
        sums={a, b},
        sidecars={a, b, c},
    )
    # Make every lower-precedence checksum wrong, so the one used shows in the result.
    bogus = "0" * 64
    release.files["SHA256SUMS"] = f"{bogus}  {a}\n{release.sha256(b)} *{b}\n".encode()
    release.files[f"{a}.sha256"] = f"{bogus}\n".encode()
    release.files[f"{b}.sha256"] = f"{bogus}\n".encode()

    (got,) = list(source(fake_pbs, source_context).releases())
    sha = {art.asset.name: art.sha256 for art in got.artifacts}
    assert sha == {a: release.sha256(a), b: release.sha256(b), c: release.sha256(c)}
    assert d not in sha  # no checksum anywhere: never offered
    fetched = sorted(r.path.rsplit("/", 1)[1] for r in fake_pbs.download_log)
    assert fetched == ["SHA256SUMS", f"{c}.sha256"]


def test_all_digests_means_no_downloads(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    fake_pbs.add_release("20250101", archives("20250101", LINUX, MACOS), sidecars=True)
    (release,) = list(source(fake_pbs, source_context).releases())
    assert len(release.artifacts) == 2
    assert fake_pbs.download_log == []


def test_checksum_files_are_not_artifacts(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    assets = [*archives("20250101"), ("README.txt", b"hello")]
    fake_pbs.add_release("20250101", assets, sidecars=True)
    (release,) = list(source(fake_pbs, source_context).releases())
    assert [a.asset.name for a in release.artifacts] == [LINUX.format(tag="20250101")]


def test_platform_hint_skips_other_platforms_and_their_checksums(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    tag = "20240101"
    fake_pbs.add_release(
        tag, archives(tag, LINUX, MACOS, WINDOWS), digests=False, sums=False, sidecars=True
    )
    linux = frozenset({parse_platform("linux-x86_64-gnu")})
    (release,) = list(source(fake_pbs, source_context).releases(platforms=linux))
    assert [a.platform.key for a in release.artifacts] == ["linux-x86_64-gnu"]
    assert [r.path.rsplit("/", 1)[1] for r in fake_pbs.download_log] == [
        LINUX.format(tag=tag) + ".sha256"
    ]


@pytest.mark.parametrize("variable", ["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"])
def test_token_goes_to_the_api_only(
    fake_pbs: FakePBS,
    source_context: SourceContext,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    # The fake is not api.github.com, so it is an "enterprise" host for the token rules.
    monkeypatch.setenv(variable, "s3cret")
    for tag in ("20250103", "20250102", "20250101"):
        fake_pbs.add_release(tag, archives(tag, LINUX, MACOS), digests=False)
    gh = open_source(fake_pbs.spec, source_context)
    assert isinstance(gh, GitHubSource)
    gh = GitHubSource(gh.api_url, source_context, token="s3cret", per_page=1)
    assert len(list(gh.releases())) == 3
    assert len(list(open_source(fake_pbs.spec, source_context).releases(build="20250102"))) == 1

    assert len(fake_pbs.api_log) == 4  # 3 pages (2 via /repositories/…) + 1 tag
    assert all(r.headers.get("authorization") == "Bearer s3cret" for r in fake_pbs.api_log)
    assert len(fake_pbs.download_log) >= 3  # every SHA256SUMS, downloaded from the same host
    assert all("authorization" not in r.headers for r in fake_pbs.download_log)


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "GH_TOKEN"])
def test_a_github_token_never_goes_to_another_host(
    fake_pbs: FakePBS,
    source_context: SourceContext,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    """A committed manifest may name any API host; CI's GitHub token must not follow it there."""
    monkeypatch.setenv(variable, "ci-token")
    fake_pbs.add_release("20250101", archives("20250101"))
    assert len(list(open_source(fake_pbs.spec, source_context).releases())) == 1
    assert fake_pbs.api_log
    assert all("authorization" not in r.headers for r in fake_pbs.log)


def test_github_token_rules_follow_the_gh_cli() -> None:
    env = {"GITHUB_TOKEN": "gh", "GH_ENTERPRISE_TOKEN": "ghe"}
    assert (
        github_token("https://api.github.com/repos/astral-sh/python-build-standalone", env) == "gh"
    )
    assert github_token("https://API.GitHub.com/repos/me/fork", env) == "gh"
    assert github_token("https://ghe.example.com/api/v3/repos/o/r", env) == "ghe"
    assert github_token("https://api.github.com.evil.example/repos/o/r", env) == "ghe"
    assert github_token("https://api.github.com/repos/o/r", {"GH_TOKEN": " t "}) == "t"
    assert github_token("http://127.0.0.1:8080/repos/o/r", {"GITHUB_TOKEN": "gh"}) is None


def test_token_is_not_sent_to_a_link_on_another_origin(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    # The fake's Link header names 127.0.0.1; reach page 1 as "localhost": a different origin.
    for tag in ("20250102", "20250101"):
        fake_pbs.add_release(tag, archives(tag))
    api = fake_pbs.api_url.replace("127.0.0.1", "localhost")
    gh = GitHubSource(api, source_context, token="s3cret", per_page=1)
    assert builds(list(gh.releases())) == ["20250102", "20250101"]
    first, second = fake_pbs.api_log
    assert first.headers.get("authorization") == "Bearer s3cret"
    assert "authorization" not in second.headers


def test_unauthenticated_without_token(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    fake_pbs.add_release("20250101", archives("20250101"))
    list(open_source("github:" + fake_pbs.api_url, source_context).releases())
    assert all("authorization" not in r.headers for r in fake_pbs.log)


def test_rate_limit_says_when_it_resets_and_what_to_do(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    fake_pbs.add_release("20250101", archives("20250101"))
    fake_pbs.rate_limit(status=403, reset=1_900_000_000)
    with pytest.raises(RateLimitError) as info:
        list(source(fake_pbs, source_context).releases())
    assert info.value.exit_code == 3
    text = str(info.value)
    assert "2030-03-17 17:46:40 UTC" in text  # 1_900_000_000 seconds after the epoch
    assert "GITHUB_TOKEN" in text
    assert fake_pbs.api_url in text


def test_429_with_retry_after_is_a_rate_limit(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    fake_pbs.rate_limit(status=429, retry_after=120)
    with pytest.raises(RateLimitError, match=r"resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"):
        list(source(fake_pbs, source_context).releases(build="20250101"))


def test_plain_403_is_not_a_rate_limit(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    fake_pbs.fail_next(1, status=403)
    with pytest.raises(ExternalError) as info:
        list(source(fake_pbs, source_context).releases())
    assert not isinstance(info.value, RateLimitError)
    assert "403" in str(info.value)


def test_unknown_repository_is_an_external_error_naming_the_url(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    api = f"{fake_pbs.url}/repos/nobody/nothing"
    with pytest.raises(ExternalError) as info:
        list(open_source(f"github:{api}", source_context).releases())
    assert info.value.exit_code == 3
    assert f"{api}/releases" in str(info.value)
    assert "404" in str(info.value)


def test_server_errors_are_retried_then_reported(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    fake_pbs.add_release("20250101", archives("20250101"))
    fake_pbs.fail_next(2)  # the policy allows 2 retries: the third attempt succeeds
    assert builds(list(source(fake_pbs, source_context).releases())) == ["20250101"]
    assert [r.status for r in fake_pbs.api_log] == [500, 500, 200]

    fake_pbs.fail_next(100)
    with pytest.raises(ExternalError) as info:
        list(source(fake_pbs, source_context).releases())
    assert info.value.exit_code == 3
    assert f"github:{fake_pbs.api_url}" in str(info.value)
    assert "500" in str(info.value)
    assert len(fake_pbs.api_log) == 3 + 3


def test_connection_refused_names_the_source(source_context: SourceContext) -> None:
    with socket.socket() as sock:  # bound, never listening: refused, and no one else's port
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        spec = f"github:http://127.0.0.1:{port}/repos/astral-sh/python-build-standalone"
        with pytest.raises(ExternalError) as info:
            list(open_source(spec, source_context).releases())
    assert info.value.exit_code == 3
    assert spec in str(info.value)


def test_bad_json_is_an_external_error(
    httpserver: HTTPServer, source_context: SourceContext
) -> None:
    httpserver.expect_request("/repos/o/r/releases").respond_with_data(
        "<html>proxy login</html>", content_type="text/html"
    )
    with pytest.raises(ExternalError, match="valid JSON"):
        list(GitHubSource(httpserver.url_for("/repos/o/r"), source_context).releases())


def test_wrong_shape_is_an_external_error(
    httpserver: HTTPServer, source_context: SourceContext
) -> None:
    httpserver.expect_request("/repos/o/r/releases").respond_with_json({"message": "hi"})
    with pytest.raises(ExternalError, match="list of releases"):
        list(GitHubSource(httpserver.url_for("/repos/o/r"), source_context).releases())


def test_unchanged_pages_cost_a_304_on_the_second_run(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    for tag in ("20250103", "20250102", "20250101"):
        fake_pbs.add_release(tag, archives(tag), digests=False)
    first = list(source(fake_pbs, source_context, per_page=2).releases())
    assert [r.status for r in fake_pbs.log] == [200] * len(fake_pbs.log)
    count = len(fake_pbs.log)

    with make_client(source_context.policy) as client:
        again = replace(source_context, client=client)
        second = list(source(fake_pbs, again, per_page=2).releases())
    assert second == first
    rerun = fake_pbs.log[count:]
    assert len(rerun) == count
    assert all(r.status == 304 and "if-none-match" in r.headers for r in rerun)


def test_offline_reads_the_cache_only(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    fake_pbs.add_release("20250101", archives("20250101"))
    online = list(source(fake_pbs, source_context).releases())
    count = len(fake_pbs.log)
    offline = replace(source_context, policy=HttpPolicy(offline=True))
    assert list(source(fake_pbs, offline).releases()) == online
    assert len(fake_pbs.log) == count
    with pytest.raises(ExternalError, match="offline"):
        list(source(fake_pbs, offline).releases(build="20250101"))


def test_realistic_sample_releases(fake_pbs: FakePBS, source_context: SourceContext) -> None:
    fake_pbs.add_sample_releases()
    releases = list(open_source(fake_pbs.spec, source_context).releases())
    assert builds(releases) == ["20260325", "20250115", "20240726", "20211017", "20200418"]
    by_build = {r.build: r for r in releases}
    # Before 20220227 PBS published no checksums at all, so nothing there can be locked.
    assert by_build["20211017"].artifacts == ()
    assert by_build["20200418"].artifacts == ()
    newest = by_build["20260325"].artifacts
    flavors = {a.flavor for a in newest if a.platform.key == "linux-x86_64-gnu"}
    assert {"install_only", "install_only_stripped", "pgo+lto-full", "debug-full"} <= flavors
    assert {a.variant for a in newest} >= {"default", "freethreaded", "debug"}
    for artifact in (*newest, *by_build["20250115"].artifacts):
        assert artifact.sha256 == fake_pbs.releases[artifact.build].sha256(artifact.asset.name)


def test_realistic_sample_fetches_one_sha256sums_for_one_platform(
    fake_pbs: FakePBS, source_context: SourceContext
) -> None:
    fake_pbs.add_sample_releases(builds={"20250115"})
    linux = frozenset({parse_platform("linux-x86_64-gnu")})
    (release,) = list(source(fake_pbs, source_context).releases(build="20250115", platforms=linux))
    assert release.artifacts and {a.platform.key for a in release.artifacts} == {"linux-x86_64-gnu"}
    assert [r.path.rsplit("/", 1)[1] for r in fake_pbs.download_log] == ["SHA256SUMS"]


def test_next_link_parsing() -> None:
    header = (
        '<https://api.github.com/repositories/1/releases?per_page=5&page=1>; rel="prev", '
        '<https://api.github.com/repositories/1/releases?per_page=5&page=3>; rel="next", '
        '<https://api.github.com/repositories/1/releases?per_page=5&page=9>; rel="last"'
    )
    base = "https://api.github.com/repos/o/r/releases"
    assert next_link(header, base) == (
        "https://api.github.com/repositories/1/releases?per_page=5&page=3"
    )
    assert next_link('</releases?page=2>; rel="next"', base) == (
        "https://api.github.com/releases?page=2"
    )
    assert next_link('<https://x/y?page=9>; rel="last"', base) is None
    assert next_link(None, base) is None
