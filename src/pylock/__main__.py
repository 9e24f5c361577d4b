"""``python -m pylock``."""

from pylock.launcher import main

main()
