"""`stray_models`: the settings "model" a plain `claude` started here would send, flagged when what
is in force cannot serve it (a gateway's `profile::model` that `/model` saved inside a `ccswitch run`
session; a model the active profile does not serve; a non-Claude model at Anthropic's API)."""

from __future__ import annotations

import pytest

from ccswitch.claude.sources import SHELL, Source
from ccswitch.profiles.active import stray_models
from ccswitch.profiles.store import build_profile_set

USER = "/home/u/.claude/settings.json"
LOCAL = "/p/.claude/settings.local.json"


@pytest.fixture
def profile_set(tmp_path):
    user = {"pa": {"base_url": "https://a.example/anthropic", "token": "env:A",
                   "models": {"opus": "pa-opus", "sonnet": "pa-sonnet", "haiku": "pa-haiku"}},
            "pb": {"base_url": "https://b.example", "token": "env:B",
                   "models": {"opus": "pb-opus", "sonnet": "pb-sonnet", "haiku": "pb-haiku"}},
            "mix": {"routes": {"opus": "pa", "sonnet": "pb"}}}
    presets = tmp_path / "presets"
    presets.mkdir()
    return build_profile_set(user, None, str(tmp_path / "profiles.toml"), str(presets))


def sources(user: dict, shell: dict | None = None, local: dict | None = None) -> list[Source]:
    found = [Source("project-local", LOCAL, local)] if local is not None else []
    return [*found, Source("user", USER, user), Source(SHELL, None, shell or {})]


def record(profile: str) -> dict:
    return {"profile": profile, "settings_path": USER}


def test_a_gateway_name_outside_a_gateway_is_flagged_with_the_file_and_the_fix(profile_set):
    [finding] = stray_models(profile_set, {}, sources({"model": "pb::pb-sonnet"}))
    assert finding.code == "gateway-model"
    assert f"{USER} sets \"model\": 'pb::pb-sonnet', a name only a ccswitch gateway routes" in finding.message
    assert "sends it to Anthropic's API" in finding.message
    assert finding.fix == f"`/model default` in a plain `claude` removes it from {USER}"


def test_a_gateway_name_in_a_project_file_is_removed_by_hand(profile_set):
    [finding] = stray_models(profile_set, {}, sources({}, local={"model": "pa::pa-opus"}))
    assert LOCAL in finding.message and finding.fix == f"remove \"model\" from {LOCAL}"


@pytest.mark.parametrize(("model", "shell", "flagged"), [
    ("pb::pb-sonnet", {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8080"}, False),  # perhaps `ccswitch gateway`
    ("pb::pb-sonnet", {"ANTHROPIC_BASE_URL": "https://gw.example"}, True),
    ("zz::model", {"ANTHROPIC_BASE_URL": "https://gw.example"}, False),  # not a profile's: not ccswitch's doing
    ("glm-5.1", {}, True),  # saved by `/model glm-5.1` in a run session: Anthropic does not serve it
    ("glm-5.1", {"ANTHROPIC_BASE_URL": "https://gw.example"}, False),  # an endpoint ccswitch knows nothing of
    ("glm-5.1", {"CLAUDE_CODE_USE_BEDROCK": "1"}, False),
    ("claude-opus-4-6", {}, False), ("sonnet[1m]", {}, False), ("opusplan", {}, False),
    ("pb::pb-sonnet", {"ANTHROPIC_MODEL": "sonnet"}, False),  # ANTHROPIC_MODEL beats every "model" key
])
def test_what_is_in_force_decides(profile_set, model, shell, flagged):
    assert bool(stray_models(profile_set, {}, sources({"model": model}, shell))) is flagged


def test_a_model_the_active_profile_does_not_serve_names_use_as_the_fix(profile_set):
    [finding] = stray_models(profile_set, {"user": record("pa")}, sources({"model": "pb::pb-sonnet"}))
    assert finding.code == "stray-model"
    assert "which profile 'pa' does not serve; a plain `claude` started here sends it to pa's endpoint" in finding.message
    assert finding.fix.startswith("`ccswitch use pa` writes pa's model in its place")
    assert stray_models(profile_set, {"user": record("pa")}, sources({"model": "pa-sonnet"})) == []


def test_a_file_above_the_active_scope_is_not_one_use_can_fix(profile_set):
    [finding] = stray_models(profile_set, {"user": record("pa")}, sources({}, local={"model": "glm-5.1"}))
    assert LOCAL in finding.message and finding.fix.startswith("remove \"model\" from")
