"""One TLS context per CA setting, shared by every client (loading the CA bundle is slow)."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from pylock.net import http


def test_clients_share_the_context_for_the_same_ca_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = http._tls_context(None, None)
    assert http._tls_context(None, None) is default
    assert default.cert_store_stats()["x509_ca"] > 0  # certifi's bundle, as httpx loads it
    with http.make_client(), http.make_client():
        pass
    own = http._tls_context(certifi.where(), None)  # SSL_CERT_FILE is honoured, as by httpx
    assert own is not default and own.cert_store_stats()["x509_ca"] > 0
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    with http.make_client():
        pass


def test_a_missing_ca_file_is_an_error_not_silently_ignored(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        http._tls_context(str(tmp_path / "missing.pem"), None)
