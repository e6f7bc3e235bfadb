"""Ending with the session: notice when the parent (claude, or whoever spawned us) is gone.

Two mechanisms, because either alone misses a case: on Linux the kernel sends SIGTERM when the
parent dies (prctl PR_SET_PDEATHSIG; it fires even when the parent is SIGKILLed), and everywhere a
periodic check catches the rest (macOS has no prctl; a `parent_pid` that is not our direct parent).
Stdlib only: called before the HTTP stack is imported.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1
CHECK_SECONDS = 0.5


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` when our parent exits. False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class ParentWatch:
    """`alive()` is False once `pid` is gone. When `pid` is our direct parent (the usual case),
    re-parenting is the test, which PID reuse cannot fool."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.direct = os.getppid() == pid

    def alive(self) -> bool:
        if self.direct:
            return os.getppid() == self.pid
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True
