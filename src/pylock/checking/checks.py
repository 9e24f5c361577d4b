"""The checks behind ``pylock check`` (docs/check.md), for CI: is the lock sound, current,
installed?

Each check is reported by name with a verdict and the reason (a ``report.CheckResult``; the
report model and its rendering live in report.py), never as an exception, so one run
shows everything that is wrong at once and a JSON consumer gets the same facts as a human. The
checks run in a fixed order and the later ones need the lock the first one read:

``lock-valid``
    ``python.lock`` parses and follows docs/lockfile.md (``lockfile.validate``; every problem).
``lock-current``
    the lock still satisfies ``[tool.pylock]`` (``drift.drift``, resolution/drift.py; no network).
``installed``
    the receipt of this host's install (or ``--platform``, ``--into``) names the locked archive.
``tree`` (``deep``)
    every installed file still hashes to what the install recorded.
``remote`` (``remote``)
    every locked URL (or its mirror copy) still serves the locked size and sha256.
``provenance`` (``provenance``)
    every locked archive's attestation verifies under ``[tool.pylock.provenance]`` and agrees
    with what the lock records (``pylock.provenance``; sigstore is imported only then).
``venv``
    when ``.venv`` exists (or ``--venv`` names one), its ``pyvenv.cfg`` points at the locked
    install and states the locked version (``pylock.commands.venv``).

This module is on the fast path of a CI job, so it imports only the stdlib and the light pylock
modules at the top; httpx comes in through ``pylock.net.http``/``pylock.fetch.download`` only
when the remote check runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.base import tomlread
from pylock.base.settings import Settings
from pylock.checking.report import CheckReport, CheckResult, Status
from pylock.errors import (
    EXIT_EXTERNAL,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_OK,
    PylockError,
    VerificationError,
)
from pylock.formats import counted
from pylock.install import receipt
from pylock.install.store import Installation, Store, differences, is_installed
from pylock.project import manifest
from pylock.project.platforms import Platform, host_platform, parse_platform
from pylock.project.provenance import Proof, ProvenancePolicy, record_json
from pylock.resolution import lockfile
from pylock.resolution.drift import matrix_drift
from pylock.resolution.lockfile import Lock, Target

if TYPE_CHECKING:
    from pylock.fast.memo import Evidence
    from pylock.net.http import HttpPolicy
    from pylock.net.lib import httpx
    from pylock.provenance.prover import Prover

CHECK_NAMES = ("lock-valid", "lock-current", "installed", "tree", "remote", "provenance", "venv")
MAX_LISTED = 20
"""How many differing paths the tree check prints before summing up the rest."""

_REMOTE_WORKERS = 4


@dataclass(frozen=True)
class CheckOptions:
    """What to check beyond the always-on lock checks; mirrors the ``pylock check`` options."""

    installed_required: bool = False  # --installed: "not installed" is a failure, not a skip
    deep: bool = False  # --deep: re-hash every installed file
    remote: bool = False  # --remote: stream every locked URL and compare bytes
    provenance: bool = False  # --provenance: re-verify every locked archive's attestation
    platform: str | None = None  # key or triple; default: this host
    python: str | None = None  # --python: which request of a matrix lock; default: the first
    every: bool = False  # --all: every request of a matrix lock (missing ones skip or fail)
    into: Path | None = None  # an explicit install dir (as `pylock sync --into`)
    venv: Path | None = None  # --venv: this venv must exist; default: .venv, checked if present


def run_checks(
    project_dir: Path,
    options: CheckOptions,
    *,
    settings: Settings,
    evidence: Evidence | None = None,
) -> CheckReport:
    """Run every check on ``project_dir`` (holding pyproject.toml and python.lock).

    Never raises for anything a user can cause: unreadable files, bad options and network errors
    all become results, so the report is always complete. ``settings`` gives the install store,
    and for ``--remote`` the mirror, offline and HTTP policy. ``evidence`` (fast/memo.py), when
    given, gets what the report rests on: the bytes of every file read, the install's
    interpreter, the venv's home; the tree and remote checks rest on more than it can hold.
    """
    if evidence is not None and (options.deep or options.remote or options.provenance):
        evidence.unknown()  # every installed file, or a server's answer
    lock_path = project_dir / lockfile.LOCK_FILENAME
    valid, lock, skip_reason = _check_lock_valid(lock_path, evidence)
    results = [valid]
    if lock is None:
        results.extend(_skip(name, skip_reason) for name in CHECK_NAMES[1:])
        return CheckReport(tuple(results))

    pyproject = project_dir / "pyproject.toml"
    manifest_obj, current = _check_lock_current(lock, pyproject, evidence)
    results.append(current)

    try:
        views, chosen = _selected(lock, options)
    except PylockError as exc:
        bad: dict[str, object] = {"platform": options.platform, "install_dir": None}
        bad["mismatches"] = []
        unselected = CheckResult("installed", "error", str(exc), (), bad, EXIT_INPUT)
        results.append(unselected)
        results.append(_skip("tree", "no interpreter selected"))
        views, chosen = [], 0
    installs: list[tuple[CheckResult, Path | None, receipt.Receipt | None]] = [
        _check_installed(view, options, Store(settings.python_dir), evidence) for view in views
    ]
    # The venv is made from one interpreter: the one --python names (default: the first).
    installed, install_dir, found = installs[chosen] if installs else (unselected, None, None)
    if views:
        results.append(_merged("installed", views, [each[0] for each in installs]))
        trees = [
            _check_tree(install_dir, found, options.into)
            for _, install_dir, found in installs
            if options.deep and install_dir is not None and found is not None
        ]
        if not options.deep:
            results.append(_skip("tree", "not requested (pass --deep to re-hash installed files)"))
        elif not trees:
            results.append(_skip("tree", "nothing installed to re-hash"))
        else:
            installed_views = [
                view
                for view, (_, install_dir, found) in zip(views, installs, strict=True)
                if install_dir is not None and found is not None
            ]
            results.append(_merged("tree", installed_views, trees))

    if not options.remote:
        results.append(_skip("remote", "not requested (pass --remote to verify locked URLs)"))
    else:
        remote = settings.remote(
            mirror=manifest_obj.mirror if manifest_obj else None,
            source=manifest_obj.source if manifest_obj else None,
            manifest_path=pyproject,
        )
        results.append(_check_remote(lock, remote.mirror, settings.offline, remote.http))
    if not options.provenance:
        results.append(
            _skip("provenance", "not requested (pass --provenance to re-verify attestations)")
        )
    else:
        results.append(_check_provenance(lock, manifest_obj, settings, project_dir))
    results.append(_check_venv(project_dir, options, installed, install_dir, found, evidence))
    return CheckReport(tuple(results))


def _skip(name: str, why: str) -> CheckResult:
    return CheckResult(name, "skip", why)


def _selected(lock: Lock, options: CheckOptions) -> tuple[list[Lock], int]:
    """The single-request views the installed checks look at (``--all``: every request, else
    the one ``--python`` names, default the first) and which of them ``--python`` names."""
    from pylock.resolution.selection import select_request

    named = select_request(lock, options.python)
    if options.every:
        pythons = lock.manifest.pythons
        return [lock.view(p) for p in pythons], pythons.index(named.manifest.python)
    return [named], 0


_STATUS_RANK: dict[Status, int] = {"pass": 0, "skip": 1, "fail": 2, "error": 3}


def _merged(name: str, views: list[Lock], results: list[CheckResult]) -> CheckResult:
    """One check's verdict over several requests (``--all``): the worst status, each request's
    summary as a detail, and each one's data under ``requests``. One request: its own result."""
    if len(results) == 1:
        return results[0]
    worst = max(results, key=lambda r: _STATUS_RANK[r.status])
    passed = sum(r.status == "pass" for r in results)
    summary = f"{passed} of {len(results)} requested interpreters pass."
    details = tuple(
        line
        for view, result in zip(views, results, strict=True)
        for line in (
            f"{view.manifest.python}: {result.status}: {result.summary}",
            *(f"  {d}" for d in result.details),
        )
    )
    data = {
        "requests": [
            {"request": view.manifest.python, "status": result.status, **result.data}
            for view, result in zip(views, results, strict=True)
        ]
    }
    return CheckResult(name, worst.status, summary, details, data, worst.exit_code)


