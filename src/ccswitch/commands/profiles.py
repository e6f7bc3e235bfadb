"""`list`, `show`, `presets` and `which`: what the profiles are and where a model goes."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ccswitch.claude.models import is_alias
from ccswitch.console import Output, escape, print_json, stderr, stdout
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.profiles import describe
from ccswitch.profiles.active import recorded_active
from ccswitch.profiles.cache import load_profiles
from ccswitch.profiles.routing import candidates, route_model
from ccswitch.profiles.tokens import UNUSABLE
from ccswitch.tables import Column, Table

TIERS = ("sonnet", "opus", "haiku")


def list_profiles(as_json: bool = False, wide: bool = False, *, out: Output = stdout) -> int:
    """`ccswitch list`: every profile, one line each, the user's own first (the ones people look
    for among some thirty), in the order of their file; `--wide` adds the endpoint and each tier's
    model in full."""
    env = dict(os.environ)
    profile_set = load_profiles(env)
    names = [*profile_set.user, *(name for name in profile_set.names() if name not in profile_set.user)]
    rows = [describe.summarize(profile_set.get(n), env, profile_set.default) for n in names]
    active: dict[str, list[str]] = {}
    for scope, name in recorded_active(env, os.getcwd()):
        active.setdefault(name, []).append(scope)
    for row in rows:
        row["active"] = active.get(row["name"], [])
    if as_json:
        print_json(rows)
        return 0
    out.print(list_table(rows, wide=wide))
    return 0


def list_table(rows: list[dict], wide: bool = False) -> Table:
    """Names whole first; then user or preset (`user extends glm` with --wide), the models, the
    endpoint, the token's state."""
    marked = any(row["default"] or row["active"] for row in rows)
    columns = [
        Column("name"),
        *([Column("", priority=1)] if marked else []),
        Column("from", wide_only=True),
        Column("from", priority=1, narrow_only=True),
        Column("endpoint", priority=2, cut="right", min_width=12, min_table_width=100),
        Column("models", priority=3, cut="right", min_width=12, narrow_only=True),
        *(Column(tier, wide_only=True) for tier in TIERS),
        Column("token", priority=4),
    ]
    table = Table(columns, wide=wide)
    for row in rows:
        models: Mapping[str, str] = row["models"]
        marks = (["default"] if row["default"] else []) + [f"active: {scope}" for scope in row["active"]]
        short = ", ".join(dict.fromkeys(mark.split(":")[0] for mark in marks))
        state = [(f"[ok]{escape(', '.join(marks))}[/]", f"[ok]{short}[/]")] if marks else [""]
        table.add_row(
            f"[name]{escape(row['name'])}[/]",
            *(state if marked else []),
            escape(row["from"]),
            escape(row["origin"]),
            escape(row["endpoint"]),
            escape(", ".join(dict.fromkeys(models[t] for t in ("opus", "sonnet", "haiku") if t in models)) or "-"),
            *(escape(models.get(tier, "-")) for tier in TIERS),
            token_cell(row["token"]),
        )
    return table


def token_cell(token: dict) -> tuple[str, str]:
    """(full, short): `missing ($VAR unset)` when there is room, `missing` when there is not."""
    if token["kind"] == "none":
        return "[muted]none[/]", "[muted]none[/]"
    if token["kind"] == "pool":
        members = token["pool"]
        found = sum(1 for member in members if member["found"])
        unknown = sum(1 for member in members if member["found"] is None)
        counted = f"{found} found" + (f", {unknown} not checked" if unknown else "")
        style = "ok" if found else ("muted" if unknown else "missing")
        return f"[{style}]pool of {len(members)}: {counted}[/]", f"[{style}]pool {found}/{len(members)}[/]"
    if token["kind"] == "literal":
        return "[warning]plain text[/]", "[warning]plain text[/]"
    if token["kind"] == "keyring":
        return escape(token["source"]), "keyring"
    if token["kind"] == "cmd":
        return "command (not run)", "command"
    if token["found"]:
        return f"[ok]found in {escape(token['source'])}[/]", "[ok]found[/]"
    if str(token["detail"]).startswith(UNUSABLE):  # set, but no header can carry it: not "unset"
        return f"[missing]{UNUSABLE} ({escape(token['source'])})[/]", f"[missing]{UNUSABLE}[/]"
    return f"[missing]missing ({escape(token['source'])} unset)[/]", "[missing]missing[/]"


def _quota_text(data: dict) -> str | None:
    """`600 prompts/5h (rolling)  …`, and the plan, or the plans to choose from."""
    quota = data["quota"]
    if quota is None:
        return None
    windows = []
    for table in quota["in_force"]:
        limit = next((f"{table[m]} {m}" for m in ("prompts", "requests", "tokens") if m in table), "tracked")
        windows.append(f"{limit}/{table['window']} ({table['reset']})")
    plan = data["plan"]
    if plan:
        windows.append(f"plan {plan}")
    elif quota["plans"]:
        windows.append(f"set plan = one of {', '.join(quota['plans'])} for its limits")
    return "  ".join(windows)


