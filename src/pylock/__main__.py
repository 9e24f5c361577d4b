"""``python -m pylock``."""

from pylock.cli import main

main()
