"""Child processes of the tests: a `python -m ccswitch` that finds this checkout's code."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test's (isolated) environment for a child `python -m ccswitch`, finding this checkout's code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env
