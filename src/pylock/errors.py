"""Error types that carry their own exit code and a hint.

Every failure a user can cause or meet is one of these, so the CLI can turn it into a
one-paragraph message and the documented exit code (docs/cli.md, "Exit codes") without knowing
where it came from. Anything else escaping to the CLI is a bug and is reported as such.
"""

from __future__ import annotations


class PylockError(Exception):
    """Base class: a message saying what went wrong and where, and a hint saying what to do."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class InputError(PylockError):
    """Bad input or usage: a malformed manifest or lock, an unknown platform, a bad option (2)."""

    exit_code = 2


class VerificationError(PylockError):
    """A check failed: stale lock, checksum mismatch, refused archive, wrong interpreter (1)."""

    exit_code = 1


class ResolutionError(VerificationError):
    """No build satisfies the request on every platform asked for (1)."""


class ExternalError(PylockError):
    """The environment failed us: network, a source that is down, disk, permissions (3)."""

    exit_code = 3


class RateLimitError(ExternalError):
    """A GitHub-compatible API refused us for rate limiting (3)."""
