"""The environment variables Claude Code reads to pick its endpoint, credential and models.

One home for the vocabulary every other package uses to talk about claude's environment.
Imports nothing of ccswitch: it sits on the launch path.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.claude.models import TIERS

AUTH_TOKEN = "ANTHROPIC_AUTH_TOKEN"  # sent as `Authorization: Bearer`
API_KEY = "ANTHROPIC_API_KEY"  # sent as `x-api-key` (both set: both headers are sent)
# A profile's `auth` -> the variable that carries its token.
AUTH_VARIABLE = {"bearer": AUTH_TOKEN, "x-api-key": API_KEY}
# With neither variable holding a value (blank ones included), claude sends the user's own claude.ai
# login, its OAuth access token, to whatever ANTHROPIC_BASE_URL names (docs/claude-code.md,
# "Credentials and requests"). A third-party profile that sends no token of its own sends this.
NO_TOKEN = "ccswitch-no-token"
# Tier name in `[models]` -> the variable claude reads it from.
MODEL_VARIABLES = {
    "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "fable": "ANTHROPIC_DEFAULT_FABLE_MODEL",
    "subagent": "CLAUDE_CODE_SUBAGENT_MODEL",
    "small_fast": "ANTHROPIC_SMALL_FAST_MODEL",
}
# The variables that name and describe a tier's model in the `/model` menu (they change nothing else).
TIER_NAME_VARIABLES = {tier: f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL_NAME" for tier in TIERS}
TIER_DESCRIPTION_VARIABLES = {tier: f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL_DESCRIPTION" for tier in TIERS}
# What claude assumes of a model's context window (docs/claude-code.md, "Context window"): 1M off,
# the window of a model it does not know, and the window it compacts within.
DISABLE_1M_CONTEXT = "CLAUDE_CODE_DISABLE_1M_CONTEXT"
MAX_CONTEXT_TOKENS = "CLAUDE_CODE_MAX_CONTEXT_TOKENS"
AUTO_COMPACT_WINDOW = "CLAUDE_CODE_AUTO_COMPACT_WINDOW"
CONTEXT_VARIABLES = (DISABLE_1M_CONTEXT, MAX_CONTEXT_TOKENS, AUTO_COMPACT_WINDOW)

# The one word claude 2.1.330+ prints in its exit hint instead of `claude [its own options]`:
# "Resume this session with: WORD --resume ID" (docs/claude-code.md, "Resuming a session").
RESUME_HINT_COMMAND = "CLAUDE_CODE_RESUME_HINT_COMMAND"

# Every variable that decides where claude sends requests, with which credential, for which model
# (and what it believes of that model's window). A profile owns all of them: what it does not set is blanked, so nothing from the shell or another
# settings file can leak into its requests (a stray ANTHROPIC_API_KEY beside a Bearer token sends
# both headers). Provider details that do nothing unless their switch is on (AWS_REGION,
# ANTHROPIC_VERTEX_PROJECT_ID, ...) are deliberately not managed, so they pass through.
MANAGED_VARIABLES = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_MODEL",
    *MODEL_VARIABLES.values(),
    *TIER_NAME_VARIABLES.values(),
    *TIER_DESCRIPTION_VARIABLES.values(),
    *CONTEXT_VARIABLES,
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_FOUNDRY_BASE_URL",
    "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
    "CLAUDE_CODE_SKIP_VERTEX_AUTH",
    "CLAUDE_CODE_SKIP_FOUNDRY_AUTH",
    "ANTHROPIC_FOUNDRY_API_KEY",
    "ANTHROPIC_FOUNDRY_AUTH_TOKEN",
)
# Variables that carry a credential: only the `token` field may fill them, so that every output
# path can mask it.
CREDENTIAL_VARIABLES = frozenset(
    {
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_FOUNDRY_API_KEY",
        "ANTHROPIC_FOUNDRY_AUTH_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
    }
)
# The switches that send claude to Anthropic's models in a cloud: switch -> (cloud, whose credentials).
CLOUD_SWITCHES = {
    "CLAUDE_CODE_USE_BEDROCK": ("Amazon Bedrock", "AWS"),
    "CLAUDE_CODE_USE_VERTEX": ("Google Vertex AI", "Google"),
    "CLAUDE_CODE_USE_FOUNDRY": ("Microsoft Foundry", "Azure"),
}


def cloud_switch(environment: Mapping[str, str]) -> str | None:
    """The cloud switch that is on in `environment` (any value but empty or "0"), or None."""
    for switch in CLOUD_SWITCHES:
        if environment.get(switch) not in (None, "", "0"):
            return switch
    return None


BASE_URL_VARIABLES = ("ANTHROPIC_BASE_URL", "ANTHROPIC_BEDROCK_BASE_URL", "ANTHROPIC_VERTEX_BASE_URL", "ANTHROPIC_FOUNDRY_BASE_URL")
