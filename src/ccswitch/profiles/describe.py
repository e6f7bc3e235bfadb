"""Plain data about profiles for `list` and `show`: what the tables and `--json` print.

Pure: takes profiles and the environment, returns dicts. Never contains a token's value unmasked.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ccswitch.claude.variables import CLOUD_SWITCHES, cloud_switch
from ccswitch.profiles.apis import ANTHROPIC, LABELS, PATHS, is_translated
from ccswitch.profiles.environment import (
    context_window,
    is_third_party,
    profile_environment,
    tier_models,
    tier_routes,
)
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.tokens import describe_token, reference_kind
from ccswitch.redact import mask


def endpoint_label(profile: Profile) -> str:
    """The host a profile talks to, the cloud it uses, or the profiles its tiers route to."""
    if profile.routes:
        return "gateway: " + ", ".join(dict.fromkeys(profile.routes.values()))
    switch = cloud_switch(profile.env)
    if switch is not None:
        return CLOUD_SWITCHES[switch][0]
    if profile.base_url:
        parts = urlsplit(profile.base_url)
        host = parts.netloc or profile.base_url
        return f"{host} ({profile.api})" if is_translated(profile.api) else host
    return "api.anthropic.com"


def summarize(profile: Profile, env: Mapping[str, str], default: str | None = None) -> dict[str, object]:
    """One row of `ccswitch list`."""
    return {
        "name": profile.name,
        "origin": profile.origin,
        "from": profile.origin_label(),
        "file": profile.file,  # the profiles file or the included file it is in; None for a preset
        "extends": profile.extends,
        "default": profile.name == default,
        "description": profile.description,
        "endpoint": endpoint_label(profile),
        "base_url": profile.base_url,
        "api": profile.api or ANTHROPIC,
        "auth": profile.auth,
        "model": profile.model,
        "models": dict(profile.models),
        "token": describe_token(profile.token, env, profile.name).as_dict(),
    }


def details(profile: Profile, profile_set: ProfileSet, env: Mapping[str, str]) -> dict[str, object]:
    """Everything `ccswitch show` prints: resolved fields, and what `run` hands claude (the variables
    of its --settings file and its --model), token masked."""
    status = describe_token(profile.token, env, profile.name)
    masked = _masked_token(profile.token, env) if status.found is not False else None
    if masked is None and status.kind != "none" and profile.needs_token:
        masked = "<missing>"  # `run` stops on it: claude never gets the no-token placeholder for it
    environment = profile_environment(profile, masked, include_model=False)
    third_party = is_third_party(profile)
    data = summarize(profile, env, profile_set.default)
    data.update(
        {
            "chain": [{"name": name, "origin": origin} for name, origin in profile.chain],
            "docs_url": profile.docs_url,
            "models_checked": profile.models_checked,
            "source": profile.source,
            "token_ref": _safe_reference(profile.token),
            # An OpenAI-format profile's token never reaches claude: the gateway sends it upstream.
            "token_variable": None if is_translated(profile.api) else profile.token_variable(),
            "headers": dict(profile.headers),
            "env": dict(profile.env),
            "tiers": {tier: {"model": model, "from": source} for tier, (model, source) in tier_models(profile).items()},
            "context_window": context_window(profile) if third_party else None,
            "context_source": profile.context_source if third_party and profile.context_window else None,
            "run_model_option": profile.model,
            "routes": route_details(profile, profile_set, env) if profile.routes else {},
            "format": LABELS[profile.api or ANTHROPIC],
            "requests_to": (str(profile.base_url).rstrip("/") + PATHS[str(profile.api)]
                            if is_translated(profile.api) and profile.base_url else None),
            "openai": dict(profile.openai),
            "plan": profile.plan,
            "quota": _quota(profile),
            "environment": environment,
        }
    )
    return data


def _quota(profile: Profile) -> dict[str, object] | None:
    """The quota windows in force on the profile's plan (what the gateway and `usage --windows`
    count), and the plans its entries name, for `show`; None without a `quota`."""
    if profile.quota is None:
        return None
    from ccswitch.profiles.quota import as_table, in_force, parse_quotas, plans

    quotas = parse_quotas(profile.quota)
    return {"in_force": [as_table(quota) for quota in in_force(quotas, profile.plan)], "plans": plans(quotas)}


def route_details(profile: Profile, profile_set: ProfileSet, env: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """For a profile with `routes`: tier -> the profile serving it, the model the gateway sends it
    (None: claude's own name passes through) and where that profile's token comes from."""
    routed: dict[str, dict[str, object]] = {}
    for tier, name in tier_routes(profile).items():
        target = profile_set.get(name)
        model = tier_models(target).get(tier)
        routed[tier] = {
            "profile": name,
            "model": model[0] if model else None,
            "endpoint": endpoint_label(target),
            "token": describe_token(target.token, env, name).as_dict(),
        }
    return routed


def _masked_token(ref: str | tuple[str, ...] | None, env: Mapping[str, str]) -> str | None:
    if not ref:
        return None
    kind = reference_kind(ref)
    if kind == "pool":
        return "<the pool's first key that resolves>"  # not resolved: describing never resolves
    if kind == "env":
        return mask(env.get(ref[4:]))
    if kind == "keyring":
        return "<from keyring>"  # not read: describing never resolves
    if kind == "cmd":
        return "<from command>"
    return mask(ref)


def _safe_reference(ref: str | tuple[str, ...] | None) -> str | list[str] | None:
    """The token reference as written, unless it is the token itself (a pool: each of its keys)."""
    if ref is not None and not isinstance(ref, str):
        return [str(_safe_reference(member)) for member in ref]
    if ref is None or reference_kind(ref) in ("env", "keyring", "cmd"):
        return ref
    return f"plain text ({mask(ref)})"
