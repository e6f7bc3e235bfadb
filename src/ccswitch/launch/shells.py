"""`ccswitch env` output: set and unset variables in each shell's syntax, safe to eval.

Every value is quoted so the shell takes it literally whatever it contains: quotes, `$(...)`,
backticks, newlines. A value a format cannot carry literally is refused, never approximated.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.errors import UsageError

SHELLS = ("bash", "zsh", "fish", "powershell", "cmd", "dotenv", "json")
SHELL_ALIASES = {"sh": "bash", "dash": "bash", "ksh": "bash", "pwsh": "powershell", "powershell.exe": "powershell",
                 "pwsh.exe": "powershell", "cmd.exe": "cmd"}
# PowerShell also ends a single-quoted string at the typographic single quotes.
_PWSH_QUOTES = "'\u2018\u2019\u201a\u201b"
# In cmd, % (and ! with delayed expansion) expand even inside quotes, and a line ends at a newline.
_CMD_UNSAFE = '%!"\r\n'


def default_shell(env: Mapping[str, str], windows: bool = False) -> str:
    shell = env.get("SHELL", "").replace("\\", "/").rsplit("/", 1)[-1].lower()
    shell = SHELL_ALIASES.get(shell, shell)
    if shell in SHELLS:
        return shell
    return "powershell" if windows else "bash"


def normalize_shell(name: str) -> str:
    shell = SHELL_ALIASES.get(name.lower(), name.lower())
    if shell not in SHELLS:
        raise UsageError(f"--shell {name!r}: choose one of {', '.join(SHELLS)}")
    return shell


def posix_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def powershell_quote(value: str) -> str:
    return "'" + "".join(c + c if c in _PWSH_QUOTES else c for c in value) + "'"


def dotenv_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(environment: Mapping[str, str], shell: str) -> str:
    """Lines that set every non-empty variable and unset every empty one."""
    for name, value in environment.items():
        if "\0" in value:
            raise UsageError(f"{name}: a value cannot contain a NUL character")
    if shell == "json":
        import json  # `--help` imports SHELLS, and nothing else here needs json

        return json.dumps({k: (v or None) for k, v in environment.items()}, indent=2, ensure_ascii=False) + "\n"
    lines = []
    for name, value in environment.items():
        if shell in ("bash", "zsh"):
            lines.append(f"export {name}={posix_quote(value)}" if value else f"unset {name}")
        elif shell == "fish":
            lines.append(f"set -gx {name} {fish_quote(value)}" if value else f"set -e {name}")
        elif shell == "powershell":
            lines.append(
                f"$env:{name} = {powershell_quote(value)}"
                if value
                else f"Remove-Item -ErrorAction SilentlyContinue Env:{name}"
            )
        elif shell == "cmd":
            if any(c in _CMD_UNSAFE for c in value):
                raise UsageError(
                    f"{name}: its value contains a character cmd cannot take literally (% ! \" or a newline); "
                    "use --shell powershell"
                )
            lines.append(f'set "{name}={value}"')
        elif shell == "dotenv":
            lines.append(f"{name}={dotenv_quote(value)}" if value else f"{name}=")
        else:  # pragma: no cover - normalize_shell guards this
            raise UsageError(f"unknown shell {shell!r}")
    return "\n".join(lines) + "\n"
