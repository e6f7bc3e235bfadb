"""Claude Code's model aliases: the names that pick a tier, not a provider.
"""

from __future__ import annotations

# Names claude resolves itself (through the tier variables or its own defaults), not model ids.
CLAUDE_ALIASES = frozenset({"opus", "sonnet", "haiku", "fable", "opusplan", "default", "best"})


def is_alias(model: str) -> bool:
    return strip_context_suffix(model).lower() in CLAUDE_ALIASES


def strip_context_suffix(model: str) -> str:
    # claude strips "[1m]" before sending (shared/claude-code.md).
    return model[:-4] if model.lower().endswith("[1m]") else model
