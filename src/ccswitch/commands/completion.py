"""Shell completion, answered without typer: the shell runs `ccswitch` on every Tab.

`ccswitch --install-completion` (typer's) installs a script for bash, zsh, fish or PowerShell that
calls `ccswitch` with `_CCSWITCH_COMPLETE=complete_<shell>` and the words typed so far in the
environment; `__main__` sends that here. The commands, their options and which arguments are
profile names are the table below (tests/commands/test_completion.py checks it against the typer
app, and compares the answers with typer's own completion); profile names come from the profile
cache, as `run` reads them. The answers are printed in the formats of typer's scripts.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence

PROFILE, SHELL, SCOPE, AUTH, GROUPING = "profile", "shell", "scope", "auth", "grouping"
IMPORT_SOURCE = "import-source"
STATUSLINE_SCOPE = "statusline-scope"
FLAG = None  # an option that takes no value
VALUE = ""  # an option whose value is free text: nothing to complete

JSON = {"--json": FLAG}
HELP = {"-h": FLAG, "--help": FLAG}


class Command:
    __slots__ = ("help", "options", "arguments", "variadic")

    def __init__(self, help: str, options: Mapping[str, str | None] | None = None, arguments: Sequence[str] = (),
                 variadic: bool = False) -> None:
        self.help = help
        self.options = {**(options or {}), **HELP}
        self.arguments = tuple(arguments)  # what each positional argument is (PROFILE, VALUE)
        self.variadic = variadic  # the last kind repeats


COMMANDS: dict[str, Command] = {
    "list": Command("every profile, one per line", {**JSON, "--wide": FLAG, "-w": FLAG}),
    "show": Command("a profile's fields and environment", JSON, [PROFILE]),
    "presets": Command("the built-in presets", {**JSON, "--wide": FLAG, "-w": FLAG}),
    "which": Command("the profile a model name routes to", JSON, [VALUE]),
    "run": Command("start claude on a profile",
                   {"--dry-run": FLAG, "--fallback": FLAG, "--gateway": FLAG, "--no-onboarding-fix": FLAG}, [PROFILE]),
    "env": Command("shell code exporting a profile", {"--shell": SHELL}, [PROFILE]),
    "pin": Command("pin a profile to this directory", {"--clear": FLAG}, [PROFILE]),
    "test": Command("one real request per profile and model",
                    {"--all": FLAG, "--stream": FLAG, "--timeout": VALUE, **JSON, "--wide": FLAG, "-w": FLAG},
                    [PROFILE], variadic=True),
    "gateway": Command("a gateway in the foreground", {"--host": VALUE, "--port": VALUE}, [PROFILE]),
    "doctor": Command("check claude, node, profiles and settings", JSON),
    "add": Command("add a profile", {
        "--extends": PROFILE, "--preset": PROFILE, "--base-url": VALUE, "--auth": AUTH, "--model": VALUE,
        "--opus": VALUE, "--sonnet": VALUE, "--haiku": VALUE, "--env": VALUE, "--description": VALUE,
        "--token-env": VALUE, "--token-cmd": VALUE, "--token-keyring": FLAG, "--token-stdin": FLAG,
        "--plain-text": FLAG, "--force": FLAG}, [VALUE]),
    "remove": Command("remove one of your profiles", {"--force": FLAG}, [PROFILE]),
    "rename": Command("rename one of your profiles", {}, [PROFILE, VALUE]),
    "edit": Command("open a profile in $EDITOR", {}, [PROFILE]),
    "use": Command("make a profile every plain claude's default",
                   {"--scope": SCOPE, "--dry-run": FLAG, "--force": FLAG, "--no-onboarding-fix": FLAG}, [PROFILE]),
    "off": Command("undo `use`", {"--scope": SCOPE, "--dry-run": FLAG}),
    "restore": Command("bring a settings file back from a backup",
                       {"--list": FLAG, "--scope": SCOPE, "--dry-run": FLAG, **JSON, "--wide": FLAG, "-w": FLAG}, [VALUE]),
    "status": Command("what a plain claude here will use", JSON),
    "current": Command("alias of status", JSON),
    "token": Command("store or remove a profile's token in the keyring"),
    "import": Command("profiles from cc-switch, ccs, ccr or claude's settings",
                      {"--dry-run": FLAG, "--prefix": VALUE, "--force": FLAG, "--plain-text": FLAG}, [IMPORT_SOURCE, VALUE]),
    "export": Command("a LiteLLM or Higress config from your profiles"),
    "usage": Command("tokens and cost per profile and model",
                     {"--since": VALUE, "--until": VALUE, "--by": GROUPING, "--windows": FLAG, **JSON}),
    "statusline": Command("the line claude shows under its prompt",
                          {"--install": FLAG, "--uninstall": FLAG, "--scope": STATUSLINE_SCOPE, "--dry-run": FLAG}),
}
_EXPORT = {"--all": FLAG, "--output": VALUE, "-o": VALUE}
SUBCOMMANDS: dict[str, dict[str, Command]] = {
    "export": {
        "litellm": Command("a LiteLLM proxy config", {**_EXPORT, "--url": VALUE}, [PROFILE], variadic=True),
        "higress": Command("Higress ai-proxy and model-router resources", _EXPORT, [PROFILE], variadic=True),
    },
    "token": {
        "set": Command("store a profile's token in the keyring", {"--plain-text": FLAG}, [PROFILE]),
        "rm": Command("delete a profile's token from the keyring", {}, [PROFILE]),
    },
}
TOP_OPTIONS = {"--version": FLAG, "--install-completion": FLAG, "--show-completion": FLAG, **HELP}

Item = tuple[str, str]  # (value, help)


def profile_names(env: Mapping[str, str]) -> list[str]:
    """Every profile's name, from the profile cache (typer and rich never imported); none when the
    profiles file is broken (a Tab is no place for its error)."""
    from ccswitch.errors import CcswitchError
    from ccswitch.profiles.cache import load_profiles

    try:
        return list(load_profiles(env, warn=False).names())
    except (CcswitchError, OSError):
        return []


def values(kind: str | None, incomplete: str, env: Mapping[str, str]) -> list[str]:
    """The values of one kind of argument that start with `incomplete`."""
    if kind == PROFILE:
        choices = profile_names(env)
    elif kind == SHELL:
        from ccswitch.launch.shells import SHELLS

        choices = list(SHELLS)
    elif kind == SCOPE:
        choices = ["user", "project"]
    elif kind == STATUSLINE_SCOPE:
        choices = ["user", "project", "local"]
    elif kind == AUTH:
        from ccswitch.profiles.schema import AUTH_MODES

        choices = list(AUTH_MODES)
    elif kind == IMPORT_SOURCE:
        from ccswitch.importing.readers import SOURCES

        choices = list(SOURCES)
    elif kind == GROUPING:
        from ccswitch.usage.report import BY_CHOICES

        choices = list(BY_CHOICES)
    else:
        choices = []
    return [choice for choice in choices if choice.startswith(incomplete)]


def complete(args: Sequence[str], incomplete: str, env: Mapping[str, str]) -> list[Item]:
    """What may come next after `args` (the words before the cursor), starting with `incomplete`."""
    position = 0
    while position < len(args) and args[position].startswith("-"):
        position += 1
    if position == len(args):
        if incomplete.startswith("-"):
            return [(option, "") for option in TOP_OPTIONS if option.startswith(incomplete)]
        return [(name, command.help) for name, command in COMMANDS.items() if name.startswith(incomplete)]
    name, rest = args[position], list(args[position + 1 :])
    command = COMMANDS.get(name)
    if name in SUBCOMMANDS:
        if not rest:
            return [(sub, c.help) for sub, c in SUBCOMMANDS[name].items() if sub.startswith(incomplete)]
        command, rest = SUBCOMMANDS[name].get(rest[0]), rest[1:]
    if command is None or "--" in rest:
        return []  # after `--`, the words are the launched command's: the shell completes files
    positional: list[str] = []
    pending: str | None = None  # the option whose value comes next
    for word in rest:
        if pending is not None:
            pending = None
        elif word.startswith("-") and word != "-":
            option = word.split("=", 1)[0]
            if command.options.get(option, FLAG) is not FLAG and "=" not in word:
                pending = option
        else:
            positional.append(word)
    if pending is not None:
        return [(value, "") for value in values(command.options[pending], incomplete, env)]
    if incomplete.startswith("-"):
        used = set(rest)
        return [(option, "") for option, kind in command.options.items()
                if option.startswith(incomplete) and not (kind is FLAG and option in used)]
    if len(positional) < len(command.arguments):
        kind: str | None = command.arguments[len(positional)]
    elif command.variadic and command.arguments:
        kind = command.arguments[-1]
    else:
        return []
    return [(value, "") for value in values(kind, incomplete, env)]


def split(line: str) -> list[str]:
    """The words of a command line as the shell has them so far (an open quote included), as click splits them."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        for word in lexer:
            words.append(word)
    except ValueError:
        words.append(lexer.token)
    return words


