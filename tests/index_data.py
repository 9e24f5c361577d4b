"""One data set in three shapes: the fake GitHub's releases as a uv catalog and as a PBS versions
index (NDJSON), and uv's real catalog sample as NDJSON, each in the real format.

The NDJSON is written here from the asset file names the way PBS's generator writes it, not with
pylock's own helpers, so a test that parses it checks pylock against the format: ``variant`` is
the name's options and flavor joined by ``+``, and macOS free-threaded/debug artifacts carry the
spurious ``-freethreaded``/``-debug`` platform suffix real lines have (FORMAT caveat 1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pbs_server import _E1_NAME, _E2_NAME, FakePBS, FakeRelease, sha256_hex

Entry = tuple[str, str, str | None]  # (build tag, url, sha256 or None)


def _variant_and_triple(name: str) -> tuple[str, str, str]:
    """(variant field, triple, version) as the index spells them for asset ``name``."""
    if m := _E2_NAME.fullmatch(name):
        tail = m["tail"]
        version = m["ver"]
    elif m := _E1_NAME.fullmatch(name):
        tail = m["tail"] + (".tar.gz" if name.endswith(".tar.gz") else "-full.tar.zst")
        version = m["ver"]
    else:
        raise ValueError(name)
    triple = m["triple"]
    if tail.endswith(".tar.gz"):
        variant = tail.removesuffix(".tar.gz").replace("freethreaded-", "freethreaded+")
    else:
        variant = tail.removesuffix("-full.tar.zst") + "+full"
    return variant, triple, version


def _platform_field(triple: str, variant: str) -> str:
    if triple.endswith("apple-darwin"):
        for token in ("freethreaded", "debug"):
            if token in variant.split("+"):
                return f"{triple}-{token}"  # the real index's macOS mis-parse
    return triple


def ndjson(entries: Iterable[Entry]) -> str:
    """The versions index for these assets: one line per version+build, newest first."""
    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for tag, url, sha256 in entries:
        name = unquote(url.rsplit("/", 1)[-1])
        variant, triple, version = _variant_and_triple(name)
        lines.setdefault((tag, version), []).append(
            {
                "platform": _platform_field(triple, variant),
                "variant": variant,
                "url": url,
                "archive_format": "tar.gz" if name.endswith(".tar.gz") else "tar.zst",
                "sha256": sha256,
            }
        )

    def order(key: tuple[str, str]) -> tuple[str, tuple[int, ...]]:
        tag, version = key
        return tag, tuple(int(x) for x in re.findall(r"\d+", version))

    out = []
    for tag, version in sorted(lines, key=order, reverse=True):
        line = {
            "version": f"{version}+{tag}",
            "date": f"{tag[:4]}-{tag[4:6]}-{tag[6:]}T18:58:13Z",
            "artifacts": lines[(tag, version)],
        }
        out.append(json.dumps(line, separators=(",", ":")))
    return "\n".join(out) + "\n"


def catalog(entries: Iterable[Entry]) -> str:
    """uv's download-metadata.json shape for these assets (one entry per asset)."""
    data: dict[str, dict[str, Any]] = {}
    for tag, url, sha256 in entries:
        name = unquote(url.rsplit("/", 1)[-1])
        data[name] = {"name": "cpython", "url": url, "sha256": sha256, "build": tag}
    return json.dumps(data, indent=1)


def _published_sha256(release: FakeRelease, name: str) -> str | None:
    """The checksum the fake GitHub states for ``name`` in any form (digest, SHA256SUMS,
    sidecar): what a catalog or index built from the same releases would carry."""
    sums = release.files.get("SHA256SUMS", b"").decode()
    if name in release.digests or f"  {name}\n" in sums or f"{name}.sha256" in release.files:
        return sha256_hex(release.files[name])
    return None


def fake_entries(fake: FakePBS) -> list[Entry]:
    """Every interpreter archive the fake publishes, with its published checksum."""
    entries = []
    for tag, release in fake.releases.items():
        for name in release.files:
            if name.startswith("cpython-") and not name.endswith(".sha256"):
                entries.append(
                    (tag, fake.download_url(tag, name), _published_sha256(release, name))
                )
    return entries


def sample_entries(path: Path) -> list[Entry]:
    """uv's real catalog sample as (build, url, sha256)."""
    data: Mapping[str, Any] = json.loads(path.read_text("utf-8"))
    return [(e["build"], e["url"], e["sha256"]) for e in data.values() if e["name"] == "cpython"]
