"""Prices and attribution from the profiles: what `ccswitch usage` knows about who served a model."""

from __future__ import annotations

import os
import time

import pytest

from ccswitch.errors import ProfileFileError
from ccswitch.profiles.cache import load_profiles
from ccswitch.usage.prices import ANTHROPIC, find_entry
from ccswitch.usage.providers import attribution, price_tables

NOW = time.time()


def tables():
    return price_tables(load_profiles(os.environ))


def test_presets_carry_their_prices_and_claude_endpoints_get_anthropics(profiles_file):
    priced = tables()
    assert find_entry(priced["zai"], "glm-5.1", NOW).rates.input == 1.4
    for name in ("anthropic", "anthropic-api", "bedrock", "vertex", "foundry", "openrouter"):
        assert find_entry(priced[name], "claude-sonnet-4-5", NOW) is ANTHROPIC["claude-sonnet-4-5"][0], name
    assert find_entry(priced["openrouter"], "anthropic/claude-opus-4.5", NOW) is ANTHROPIC["claude-opus-4-5"][0]
    assert "vllm" not in priced and find_entry(priced["zai"], "claude-sonnet-4-5", NOW) is None


def test_a_user_profile_overrides_one_models_price_and_inherits_the_rest(profiles_file):
    profiles_file('[profiles.myzai]\nextends = "zai"\n'
                  '[profiles.myzai.prices."glm-5.1"]\ninput = 1\noutput = 2\ncurrency = "EUR"\n')
    priced = tables()
    assert find_entry(priced["myzai"], "glm-5.1", NOW).currency == "EUR"
    assert find_entry(priced["myzai"], "glm-4.7", NOW) == find_entry(priced["zai"], "glm-4.7", NOW)


def test_a_bad_price_names_file_profile_model_key_and_line(profiles_file):
    path = profiles_file('[profiles.cheap]\nbase_url = "http://127.0.0.1:9"\n\n'
                         '[profiles.cheap.prices."m-1"]\ninput = 1\noutput = "free"\ncurrency = "USD"\n')
    with pytest.raises(ProfileFileError) as caught:
        tables()
    message = str(caught.value.message)
    assert str(path) in message and "[profiles.cheap]" in message and '"m-1"' in message and "output" in message
    assert ":4:" in message or "line 4" in message


def test_two_entries_of_a_price_change_need_different_dates(profiles_file):
    profiles_file('[profiles.c]\nbase_url = "http://127.0.0.1:9"\n'
                  '[[profiles.c.prices."m"]]\ninput = 1\noutput = 1\ncurrency = "USD"\n'
                  '[[profiles.c.prices."m"]]\ninput = 2\noutput = 2\ncurrency = "USD"\n')
    with pytest.raises(ProfileFileError, match="effective_from"):
        tables()


def test_a_price_that_is_not_a_table_is_refused_when_the_file_loads(profiles_file):
    profiles_file('[profiles.c]\nbase_url = "http://127.0.0.1:9"\nprices = { m = 3 }\n')
    with pytest.raises(ProfileFileError, match=r"\[profiles.c.prices\].*m: must be a price table"):
        load_profiles(os.environ)


def test_attribution_by_mapping_and_serves_and_unknown_when_tied(profiles_file, monkeypatch):
    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9"\ntoken = "sk-0123456789abcdef"\n'
                  'models = { opus = "house-big" }\nserves = ["house-*"]\n')
    attribute = attribution(load_profiles(os.environ), os.environ)
    assert attribute("house-big") == "mine"  # mapped
    assert attribute("house-small") == "mine"  # served by a pattern
    assert attribute("glm-5.1") is None  # glm and zai map it alike, neither token set: unknown, not a guess
    assert attribute("no-such-model") is None
    monkeypatch.setenv("ZAI_API_KEY", "sk-zai-0123456789")
    assert attribution(load_profiles(os.environ), os.environ)("glm-5.1") == "zai"  # the one whose token is set


def test_a_claude_model_nobody_maps_is_claudes_own_login(profiles_file):
    profiles_file("")
    attribute = attribution(load_profiles(os.environ), os.environ)
    assert attribute("claude-opus-4-6") == "anthropic"
    assert attribute("claude-sonnet-4-5-20250929") == "anthropic"
    assert attribute("claude-opus-4-5") == "anthropic"  # litellm and foundry map it alike: no guess, the login
    assert attribute("glm-5.1") is None
