"""`list`, `show`, `presets` and `which`: what the profiles are and where a model goes.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ccswitch.claude.models import is_alias
from ccswitch.cli.common import JsonOption, load_profiles, print_json, reports_errors
from ccswitch.console import stdout
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.profiles import describe
from ccswitch.profiles.active import recorded_active
from ccswitch.profiles.routing import candidates, route_model


@reports_errors
def list_profiles(as_json: JsonOption = False) -> None:
    """List every profile (built-in presets and yours) with its endpoint, models and token status.

    Example: ccswitch list --json | jq -r '.[] | select(.token.found) | .name'
    """
    env = dict(os.environ)
    profile_set = load_profiles(env)
    rows = [describe.summarize(profile_set.get(n), env, profile_set.default) for n in profile_set.names()]

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
    profile = profile_set.get(name)
    data = describe.details(profile, profile_set, env)
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
        ("models", "  ".join(_tier_text(tier, entry) for tier, entry in data["tiers"].items())
         or "  ".join(f"{k}={v}" for k, v in data["models"].items())),
        ("context window", _window_text(data)),
    ]
    stdout.print(f"[name]{escape(profile.name)}[/]")
    if data["routes"]:
        _print_routes(profile.name, data, chain)
        return
    for label, value in fields:
        if value:
            stdout.print(f"  {label:<15}{escape(str(value))}")
    launch = f"claude --settings FILE --model {data['run_model_option']}" if data["run_model_option"] else "claude --settings FILE"
    stdout.print(f"`ccswitch run {escape(profile.name)}` starts {escape(launch)}; FILE's env "
                 "(blank = cleared so nothing else leaks in):")
    for var, value in data["environment"].items():
        stdout.print(f"  {escape(var)}={escape(value)}" if value else f"  [muted]{escape(var)}=[/]")


def _print_routes(name: str, data: dict, chain: str) -> None:
    for label, value in (("from", chain), ("description", data["description"])):
        if value:
            stdout.print(f"  {label:<15}{escape(str(value))}")
    stdout.print(f"`ccswitch run {escape(name)}` starts a loopback gateway for the session; claude talks only to it, "
                 "and it sends each tier to its profile with that profile's token:")
    for tier, route in data["routes"].items():
        model = route["model"] or "claude's model name, unchanged"
        stdout.print(f"  {tier:<7}-> {escape(route['profile'])}: {escape(model)} at {escape(route['endpoint'])}, "
                     f"token {escape(route['token']['detail'])}")


def _tier_text(tier: str, entry: dict) -> str:
    lent = "" if entry["from"] == tier else f" (as {entry['from']})"
    return f"{tier}={entry['model']}{lent}"


def _window_text(data: dict) -> str | None:
    window = data["context_window"]
    if window is None:
        return None
    source = f" ({data['context_source']})" if data["context_source"] else " (not stated by the profile: claude's assumption)"
    return f"{window} tokens{source}"


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


@reports_errors
def which_profile(
    model: Annotated[str, typer.Argument(help="A model name, e.g. kimi-k2-0905-preview.")],
    as_json: JsonOption = False,
) -> None:
    """Print the profile that `ccswitch run -- claude --model MODEL` would pick, and why.

    Example: ccswitch which kimi-k2-0905-preview
    """
    env = dict(os.environ)
    profile_set = load_profiles(env)
    if is_alias(model):
        raise UsageError(
            f"{model!r} is a claude alias: it resolves through the chosen profile's tier mapping, not to a profile")
    route = route_model(model, profile_set, env)
    others = [r for r in candidates(model, profile_set, env) if route and r.profile != route.profile]
    if as_json:
        print_json({"model": model, "route": route.as_dict() if route else None, "also": [r.as_dict() for r in others]})
    elif route:
        stdout.print(f"[name]{escape(route.profile)}[/]  [muted]{escape(route.reason())}[/]")
        for other in others:
            stdout.print(f"  [muted]also matches: {escape(other.reason())}[/]")
    if route is None:
        raise CcswitchError(f"no profile serves {model!r}; add `serves = [\"{model}\"]` to a profile")


def register(app: typer.Typer) -> None:
    app.command("list")(list_profiles)
    app.command("show")(show_profile)
    app.command("presets")(list_presets)
    app.command("which")(which_profile)
