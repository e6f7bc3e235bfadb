"""The typer app: parse arguments, call the core, render the result.

Errors from the core (CcswitchError) are reported in one place, `reports_errors`: one line on
stderr and the error's exit code. Anything else is a bug and keeps its traceback (without locals).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Annotated, Optional, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from ccswitch import __version__, describe, paths
from ccswitch.console import stderr, stdout
from ccswitch.errors import CcswitchError, ExitStatus
from ccswitch.presets import presets_dir
from ccswitch.profiles import ProfileSet
from ccswitch.store import load_profile_set, require_profile

app = typer.Typer(
    name="ccswitch",
    help="Named provider profiles for Claude Code: GLM, Kimi, Qwen, DeepSeek, gateways, Anthropic.\n\n"
    "Example: ccswitch list",
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold a token; never print them in a traceback.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., object])


def reports_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except CcswitchError as error:
            stderr.print(f"[error]ccswitch: error:[/] {escape(error.message)}")
            raise typer.Exit(int(error.exit_status)) from None
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitStatus.CTRL_C)) from None

    return wrapper  # type: ignore[return-value]


def _version_callback(value: bool) -> None:
    if value:
        stdout.print(f"ccswitch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Named provider profiles for Claude Code.

    Example: ccswitch list
    """


def load_profiles(env: dict[str, str] | None = None) -> ProfileSet:
    env = dict(os.environ) if env is None else env
    return load_profile_set(paths.profiles_file(env), presets_dir())


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def print_json(data: object) -> None:
    # Plain print, not rich: scripts read this and must get it byte for byte, uncoloured.
    print(json.dumps(data, indent=2, ensure_ascii=False))


@app.command("list")
@reports_errors
def list_profiles(as_json: JsonOption = False) -> None:
    """List every profile (built-in presets and yours) with its endpoint, models and token status.

    Example: ccswitch list --json | jq -r '.[] | select(.token.found) | .name'
    """
    env = dict(os.environ)
    profile_set = load_profiles(env)
    rows = [describe.summarize(profile_set.get(n), env, profile_set.default) for n in profile_set.names()]
    from ccswitch.active import recorded_active  # what `use` recorded; `remove` asks the same

    active: dict[str, list[str]] = {}
    for scope, name in recorded_active(env, os.getcwd()):
        active.setdefault(name, []).append(scope)
    for row in rows:
        row["active"] = active.get(row["name"], [])
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("name", "from", "endpoint", "sonnet", "opus", "haiku", "token"):
        table.add_column(column)
    for row in rows:
        models = row["models"]
        token_text = _token_cell(row["token"])
        marker = " [muted](default)[/]" if row["default"] else ""
        if row["active"]:
            marker += f" [ok](active: {', '.join(row['active'])})[/]"
        table.add_row(
            f"[name]{escape(row['name'])}[/]{marker}",
            escape(row["from"]),
            escape(row["endpoint"]),
            *(escape(models.get(tier, "-")) for tier in ("sonnet", "opus", "haiku")),
            token_text,
        )
    stdout.print(table)


def _token_cell(token: dict) -> str:
    if token["kind"] == "none":
        return "[muted]none[/]"
    if token["kind"] == "literal":
        return "[warning]plain text[/]"
    if token["kind"] in ("keyring", "cmd"):
        return escape(token["source"] if token["kind"] == "keyring" else "command (not run)")
    if token["found"]:
        return f"[ok]found in {escape(token['source'])}[/]"
    return f"[missing]missing ({escape(token['source'])} unset)[/]"


@app.command("show")
@reports_errors
def show_profile(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    as_json: JsonOption = False,
) -> None:
    """Show every resolved field of a profile and the exact environment it applies (token masked).

    Example: ccswitch show glm
    """
    env = dict(os.environ)
    profile_set = load_profiles(env)
    profile = require_profile(profile_set, name)
    data = describe.details(profile, env, profile_set.default)
    if as_json:
        print_json(data)
        return
    chain = " -> ".join(f"{item['name']} ({item['origin']})" for item in data["chain"])
    token = data["token"]
    fields = [
        ("from", chain),
        ("description", data["description"]),
        ("docs", data["docs_url"]),
        ("models checked", data["models_checked"]),
        ("endpoint", data["endpoint"]),
        ("base_url", data["base_url"]),
        ("auth", f"{data['auth']}" + (f" -> {data['token_variable']}" if data["token_variable"] else "")),
        ("token", f"{data['token_ref'] or '-'}: {token['detail']}"),
        ("model", data["model"]),
        ("models", "  ".join(f"{k}={v}" for k, v in data["models"].items())),
    ]
    stdout.print(f"[name]{escape(profile.name)}[/]")
    for label, value in fields:
        if value:
            stdout.print(f"  {label:<15}{escape(str(value))}")
    stdout.print("environment (what the profile sets; blank = cleared so nothing else leaks in):")
    for var, value in data["environment"].items():
        stdout.print(f"  {escape(var)}={escape(value)}" if value else f"  [muted]{escape(var)}=[/]")


@app.command("presets")
@reports_errors
def list_presets(as_json: JsonOption = False) -> None:
    """List the built-in provider presets with their description and docs URL.

    Example: ccswitch presets
    """
    env = dict(os.environ)
    profile_set = load_profiles(env)
    rows = []
    for name in profile_set.preset_names:
        raw = profile_set.get_preset(name)
        rows.append(
            {
                "name": name,
                "description": raw.description,
                "docs_url": raw.docs_url,
                "models_checked": raw.models_checked,
                "endpoint": describe.endpoint_label(raw),
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("name", "description", "endpoint", "docs"):
        table.add_column(column)
    for row in rows:
        table.add_row(f"[name]{escape(row['name'])}[/]", escape(row["description"] or ""), escape(row["endpoint"]), escape(row["docs_url"] or ""))
    stdout.print(table)


# Command groups live in modules of their own (cli_<area>.py); importing one registers its commands.
import ccswitch.cli_launch  # noqa: E402,F401  run, env, pin
import ccswitch.cli_routing  # noqa: E402,F401  which
import ccswitch.cli_health  # noqa: E402,F401  test, doctor
import ccswitch.cli_manage  # noqa: E402,F401  add, edit, remove, rename, token
import ccswitch.cli_switch  # noqa: E402,F401  use, off, restore, status