# lock-valid ---------------------------------------------------------------------------------


def _check_lock_valid(
    path: Path, evidence: Evidence | None
) -> tuple[CheckResult, Lock | None, str]:
    """The verdict, the lock when it is usable, and why later checks skip when it is not."""
    name = "lock-valid"
    data: dict[str, object] = {"path": str(path), "problems": []}
    try:
        raw = lockfile.read_bytes(path)
        if evidence is not None:
            evidence.content(path, raw)
        document = tomlread.loads(raw.decode("utf-8"))
    except PylockError as exc:  # missing, a directory, unreadable: as every command says it
        return (
            CheckResult(name, "error", str(exc), (), data, exc.exit_code),
            None,
            "lock unreadable",
        )
    except (UnicodeDecodeError, tomlread.TOMLDecodeError):
        # Let the reader phrase it (not UTF-8, TOML syntax at line N), so that `pylock check`
        # and `pylock sync` say the same thing about the same broken lock.
        summary, code = _read_error(raw, path)
        return CheckResult(name, "error", summary, (), data, code), None, "lock unreadable"

    lock, problems = lockfile.validate(document)
    if problems or lock is None:
        data["problems"] = [{"where": p.where, "message": p.message} for p in problems]
        count = len(problems)
        version = document.get("lock-version")
        if isinstance(version, int) and version > lockfile.LOCK_VERSION:
            advice = "upgrade pylock to read it, or replace it with `pylock lock --upgrade`."
        else:
            advice = "replace it with `pylock lock --upgrade` rather than editing it by hand."
        summary = (
            f"{path} does not follow docs/lockfile.md ({count} problem{'s' * (count != 1)}); "
            f"{advice}"
        )
        details = tuple(str(p) for p in problems)
        result = CheckResult(name, "fail", summary, details, data, EXIT_INPUT)
        return result, None, "lock invalid"
    data["targets"] = [t.platform for t in lock.targets]
    count = len(lock.targets)
    summary = f"{path.name} is valid ({counted(count, 'target')})."
    return CheckResult(name, "pass", summary, (), data), lock, ""


