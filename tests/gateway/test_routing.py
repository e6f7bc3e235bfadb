"""Routing a request's model to an upstream: qualified names, tiers, patterns, fallback attempts."""

from __future__ import annotations

import pytest

from ccswitch.claude.models import alias_tier, claude_id_tier
from ccswitch.gateway import routing as gateway_routing
from ccswitch.gateway.config import GatewayConfig
from ccswitch.gateway.routing import SEP, Router, tier_model_names
from ccswitch.profiles import patterns


def models(prefix: str) -> dict[str, str]:
    return {tier: f"{prefix}-{tier}" for tier in ("opus", "sonnet", "haiku", "fable")}


def upstream(prefix: str, serves=(), fallback=()) -> dict:
    return {"base_url": "http://127.0.0.1:9", "auth": "none", "models": models(prefix), "serves": list(serves),
            "fallback": list(fallback)}


@pytest.fixture
def router() -> Router:
    config = GatewayConfig.from_dict({
        "session": "s", "key": "k" * 20,
        "upstreams": {
            "kimi": upstream("kimi", serves=["kimi-*", "kimi-for-coding"], fallback=["glm", "qwen"]),
            "glm": upstream("glm", serves=["glm-*", "ZhipuAI/*"], fallback=["kimi"]),
            "qwen": upstream("qwen", serves=["qwen*", "*/*"]),
            "gpt-oss": upstream("gpt-oss", serves=["gpt-oss:*"]),
            "openrouter": upstream("or", serves=["qwen/*", "kimi-*"]),
        },
        "tiers": {"opus": "kimi", "sonnet": "glm", "haiku": "qwen", "fable": "kimi"},
    })
    return Router(config)


def where(router: Router, model: str) -> tuple[str, str, str | None, str] | None:
    route = router.route(model)
    return None if route is None else (route.profile, route.model, route.tier, route.how)


def test_profile_qualified_names(router):
    assert SEP == "::"
    assert where(router, "glm::glm-5.1") == ("glm", "glm-5.1", None, "qualified")
    assert where(router, "glm::glm-sonnet") == ("glm", "glm-sonnet", "sonnet", "qualified")
    assert where(router, "kimi::opus") == ("kimi", "kimi-opus", "opus", "qualified")
    assert where(router, "kimi::sonnet[1m]") == ("kimi", "kimi-sonnet", "sonnet", "qualified")
    # the model part keeps everything after the first separator
    assert where(router, "qwen::Qwen/Qwen3::x") == ("qwen", "Qwen/Qwen3::x", None, "qualified")


@pytest.mark.parametrize("model, expected", [
    ("ZhipuAI/GLM-5.2", ("glm", "ZhipuAI/GLM-5.2", None, "pattern")),
    ("qwen/qwen3-coder-30b", ("openrouter", "qwen/qwen3-coder-30b", None, "pattern")),
    ("gpt-oss:20b", ("gpt-oss", "gpt-oss:20b", None, "pattern")),
    ("claude-opus-4-5@20251101", ("kimi", "kimi-opus", "opus", "tier")),
])
def test_real_model_ids_are_not_mistaken_for_qualified_names(router, model, expected):
    assert where(router, model) == expected


def test_an_unknown_prefix_is_not_a_qualification(router):
    assert router.route("nobody::glm-x") is None
    assert "'nobody' is not a profile of this session" in router.not_served_message("nobody::glm-x")


@pytest.mark.parametrize("model, tier", [("opus", "opus"), ("Sonnet", "sonnet"), ("haiku[1m]", "haiku"),
                                         ("fable", "fable"), ("claude-sonnet-4-5", "sonnet"),
                                         ("claude-3-5-haiku-20241022", "haiku"), ("claude-opus-4-5@20251101", "opus"),
                                         ("claude-fable-5-2", "fable"), ("claude-3.5-sonnet", "sonnet")])
def test_tiers_go_to_the_tier_profile_with_its_model(router, model, tier):
    name = {"opus": "kimi", "sonnet": "glm", "haiku": "qwen", "fable": "kimi"}[tier]
    assert where(router, model) == (name, f"{name}-{tier}", tier, "tier")


def test_not_tiers():
    assert alias_tier("opusplan") == "opus"  # claude's alias: it plans with opus
    assert claude_id_tier("claude-instant-1") is None
    assert claude_id_tier("anthropic/claude-sonnet-4") is None  # a vendor slug routes by pattern


def test_most_specific_pattern_wins(router):
    assert where(router, "kimi-for-coding")[0] == "kimi"  # exact beats kimi-* (and openrouter's kimi-*)
    assert where(router, "kimi-k2-0905")[0] == "kimi"  # same pattern on two profiles: the tier profile wins
    assert where(router, "qwen3-coder-plus")[:2] == ("qwen", "qwen3-coder-plus")
    assert where(router, "meta/llama")[0] == "qwen"  # only */* matches
    assert router.route("a/b/c") is None  # `*` does not cross '/'


def test_exact_mapped_models_route_with_their_tier(router):
    assert where(router, "glm-haiku") == ("glm", "glm-haiku", "haiku", "exact")
    assert where(router, "or-opus") == ("openrouter", "or-opus", "opus", "exact")


def test_attempts_follow_the_routed_profiles_fallback_list(router):
    # a tier: each fallback gets its own model for that tier
    assert router.route("opus").attempts == (("kimi", "kimi-opus"), ("glm", "glm-opus"), ("qwen", "qwen-opus"))
    assert router.route("kimi::kimi-haiku").attempts == (("kimi", "kimi-haiku"), ("glm", "glm-haiku"), ("qwen", "qwen-haiku"))
    # no tier: a fallback that serves the name gets it unchanged, else its opus model
    assert router.route("glm-5.1").attempts == (("glm", "glm-5.1"), ("kimi", "kimi-opus"))
    assert router.route("kimi-k2-x").attempts == (("kimi", "kimi-k2-x"), ("glm", "glm-opus"), ("qwen", "qwen-opus"))
    # not transitive: glm's fallback kimi does not bring kimi's own fallbacks
    assert [n for n, _ in router.route("sonnet").attempts] == ["glm", "kimi"]


def test_names_that_work_are_listed(router):
    message = router.not_served_message("gpt-5")
    assert message.startswith("model 'gpt-5' is not served by this gateway; use one of: opus, sonnet, haiku, fable, kimi::kimi-opus")
    assert "a name matching kimi-*" in message


def test_tier_model_names_for_claude():
    config = GatewayConfig.from_dict({"session": "s", "key": "k" * 20, "upstreams": {
        "kimi": upstream("kimi"), "glm": upstream("glm")}, "tiers": {"opus": "kimi", "sonnet": "glm", "haiku": "glm", "fable": "kimi"}})
    assert tier_model_names(config) == {"opus": "kimi::kimi-opus", "sonnet": "glm::glm-sonnet", "haiku": "glm::glm-haiku",
                                        "fable": "kimi::kimi-fable"}
    router = Router(config)
    for tier, name in tier_model_names(config).items():  # they route back to the tier's profile and model
        assert where(router, name)[:3] == (config.tiers[tier], config.upstreams[config.tiers[tier]].models[tier], tier)


def test_patterns_mean_what_they_mean_for_run():
    # One pattern language: the gateway reads `serves` with the very functions `run` uses.
    assert gateway_routing.compile_pattern is patterns.compile_pattern
    assert gateway_routing.specificity is patterns.specificity
