"""Running one of ccswitch's own modules in another process with this interpreter: the hook
and the status line claude runs, and the gateway where it is not forked.

Standard library only: the gateway package imports it (its launcher side, gateway/spawn.py).
"""

from __future__ import annotations

import sys


def module_command(module: str, python: str | None = None) -> list[str]:
    """The argv that runs one of ccswitch's modules with this interpreter, safely from any
    directory. Not `python -m` alone: it puts the working directory first on sys.path, and claude
    runs hooks and the status line in the user's project, where a `json.py` or a `ccswitch/` would
    be imported instead (what it printed would reach the conversation). -P (3.11+) leaves the
    directory out; 3.10 has only -I, which also leaves out PYTHONPATH and the user site-packages."""
    isolate = "-P" if sys.version_info >= (3, 11) else "-I"
    return [python or sys.executable, isolate, "-m", module]
