"""A LiteLLM proxy config (config.yaml) from an Export, and the ccswitch profiles that point claude
at that proxy. What each field means, and how it was checked against LiteLLM itself, is in
docs/import-export.md ("LiteLLM").
"""

from __future__ import annotations

from ccswitch.exporting.plan import Export, client_model
from ccswitch.profiles.apis import OPENAI_CHAT, OPENAI_RESPONSES, is_translated
from ccswitch.profiles.environment import context_window
from ccswitch.profiles.model import Profile

MASTER_KEY_VARIABLE = "LITELLM_MASTER_KEY"  # the proxy's own key (LiteLLM wants it to start with sk-)
CLIENT_KEY_VARIABLE = "LITELLM_API_KEY"  # what the client profiles send: the master key or a virtual key


def config(export: Export) -> dict:
    """model_list (one deployment per group and key), router_settings.fallbacks, and the proxy's key."""
    model_list = []
    for group in export.groups.values():
        profile = group.profile
        variables = export.keys.get(profile.name) or [None]
        for variable in variables:
            params: dict[str, object] = {"model": _litellm_model(profile, group.model), "api_base": profile.base_url}
            if variable:
                params["api_key"] = f"os.environ/{variable}"
            if profile.headers:
                params["extra_headers"] = dict(profile.headers)
            entry: dict[str, object] = {"model_name": group.name, "litellm_params": params}
            if _passes_through(profile):
                entry["model_info"] = {"supported_endpoints": ["/v1/messages"]}
            model_list.append(entry)
    fallbacks = [{group.name: group.fallbacks} for group in export.groups.values() if group.fallbacks]
    data: dict[str, object] = {"model_list": model_list}
    if fallbacks:
        data["router_settings"] = {"fallbacks": fallbacks}
    data["general_settings"] = {"master_key": f"os.environ/{MASTER_KEY_VARIABLE}"}
    return data


def _litellm_model(profile: Profile, model: str) -> str:
    """LiteLLM's provider/model for a profile (docs/import-export.md, "LiteLLM"). LiteLLM translates
    claude's /v1/messages for an OpenAI-format profile: `custom_openai/` to Chat Completions (its
    `openai/` would send it to the Responses API, which a Chat-only provider refuses),
    `openai/responses/` to the Responses API. An Anthropic-format profile with x-api-key goes through
    its Anthropic provider (x-api-key on /v1/messages whatever the config says); a Bearer one
    through the OpenAI provider marked to pass /v1/messages through untranslated (_passes_through)."""
    if profile.api == OPENAI_CHAT:
        return f"custom_openai/{model}"
    if profile.api == OPENAI_RESPONSES:
        return f"openai/responses/{model}"
    return f"{'openai' if _bearer(profile) else 'anthropic'}/{model}"


def _bearer(profile: Profile) -> bool:
    return profile.auth_mode == "bearer"


def _passes_through(profile: Profile) -> bool:
    return not is_translated(profile.api) and _bearer(profile)


def client_profiles(export: Export, url: str) -> dict[str, dict[str, object]]:
    """`litellm-NAME` for each exported profile: claude at the proxy, each tier its model group."""
    by_name = {p.name: p for p in export.profiles}
    profiles = {}
    for name, tiers in export.client_tiers.items():
        if not tiers:
            continue
        table: dict[str, object] = {
            "description": f"{name} through the LiteLLM proxy at {url} (ccswitch export litellm)",
            "base_url": url,
            "token": f"env:{CLIENT_KEY_VARIABLE}",
            "models": dict(tiers),
        }
        profile = by_name.get(name)
        model = client_model(profile) if profile else None
        if model and model in export.groups:
            table["model"] = model
        windows = [context_window(export.groups[g].profile) for g in tiers.values()]
        table["context_window"] = min(windows)
        profiles[f"litellm-{name}"[:64]] = table
    return profiles
