"""What proving provenance costs: ``pylock lock`` with and without verification, the import of
``sigstore``, one verification, and the same verification by the ``sigstore`` CLI.

Run by hand: ``.venv/bin/python benchmarks/bench_provenance.py [--rounds N]``. Nothing leaves
127.0.0.1: a stdlib server plays GitHub (a releases API with one release whose linux archive is
the artifact of the real attestation in tests/data/attestations, and the attestations API
answering with that real bundle), and the Sigstore trust root is the one the library ships
(``PYLOCK_SIGSTORE_OFFLINE=1``; the TUF refresh is the network's cost, not pylock's).

Timed, each in fresh processes, contenders alternating within each round and their order
rotating, medians reported:

- ``lock off`` / ``lock verify``: ``pylock lock`` of a fresh project on an empty cache under
  ``[tool.pylock.provenance] policy = "off"`` and under a policy naming the bundle's identity
  (one more request, sigstore imported, one bundle verified, the proof recorded);
- ``lock verify, bundle cached``: the same with the verified bundle and the HTTP cache kept
  (python.lock deleted, so the lock is resolved and proved again);
- ``check --provenance`` (bundle cached) against ``python -m sigstore verify github --offline``
  on the same bundle and artifact with the same identity: one offline verification each, in a
  fresh interpreter;
- ``import sigstore``: ``python -c "import sigstore.verify, sigstore.models"`` against
  ``python -c pass``;
- in process: ``Verifier.production(offline=True)`` and one ``verify_bundle`` call.

Results go to benchmarks/.work/provenance.json.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "attestations"
ARTIFACT = (DATA / "reusable-workflow-artifact").read_bytes()
BUNDLE = (DATA / "reusable-workflow-attestation.sigstore.json").read_bytes()
DIGEST = hashlib.sha256(ARTIFACT).hexdigest()
SIGNER = (
    "https://github.com/github/artifact-attestations-workflows/.github/workflows/"
    "attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"
)
POLICY = (
    '[tool.pylock.provenance]\nrepository = "malancas/attest-demo"\n'
    'workflows = ["github/artifact-attestations-workflows/.github/workflows/attest.yml"]\n'
)
ASSET = "cpython-3.12.8+20260101-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
REPO = "/repos/astral-sh/python-build-standalone"


def serve() -> tuple[http.server.ThreadingHTTPServer, str, list[str]]:
    """A releases API and an attestations API on 127.0.0.1; the log of paths asked."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            path = self.path.split("?", 1)[0]
            asked.append(path)
            if path == f"{REPO}/releases":
                asset = {
                    "name": ASSET,
                    "size": len(ARTIFACT),
                    "digest": f"sha256:{DIGEST}",
                    "browser_download_url": f"{base}/download/20260101/{ASSET}",
                }
                body = json.dumps([{"tag_name": "20260101", "draft": False, "assets": [asset]}])
            elif path == f"{REPO}/attestations/sha256:{DIGEST}":
                body = json.dumps({"attestations": [{"bundle": json.loads(BUNDLE)}]})
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"github:http://127.0.0.1:{server.server_address[1]}{REPO}", asked


