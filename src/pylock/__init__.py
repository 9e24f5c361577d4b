"""pylock: lock the exact python-build-standalone interpreter a project uses."""

__version__ = "0.1.0"
