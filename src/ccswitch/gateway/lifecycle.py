"""The gateway process and the kernel: ending with the session, and keeping its memory private.

Ending: two mechanisms, because either alone misses a case: on Linux the kernel sends SIGTERM when
the parent dies (prctl PR_SET_PDEATHSIG; it fires even when the parent is SIGKILLed), and everywhere
a periodic check catches the rest (macOS has no prctl; a `parent_pid` that is not our direct parent).

Privacy: the gateway holds every upstream's token, and it runs as the user, beside whatever claude
runs. Non-dumpable (PR_SET_DUMPABLE 0), Linux lets no process of the same user without
CAP_SYS_PTRACE read its /proc/PID/environ, mem or fd, nor ptrace it
(docs/gateway.md, "The gateway's environment").

The one home of prctl in ccswitch. Stdlib only: called before the HTTP stack is imported.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
CHECK_SECONDS = 0.5


def prctl(option: int, argument: int | bytes = 0) -> int | None:
    """Linux's prctl(2) through libc: its result, or None where there is none (not Linux, no libc).
    A bytes argument goes as a C string."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, argument, 0, 0, 0))
    except (OSError, AttributeError):
        return None


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` when our parent exits. False where unsupported."""
    return prctl(PR_SET_PDEATHSIG, int(sig)) == 0


def keep_memory_private() -> bool:
    """Make this process non-dumpable: no core file, and no process of the same user (root with
    CAP_SYS_PTRACE aside) may read its environment, memory or open files under /proc, or attach a
    debugger. Call it before any secret enters the process. False where unsupported."""
    return prctl(PR_SET_DUMPABLE, 0) == 0 and prctl(PR_GET_DUMPABLE) == 0


def name_process(name: bytes) -> None:
    """The name `ps` and `top` show (a forked gateway would otherwise carry the launcher's)."""
    prctl(PR_SET_NAME, name[:15])


def forget_initial_environment() -> None:
    """Zero the environment block the process started with, which /proc/PID/environ shows (to root,
    once non-dumpable): a forked gateway inherits the launcher's, which holds the shell's variables.
    Call it after the C library's environment was replaced (os.environ cleared and refilled: those
    strings live elsewhere). Best effort: Linux only, and nothing happens if /proc says nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end: fields 50 and 51 of stat(5)
        if 0 < start < end and end - start < 1 << 24:
            import ctypes

            ctypes.memset(start, 0, end - start)
    except (OSError, ValueError, IndexError, AttributeError):
        pass


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
