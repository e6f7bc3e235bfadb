"""What a profile tells claude: every managed variable set or blanked, plus the profile's own env.
"""

from __future__ import annotations

from ccswitch.claude.variables import MANAGED_VARIABLES, MODEL_VARIABLES, cloud_switch
from ccswitch.profiles.model import Profile


def profile_environment(profile: Profile, token: str | None, *, include_model: bool = True) -> dict[str, str]:
    """Every managed variable, set from the profile or blanked, plus the profile's own env.

    `include_model` puts the profile's `model` into ANTHROPIC_MODEL; `run` passes `--model` instead.
    """
    env = dict.fromkeys(MANAGED_VARIABLES, "")
    if profile.base_url:
        env["ANTHROPIC_BASE_URL"] = profile.base_url
    token_var = profile.token_variable()
    if token_var and token:
        env[token_var] = token
    for tier, model in profile.models.items():
        env[MODEL_VARIABLES[tier]] = model
    if include_model and profile.model:
        env["ANTHROPIC_MODEL"] = profile.model
    if profile.headers:
        env["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in profile.headers.items())
    env.update(profile.env)
    return env


def needs_onboarding_fix(profile: Profile) -> bool:
    """Every profile except claude's own Anthropic login, where the first-run screens are the login."""
    if profile.base_url or profile.token or profile.auth != "none":
        return True
    return cloud_switch(profile.env) is not None