def _read_error(raw: bytes, path: Path) -> tuple[str, int]:
    try:
        lockfile.from_bytes(raw, path)
    except PylockError as exc:
        return str(exc), exc.exit_code  # 2: not UTF-8, or not TOML
    return f"cannot read {path}.", EXIT_INPUT  # pragma: no cover - from_bytes raised above


# lock-current -------------------------------------------------------------------------------


def _check_lock_current(
    lock: Lock, pyproject: Path, evidence: Evidence | None
) -> tuple[manifest.Manifest | None, CheckResult]:
    """Satisfiability against the manifest alone: no CLI overrides, no host default platform."""

    name = "lock-current"
    data: dict[str, object] = {"manifest": str(pyproject), "drift": []}
    try:
        raw = manifest.read_bytes(pyproject)
        if evidence is not None:
            evidence.content(pyproject, raw)
        loaded = manifest.load(pyproject, raw=raw)
        requests = manifest.Request.matrix(loaded, default_platforms=())
    except PylockError as exc:
        summary = f"cannot read the manifest: {exc}"
        return None, CheckResult(name, "error", summary, (), data, exc.exit_code)
    drifts = matrix_drift(lock, requests)
    if not drifts:
        summary = f"python.lock satisfies {pyproject.name} [tool.pylock]."
        return loaded, CheckResult(name, "pass", summary, (), data)
    data["drift"] = [
        {"input": d.input, "recorded": d.recorded, "current": d.current, "fix": d.fix}
        | ({"request": d.request} if d.request is not None else {})
        for d in drifts
    ]
    inputs = ", ".join(
        dict.fromkeys(d.input + (f" of {d.request}" if d.request else "") for d in drifts)
    )
    fixes = " or ".join(f"`{fix}`" for fix in dict.fromkeys(d.fix for d in drifts))
    summary = f"python.lock is out of date with {pyproject.name} ({inputs}); run {fixes}."
    details = tuple(str(d) for d in drifts)
    return loaded, CheckResult(name, "fail", summary, details, data, EXIT_FAILED)


