"""Claude Code's model names: the aliases that pick a tier rather than a provider, the tiers they
resolve through, and the `[1m]` suffix. Every "is this an alias?" question in ccswitch is asked here
(tests/claude/test_models.py pins it), decided by what the binary does (docs/claude-code.md, "Models").

On the launch path: imports only `re` (which json loads anyway).
"""

from __future__ import annotations

import re

# The tiers claude maps through ANTHROPIC_DEFAULT_<TIER>_MODEL; the first three are the ones every
# provider maps (`add` asks for them, `test` tries them).
TIERS = ("opus", "sonnet", "haiku", "fable")
MAIN_TIERS = TIERS[:3]
# Alias -> the tier claude resolves it through (opusplan plans with opus; best and default are the
# opus tier for a third-party endpoint). Anything else is a model id, sent as typed.
ALIASES = {"opus": "opus", "sonnet": "sonnet", "haiku": "haiku", "fable": "fable",
           "opusplan": "opus", "best": "opus", "default": "opus"}
CONTEXT_1M_SUFFIX = "[1m]"
# Every model id of Anthropic's own API starts with this (`claude-opus-4-6`, `claude-3-5-haiku-...`).
CLAUDE_MODEL_PREFIX = "claude-"
_CLAUDE_ID_PATTERN = r"claude-(?:[0-9][0-9.]*-)*(opus|sonnet|haiku|fable)(?:[-@.\[]|\Z)"

# The session model claude picks when none is given, for an endpoint that is not Anthropic's
# (docs/claude-code.md, "Models"): the opus tier.
DEFAULT_ALIAS = "opus"
# Context windows, in tokens (docs/claude-code.md, "Context window"): what claude assumes of a model
# it does not know once 1M is off, the smallest window it compacts within, and 1M itself.
DEFAULT_CONTEXT_WINDOW = 200_000
MIN_AUTO_COMPACT_WINDOW = 100_000
CONTEXT_1M = 1_000_000
# A tier a profile leaves out borrows the nearest tier it maps, so that no alias resolves to a
# Claude model id at a third-party endpoint: heavier tiers borrow the next lighter one first,
# haiku the next heavier one (a background request on a profile's smallest model stays cheap).
BORROW_ORDER = {
    "opus": ("sonnet", "fable", "haiku"),
    "sonnet": ("opus", "haiku", "fable"),
    "haiku": ("sonnet", "opus", "fable"),
    "fable": ("opus", "sonnet", "haiku"),
}


def strip_context_suffix(model: str) -> str:
    """`sonnet[1m]` -> `sonnet`: claude removes the suffix (any case) before it sends a model."""
    return model[: -len(CONTEXT_1M_SUFFIX)] if model.lower().endswith(CONTEXT_1M_SUFFIX) else model


def is_alias(model: str) -> bool:
    """Whether claude resolves `model` itself (`opus`, `Sonnet`, `sonnet[1m]`, `opusplan`, ...)."""
    return alias_tier(model) is not None


def alias_tier(model: str) -> str | None:
    """The tier an alias resolves through, or None for a model id."""
    return ALIASES.get(strip_context_suffix(model.strip()).lower())


def claude_id_tier(model: str) -> str | None:
    """The tier a Claude model id names (`claude-3-5-sonnet-20241022`, `claude-opus-4-5@2025...`),
    else None: where a gateway sends a Claude id left in some setting."""
    match = re.match(_CLAUDE_ID_PATTERN, model)
    return match.group(1) if match else None


def asks_for_1m(model: str) -> bool:
    return model.strip().lower().endswith(CONTEXT_1M_SUFFIX)
