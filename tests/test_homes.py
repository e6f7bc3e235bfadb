"""One home per concept: each vocabulary of ccswitch is spelled out in exactly one module, which
everything else asks. A second copy is how constants drift apart (one list of claude's aliases said
`Sonnet` was an alias, the other did not); these tests fail the day someone writes one again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ccswitch.claude.models import alias_tier, is_alias, strip_context_suffix
from ccswitch.claude.variables import cloud_switch

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ccswitch"


def modules_containing(pattern: str) -> set[str]:
    regex = re.compile(pattern)
    return {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if regex.search(path.read_text())}


@pytest.mark.parametrize(
    ("pattern", "home"),
    [
        (r'"opusplan"', "claude/models.py"),  # claude's aliases and what they resolve to
        (r'\[1m\]"', "claude/models.py"),  # the context suffix
        (r'"CLAUDE_CODE_USE_(BEDROCK|VERTEX|FOUNDRY)"', "claude/variables.py"),  # the cloud switches
        (r'"ANTHROPIC_DEFAULT_OPUS_MODEL"', "claude/variables.py"),  # the variables claude reads
        (r'"rate limited"|"auth rejected"', "health/outcomes.py"),  # what a probe found, in words
        (r'=[^=\n]*"(warn|fail|skipped)"', "findings.py"),  # levels of a finding (defined where assigned)
        (r"ccswitch: error", "errors.py"),  # how an error reaches the user
        (r"no profile named \{", "profiles/schema.py"),  # the unknown-profile message
        (r'"hasCompletedOnboarding"', "claude/state.py"),  # claude's .claude.json keys
        (r'PIN_FILENAME = ', "profiles/pins.py"),  # the pin file
        (r"mode=0o700|PRIVATE_DIR = ", "fsutil.py"),  # private directories
        (r"number of seconds", "seconds.py"),  # seconds from the user, bounded
    ],
)
def test_each_concept_has_one_home(pattern: str, home: str) -> None:
    assert modules_containing(pattern) == {home}


def test_every_alias_question_goes_through_claude_models() -> None:
    # No module but claude/models.py looks a model name up in a set of aliases of its own.
    assert modules_containing(r"\{\s*\"opus\"\s*,|\(\s*\"opus\"\s*,\s*\"sonnet\"\s*,\s*\"haiku\"\s*,") <= {"claude/models.py"}
    for alias in ("opus", "Sonnet", "sonnet[1m]", "OPUS[1M]", "opusplan", "fable", "best", "default", " haiku "):
        assert is_alias(alias), alias
    for model in ("glm-5.1", "kimi-k2", "sonnet-4", "claude-sonnet-4-5", "sonnet[200k]"):
        assert not is_alias(model), model
    assert alias_tier("opusplan") == "opus" and alias_tier("sonnet[1m]") == "sonnet"
    assert strip_context_suffix("glm-5.1[1m]") == "glm-5.1"


def test_cloud_switches_are_read_one_way() -> None:
    assert cloud_switch({"CLAUDE_CODE_USE_VERTEX": "1"}) == "CLAUDE_CODE_USE_VERTEX"
    assert cloud_switch({"CLAUDE_CODE_USE_BEDROCK": "0", "CLAUDE_CODE_USE_VERTEX": ""}) is None
