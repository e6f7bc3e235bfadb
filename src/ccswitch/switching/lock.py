"""One lock per settings file, so parallel ccswitch processes take turns.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ccswitch.errors import CcswitchError
from ccswitch.fsutil import ensure_private_dir
from ccswitch.switching.records import record_key

LOCK_TIMEOUT = 30.0


class SettingsLock:
    """An inter-process lock per settings file (filelock: flock on POSIX, msvcrt on Windows)."""

    def __init__(self, state_dir: str, settings_path: str, on_wait: Callable[[str], None] | None = None) -> None:
        import filelock  # only commands that write need it

        directory = os.path.join(state_dir, "locks")
        try:
            ensure_private_dir(os.path.dirname(directory))
            ensure_private_dir(directory)
        except OSError as exc:
            raise CcswitchError(f"{directory}: cannot create ({exc.strerror or exc}); nothing changed") from None
        self._path = settings_path
        self._on_wait = on_wait
        # 0600 like everything else of ours (filelock's default is 0644; the file is empty, but it
        # tells other users which settings files ccswitch manages and lets them take the lock).
        self._lock = filelock.FileLock(os.path.join(directory, record_key(settings_path) + ".lock"), timeout=LOCK_TIMEOUT,
                                       mode=0o600)
        self._timeout = filelock.Timeout

    def __enter__(self) -> SettingsLock:
        try:
            try:
                self._lock.acquire(timeout=0)
            except self._timeout:
                # Say so: a command that sits silently for seconds looks hung.
                if self._on_wait is not None:
                    self._on_wait(f"{self._path}: another ccswitch is changing it; waiting up to {LOCK_TIMEOUT:.0f} s")
                self._lock.acquire()
        except self._timeout:
            raise CcswitchError(f"{self._path}: another ccswitch has been changing it for {LOCK_TIMEOUT:.0f} s; "
                                "try again") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
