"""The API formats a profile's endpoint speaks, and the options of the OpenAI formats: the one home
of this vocabulary (the profiles schema, the gateway's config, `test` and `show` all ask here).

Stdlib only and pure: the gateway imports it (docs/translation.md, "Profiles").
"""

from __future__ import annotations

ANTHROPIC = "anthropic"
OPENAI_CHAT = "openai-chat"  # POST {base_url}/chat/completions
OPENAI_RESPONSES = "openai-responses"  # POST {base_url}/responses
APIS = (ANTHROPIC, OPENAI_CHAT, OPENAI_RESPONSES)
PATHS = {OPENAI_CHAT: "/chat/completions", OPENAI_RESPONSES: "/responses"}
LABELS = {ANTHROPIC: "Anthropic Messages", OPENAI_CHAT: "OpenAI Chat Completions", OPENAI_RESPONSES: "OpenAI Responses"}

# Reasoning levels, weakest first: a level claude asks for becomes the strongest one the provider
# accepts that is not above it (or its weakest).
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")

# `[profiles.NAME.openai]`: where OpenAI-format providers differ. name -> (kind, allowed, default).
OPTIONS: dict[str, tuple[str, tuple[str, ...], object]] = {
    # Chat: which key carries the output limit (OpenAI's reasoning models refuse `max_tokens`).
    "max_tokens_field": ("choice", ("max_tokens", "max_completion_tokens"), "max_tokens"),
    # A cap on the output limit claude asks for (claude asks up to 128000; many models allow less).
    "max_output_tokens": ("int", (), None),
    # Levels of `reasoning_effort` (Responses: reasoning.effort) the provider accepts; empty: never sent.
    "reasoning_effort": ("levels", EFFORTS, ()),
    # Chat: `stream_options: {include_usage: true}` (usage at the end of a stream); off for servers that refuse it.
    "stream_options": ("bool", (), True),
    # JSON-schema keywords removed from tool parameters (Gemini refuses several).
    "drop_schema_keywords": ("strings", (), ()),
    # The role of claude's system prompt: "system", or "developer" as OpenAI's newer models prefer.
    "system_role": ("choice", ("system", "developer"), "system"),
}


def is_translated(api: str | None) -> bool:
    """Does a profile with this `api` need the gateway to translate (and so always run through one)?"""
    return (api or ANTHROPIC) != ANTHROPIC


def option_problem(name: str, value: object) -> str | None:
    """What is wrong with one option's value, or None."""
    if name not in OPTIONS:
        return f"unknown option {name!r} (known: {', '.join(OPTIONS)})"
    kind, allowed, _ = OPTIONS[name]
    if kind == "choice" and value not in allowed:
        return f"{name}: must be one of {', '.join(allowed)}"
    if kind == "bool" and not isinstance(value, bool):
        return f"{name}: must be true or false"
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        return f"{name}: must be a positive number of tokens"
    if kind in ("levels", "strings"):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
            return f"{name}: must be an array of strings"
        if kind == "levels" and any(v not in allowed for v in value):
            return f"{name}: each level must be one of {', '.join(allowed)}"
    return None


def options_with_defaults(options: dict[str, object] | None) -> dict[str, object]:
    """Every option, the given ones over the defaults (checked beforehand with option_problem)."""
    result = {name: default for name, (_, _, default) in OPTIONS.items()}
    result.update(options or {})
    return result