# installed ----------------------------------------------------------------------------------


def _check_installed(
    lock: Lock, options: CheckOptions, store: Store, evidence: Evidence | None
) -> tuple[CheckResult, Path | None, receipt.Receipt | None]:
    """Does the receipt of the install for this platform name the locked archive?"""
    name = "installed"
    missing_status: Status = "fail" if options.installed_required else "skip"
    missing_code = EXIT_FAILED if options.installed_required else EXIT_OK
    data: dict[str, object]
    try:
        platform: Platform = (
            parse_platform(options.platform, where="--platform")
            if options.platform
            else host_platform()
        )
    except PylockError as exc:
        data = {"platform": options.platform, "install_dir": None, "mismatches": []}
        return CheckResult(name, "error", str(exc), (), data, EXIT_INPUT), None, None
    data = {"platform": platform.key, "install_dir": None, "mismatches": []}

    target = lock.target_for(platform.key)
    if target is None:
        have = ", ".join(t.platform for t in lock.targets) or "none"
        summary = (
            f"python.lock has no target for {platform.key} (it has: {have}); "
            f"run `{lockfile.relock_command(lock, '--platform', platform.key)}` to add one."
        )
        return CheckResult(name, missing_status, summary, (), data, missing_code), None, None

    install_dir = store.path_for(target, options.into)
    data["install_dir"] = str(install_dir)
    installation = store.find(target, options.into)
    if evidence is not None:
        installation.note(evidence)
        if installation.receipt is None and options.into is None:
            evidence.unknown()  # the hint lists the other installs: the whole store
    found = installation.receipt
    data["same_build_new_bytes"] = []
    if found is None:
        summary = (
            f"{target.version} ({target.build}) for {platform.key} is not installed "
            f"at {install_dir}; run `pylock sync` to install it."
        )
        others = _other_installs(store, target, options.into)
        details = tuple(
            f"another build is installed for {platform.key}: {o.path.name}"
            for o in others
            if not lockfile.new_bytes(o.target, target)
        )
        rebuilt = [o for o in others if lockfile.new_bytes(o.target, target)]
        data["same_build_new_bytes"] = [_new_bytes(o.target, target, o.path) for o in rebuilt]
        details += tuple(_new_bytes_detail(o.target, target, o.path) for o in rebuilt)
        return CheckResult(name, missing_status, summary, details, data, missing_code), None, None

    mismatches = differences(found.target, target)
    data["mismatches"] = [
        {"field": key, "installed": have, "locked": want} for key, have, want in mismatches
    ]
    if mismatches:
        fields = ", ".join(key for key, _, _ in mismatches)
        summary = (
            f"the interpreter at {install_dir} is not the locked one ({fields} differ); "
            f"run `{_reinstall_command(options.into)}`."
        )
        details = tuple(
            f"{key}: {have} (installed) != {want} (locked)" for key, have, want in mismatches
        )
        if lockfile.new_bytes(found.target, target):  # --into DIR: the same place, other bytes
            data["same_build_new_bytes"] = [_new_bytes(found.target, target, install_dir)]
            details += (_new_bytes_detail(found.target, target, install_dir),)
        return CheckResult(name, "fail", summary, details, data, EXIT_FAILED), install_dir, found

    if not is_installed(install_dir, found, target):  # the same build: its interpreter is gone
        summary = (
            f"the receipt at {install_dir} names the locked build, but its interpreter "
            f"{found.interpreter} is missing; run `{_reinstall_command(options.into)}`."
        )
        return CheckResult(name, "fail", summary, (), data, EXIT_FAILED), install_dir, found
    summary = (
        f"{target.version} ({target.build}, {target.flavor}) for {platform.key} "
        f"is installed at {install_dir}."
    )
    return CheckResult(name, "pass", summary, (), data), install_dir, found


