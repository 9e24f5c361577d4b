"""Error types that carry their own exit code and a hint.

Every failure a user can cause or meet is one of these, so the CLI can turn it into a
one-paragraph message and the documented exit code (README.md, docs/cli.md "Exit codes") without
knowing where it came from. Anything else escaping to the CLI is a bug and is reported as such,
with an exit code of its own (``EXIT_BUG``), so CI never mistakes a bug for "retry" (3) or
"failed" (1).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
"""A verification failed."""
EXIT_INPUT = 2
"""Bad input or usage."""
EXIT_EXTERNAL = 3
"""The environment failed (network, source, disk): nothing was found wrong; retry."""
EXIT_BUG = 70
"""An unexpected exception: a bug in pylock (EX_SOFTWARE, as in BSD's sysexits.h)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT, as shells report it)."""


class PylockError(Exception):
    """Base class: a message saying what went wrong and where, and a hint saying what to do."""

    exit_code: int = EXIT_INPUT

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

    exit_code = EXIT_INPUT


class VerificationError(PylockError):
    """A check failed: stale lock, checksum mismatch, refused archive, wrong interpreter (1)."""

    exit_code = EXIT_FAILED


class ResolutionError(VerificationError):
    """No build satisfies the request on every platform asked for (1)."""


class ExternalError(PylockError):
    """The environment failed us: network, a source that is down, disk, permissions (3)."""

    exit_code = EXIT_EXTERNAL


class RateLimitError(ExternalError):
    """A GitHub-compatible API refused us for rate limiting (3)."""
