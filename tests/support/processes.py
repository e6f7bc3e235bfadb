"""Child processes of the tests: a `python -m ccswitch` that finds this checkout's code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test's (isolated) environment for a child `python -m ccswitch`, finding this checkout's code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def free_port() -> int:
    """A loopback port nothing listens on now (closed again, so a child can bind it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
def ccswitch(*args: str, env: Mapping[str, str], cwd: Path | str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m ccswitch ARGS` in `cwd`, output captured, no stdin."""
    return subprocess.run([sys.executable, "-m", "ccswitch", *args], cwd=cwd, env=dict(env), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def wait_until(condition: Callable[[], object], seconds: float = 30.0) -> bool:
    """Poll `condition` until it holds or `seconds` pass (what a real claude does takes its time)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())