def _other_installs(store: Store, target: Target, into: Path | None) -> list[Installation]:
    """Builds installed for the same platform under other names: the usual "forgot to sync",
    or the same build with other bytes (``lockfile.new_bytes``), which is reported apart."""
    if into is not None:
        return []
    wanted = store.path_for(target)
    return [
        found
        for found in store.installations()
        if found.target.platform == target.platform
        and found.target.implementation == target.implementation
        and found.path != wanted
    ]


def _new_bytes(installed: Target, locked: Target, path: Path) -> dict[str, str]:
    """``installed-data.same_build_new_bytes``'s entry (docs/check-report.schema.json)."""
    return {
        "install_dir": str(path),
        "installed_sha256": installed.sha256,
        "locked_sha256": locked.sha256,
    }


def _new_bytes_detail(installed: Target, locked: Target, path: Path) -> str:
    return (
        f"warning: the same build {locked.version} ({locked.build}, {locked.flavor}) is "
        f"installed at {path} with other bytes (sha256 {installed.sha256[:12]}… installed, "
        f"{locked.sha256[:12]}… locked): the archive was published again under its old name. "
        "Find out why before `pylock sync` installs the new bytes."
    )


# tree ---------------------------------------------------------------------------------------


def _tree_digest(entries: list[receipt.RecordEntry]) -> str | None:
    """The digest RECORD would have for ``entries``; None when no RECORD can hold them (a path
    with a tab or newline was added), which can only mean the tree changed."""
    try:
        return receipt.record_digest(receipt.format_record(entries))
    except ValueError:
        return None


def _reinstall_command(into: Path | None) -> str:
    return "pylock sync --reinstall" + (f" --into {into}" if into is not None else "")


def _check_tree(install_dir: Path, found: receipt.Receipt, into: Path | None) -> CheckResult:
    """Re-hash the installed tree once and compare with the digest the install recorded."""
    name = "tree"
    fix = f"run `{_reinstall_command(into)}`"
    data: dict[str, object] = {
        "install_dir": str(install_dir),
        "added": [],
        "removed": [],
        "modified": [],
    }
    try:
        current = receipt.scan_tree(install_dir)
    except PylockError as exc:
        return CheckResult(name, "error", str(exc), (), data, exc.exit_code)
    except OSError as exc:
        summary = f"cannot read the installed tree at {install_dir}: {exc}."
        return CheckResult(name, "error", summary, (), data, EXIT_EXTERNAL)
    data["files"] = len(current)
    if _tree_digest(current) == found.tree_digest:
        summary = f"{len(current)} installed files match the receipt's tree digest."
        return CheckResult(name, "pass", summary, (), data)

    try:
        recorded = receipt.read_record(install_dir)
    except (OSError, ValueError, PylockError) as exc:
        summary = (
            f"the installed tree at {install_dir} does not match the receipt's tree digest, and "
            f"its RECORD cannot be read to say how ({exc}); {fix}."
        )
        return CheckResult(name, "fail", summary, (), data, EXIT_FAILED)

    old = {entry.path: entry for entry in recorded}
    new = {entry.path: entry for entry in current}
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    modified = sorted(
        path
        for path in new.keys() & old.keys()
        if (new[path].digest, new[path].mode) != (old[path].digest, old[path].mode)
    )
    data.update(added=added, removed=removed, modified=modified)
    changes = [
        *(("added", p) for p in added),
        *(("removed", p) for p in removed),
        *(("modified", p) for p in modified),
    ]
    changes.sort(key=lambda change: change[1])
    details = [f"{kind:<8}  {path}" for kind, path in changes[:MAX_LISTED]]
    if len(changes) > MAX_LISTED:
        details.append(f"... and {len(changes) - MAX_LISTED} more")
    if _tree_digest(recorded) != found.tree_digest:
        # The paths above were found against a RECORD that is itself not the one installed.
        details.insert(
            0,
            "RECORD was changed after installation (its digest is not the receipt's)"
            + (", so more may have changed than listed" if changes else ""),
        )
    counts = f"{len(added)} added, {len(removed)} removed, {len(modified)} modified"
    summary = f"the installed tree at {install_dir} was changed ({counts}); {fix}."
    return CheckResult(name, "fail", summary, tuple(details), data, EXIT_FAILED)


