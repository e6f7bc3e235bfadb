"""The sources `ccswitch import` reads, by the name given on the command line, and where each tool
keeps its files by default."""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.errors import UsageError
from ccswitch.importing import cc_switch, ccr, ccs, claude_env
from ccswitch.importing.entries import Found

SOURCES = ("cc-switch", "ccs", "ccr", "claude")


def read_source(kind: str, path: str | None, env: Mapping[str, str], home: str, cwd: str) -> Found:
    import os

    given = os.path.abspath(os.path.expanduser(path)) if path else None
    if kind == "cc-switch":
        return cc_switch.read(given or cc_switch.default_path(home))
    if kind == "ccs":
        return ccs.read(given or ccs.default_dir(env, home), env, home)
    if kind == "ccr":
        return ccr.read(given or ccr.default_path(home))
    if kind == "claude":
        return claude_env.read(env, cwd, given)
    raise UsageError(f"import: unknown source {kind!r}; one of {', '.join(SOURCES)}")
