# The names pylock/__init__.py loads lazily, for type checkers (it imports them only on first
# use). tests/test_api.py holds this list equal to pylock._PUBLIC.
from pylock.api import check as check
from pylock.api import lock as lock
from pylock.api import sync as sync
from pylock.api import which as which
from pylock.base.settings import HttpPolicy as HttpPolicy
from pylock.base.settings import Settings as Settings
from pylock.checking.report import CheckReport as CheckReport
from pylock.checking.report import CheckResult as CheckResult
from pylock.commands.sync import SyncResult as SyncResult
from pylock.errors import EXIT_BUG as EXIT_BUG
from pylock.errors import EXIT_EXTERNAL as EXIT_EXTERNAL
from pylock.errors import EXIT_FAILED as EXIT_FAILED
from pylock.errors import EXIT_INPUT as EXIT_INPUT
from pylock.errors import EXIT_OK as EXIT_OK
from pylock.errors import ExternalError as ExternalError
from pylock.errors import InputError as InputError
from pylock.errors import PylockError as PylockError
from pylock.errors import RateLimitError as RateLimitError
from pylock.errors import ResolutionError as ResolutionError
from pylock.errors import VerificationError as VerificationError
from pylock.install.store import Installation as Installation
from pylock.resolution.locker import Change as Change
from pylock.resolution.locker import LockResult as LockResult
from pylock.resolution.locker import ReleaseNote as ReleaseNote
from pylock.resolution.lockfile import Lock as Lock
from pylock.resolution.lockfile import Target as Target

__version__: str
__all__: list[str]

def __dir__() -> list[str]: ...
