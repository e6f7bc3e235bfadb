"""claude's own command line as ccswitch reads it: is this program claude, which `--model` and
`--settings` did the user give it.

On the launch path: imports only json and os.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence

from ccswitch import paths
from ccswitch.errors import UsageError

CLAUDE_NAMES = frozenset({"claude", "claude.exe", "claude.cmd"})


def is_claude_command(program: str, env: Mapping[str, str]) -> bool:
    override = env.get(paths.ENV_CLAUDE_PROGRAM)
    return os.path.basename(program).lower() in CLAUDE_NAMES or (bool(override) and program == override)


def claude_model_option(command: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The `--model M` / `--model=M` given to claude in `command` (the last one wins, as in claude);
    None when there is none or the command is not claude (its `--model` means something else)."""
    if not command or not is_claude_command(command[0], env):
        return None
    values = option_values(command[1:], "--model")[1]
    return values[-1] if values else None


def option_values(args: Sequence[str], option: str) -> tuple[list[str], list[str]]:
    """(args without `option VALUE` / `option=VALUE`, the values). Stops at `--`."""
    rest: list[str] = []
    values: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg == option:
            if index + 1 >= len(args):
                raise UsageError(f"{option} needs a value")
            values.append(args[index + 1])
            index += 2
            continue
        if arg.startswith(option + "="):
            values.append(arg[len(option) + 1 :])
        else:
            rest.append(arg)
        index += 1
    return rest, values


def map_option_values(args: Sequence[str], option: str, change: Callable[[str], str]) -> list[str]:
    """`args` with every value of `option` (`option VALUE` or `option=VALUE`) passed through
    `change`, everything else as it was. Stops at `--`."""
    result = list(args)
    index = 0
    while index < len(result):
        arg = result[index]
        if arg == "--":
            break
        if arg == option and index + 1 < len(result):
            result[index + 1] = change(result[index + 1])
            index += 1
        elif arg.startswith(option + "="):
            result[index] = f"{option}={change(arg[len(option) + 1 :])}"
        index += 1
    return result


# claude's subcommands (2.1.197 to 2.1.332): `claude mcp list` takes no session options.
SUBCOMMANDS = frozenset({"agents", "attach", "auth", "auto-mode", "doctor", "gateway", "import", "install", "kill", "logs",
                         "mcp", "plugin", "plugins", "project", "purge", "respawn", "rm", "setup-token", "stop",
                         "ultrareview", "update", "upgrade"})
RESUME_OPTIONS = ("-r", "--resume")
CONTINUE_OPTIONS = ("-c", "--continue")
# Sessions ccswitch cannot name nor follow (another machine's, a pull request's).
FOREIGN_OPTIONS = ("--from-pr", "--teleport")


def launch_session(args: Sequence[str]) -> tuple[str, str | None]:
    """Which session `claude ARGS` runs (docs/claude-code.md, "Sessions and transcripts"):

    ("new", None)       a new session ccswitch may name with `--session-id` (also a `--fork-session`
                        of a resume or continue: claude takes a `--session-id` for the fork);
    ("id", ID)          the session is named: `--session-id ID`, or `--resume ID` with an id;
    ("continue", None)  `--continue`: the project's transcript modified last (claude.transcripts);
    ("pick", None)      `--resume` without an id: claude's picker (or a search term) chooses;
    ("none", None)      a subcommand, or a session from elsewhere (`--from-pr`, `--teleport`).
    """
    if args and args[0] in SUBCOMMANDS:
        return "none", None
    before = list(args[: args.index("--")]) if "--" in args else list(args)
    given = option_values(before, "--session-id")[1]
    if given:
        return "id", given[-1]
    if any(arg == option or arg.startswith(option + "=") for arg in before for option in FOREIGN_OPTIONS):
        return "none", None
    resume = _resume_value(before)
    resumes = resume is not None or any(arg in CONTINUE_OPTIONS for arg in before)
    if not resumes:
        return "new", None
    if "--fork-session" in before:
        return "new", None
    if resume and is_session_id(resume):
        return "id", resume
    if resume is None:
        return "continue", None
    return "pick", None


def _resume_value(args: Sequence[str]) -> str | None:
    """The value of `-r`/`--resume` ("" for none: the picker), or None when it is not given. The
    value is optional: the next argument is it unless it is an option."""
    found = None
    for index, arg in enumerate(args):
        if arg.startswith("--resume="):
            found = arg.split("=", 1)[1]
        elif arg in RESUME_OPTIONS:
            following = args[index + 1] if index + 1 < len(args) else ""
            found = "" if following.startswith("-") else following
    return found


def is_session_id(text: str) -> bool:
    """A UUID as claude writes session ids (8-4-4-4-12 hex digits)."""
    parts = text.split("-")
    return [len(part) for part in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdefABCDEF" for part in parts for c in part)


def new_session_id() -> str:
    """A random UUID (version 4), as claude's --session-id takes; uuid itself costs an import."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def has_option(args: Sequence[str], option: str) -> bool:
    return bool(option_values(args, option)[1])


def load_user_settings(value: str, cwd: str) -> dict:
    """What claude would make of `--settings VALUE`: inline JSON, else a file path."""
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        path = os.path.join(cwd, os.path.expanduser(value))
        try:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read()
        except OSError as exc:
            shown = value if len(value) <= 80 else value[:60] + "…"  # inline JSON that did not parse
            raise UsageError(f"--settings {shown}: cannot read ({exc.strerror or exc})") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"--settings {value}: not valid JSON ({exc})") from None
        source = value
    else:
        source = "--settings (inline JSON)"
    if not isinstance(data, dict):
        raise UsageError(f"{source}: must be a JSON object")
    if not isinstance(data.get("env", {}), dict):
        raise UsageError(f"{source}: \"env\" must be an object")
    return data