def _zsh_escape(text: str) -> str:
    return text.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")


def main(instruction: str, env: Mapping[str, str]) -> int | None:
    """Answer one completion request (`complete_bash`, ...); None for anything else (typer answers)."""
    shell = instruction[len("complete_"):]
    if shell == "bash":
        words = split(env.get("COMP_WORDS", ""))
        try:
            cword = int(env.get("COMP_CWORD", ""))
        except ValueError:
            return None
        args, incomplete = words[1:cword], (words[cword] if cword < len(words) else "")
    elif shell in ("zsh", "fish"):
        line = env.get("_TYPER_COMPLETE_ARGS", "")
        words = split(line)[1:]
        args, incomplete = (words[:-1], words[-1]) if words and not line.endswith(" ") else (words, "")
    elif shell in ("powershell", "pwsh"):
        incomplete = env.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        words = split(env.get("_TYPER_COMPLETE_ARGS", ""))
        args = words[1:-1] if incomplete else words[1:]
    else:
        return None
    items = complete(args, incomplete, env)
    out = sys.stdout
    if shell == "bash":
        out.write("\n".join(value for value, _ in items))
    elif shell == "zsh":
        if items:
            lines = "\n".join(f'"{_zsh_escape(v)}":"{_zsh_escape(h)}"' if h else f'"{_zsh_escape(v)}"' for v, h in items)
            out.write(f"_arguments '*: :(({lines}))'")
        else:
            out.write("_files")
    elif shell == "fish":
        action = env.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return 0 if items else 1
        if action == "get-args" and items:
            out.write("\n".join(f"{v}\t{' '.join(h.split())}" if h else v for v, h in items))
    else:
        out.write("\n".join(f"{v}:::{h or ' '}" for v, h in items))
    out.flush()
    return 0

