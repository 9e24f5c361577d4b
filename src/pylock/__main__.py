"""``python -m pylock``."""

from pylock.cli.launcher import main

main()
