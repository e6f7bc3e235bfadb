"""Where claude keeps a project's transcripts, and which session `claude --continue` picks.

Observed on claude 2.1.330 (docs/claude-code.md, "Sessions and transcripts"):
- a session's transcript is `<config dir>/projects/<project>/<session id>.jsonl`, the config dir
  being $CLAUDE_CONFIG_DIR or ~/.claude;
- <project> is the working directory with symlinks resolved and every character that is not an
  ASCII letter or digit replaced by "-"; a name longer than 200 characters is cut to 200 and
  followed by "-" and a hash of the whole path (JavaScript's 32-bit string hash, base 36);
- `--continue` continues the transcript of that directory modified last (its mtime, not the time of
  its last message: touching an older file makes it the one continued).

On the launch path (a `run` with `--continue` asks `continued_session`): os, re and paths only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from ccswitch.paths import claude_config_dir

MAX_NAME = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def project_dir_name(cwd: str) -> str:
    path = os.path.realpath(cwd)
    name = _UNSAFE.sub("-", path)
    if len(name) <= MAX_NAME:
        return name
    return f"{name[:MAX_NAME]}-{_base36(abs(_js_hash(path)))}"


def project_dir(env: Mapping[str, str], cwd: str) -> str:
    return os.path.join(claude_config_dir(env), "projects", project_dir_name(cwd))


def continued_session(env: Mapping[str, str], cwd: str) -> str | None:
    """The session `claude --continue` started in `cwd` will continue: the id of the project's
    transcript modified last; None when it has none."""
    newest, found = -1, None
    try:
        entries = os.scandir(project_dir(env, cwd))
    except OSError:
        return None
    with entries:
        for entry in entries:
            if entry.name.endswith(".jsonl"):
                try:
                    mtime = entry.stat().st_mtime_ns
                except OSError:
                    continue
                if mtime > newest:
                    newest, found = mtime, entry.name[: -len(".jsonl")]
    return found


def _js_hash(text: str) -> int:
    """JavaScript's `h = (h << 5) - h + charCodeAt(i) | 0` over the UTF-16 code units."""
    value = 0
    units = text.encode("utf-16-le")
    for i in range(0, len(units), 2):
        value = (value * 31 + int.from_bytes(units[i : i + 2], "little")) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
