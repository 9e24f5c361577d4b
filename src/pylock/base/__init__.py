"""The primitives every stage stands on: writing files atomically, reading TOML, this host's
platform key, where pylock keeps things, the names inside an install, and the settings of one
command. They are the bottom layer so that the no-op ``pylock sync`` and ``pylock check`` can use
them without importing anything heavy.

- ``fsutil``: atomic replacement of a file, hashing a file, temp files a dead process left.
- ``tomlread``: TOML read with the standard library (``tomli`` on 3.10), with where it broke.
- ``hostinfo``: this machine's platform key from the cheapest standard-library sources.
- ``locations``: the cache and install directories (``PYLOCK_CACHE_DIR``, ``PYLOCK_PYTHON_DIR``).
- ``layout``: names inside and around an install that installer, checker and fast path share.
- ``settings``: one ``Settings`` per command, resolved once from the flags and the environment.
- ``sourcespec``: how a source is spelled (``--source``, ``PYLOCK_SOURCE``, a manifest's
  ``source``), read without opening it, so a typo is caught on every run.
- ``credentials``: credentials for private mirrors (URLs, ``PYLOCK_MIRROR_TOKEN``, netrc), which
  request may carry which, and the one rule for showing and keeping a URL that holds one.
- ``envvalues``: the settings' values read and validated, for ``settings`` and the memo path.

May import: the standard library, ``pylock.errors`` and ``pylock.formats``; no other pylock
package and no third-party package (import-linter checks both).
"""