# remote -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RemoteOutcome:
    platform: str
    url: str
    status: Status  # pass | fail | error
    message: str
    size: int | None = None  # bytes seen (None when the body was not read)
    sha256: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "url": self.url,
            "status": self.status,
            "message": self.message,
            "size": self.size,
            "sha256": self.sha256,
        }


def _check_remote(lock: Lock, mirror: str | None, offline: bool, policy: HttpPolicy) -> CheckResult:
    """Stream every target's archive and compare size and sha256; nothing is stored. ``mirror``
    is in its display form and ``policy`` carries the credentials (``Settings.remote``)."""
    name = "remote"
    data: dict[str, object] = {"mirror": mirror, "targets": []}
    if not lock.targets:
        return CheckResult(name, "skip", "python.lock has no targets to verify.", (), data)

    from concurrent.futures import ThreadPoolExecutor

    from pylock.base.fsutil import file_url_path
    from pylock.fetch.download import source_url
    from pylock.net.http import make_client

    if offline and any(file_url_path(_url_or_lock(t, mirror)) is None for t in lock.targets):
        summary = (  # local files (file: URLs, a mirror directory) need no network: those pass
            "--remote needs the network for the locked URLs, but offline mode is on; drop "
            "--offline (or unset PYLOCK_OFFLINE) to verify them."
        )
        return CheckResult(name, "error", summary, (), data, EXIT_INPUT)

    with (
        make_client(policy) as client,
        ThreadPoolExecutor(max_workers=min(_REMOTE_WORKERS, len(lock.targets))) as pool,
    ):

        def verify(target: Target) -> _RemoteOutcome:
            try:
                url = source_url(target, mirror)
            except (PylockError, ValueError) as exc:
                return _RemoteOutcome(target.platform, target.url, "error", str(exc))
            return _verify_remote(client, policy, target, url, mirror)

        outcomes = list(pool.map(verify, lock.targets))

    data["targets"] = [o.to_json() for o in outcomes]
    details = tuple(
        f"{o.status:<5}  {o.platform}: {lockfile.naming_source(o.message, lock)}" for o in outcomes
    )
    failed = [o for o in outcomes if o.status == "fail"]
    errors = [o for o in outcomes if o.status == "error"]
    where = f"the mirror {mirror}" if mirror else "the locked URLs"
    if failed:
        summary = (
            f"{len(failed)} of {counted(len(outcomes), 'archive')} from {where} "
            f"{'does' if len(failed) == 1 else 'do'} not match python.lock: "
            "a different file is being served. Check the mirror, or review the release and "
            f"re-lock with `{lockfile.relock_command(lock, '--upgrade')}`."
        )
        return CheckResult(name, "fail", summary, details, data, EXIT_FAILED)
    if errors:
        summary = (
            f"{len(errors)} of {counted(len(outcomes), 'archive')} could not be fetched from "
            f"{where}; "
            "check the network (HTTPS_PROXY) and the URLs, then try again."
        )
        return CheckResult(name, "error", summary, details, data, EXIT_EXTERNAL)
    summary = (
        f"the archive from {where} matches its locked size and sha256."
        if len(outcomes) == 1
        else f"all {len(outcomes)} archives from {where} match their locked size and sha256."
    )
    return CheckResult(name, "pass", summary, details, data)


def _url_or_lock(target: Target, mirror: str | None) -> str:
    """Where ``--remote`` reads ``target`` from (a URL it cannot spell is judged remote: its
    error is reported per target)."""
    from pylock.fetch.download import source_url

    try:
        return source_url(target, mirror)
    except (PylockError, ValueError):
        return target.url


