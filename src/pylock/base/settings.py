"""One settings object per command, resolved once from the flags and the environment.

Every knob a command reads from outside its own inputs is decided here, once, so no module reads
``PYLOCK_*`` variables on its own and two modules cannot disagree about them:

- ``offline``: ``--offline``, else ``PYLOCK_OFFLINE`` (1/true/yes/on);
- ``mirror``: ``--mirror``, else ``PYLOCK_MIRROR``, else the manifest's ``mirror``
  (``mirror_for``: a relative directory there is relative to the project);
- ``source``: ``--source``, else the manifest's ``source``, else ``PYLOCK_SOURCE``, else
  ``github`` (``source_for``; the variable is a default, as docs/cli.md says, so a project that
  names its source keeps it on every machine);
- directories: ``PYLOCK_CACHE_DIR`` and ``PYLOCK_PYTHON_DIR`` (locations.py has the defaults),
  and the install store on the latter;
- tokens: the environment is carried whole (``environ``), and sources/ applies the gh CLI's rules
  for which variable goes to which host;
- the HTTP policy (timeouts, retries, back-off): ``http_policy()``, with ``offline`` applied;
  ``--http-timeout``/``--http-deadline`` over ``PYLOCK_HTTP_TIMEOUT``/``PYLOCK_HTTP_DEADLINE``
  (``http.policy_from`` owns those variables and their defaults). Tests inject a policy without
  back-off instead of sleeping;
- output: ``color`` (``--color``; ``auto`` becomes ``never`` when ``NO_COLOR`` is set to
  anything non-empty, https://no-color.org) and ``progress`` (``--no-progress``), which the
  console layer applies.

Light to import (the no-op paths build one): net/http.py and the store load only when asked
for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pylock.base import locations

if TYPE_CHECKING:
    from pylock.install.store import Store
    from pylock.net.http import HttpPolicy
    from pylock.project.manifest import Manifest

DEFAULT_SOURCE = "github"
_TRUE = frozenset({"1", "true", "yes", "on"})


def color_choice(choice: str, environ: Mapping[str, str]) -> str:
    """``--color`` with ``NO_COLOR`` applied: ``auto`` is ``never`` when ``NO_COLOR`` is set to
    anything non-empty (https://no-color.org); ``always`` and ``never`` are kept as given."""
    return "never" if choice == "auto" and environ.get("NO_COLOR") else choice


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    """A boolean environment variable: 1, true, yes or on (any case) is set."""
    return environ.get(name, "").strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    offline: bool
    mirror: str | None  # --mirror or PYLOCK_MIRROR; the manifest's comes in through mirror_for
    source: str | None  # --source; the manifest's and PYLOCK_SOURCE come in through source_for
    cache_dir: Path
    python_dir: Path
    environ: Mapping[str, str] = field(repr=False)
    http: HttpPolicy | None = None  # an injected policy (tests); None: the defaults
    http_timeout: float | None = None  # --http-timeout (None: PYLOCK_HTTP_TIMEOUT or default)
    http_deadline: float | None = None  # --http-deadline (None: PYLOCK_HTTP_DEADLINE or default)
    color: str = "auto"  # --color: auto | always | never (NO_COLOR already applied to auto)
    progress: bool = True  # False: --no-progress

    @classmethod
    def resolve(
        cls,
        *,
        offline: bool = False,
        mirror: str | None = None,
        source: str | None = None,
        environ: Mapping[str, str] | None = None,
        http: HttpPolicy | None = None,
        http_timeout: float | None = None,
        http_deadline: float | None = None,
        color: str = "auto",
        progress: bool = True,
    ) -> Settings:
        """Flags (the arguments) over the environment; call once per command."""
        env = os.environ if environ is None else environ
        return cls(
            offline=offline or env_flag(env, "PYLOCK_OFFLINE"),
            mirror=mirror or env.get("PYLOCK_MIRROR") or None,
            source=source or None,
            cache_dir=locations.cache_dir(env),
            python_dir=locations.python_dir(env),
            environ=env,
            http=http,
            http_timeout=http_timeout,
            http_deadline=http_deadline,
            color=color_choice(color, env),
            progress=progress,
        )

    def http_policy(self) -> HttpPolicy:
        """The policy for this command's requests: the injected one or the defaults, offline
        when the settings are."""
        from pylock.net.http import policy_from

        if self.http is None:
            return policy_from(
                self.environ,
                offline=self.offline,
                timeout=self.http_timeout,
                deadline=self.http_deadline,
            )
        return replace(self.http, offline=True) if self.offline else self.http

    def mirror_for(self, manifest: Manifest | None) -> str | None:
        """Where downloads come from: --mirror, else PYLOCK_MIRROR, else the manifest's mirror
        (a relative directory there is relative to the project, wherever pylock runs)."""
        if self.mirror:
            return self.mirror
        if manifest is None or not manifest.mirror:
            return None
        spelled = manifest.mirror
        if len(spelled.split(":", 1)[0]) > 1 and "://" in spelled:
            return spelled  # a URL
        path = Path(spelled).expanduser()
        return str(path if path.is_absolute() else manifest.path.parent / path)

    def source_for(self, manifest_source: str | None, manifest_path: Path) -> tuple[str, str]:
        """The source to read and where it was named (for error messages)."""
        if self.source:
            return self.source, "--source"
        if manifest_source:
            return manifest_source, f"{manifest_path} [tool.pylock].source"
        if value := self.environ.get("PYLOCK_SOURCE", "").strip():
            return value, "PYLOCK_SOURCE"
        return DEFAULT_SOURCE, "the default source"

    def store(self) -> Store:
        from pylock.install.store import Store

        return Store(self.python_dir)
