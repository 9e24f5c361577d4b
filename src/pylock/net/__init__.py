"""The network: the one HTTP client policy every download and API call goes through, so the
rules that matter for trust (which host gets a token, bounded retries and timeouts, ``--offline``
enforced before a socket opens, the ETag cache) live in one place.

- ``http``: the client, ``HttpPolicy``, ``HttpCache`` and ``fetch_document``.
- ``lib``: httpx itself, imported without its command line (every module takes it from here).

May import: ``pylock.project``, ``pylock.fast``, ``pylock.base``, ``pylock.errors`` and
``pylock.formats``; never a stage above it.
"""
