"""httpx, imported once, without its command line.

httpx's package ``__init__`` imports its own command-line client (``httpx._main``, and with it
click, rich and pygments) whenever those are installed, and typer installs them: about 40 ms of
every command that downloads, for a command line pylock never runs (upstream: encode/httpx
discussion #3523, pull request #3547, open). The ``__init__`` already falls back to a stub
``httpx.main`` when that import fails, so the first import below makes it fail, for that one
statement only: ``import httpx._main`` works as before afterwards.

Every module of pylock takes httpx from here (an import-linter contract says so), so whichever
of them is imported first, the guard runs first.
"""

from __future__ import annotations

import sys


class _WithoutCommandLine:
    """A meta path finder that refuses ``httpx._main`` and has no opinion on anything else."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "httpx._main":
            raise ImportError("pylock does not run httpx's command line", name=name)


_guard = _WithoutCommandLine()
sys.meta_path.insert(0, _guard)
try:
    import httpx as httpx
finally:
    sys.meta_path.remove(_guard)

__all__ = ["httpx"]
