"""What the profiles tell the usage engine: each profile's price table, and which profile served a
model when neither a `run` record nor a gateway record says (docs/usage.md, "Attribution").

The one module of `usage` that knows profiles; the rest of the engine gets these as arguments.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

from ccswitch.claude.variables import cloud_switch
from ccswitch.errors import ProfileFileError
from ccswitch.profiles.environment import tier_models, url_host
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.quota import in_force, parse_quotas, plans
from ccswitch.profiles.schema import find_line
from ccswitch.profiles.tokens import describe_token
from ccswitch.usage.prices import (
    ANTHROPIC,
    PriceEntry,
    PriceError,
    PriceTable,
    canonical_model,
    parse_table,
)
from ccswitch.usage.report import Attribute

# Endpoints that bill a Claude model at Anthropic's list prices: Anthropic itself, and OpenRouter,
# which passes its providers' prices through (docs/usage.md, "Prices").
LIST_PRICE_HOSTS = ("api.anthropic.com", "openrouter.ai")


def bills_list_prices(profile: Profile) -> bool:
    """Claude models reached through this profile cost Anthropic's list prices: claude's own login,
    the Anthropic API, Bedrock, Vertex, Foundry (their global endpoints charge the same), OpenRouter."""
    if profile.routes:
        return False
    if cloud_switch(profile.env) is not None or not profile.base_url:
        return True
    return url_host(profile.base_url) in LIST_PRICE_HOSTS


def relay_profiles(profile_set: ProfileSet) -> set[str]:
    """The profiles with `routes`: they serve nothing themselves, their gateway's upstreams do."""
    return {name for name in profile_set.names() if profile_set.get(name).routes}


def price_tables(profile_set: ProfileSet) -> dict[str, PriceTable]:
    """profile name -> its price table: Anthropic's list prices where they apply, then the profile's
    own `prices` (inherited along `extends`; a model's entry in a child replaces its parent's)."""
    tables: dict[str, PriceTable] = {}
    for name in profile_set.names():
        profile = profile_set.get(name)
        table: dict[str, tuple[PriceEntry, ...]] = dict(ANTHROPIC) if bills_list_prices(profile) else {}
        for model, raw in (profile.prices or {}).items():
            table[model] = _parse(profile_set, profile, model, raw)
        if table:
            tables[name] = table
    return tables


def _parse(profile_set: ProfileSet, profile: Profile, model: str, raw: object) -> tuple[PriceEntry, ...]:
    try:
        return parse_table({model: raw}, "prices")[model]
    except PriceError as error:
        raise _price_file_error(profile_set, profile, model, str(error)) from None


def _price_file_error(profile_set: ProfileSet, profile: Profile, model: str, message: str) -> ProfileFileError:
    """The error names the file (or preset) that wrote this model's price, with the line when known."""
    for name, origin in profile.chain:
        if origin == "user" and model in (profile_set.user[name].get("prices") or {}):  # type: ignore[operator]
            line = find_line(_read_text(profile_set.path), name, None, ("prices", model))
            return ProfileFileError(profile_set.path, f"[profiles.{name}] {message}", line)
        if origin == "preset" and model in (profile_set.get_preset(name).prices or {}):
            return ProfileFileError(f"preset {name}", message, None)
    return ProfileFileError(profile_set.path, f"[profiles.{profile.name}] {message}", None)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""  # the error is still right; only its line is unknown


# The profile that stands for claude's own login (a Claude subscription or Console account).
LOGIN_PROFILE = "anthropic"


def attribution(profile_set: ProfileSet, env: Mapping[str, str]) -> Attribute:
    """`attribute(model)`: the one profile that maps `model` in a tier or serves it, ranked as
    routing ranks (a mapped name is an exact match; then a user profile over a preset; then a token
    that is set). Two equally good candidates, or none: claude's own login (LOGIN_PROFILE) for a
    Claude model, else None, reported as unknown. Asked once per model name."""
    from ccswitch.profiles.routing import (  # routing reads claude's settings: only when asked
        Route,
        candidates,
    )

    mapped: dict[str, list[str]] = {}
    for name in profile_set.names():
        profile = profile_set.get(name)
        for model, _ in set(tier_models(profile).values()):
            mapped.setdefault(model, []).append(name)
    login = LOGIN_PROFILE if LOGIN_PROFILE in profile_set else None

    def attribute(model: str) -> str | None:
        routes = {route.profile: route for route in candidates(model, profile_set, env)}
        for name in mapped.get(model, ()):
            profile = profile_set.get(name)
            found = not profile.needs_token or bool(describe_token(profile.token, env).found)
            routes[name] = Route(name, profile.origin, model, found)  # the exact name beats any pattern
        ranked = sorted(routes.values(), key=lambda route: route.rank, reverse=True)
        if ranked and (len(ranked) == 1 or ranked[0].rank != ranked[1].rank):
            return ranked[0].profile
        return login if is_claude_model(model) else None

    return attribute


def is_claude_model(model: str) -> bool:
    """A model of Anthropic's own API (`claude-opus-4-6`, dated or not): what claude's login sends."""
    return canonical_model(model) in ANTHROPIC or model.startswith("claude-")


class Quotas(namedtuple("Quotas", [
    "windows",  # list[Quota]
    "plans",    # list[str]
    "plan",     # str | None
])):
    """A profile's quota windows in force (those of its `plan`, and those of no plan), the plans
    its entries name, and the plan it chose."""
    __slots__ = ()


def quota_tables(profile_set: ProfileSet) -> dict[str, Quotas]:
    """profile name -> its quotas, for every profile that declares some (presets included)."""
    tables: dict[str, Quotas] = {}
    for name in profile_set.names():
        profile = profile_set.get(name)
        if profile.quota is None:
            continue
        quotas = parse_quotas(profile.quota)  # checked when the file was read: cannot fail here
        offered = plans(quotas)
        if profile.plan is not None and profile.plan not in offered:
            raise _plan_error(profile_set, profile, offered)
        tables[name] = Quotas(in_force(quotas, profile.plan), offered, profile.plan)
    return tables


def _plan_error(profile_set: ProfileSet, profile: Profile, offered: list[str]) -> ProfileFileError:
    choices = f"its quota names the plans {', '.join(offered)}" if offered else "its quota names no plan"
    message = f"[profiles.{profile.name}] plan = {profile.plan!r}: {choices}"
    for name, origin in profile.chain:
        if origin == "user" and "plan" in profile_set.user[name]:
            return ProfileFileError(profile_set.path, message, find_line(_read_text(profile_set.path), name, "plan"))
        if origin == "preset" and name == profile.name:
            return ProfileFileError(f"preset {name}", message, None)
    return ProfileFileError(profile_set.path, message, None)
