"""Where files live: our platformdirs-free lookup must agree with platformdirs itself."""

from __future__ import annotations

import os

import platformdirs

from ccswitch import paths


def test_config_dir_matches_platformdirs(monkeypatch):
    monkeypatch.delenv("CCSWITCH_HOME")
    env = dict(os.environ)
    assert paths.config_dir(env) == platformdirs.user_config_dir("ccswitch", appauthor=False)
    assert paths.user_cache_dir(env) == platformdirs.user_cache_dir("ccswitch", appauthor=False)
    monkeypatch.delenv("XDG_CONFIG_HOME")
    env = dict(os.environ)
    assert paths.config_dir(env) == platformdirs.user_config_dir("ccswitch", appauthor=False)


def test_ccswitch_home_wins(tmp_path):
    env = {"HOME": str(tmp_path), "CCSWITCH_HOME": str(tmp_path / "c")}
    assert paths.profiles_file(env) == str(tmp_path / "c" / "profiles.toml")


def test_claude_locations_follow_claude_config_dir(tmp_path):
    env = {"HOME": str(tmp_path)}
    assert paths.claude_user_settings(env) == str(tmp_path / ".claude" / "settings.json")
    assert paths.claude_state_file(env) == str(tmp_path / ".claude.json")
    env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "cc")
    assert paths.claude_user_settings(env) == str(tmp_path / "cc" / "settings.json")
    assert paths.claude_state_file(env) == str(tmp_path / "cc" / ".claude.json")