def show_profile(name: str, as_json: bool = False, *, out: Output = stdout) -> int:
    """`ccswitch show NAME`: every resolved field, and what `run` hands claude (token masked)."""
    env = dict(os.environ)
    profile_set = load_profiles(env)
    profile = profile_set.get(name)
    data = describe.details(profile, profile_set, env)
    if as_json:
        print_json(data)
        return 0
    chain = " -> ".join(f"{item['name']} ({item['origin']})" for item in data["chain"])
    token = data["token"]
    fields = [
        ("from", chain),
        ("file", data["file"] if data["origin"] == "included" else None),
        ("description", data["description"]),
        ("docs", data["docs_url"]),
        ("models checked", data["models_checked"]),
        ("endpoint", data["endpoint"]),
        ("base_url", data["base_url"]),
        ("format", data["format"] + (f" -> {data['requests_to']}" if data["requests_to"] else "")),
        ("openai", "  ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in data["openai"].items())),
        ("auth", f"{data['auth']}" + (f" -> {data['token_variable']}" if data["token_variable"] else
                                      " -> sent to the provider by ccswitch's gateway"
                                      if data["requests_to"] and data["auth"] != "none" else "")),
        ("token", f"{_reference_text(data['token_ref'])}: {token['detail']}"),
        ("model", data["model"]),
        ("models", "  ".join(_tier_text(tier, entry) for tier, entry in data["tiers"].items())
         or "  ".join(f"{k}={v}" for k, v in data["models"].items())),
        ("context window", _window_text(data)),
        ("quota", _quota_text(data)),
    ]
    out.print(f"[name]{escape(profile.name)}[/]")
    for label, value in fields[:3] if data["routes"] else fields:  # a routes profile: its tiers say the rest
        if value:
            out.print(f"  {label:<15}{escape(str(value))}")
    if data["routes"]:
        _print_routes(profile.name, data, out)
        return 0
    if data["requests_to"]:  # translated: claude only ever talks to the gateway
        out.print(f"`ccswitch run {escape(profile.name)}` starts claude on a per-session gateway that translates "
                  f"its requests to the {escape(data['format'])} API")
        return 0
    launch = f"claude --settings FILE --model {data['run_model_option']}" if data["run_model_option"] else "claude --settings FILE"
    out.print(f"`ccswitch run {escape(profile.name)}` starts {escape(launch)}; FILE's env "
              "(blank = cleared so nothing else leaks in):")
    for var, value in data["environment"].items():
        out.print(f"  {escape(var)}={escape(value)}" if value else f"  [muted]{escape(var)}=[/]")
    return 0


def _reference_text(ref: str | list[str] | None) -> str:
    if isinstance(ref, list):
        return "[" + ", ".join(ref) + "]"
    return ref or "-"


def _print_routes(name: str, data: dict, out: Output) -> None:
    out.print(f"`ccswitch run {escape(name)}` starts a loopback gateway for the session; claude talks only to it, "
              "and it sends each tier to its profile with that profile's token:")
    for tier, route in data["routes"].items():
        model = route["model"] or "claude's model name, unchanged"
        out.print(f"  {tier:<7}-> {escape(route['profile'])}: {escape(model)} at {escape(route['endpoint'])}, "
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


def list_presets(as_json: bool = False, wide: bool = False, *, out: Output = stdout) -> int:
    """`ccswitch presets`: a docs URL is shown whole or not at all (--wide: always)."""
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
        return 0
    out.print(presets_table(rows, wide=wide))
    return 0


def presets_table(rows: list[dict], wide: bool = False) -> Table:
    table = Table([
        Column("name"),
        Column("description", priority=1, cut="right", min_width=16),
        Column("endpoint", priority=2, cut="right", min_width=12),
        Column("docs", priority=3),
    ], wide=wide)
    for row in rows:
        table.add_row(f"[name]{escape(row['name'])}[/]", escape(row["description"] or ""), escape(row["endpoint"]),
                      escape(row["docs_url"] or ""))
    return table


def which_profile(model: str, as_json: bool = False, *, out: Output = stdout) -> int:
    """`ccswitch which MODEL`: the profile `run -- claude --model MODEL` would pick, and why."""
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
        out.print(f"[name]{escape(route.profile)}[/]  [muted]{escape(route.reason())}[/]")
        for other in others:
            out.print(f"  [muted]also matches: {escape(other.reason())}[/]")
    if route is None:
        raise CcswitchError(f"no profile serves {model!r}; add `serves = [\"{model}\"]` to a profile")
    return 0


def show_pin(*, err: Output = stderr) -> int:
    """`ccswitch pin` without a name: the pin that applies here, as `NAME<TAB>PATH`; 1 when none."""
    from ccswitch.profiles.pins import PIN_FILENAME, find_pin_file, read_pin

    cwd = os.getcwd()
    nearest = find_pin_file(cwd)
    if nearest is None:
        err.print(f"no {PIN_FILENAME} pin from {escape(cwd)} upwards")
        return 1
    # Plain print: scripts read `NAME<TAB>PATH`, and rich would expand the tab.
    print(f"{read_pin(nearest)}\t{nearest}")
    return 0