def timed(argv: list[str], env: dict[str, str], *, expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    work = ROOT / "benchmarks" / ".work" / "provenance"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server, spec, asked = serve()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PYLOCK_SIGSTORE_OFFLINE": "1",
        "XDG_CACHE_HOME": str(work / "xdg-cache"),  # sigstore's own TUF cache, kept here
        "XDG_DATA_HOME": str(work / "xdg-data"),
    }
    pylock = [sys.executable, "-m", "pylock"]
    manifest = (
        f'[tool.pylock]\npython = "3.12"\nplatforms = ["linux-x86_64-gnu"]\nsource = "{spec}"\n'
    )

    def project(name: str, policy: str) -> Path:
        root = work / name
        root.mkdir(exist_ok=True)
        (root / "pyproject.toml").write_text(manifest + policy, "utf-8")
        (root / "python.lock").unlink(missing_ok=True)
        return root

    counter = iter(range(1_000_000))

    def cold(policy: str) -> Callable[[], float]:
        def run() -> float:
            n = next(counter)
            root = project(f"cold-{n}", policy)
            return timed(
                [*pylock, "-p", str(root), "lock"], {**env, "PYLOCK_CACHE_DIR": str(work / f"c{n}")}
            )

        return run

    warm_cache = work / "warm-cache"
    warm_root = project("warm", POLICY)
    timed([*pylock, "-p", str(warm_root), "lock"], {**env, "PYLOCK_CACHE_DIR": str(warm_cache)})
    lock_text = (warm_root / "python.lock").read_text("utf-8")
    assert f'signer = "{SIGNER}"' in lock_text, lock_text

    def warm() -> float:
        (warm_root / "python.lock").unlink()
        return timed(
            [*pylock, "-p", str(warm_root), "lock"], {**env, "PYLOCK_CACHE_DIR": str(warm_cache)}
        )

    def check() -> float:
        return timed(
            [*pylock, "-p", str(warm_root), "check", "--provenance"],
            {**env, "PYLOCK_CACHE_DIR": str(warm_cache)},
        )

    artifact = work / "artifact"
    artifact.write_bytes(ARTIFACT)
    bundle = work / "bundle.sigstore.json"
    bundle.write_bytes(BUNDLE)

    def peer() -> float:
        return timed(
            [
                sys.executable, "-m", "sigstore", "verify", "github", "--offline",
                "--bundle", str(bundle), "--cert-identity", SIGNER,
                "--repository", "malancas/attest-demo", str(artifact),
            ],
            env,
        )  # fmt: skip

    def imports() -> float:
        return timed([sys.executable, "-c", "import sigstore.verify, sigstore.models"], env)

    def bare() -> float:
        return timed([sys.executable, "-c", "pass"], env)

    contenders: dict[str, Callable[[], float]] = {
        "lock off (cold)": cold('[tool.pylock.provenance]\npolicy = "off"\n'),
        "lock verify (cold)": cold(POLICY),
        "lock verify, bundle cached": warm,
        "check --provenance (bundle cached)": check,
        "sigstore verify github --offline": peer,
        "python -c 'import sigstore.verify, sigstore.models'": imports,
        "python -c pass": bare,
    }
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm-up: bytecode caches, page cache
        contenders[name]()
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            samples[name].append(contenders[name]())
    server.shutdown()
    assert f"{REPO}/attestations/sha256:{DIGEST}" in asked

    # In process: the verifier and one verification, after the import.
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
    os.environ["XDG_DATA_HOME"] = env["XDG_DATA_HOME"]
    from pylock.project.provenance import parse_policy
    from pylock.provenance.verify import TrustRoot, verify_bundle

    start = time.perf_counter()
    trust = TrustRoot(offline=True)
    trust.verifier()
    verifier_time = time.perf_counter() - start
    policy = parse_policy(
        {
            "repository": "malancas/attest-demo",
            "workflows": ["github/artifact-attestations-workflows/.github/workflows/attest.yml"],
        },
        where="bench",
    )
    one = []
    for _ in range(50):
        start = time.perf_counter()
        verify_bundle(BUNDLE, DIGEST, policy, trust)
        one.append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(
        f"{args.rounds} rounds, medians (min) of fresh processes, python {sys.version.split()[0]}"
    )
    for name in names:
        print(f"  {name:<52} {medians[name] * 1000:7.0f} ms ({min(samples[name]) * 1000:.0f})")
    added = medians["lock verify (cold)"] - medians["lock off (cold)"]
    imported = (
        medians["python -c 'import sigstore.verify, sigstore.models'"] - medians["python -c pass"]
    )
    print(f"  proving one archive adds to a cold `pylock lock`:     {added * 1000:7.0f} ms")
    print(f"  importing sigstore (over a bare interpreter):         {imported * 1000:7.0f} ms")
    print(f"  in process: Verifier.production(offline=True)         {verifier_time * 1000:7.1f} ms")
    each = statistics.median(one) * 1000
    print(f"  in process: one verify_bundle (median of 50)          {each:7.1f} ms")
    ratio = (
        medians["check --provenance (bundle cached)"] / medians["sigstore verify github --offline"]
    )
    print(f"  check --provenance / sigstore verify github:          {ratio:7.2f}")
    (work.parent / "provenance.json").write_text(
        json.dumps(
            {
                "rounds": args.rounds,
                "python": sys.version,
                "samples_s": samples,
                "medians_s": medians,
                "lock_verify_minus_off_s": added,
                "import_sigstore_s": imported,
                "verifier_production_s": verifier_time,
                "verify_bundle_median_s": statistics.median(one),
            },
            indent=2,
        ),
        "utf-8",
    )


if __name__ == "__main__":
    main()
