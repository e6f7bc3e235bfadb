"""The SessionStart hook `ccswitch run` gives claude in its settings file: a session claude starts
inside a launch (`/clear`, `/resume` and the picker) is recorded under the launch's profile.

`run` names the session claude starts with, but `/clear` starts another one (a new id, a new
transcript) in the same process on the same profile, and `/resume` reopens an older one; neither
shows on a command line. claude runs SessionStart hooks for both, on every release tried, with
the session's id on stdin (docs/claude-code.md, "Sessions and transcripts"). The hook appends a
launch record for that id, as `run` does for the first one (usage.sessions).

    python -P -m ccswitch.usage.session_start STATE_DIR PROFILE [--gateway]

`-P` (interpreter.module_command): claude runs it in the project, whose own `json.py` must not
be the one imported. It prints nothing: claude adds a SessionStart hook's stdout to the conversation. Whatever goes
wrong (no JSON, no id, a state dir it cannot write), it ends quietly with status 0: the launch
itself warned about an unwritable state dir, and a hook error would be shown on every `/clear`.
"""

from __future__ import annotations

import json
import sys
import time

from ccswitch.usage.sessions import record_session

# The sources of SessionStart to record: a new session in the same claude (clear), or another one
# reopened (resume: in-session /resume, the picker, and --resume/--continue, which `run` records
# too, a moment earlier and with the same profile). Not startup (run named it) nor compact (same id).
SOURCES = "clear|resume"
MAX_ID_LENGTH = 200
MODULE = "ccswitch.usage.session_start"


def hook_argv(python_module: list[str], state_dir: str, profile: str, gateway: bool) -> list[str]:
    """The hook's command line (`python_module`: how to run MODULE, interpreter.module_command), to be
    quoted for the shell claude runs hooks with."""
    return [*python_module, state_dir, profile, *(["--gateway"] if gateway else [])]


def hooks_entry(command: str) -> dict[str, object]:
    """The `hooks.SessionStart` entry of a launch's settings file."""
    return {"matcher": SOURCES, "hooks": [{"type": "command", "command": command}]}


def with_hook(settings: dict[str, object], entry: dict[str, object]) -> dict[str, object]:
    """`settings` with `entry` added to its SessionStart hooks, beside the user's own (a `--settings`
    file merged into the launch's may have some). Settings whose hooks are not the documented
    shape are left as they are, for claude to judge."""
    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict) or not isinstance(hooks.get("SessionStart", []), list):
        return settings
    return {**settings, "hooks": {**hooks, "SessionStart": [*hooks.get("SessionStart", []), entry]}}


def main(args: list[str], stdin_text: str, now: float) -> int:
    if len(args) not in (2, 3) or args[2:] not in ([], ["--gateway"]):
        return 0
    try:
        event = json.loads(stdin_text)
        session = event["session_id"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return 0
    if not isinstance(session, str) or not session or len(session) > MAX_ID_LENGTH:
        return 0
    try:
        record_session(args[0], session, args[1], now, gateway=args[2:] == ["--gateway"])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdin.read(), time.time()))
