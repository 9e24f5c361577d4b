"""Credentials for private mirrors (docs/sources.md, "Credentials"): URL user information, netrc
and ``PYLOCK_MIRROR_TOKEN``; each goes only to its origin, and none is ever written or printed.

The end-to-end tests run the real CLI against ``private_mirror.PrivateMirror``, a loopback
mirror that answers only a request carrying the one ``Authorization`` value it wants, and that
records every request's headers.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clirun import console_script, pylock
from conftest import REAL, SyncedTemplate
from pbs_server import FakePBS
from private_mirror import PrivateMirror, basic, bearer
from pylock.base.credentials import (
    Credentials,
    may_follow,
    origin,
    redact_text,
    redact_url,
    spelled_url,
    without_userinfo,
)
from pylock.base.settings import Settings
from pylock.errors import InputError
from pylock.net.http import HttpPolicy, make_client, open_stream
from pylock.project.platforms import host_platform
from pylock.resolution import lockfile
from pylock.sources.source import SourceContext
from pylock.sources.spec import open_source

HOST = host_platform()
MINOR = ".".join(REAL.split(".")[:2])
SECRET = "Canary-s3cret-7f1d9"  # distinctive: found anywhere, it leaked
WRONG = "Canary-wr0ng-c4e2b"
USER = "ci"


def variants(secret: str) -> list[bytes]:
    """The secret and the forms it travels in on the wire (basic auth's base64)."""
    return [
        secret.encode(),
        base64.b64encode(f"{USER}:{secret}".encode()),
        base64.b64encode(secret.encode()),
    ]


# --- the display and persistence rules ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown", "kept"),
    [
        (
            "https://ci:pw@host/pbs/x.tar.gz",
            "https://ci:****@host/pbs/x.tar.gz",
            "https://host/pbs/x.tar.gz",
        ),
        ("https://tok@host:8443/a?q=1", "https://****@host:8443/a?q=1", "https://host:8443/a?q=1"),
        ("https://:pw@host/", "https://:****@host/", "https://host/"),
        ("http://ci:p@ss@127.0.0.1:9/b", "http://ci:****@127.0.0.1:9/b", "http://127.0.0.1:9/b"),
        ("https://host/no/user", "https://host/no/user", "https://host/no/user"),
        (
            "https://host/path@not-userinfo",
            "https://host/path@not-userinfo",
            "https://host/path@not-userinfo",
        ),
        ("/a/dir@x", "/a/dir@x", "/a/dir@x"),
    ],
)
def test_the_display_and_persistence_rules(url: str, shown: str, kept: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown  # idempotent
    assert without_userinfo(url) == kept
    assert without_userinfo(shown) == kept


def test_redact_text_masks_every_url_in_a_message() -> None:
    text = (
        f"could not reach http://ci:{SECRET}@127.0.0.1:1/x and 'https://{SECRET}@m.example/y', "
        "nor mail@example.com or https://plain.example/z@w"
    )
    shown = redact_text(text)
    assert SECRET not in shown
    assert "http://ci:****@127.0.0.1:1/x" in shown and "'https://****@m.example/y'" in shown
    assert "mail@example.com" in shown and "https://plain.example/z@w" in shown


def test_origins_and_which_redirect_keeps_a_credential() -> None:
    assert origin("HTTPS://Mirror.Example/x") == ("https", "mirror.example", 443)
    assert origin("http://ci:pw@127.0.0.1:8080/") == ("http", "127.0.0.1", 8080)
    assert origin("/a/path") is None and origin("file:///x") is None
    start = origin("http://m.example/x")
    assert may_follow(start, origin("http://m.example:80/y"))
    assert may_follow(start, origin("https://m.example/y"))  # the upgrade httpx allows
    assert not may_follow(start, origin("http://m.example:8080/y"))
    assert not may_follow(start, origin("https://cdn.example/y"))
    assert not may_follow(origin("https://m.example/"), origin("http://m.example/"))


@pytest.mark.parametrize(
    "spec",
    [
        "mirror:https://m.example/pbs",
        "catalog:https://m.example/c.json",
        "index:https://m.example/v.ndjson",
        "https://m.example/pbs",
        "https://m.example/c.json",
        "https://m.example/v.ndjson",
    ],
)
def test_spelled_url_finds_the_url_each_source_reads(
    spec: str, source_context: SourceContext
) -> None:
    """The token's origins come from ``spelled_url``; the source must read that very URL."""
    found = spelled_url(spec)
    assert found is not None
    source = open_source(spec, source_context)
    assert source.location.url == found[1]  # type: ignore[attr-defined]
    assert spelled_url("github") is None and spelled_url("index") is None
    assert spelled_url("mirror:/srv/pbs") is None


# --- choosing a credential -----------------------------------------------------------------


def netrc_file(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_the_order_url_then_token_then_netrc(tmp_path: Path) -> None:
    netrc = netrc_file(tmp_path / "netrc", f"machine m.example login ci password {SECRET}")
    environ = {"PYLOCK_MIRROR_TOKEN": "tok", "NETRC": str(netrc)}
    base = Credentials.from_environ(environ)
    with_url, shown = base.take("https://bob:pw@m.example/pbs", "--mirror")
    assert shown == "https://bob:****@m.example/pbs"
    url_first = with_url.with_endpoints(shown, None)
    credential, _ = url_first.for_request(f"{shown}/20260101/x.tar.gz")
    assert credential is not None and credential.header == basic("bob", "pw")
    assert credential.source == "the user name and password in the the --mirror URL".replace(
        "the the", "the"
    )
    token = base.with_endpoints("https://m.example/pbs", None)
    credential, _ = token.for_request("https://m.example/pbs/x")
    assert credential is not None and credential.header == bearer("tok")
    assert credential.source.startswith("PYLOCK_MIRROR_TOKEN")
    credential, _ = base.for_request("https://m.example/pbs/x")  # the token is not for it
    assert credential is not None and credential.header == basic("ci", SECRET)
    assert credential.source == f"the netrc entry for m.example in NETRC ({netrc})"
    assert SECRET not in repr(url_first) and "pw" not in repr(with_url.given)


def test_the_token_goes_only_to_the_mirror_and_source_origins() -> None:
    creds = Credentials.from_environ({"PYLOCK_MIRROR_TOKEN": SECRET}).with_endpoints(
        "https://m.example/pbs", "catalog:https://c.example:8443/c.json"
    )
    for url in ("https://m.example/x", "https://c.example:8443/other/x"):
        credential, _ = creds.for_request(url)
        assert credential is not None and credential.header == bearer(SECRET)
    for url in (
        "https://c.example/x",  # another port
        "http://m.example/x",  # another scheme
        "https://github.com/astral-sh/python-build-standalone/releases/download/x",
        "https://api.github.com/repos/astral-sh/python-build-standalone/releases",
    ):
        credential, tried = creds.for_request(url)
        assert credential is None
        assert "PYLOCK_MIRROR_TOKEN is set, but goes only to" in tried and SECRET not in tried
    github = Credentials.from_environ({"PYLOCK_MIRROR_TOKEN": SECRET}).with_endpoints(
        None, "github:https://ghe.example/api/v3/repos/o/r"
    )
    assert github.for_request("https://ghe.example/api/v3/repos/o/r/releases")[0] is None


def test_netrc_per_host_login_and_no_default(tmp_path: Path) -> None:
    netrc = netrc_file(
        tmp_path / "netrc",
        "machine a.example login ci password one",
        "machine b.example login other password two",
        f"default login anyone password {SECRET}",
    )
    creds = Credentials.from_environ({"NETRC": str(netrc)})
    credential, _ = creds.for_request("https://A.example:8443/x")  # any port, any case
    assert credential is not None and credential.header == basic("ci", "one")
    credential, tried = creds.for_request("https://c.example/x")  # only `default` would match
    assert credential is None and "has no entry for c.example" in tried
    named, _ = creds.take("https://ci@b.example/pbs", "PYLOCK_MIRROR")
    credential, tried = named.for_request("https://b.example/pbs/x")  # login "other" != "ci"
    assert credential is not None and credential.header == basic("ci", "")
    assert credential.source == "the user name in the PYLOCK_MIRROR URL, without a password"
    right, _ = creds.take("https://other@b.example/pbs", "PYLOCK_MIRROR")
    credential, _ = right.for_request("https://****@b.example/pbs/x")
    assert credential is not None and credential.header == basic("other", "two")


def test_netrc_that_is_missing_or_broken_is_named_not_fatal(tmp_path: Path) -> None:
    missing = Credentials.from_environ({"NETRC": str(tmp_path / "none")})
    credential, tried = missing.for_request("https://m.example/x")
    assert credential is None and f"NETRC ({tmp_path / 'none'}) does not exist" in tried
    broken = netrc_file(tmp_path / "netrc", f"machine m.example login ci password {SECRET} bogus")
    credential, tried = Credentials.from_environ({"NETRC": str(broken)}).for_request(
        "https://m.example/x"
    )
    assert credential is None and "could not be parsed (line " in tried
    assert SECRET not in tried
    home = Credentials.from_environ({"HOME": str(tmp_path)})
    assert home.netrc == str(tmp_path / ".netrc") and home.netrc_named == "~/.netrc"


@pytest.mark.parametrize("token", ["two words", "line\nbreak", "caf\u00e9", "tab\tinside"])
def test_a_token_no_header_can_carry_is_refused_without_quoting_it(token: str) -> None:
    with pytest.raises(InputError) as raised:
        Settings.resolve(environ={"PYLOCK_MIRROR_TOKEN": f"{SECRET}{token}"})
    assert SECRET not in str(raised.value) and "PYLOCK_MIRROR_TOKEN" in str(raised.value)
    assert Settings.resolve(environ={"PYLOCK_MIRROR_TOKEN": f" {SECRET}\n"}).credentials.token == (
        SECRET
    )


def test_settings_keep_only_display_forms(tmp_path: Path) -> None:
    environ = {
        "PYLOCK_MIRROR": f"https://ci:{SECRET}@m.example/pbs",
        "PYLOCK_SOURCE": f"mirror:https://ci:{SECRET}@s.example/pbs",
        "PYLOCK_MIRROR_TOKEN": SECRET,
    }
    settings = Settings.resolve(
        environ=environ, source=f"catalog:https://{SECRET}@c.example/c.json"
    )
    assert settings.mirror == "https://ci:****@m.example/pbs"
    assert settings.source == "catalog:https://****@c.example/c.json"
    assert settings.env_source == "mirror:https://ci:****@s.example/pbs"
    for shown in (repr(settings.mirror), repr(settings.source), repr(settings.credentials)):
        assert SECRET not in shown
    assert {g.where for g in settings.credentials.given} == {
        "PYLOCK_MIRROR",
        "--source",
        "PYLOCK_SOURCE",
    }
    manifest = tmp_path / "pyproject.toml"
    flagless = Settings.resolve(environ={"PYLOCK_MIRROR_TOKEN": SECRET})
    remote = flagless.remote(
        mirror=f"https://ci:{SECRET}@m.example/pbs",
        source=f"index:https://u:{SECRET}@i.example/v.ndjson",
        manifest_path=manifest,
    )
    assert remote.mirror == "https://ci:****@m.example/pbs"
    assert remote.source == "index:https://u:****@i.example/v.ndjson"
    assert remote.source_where == f"{manifest} [tool.pylock].source"
    assert remote.http.credentials.token_origins == {
        ("https", "m.example", 443),
        ("https", "i.example", 443),
    }
    credential, _ = remote.http.credentials.for_request("https://i.example/v.ndjson")
    assert credential is not None and credential.header == basic("u", SECRET)
    assert (
        credential.source
        == f"the user name and password in the {manifest} [tool.pylock].source URL"
    )


def test_a_lock_holding_a_password_is_refused_with_the_password_masked(tmp_path: Path) -> None:
    name = f"cpython-3.12.8+20260101-{HOST.triple}-install_only_stripped.tar.gz"
    text = (
        'lock-version = 1\ncreated-by = "pylock"\n\n[manifest]\npython = "3.12"\n\n[[target]]\n'
        f'platform = "{HOST.key}"\ntriple = "{HOST.triple}"\nimplementation = "cpython"\n'
        'version = "3.12.8"\nbuild = "20260101"\nflavor = "install_only_stripped"\n'
        f'variant = "default"\nurl = "http://ci:{SECRET}@127.0.0.1:1/20260101/{name}"\n'
        f'size = 1\nsha256 = "{"0" * 64}"\n'
    )
    with pytest.raises(InputError) as raised:
        lockfile.loads(text)
    assert "carries a user name or password" in str(raised.value)
    assert "http://ci:****@127.0.0.1:1/" in str(raised.value) and SECRET not in str(raised.value)


# --- the one client ---------------------------------------------------------------------------


@pytest.fixture
def servers() -> Iterator[tuple[PrivateMirror, PrivateMirror]]:
    """``a`` wants the token and redirects its archives to ``b``, another origin."""
    b = PrivateMirror({"20260101": [("x.tar.gz", b"bytes")]})
    a = PrivateMirror(
        {"20260101": [("x.tar.gz", b"bytes")]}, wants=bearer(SECRET), redirect_archives_to=b
    )
    yield a, b
    a.close()
    b.close()


def test_a_caller_header_and_a_credential_stop_at_the_origin(
    servers: tuple[PrivateMirror, PrivateMirror],
) -> None:
    a, b = servers
    creds = Credentials.from_environ({"PYLOCK_MIRROR_TOKEN": SECRET}).with_endpoints(a.url, None)
    policy = HttpPolicy(retries=0, credentials=creds)
    with make_client(policy) as client:
        with open_stream(client, f"{a.url}/20260101/x.tar.gz", policy=policy) as response:
            assert response.status_code == 200 and response.read() == b"bytes"
        own = {"Authorization": bearer(SECRET)}  # as the GitHub source sends its token
        with open_stream(
            client, f"{a.url}/20260101/x.tar.gz", policy=HttpPolicy(retries=0), headers=own
        ) as response:
            assert response.status_code == 200
    assert [s.authorization for s in a.seen] == [bearer(SECRET)] * 2
    assert [s.status for s in a.seen] == [302, 302]
    assert len(b.seen) == 2 and all("authorization" not in s.headers for s in b.seen)


# --- end to end: every credential source, every command ------------------------------------


@dataclass(frozen=True)
class Kind:
    """One source of credentials, as a user sets it up."""

    name: str
    wants: Callable[[str], str]  # secret -> the Authorization value the mirror wants
    describes: str  # how a refusal names what was sent

    def setup(self, mirror: PrivateMirror, secret: str, home: Path) -> dict[str, str]:
        """The environment, and (netrc) the file, holding ``secret`` for ``mirror``."""
        if self.name == "token":
            return {"PYLOCK_MIRROR_TOKEN": secret}
        if self.name == "netrc":
            path = netrc_file(
                home / "netrc", f"machine {mirror.host} login {USER} password {secret}"
            )
            return {"NETRC": str(path)}
        if self.name == "home-netrc":  # no NETRC: the file in the home directory
            netrc_file(home / ".netrc", f"machine {mirror.host} login {USER} password {secret}")
            return {"HOME": str(home), "NETRC": ""}
        return {}

    def source(self, mirror: PrivateMirror, secret: str) -> str:
        """What ``--source`` or ``PYLOCK_SOURCE`` says."""
        if self.name == "url":
            return f"mirror:{mirror.with_userinfo(USER, secret)}"
        return f"mirror:{mirror.url}"

    def mirror(self, mirror: PrivateMirror, secret: str) -> str:
        """What ``--mirror`` or ``PYLOCK_MIRROR`` says."""
        return mirror.with_userinfo(USER, secret) if self.name == "url" else mirror.url


KINDS = {
    "url": Kind("url", lambda s: basic(USER, s), "the user name and password in the"),
    "netrc": Kind("netrc", lambda s: basic(USER, s), "the netrc entry for 127.0.0.1 in NETRC"),
    "home-netrc": Kind(
        "home-netrc", lambda s: basic(USER, s), "the netrc entry for 127.0.0.1 in ~/.netrc"
    ),
    "token": Kind("token", bearer, "PYLOCK_MIRROR_TOKEN (as a Bearer token)"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[tool.pylock]\npython = "{MINOR}"\nplatforms = ["{HOST.key}"]\n', "utf-8"
    )
    return project


def private_mirror(template: SyncedTemplate, kind: Kind, **kwargs: object) -> PrivateMirror:
    return PrivateMirror({template.build: template.assets}, wants=kind.wants(SECRET), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], project: Path
) -> Callable[..., tuple[int, str, str]]:
    def run(*args: str, code: int | None = 0) -> tuple[int, str, str]:
        result = pylock(capsys, "-p", str(project), *args)
        if code is not None:
            assert result[0] == code, result
        return result

    return run


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_each_credential_source_works_for_lock_sync_mirror_list_and_check(
    kind: Kind,
    synced_template: SyncedTemplate,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    server = private_mirror(synced_template, kind)
    try:
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(f"{server.url}/")  # the mirror really wants a credential
        assert anonymous.value.code == 401
        server.seen.clear()
        for name, value in kind.setup(server, SECRET, tmp_path).items():
            monkeypatch.setenv(name, value)
        source = kind.source(server, SECRET)
        run_cli("lock", "--source", source)
        lock = lockfile.read(project / "python.lock")
        assert [t.url.rsplit("/", 2)[0] for t in lock.targets] == [server.url]  # no userinfo
        monkeypatch.setenv("PYLOCK_SOURCE", source)  # list, sync and check read it from here
        _, listed, _ = run_cli("list", "--format", "json")
        assert REAL in listed
        if kind.name == "url":  # the lock's URLs get the source URL's credential, by origin
            run_cli("check", "--remote")
            monkeypatch.setenv("PYLOCK_MIRROR", kind.mirror(server, SECRET))
        else:
            monkeypatch.delenv("PYLOCK_SOURCE")  # lock URLs on the mirror's origin: token/netrc
            (project / "pyproject.toml").write_text(
                (project / "pyproject.toml").read_text("utf-8") + f'source = "{source}"\n', "utf-8"
            )
        run_cli("sync")
        run_cli("check", "--remote", "--mirror", kind.mirror(server, SECRET))
        forget_archives()  # so that mirror downloads, rather than copying from the cache
        run_cli("mirror", str(tmp_path / "copy"), "--mirror", kind.mirror(server, SECRET))
        assert (tmp_path / "copy" / synced_template.build / "SHA256SUMS").is_file()
        if kind.name != "url":
            run_cli("check", "--remote")  # the lock's URLs, on the source's origin
        # Every request got in; the only other answer is the mirror having no attestation
        # bundle beside an archive (provenance's lookup, under the default policy "verify").
        refused = [
            (s.path, s.status)
            for s in server.seen
            if s.status != 200 and not (s.status == 404 and s.path.endswith(".sigstore.json"))
        ]
        assert server.seen and not refused, refused
        assert {s.authorization for s in server.seen} == {kind.wants(SECRET)}
        assert len(server.archive_requests()) == 4  # sync, check x2, mirror
    finally:
        server.close()


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_a_redirect_to_another_origin_carries_no_credential(
    kind: Kind,
    synced_template: SyncedTemplate,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    """Mirrors redirect archives to a CDN or a presigned URL: the credential stays behind."""
    cdn = PrivateMirror({synced_template.build: synced_template.assets})
    server = private_mirror(synced_template, kind, redirect_archives_to=cdn)
    try:
        for name, value in kind.setup(server, SECRET, tmp_path).items():
            monkeypatch.setenv(name, value)
        run_cli("lock", "--source", kind.source(server, SECRET))
        monkeypatch.setenv("PYLOCK_MIRROR", kind.mirror(server, SECRET))
        run_cli("sync")
        run_cli("check", "--remote")
        archives = server.archive_requests()
        assert len(archives) == 2 and {s.status for s in archives} == {302}
        assert {s.authorization for s in archives} == {kind.wants(SECRET)}
        assert len(cdn.seen) == 2 and {s.status for s in cdn.seen} == {200}
        for seen in cdn.seen:
            assert "authorization" not in seen.headers
            assert not any(v in str(seen.headers).encode() for v in variants(SECRET))
    finally:
        server.close()
        cdn.close()


@pytest.mark.parametrize("kind", [*KINDS.values(), None], ids=[*KINDS, "none"])
def test_401_names_the_host_what_was_sent_and_the_ways_to_give_one(
    kind: Kind | None,
    synced_template: SyncedTemplate,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    server = private_mirror(synced_template, KINDS["token"])
    host = server.url.removeprefix("http://")
    try:
        given = kind or KINDS["netrc"]
        if kind is not None:  # a wrong secret in this source
            for name, value in kind.setup(server, WRONG, tmp_path).items():
                monkeypatch.setenv(name, value)
        source = given.source(server, WRONG) if kind else f"mirror:{server.url}"
        _, _, locked = run_cli("lock", "--source", source, code=3)
        _, _, listed = run_cli("list", "--source", source, code=3)
        for err in (locked, listed):
            assert f"{host} wants a credential; pylock sent " in err
            if kind is None:
                assert "pylock sent no credential: no user name or password" in err
                assert "PYLOCK_MIRROR_TOKEN is not set" in err
            else:
                assert kind.describes in err
            assert "~/.netrc" in err and "PYLOCK_MIRROR_TOKEN" in err
            assert "`user:password@` before the host" in err
            assert WRONG not in err and SECRET not in err
    finally:
        server.close()


def forget_archives() -> None:
    """Empty the archive cache: the next sync or mirror must download."""
    shutil.rmtree(Path(os.environ["PYLOCK_CACHE_DIR"]) / "archives", ignore_errors=True)


# --- the canary ---------------------------------------------------------------------------


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                yield path


def leaks(secrets: list[str], texts: list[str], roots: list[Path]) -> list[str]:
    """Where any form of any secret shows up: "stdout/stderr #n" or a file's path."""
    found = []
    needles = [v for s in secrets for v in variants(s)]
    for number, text in enumerate(texts):
        if any(n in text.encode() for n in needles):
            found.append(f"output #{number}: {text[:500]}")
    for path in files_under(*roots):
        data = path.read_bytes()
        if any(n in data for n in needles):
            found.append(str(path))
    return found


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_canary_no_secret_in_any_file_or_output(
    kind: Kind,
    synced_template: SyncedTemplate,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every command, with a distinctive secret in this credential source, succeeding and then
    failing (a wrong secret, --verbose): the secret is in no file pylock wrote or could have
    written and in nothing it printed."""
    server = private_mirror(synced_template, kind)
    outputs: list[str] = []
    copy, exported = tmp_path / "copy", project / "python-downloads.json"

    def run(*args: str, code: int = 0) -> None:
        result = pylock(capsys, "-p", str(project), *args)
        outputs.extend(result[1:])
        assert result[0] == code, result

    def script(*args: str, code: int) -> None:  # the console script's own sync and check
        done = subprocess.run(
            [str(console_script()), "-p", str(project), *args],
            capture_output=True, text=True, check=False, env=dict(os.environ),
        )  # fmt: skip
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == code, done

    try:
        home = tmp_path / "home"
        home.mkdir()
        for name, value in kind.setup(server, SECRET, home).items():
            monkeypatch.setenv(name, value)
        source, mirror = kind.source(server, SECRET), kind.mirror(server, SECRET)
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        result = pylock(capsys, "-p", str(fresh), "init", "--python", MINOR)
        outputs.extend(result[1:])
        assert result[0] == 0, result
        run("lock", "--source", source)
        run("lock", "--upgrade", "--dry-run", "--source", source)
        run("list", "--source", source)
        run("list", "--all-builds", "--format", "json", "--source", source)
        monkeypatch.setenv("PYLOCK_SOURCE", source)
        monkeypatch.setenv("PYLOCK_MIRROR", mirror)
        run("sync")
        run("--verbose", "sync", "--reinstall")
        script("sync", code=0)
        run("show")
        run("show", "--format", "json")
        run("which")
        run("check", "--remote")
        run("check", "--remote", "--format", "json")
        script("--verbose", "check", "--remote", "--format", "json", code=0)
        run("mirror", str(copy), "--mirror", mirror)
        run("export", "uv")
        run("export", "uv", "--output", "-", "--mirror", mirror)
        run("prune", "--dry-run")
        elsewhere = f"mirror:http://{USER}:{SECRET}@127.0.0.1:1"  # not in the HTTP cache:
        run("--offline", "--verbose", "list", "--source", elsewhere, code=3)  # quoted in an error

        # The same secret's source now holds a wrong one: every refusal, with --verbose. The
        # archive leaves the cache, so sync and mirror must download it again.
        forget_archives()
        for name, value in kind.setup(server, WRONG, home).items():
            monkeypatch.setenv(name, value)
        source, mirror = kind.source(server, WRONG), kind.mirror(server, WRONG)
        monkeypatch.setenv("PYLOCK_SOURCE", source)
        monkeypatch.setenv("PYLOCK_MIRROR", mirror)
        run("--verbose", "lock", "--upgrade", code=3)
        run("--verbose", "list", code=3)
        run("--verbose", "sync", "--reinstall", code=3)
        script("--verbose", "sync", "--reinstall", code=3)
        run("--verbose", "check", "--remote", code=3)
        script("--verbose", "check", "--remote", "--format", "json", code=3)
        run("--verbose", "mirror", str(tmp_path / "second"), code=3)
        run("--verbose", "export", "uv", "--output", str(tmp_path / "second.json"))
        assert any("HTTP 401" in text for text in outputs)
    finally:
        server.close()

    roots = [
        project,
        tmp_path / "fresh",
        copy,
        tmp_path / "second.json",
        Path(os.environ["PYLOCK_CACHE_DIR"]),
        Path(os.environ["PYLOCK_PYTHON_DIR"]),
    ]
    assert exported.is_file()
    assert any(Path(os.environ["PYLOCK_CACHE_DIR"]).rglob("*.json"))  # the HTTP cache's records
    assert leaks([SECRET, WRONG], outputs, [r for r in roots if r.exists()]) == []
    assert leaks([SECRET], [f"x{SECRET}x"], []) != []  # the scan finds what it looks for


def test_the_github_source_gets_no_mirror_token_and_a_401_names_its_tokens(
    fake_pbs: FakePBS,
    synced_template: SyncedTemplate,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    synced_template.publish(fake_pbs)
    monkeypatch.setenv("PYLOCK_MIRROR_TOKEN", SECRET)  # for a mirror: never for a GitHub API
    run_cli("lock", "--source", fake_pbs.spec)
    assert fake_pbs.log and all("authorization" not in r.headers for r in fake_pbs.log)
    fake_pbs.fail_next(1, 401)
    _, _, err = run_cli("lock", "--upgrade", "--source", fake_pbs.spec, code=3)
    assert "answered HTTP 401" in err and "pylock sent no credential" in err
    assert "GITHUB_TOKEN" in err and "GH_ENTERPRISE_TOKEN" in err and SECRET not in err
