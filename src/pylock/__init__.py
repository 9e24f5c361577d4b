"""pylock: lock the exact python-build-standalone interpreter a project uses.

The Python API (docs/api.md) is ``pylock.lock``, ``sync``, ``which`` and ``check`` (pylock/api.py)
and the types they take, return and raise, listed in ``__all__``. Each name is loaded on first
use (PEP 562 ``__getattr__``) from the module that owns it, because the console script imports
this package on every run, including the no-op ``pylock sync`` of every CI job: ``import pylock``
must cost nothing, so this module imports nothing at all. ``__init__.pyi`` gives type checkers
the same names statically.

No stage package is named like a public function (the lock stage is ``pylock.resolution``, the
gate ``pylock.checking``): Python binds a subpackage to its parent's attribute when it is first
imported, so a package ``pylock.lock`` would turn the function into a module, depending on what
happened to be imported before.
"""

__version__ = "0.1.0"

_PUBLIC = {
    # the functions (docs/api.md)
    "lock": "pylock.api",
    "sync": "pylock.api",
    "which": "pylock.api",
    "check": "pylock.api",
    # what they take
    "Settings": "pylock.base.settings",
    "HttpPolicy": "pylock.base.settings",
    # what they return
    "LockResult": "pylock.resolution.locker",
    "Change": "pylock.resolution.locker",
    "ReleaseNote": "pylock.resolution.locker",
    "Lock": "pylock.resolution.lockfile",
    "Target": "pylock.resolution.lockfile",
    "SyncResult": "pylock.commands.sync",
    "Installation": "pylock.install.store",
    "CheckReport": "pylock.checking.report",
    "CheckResult": "pylock.checking.report",
    # what they raise, and the exit codes the CLI turns each error into
    "PylockError": "pylock.errors",
    "InputError": "pylock.errors",
    "VerificationError": "pylock.errors",
    "ResolutionError": "pylock.errors",
    "ExternalError": "pylock.errors",
    "RateLimitError": "pylock.errors",
    "EXIT_OK": "pylock.errors",
    "EXIT_FAILED": "pylock.errors",
    "EXIT_INPUT": "pylock.errors",
    "EXIT_EXTERNAL": "pylock.errors",
    "EXIT_BUG": "pylock.errors",
}
"""Each public name and the module that owns it."""

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use, then keep it as a plain attribute."""
    home = _PUBLIC.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
