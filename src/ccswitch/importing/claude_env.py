"""`ccswitch import claude`: the `env` block in force in claude's own settings files (user, project,
local; claude.sources finds them and says which wins) as one profile."""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.claude import sources
from ccswitch.errors import CcswitchError
from ccswitch.importing.entries import Entry, Found, env_block_table, is_empty

TOOL = "claude"
NAME = "claude-env"
SCOPES = ("project-local", "project", "user")


def read(env: Mapping[str, str], cwd: str, path: str | None = None) -> Found:
    """One settings file (`path`), or every file claude reads here, highest precedence first."""
    read_from = [sources.read_source("file", path)] if path else sources.read_sources(env, cwd, SCOPES)
    found = Found(TOOL, path or ", ".join(s.path for s in read_from if s.path))
    for source in read_from:
        if source.error:
            raise CcswitchError(source.error)
    if path and not read_from[0].exists:
        raise CcswitchError(f"{path}: no such settings file")
    block: dict[str, str] = {}
    used = []
    for source in reversed(read_from):  # lowest first, so a higher file's value wins
        if source.env:
            block.update(source.env)
            used.append(source.label)
    table, secret = env_block_table(block)
    if is_empty(table) and not secret:
        found.skip("claude's settings", "their env blocks set no endpoint, key or model")
        return found
    table["description"] = f"imported from claude's settings ({', '.join(reversed(used))}): the env block in force"
    entry = Entry(NAME, table, secret, current=True)
    found.add(entry, "claude's settings", None)
    return found