def _verify_remote(
    client: httpx.Client, policy: HttpPolicy, target: Target, url: str, mirror: str | None
) -> _RemoteOutcome:
    """One target, streamed through the download pipeline itself (``download.verify_archive``:
    the status, length, ceiling, pace, size and sha256 rules of a sync, nothing cached or
    extracted), so what a sync would refuse is refused here in the same words."""
    from pylock.fetch.download import ArchiveMismatch, verify_archive

    platform = target.platform
    try:
        verdict = verify_archive(target, client=client, policy=policy, mirror=mirror)
    except ArchiveMismatch as exc:  # other bytes: a verdict on the lock
        return _RemoteOutcome(platform, url, "fail", exc.message, exc.size, exc.sha256)
    except VerificationError as exc:
        return _RemoteOutcome(platform, url, "fail", exc.message)
    except PylockError as exc:  # unreachable, an HTTP error, too slow, an unusable URL
        return _RemoteOutcome(platform, url, "error", exc.message)
    message = f"{verdict.size} bytes, sha256 {verdict.sha256[:12]}… as locked"
    return _RemoteOutcome(platform, url, "pass", message, verdict.size, verdict.sha256)


# provenance ---------------------------------------------------------------------------------


def _check_provenance(
    lock: Lock, loaded: manifest.Manifest | None, settings: Settings, project_dir: Path
) -> CheckResult:
    """Re-prove every locked archive (each once, whatever the requests sharing it) through the
    one prover ``pylock lock`` records with, and compare with what the lock records."""
    from dataclasses import replace

    from pylock.provenance.prover import open_prover

    name = "provenance"
    data: dict[str, object] = {"policy": None, "targets": []}
    if loaded is None:
        summary = "the provenance policy cannot be read from the manifest (see lock-current)."
        return CheckResult(name, "error", summary, (), data, EXIT_INPUT)
    policy = loaded.provenance
    data["policy"] = {
        "policy": policy.mode,
        "repository": policy.repository_uri,
        "issuer": policy.issuer,
        "signer": policy.expected_signer(),
    }
    archives = list(dict.fromkeys(replace(t, request=None) for t in lock.targets))
    if not archives:
        return CheckResult(name, "skip", "python.lock has no targets to verify.", (), data)
    with open_prover(settings, project_dir, loaded) as prover:
        outcomes = [_prove_one(prover, target, policy) for target in archives]
    data["targets"] = [o.to_json() for o in outcomes]
    details = tuple(
        line
        for o in outcomes
        for line in (
            f"{o.status:<5}  {o.target.platform} ({o.target.sha256}): {o.message}",
            *o.more,
        )
    )
    failed = sum(o.status == "fail" for o in outcomes)
    errors = [o for o in outcomes if o.status == "error"]
    count = len(outcomes)
    if failed:
        summary = (
            f"{failed} of {count} locked archives failed provenance verification: do not use "
            "them; see each below (signer found against signer expected)."
        )
        return CheckResult(name, "fail", summary, details, data, EXIT_FAILED)
    if errors:
        summary = (
            f"the attestations of {len(errors)} of {count} locked archives could not be fetched; "
            "behind a firewall, pass --mirror DIR with a mirror `pylock mirror DIR` filled."
        )
        return CheckResult(name, "error", summary, details, data, errors[0].exit_code)
    proved = sum(o.found is not None for o in outcomes)
    summary = (
        f"{proved} of {count} locked archives proved to be built by {policy.expected_signer()}"
        + ("." if proved == count else "; the others have no attestation, as recorded.")
    )
    return CheckResult(name, "pass", summary, details, data)


@dataclass(frozen=True)
class _Proved:
    """One archive's provenance verdict."""

    target: Target
    status: Status
    message: str
    found: Proof | None = None  # what the attestation proved
    signer: str | None = None  # the signer found, also when it was refused
    expected: str = ""
    more: tuple[str, ...] = ()
    exit_code: int = EXIT_OK

    def to_json(self) -> dict[str, object]:
        recorded = self.target.provenance
        return {
            "platform": self.target.platform,
            "sha256": self.target.sha256,
            "status": self.status,
            "message": self.message,
            "signer_found": self.signer,
            "signer_expected": self.expected,
            "found": record_json(self.found),
            "recorded": record_json(recorded),
        }


