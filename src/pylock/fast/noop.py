"""The no-op ``pylock sync`` in the memo's terms (memo.py): its report line, and its answer.

``pylock sync`` runs on every shell start-up, CI step and container boot, and almost always has
nothing to do. Each time the full path finds the locked build installed, or installs it, the CLI
records the report the next identical run would print (``already_installed``) with what that
verdict rests on: the bytes of python.lock, of pyproject.toml (or that there is none; not
consulted with ``--frozen``) and of the receipt, and the interpreter the receipt names still a
file (the store's "installed"). The console script replays it while all of that holds.
"""

from __future__ import annotations

from pylock.fast import memo

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the no-op path
if TYPE_CHECKING:
    from collections.abc import Mapping


def already_installed(implementation: str, version: str, build: str, flavor: str, path: str) -> str:
    """The one-line report of a no-op sync (the full path prints the same)."""
    return f"{implementation} {version} ({build}, {flavor}) is already installed at {path}."


def check(
    project: str,
    *,
    frozen: bool = False,
    into: str | None = None,
    platform: str | None = None,
    python: str | None = None,
    environ: Mapping[str, str],
) -> str | None:
    """The report a plain ``pylock -p PROJECT sync [--frozen] [--into DIR] [--platform KEY]
    [--python REQ]`` replays from its memo, or None when the full path must decide."""
    options: dict[str, str | bool | None] = {
        "project": project,
        "frozen": frozen,
        "into": into,
        "platform": platform,
        "python": python,
    }
    answer = memo.recall(memo.command_key("sync", options, environ), environ)
    return None if answer is None else answer.removesuffix("\n")
