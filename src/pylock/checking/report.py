"""The report of ``pylock check``: one verdict per check, the exit code they add up to, and the
two renderings (text lines for people, the JSON document of docs/check-report.schema.json).

Kept apart from the checks themselves (checks.py): what a check found is decided there, how a
report is judged and shown is decided here, once, for every check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pylock.errors import EXIT_EXTERNAL, EXIT_FAILED, EXIT_INPUT, EXIT_OK

Status = Literal["pass", "fail", "skip", "error"]

REPORT_VERSION = 1

# Which exit code wins when several checks end badly. Unreadable inputs first: nothing else is
# conclusive then. A definite failure beats a network error, because exit 3 tells CI "nothing was
# found wrong, retry" and a retry cannot fix a check that has already failed.
_EXIT_PRECEDENCE = (EXIT_INPUT, EXIT_FAILED, EXIT_EXTERNAL)


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict.

    ``status`` is ``pass``, ``fail`` (the check ran and found a problem), ``skip`` (not asked for,
    or nothing to check) or ``error`` (the check could not reach a verdict: an unreadable input or
    a network error). ``exit_code`` is what this result alone would make ``pylock check`` return.
    """

    name: str
    status: Status
    summary: str
    details: tuple[str, ...] = ()
    data: Mapping[str, object] = field(default_factory=dict)
    exit_code: int = EXIT_OK

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "exit_code": self.exit_code,
            "summary": self.summary,
            "details": list(self.details),
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[CheckResult, ...]

    @property
    def exit_code(self) -> int:
        """0 when nothing failed; else 2 (unreadable input) > 1 (a check failed) > 3 (network)."""
        codes = {check.exit_code for check in self.checks}
        for code in _EXIT_PRECEDENCE:
            if code in codes:
                return code
        return EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def get(self, name: str) -> CheckResult:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_json(self) -> dict[str, object]:
        """The ``--format json`` report; its schema is docs/check-report.schema.json."""
        return {
            "report_version": REPORT_VERSION,
            "exit_code": self.exit_code,
            "ok": self.ok,
            "checks": [check.to_json() for check in self.checks],
        }

    def lines(self, paint: Callable[[str, str], str] | None = None) -> list[str]:
        """The text report: one line per check, its details indented below, then a verdict.
        ``paint(status, padded)`` styles a status word (the CLI colours it on a terminal); the
        padding is done first, so the columns line up whatever the styling adds."""
        width = max(len(check.name) for check in self.checks) if self.checks else 0
        out: list[str] = []
        for check in self.checks:
            status = f"{check.status:<5}"
            if paint is not None:
                status = paint(check.status, status)
            out.append(f"{status}  {check.name:<{width}}  {check.summary}")
            out.extend(f"{'':<{width + 9}}{detail}" for detail in check.details)
        bad = [c.name for c in self.checks if c.status in ("fail", "error")]
        if bad:
            out.append(f"pylock check: {', '.join(bad)} did not pass (exit {self.exit_code}).")
        else:
            out.append("pylock check: all checks passed.")
        return out
