"""The JSON profile cache: used when current, never when profiles.toml or a preset changed."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ccswitch import paths
from ccswitch.errors import ProfileFileError
from ccswitch.presets import presets_dir
from ccswitch.profile_cache import load_cached_profile_set


def load():
    env = dict(os.environ)
    return load_cached_profile_set(paths.profiles_file(env), presets_dir(), paths.profiles_cache_file(env))


def test_cache_is_written_privately_and_gives_the_same_profiles(profiles_file):
    profiles_file('default = "a"\n[profiles.a]\nextends = "glm"\nmodel = "x"\nmodels_checked = 2026-01-02\n')
    fresh = load()
    cache = paths.profiles_cache_file(dict(os.environ))
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cache)).st_mode) == 0o700
    cached = load()
    assert cached.default == "a" and cached.names() == fresh.names()
    assert cached.get("a") == fresh.get("a") and cached.get("a").models_checked == "2026-01-02"
    assert cached.get("qwen") == fresh.get("qwen")


def test_an_edit_invalidates_the_cache(profiles_file):
    path = profiles_file('[profiles.a]\nbase_url = "http://one"\n')
    assert load().get("a").base_url == "http://one"
    path.write_text('[profiles.a]\nbase_url = "http://two-two"\n')
    assert load().get("a").base_url == "http://two-two"


def test_a_broken_file_is_reported_even_with_a_cache(profiles_file):
    path = profiles_file('[profiles.a]\nbase_url = "http://one"\n')
    load()
    path.write_text('[profiles.a]\nbase_url = "http://one/v1"\n')
    with pytest.raises(ProfileFileError, match="ends in /v1"):
        load()


def test_a_corrupt_cache_is_ignored_and_rewritten(profiles_file):
    profiles_file('[profiles.a]\nbase_url = "http://one"\n')
    load()
    cache = paths.profiles_cache_file(dict(os.environ))
    with open(cache, "w") as handle:
        handle.write("{garbage")
    assert load().get("a").base_url == "http://one"
    with open(cache) as handle:
        assert "key" in json.load(handle)