def _prove_one(prover: Prover, target: Target, policy: ProvenancePolicy) -> _Proved:
    """One archive: the attestation must verify, say what the lock records, and exist when the
    policy requires it or the lock records a proof."""
    from pylock.provenance.prover import ProvenanceError

    expected = policy.expected_signer()
    recorded = target.provenance
    try:
        verdict = prover.verdict(target, policy)
    except ProvenanceError as exc:
        signer = exc.found.signer if exc.found is not None else None
        more = (
            f"         signer found:    {signer or '(no certificate could be read)'}",
            f"         signer expected: {expected} (source {policy.repository_uri}, issuer "
            f"{policy.issuer})",
        )
        return _Proved(target, "fail", exc.what, None, signer, expected, more, EXIT_FAILED)
    except PylockError as exc:
        return _Proved(target, "error", str(exc), expected=expected, exit_code=exc.exit_code)
    proof = verdict.record
    if not isinstance(proof, Proof):
        if policy.mode == "require":
            why = f'no attestation, and the policy is "require" (expected {expected})'
            return _Proved(target, "fail", why, expected=expected, exit_code=EXIT_FAILED)
        if isinstance(recorded, Proof):
            why = (
                f"python.lock records that {recorded.signer} built it, but no attestation can "
                "be found now"
            )
            return _Proved(target, "fail", why, expected=expected, exit_code=EXIT_FAILED)
        return _Proved(target, "pass", "no attestation (none recorded either)", expected=expected)
    said = f"signed by {proof.signer} at commit {proof.commit} (Rekor log index {proof.log_index})"
    if isinstance(recorded, Proof) and (
        (recorded.signer, recorded.repository, recorded.commit, recorded.issuer)
        != (proof.signer, proof.repository, proof.commit, proof.issuer)
    ):
        why = (
            f"python.lock records {recorded.signer} at commit {recorded.commit}, but the "
            f"attestation says {said}"
        )
        return _Proved(target, "fail", why, proof, proof.signer, expected, (), EXIT_FAILED)
    return _Proved(target, "pass", said, proof, proof.signer, expected)


# venv ---------------------------------------------------------------------------------------


def _check_venv(
    project_dir: Path,
    options: CheckOptions,
    installed: CheckResult,
    install_dir: Path | None,
    found: receipt.Receipt | None,
    evidence: Evidence | None,
) -> CheckResult:
    """Is the venv (``--venv``, else ``.venv`` when present) made from the locked interpreter?"""
    from pylock.checking import pyvenv as venv

    name = "venv"
    path = options.venv if options.venv is not None else project_dir / venv.DEFAULT_VENV
    data: dict[str, object] = {"path": str(path), "home": None, "version": None}
    data.update(expected_home=None, expected_version=None)
    config = venv.read_pyvenv_cfg(path, evidence)
    if config is None:
        if options.venv is None:
            return CheckResult(name, "skip", f"no virtual environment at {path}.", (), data)
        summary = (
            f"--venv {path} is not a virtual environment (no readable {venv.PYVENV_CFG}); "
            f"make it with `pylock venv {path}`."
        )
        return CheckResult(name, "error", summary, (), data, EXIT_INPUT)
    data.update(home=config.home, version=config.version)
    remake = "pylock venv --clear" + ("" if options.venv is None else f" {path}")
    if installed.status != "pass" or install_dir is None or found is None:
        summary = (
            f"the venv at {path} (home {config.home}, version {config.version}) cannot be on "
            f"the locked interpreter, which is not installed as locked (see installed); run "
            f"`pylock sync`, then `{remake}`."
        )
        return CheckResult(name, "fail", summary, (), data, EXIT_FAILED)
    home = (install_dir / found.interpreter).parent
    locked = found.target.version
    data.update(expected_home=str(home), expected_version=locked)
    why = venv.mismatch(config, home, locked, evidence)
    if why is not None:
        summary = f"the venv at {path} is not on the locked interpreter: {why}; run `{remake}`."
        details = (
            f"venv:   home {config.home}, version {config.version}",
            f"locked: home {home}, version {locked} ({found.target.build})",
        )
        return CheckResult(name, "fail", summary, details, data, EXIT_FAILED)
    summary = f"the venv at {path} is on the locked interpreter ({locked}, {found.target.build})."
    return CheckResult(name, "pass", summary, (), data)
