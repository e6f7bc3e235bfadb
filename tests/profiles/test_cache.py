"""The JSON profile cache: used when current, never when profiles.toml or a preset changed."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from typer.testing import CliRunner

from ccswitch import paths
from ccswitch.cli.app import app
from ccswitch.errors import ProfileFileError
from ccswitch.profiles.cache import load_cached_profile_set
from ccswitch.profiles.presets import presets_dir


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


@pytest.mark.parametrize("break_it", ["loop", "dangling", "home is a file"])
def test_a_cache_taken_without_a_file_does_not_hide_a_broken_path(config_dir, tmp_path, break_it):
    """A cache from when profiles.toml was absent must not answer for a path that cannot be read."""
    load()  # no profiles.toml yet: presets only, cached
    assert os.path.exists(paths.profiles_cache_file(dict(os.environ)))
    path = config_dir / "profiles.toml"
    if break_it == "loop":
        config_dir.mkdir(parents=True, exist_ok=True)
        path.symlink_to("profiles.toml")
    elif break_it == "dangling":
        config_dir.mkdir(parents=True, exist_ok=True)
        path.symlink_to(tmp_path / "nowhere.toml")
    else:
        if config_dir.exists():
            os.rmdir(config_dir)
        config_dir.parent.mkdir(parents=True, exist_ok=True)
        config_dir.write_text("")
    with pytest.raises(ProfileFileError, match="cannot read"):
        load()


@pytest.mark.parametrize("args", [["list"], ["show", "glm"], ["env", "glm"], ["run", "glm", "--dry-run", "--", "true"],
                                  ["add", "x", "--extends", "glm", "--token-env", "X"], ["use", "glm"], ["pin", "glm"],
                                  ["restore", "--list"]])
def test_ccswitch_home_naming_a_file_is_one_line_and_changes_nothing(config_dir, tmp_path, monkeypatch, args):
    config_dir.parent.mkdir(parents=True, exist_ok=True)
    config_dir.write_text("# not a directory\n")
    monkeypatch.setenv("ZHIPU_API_KEY", "zk-0123456789abcdef")
    before = sorted(p for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == ""
    assert result.stderr.startswith("ccswitch: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert f"{config_dir} is a file, not a directory" in result.stderr or \
        f"{config_dir}/backups: cannot list the backups: Not a directory" in result.stderr, result.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert config_dir.read_text() == "# not a directory\n"


def test_a_corrupt_cache_is_ignored_and_rewritten(profiles_file):
    profiles_file('[profiles.a]\nbase_url = "http://one"\n')
    load()
    cache = paths.profiles_cache_file(dict(os.environ))
    with open(cache, "w") as handle:
        handle.write("{garbage")
    assert load().get("a").base_url == "http://one"
    with open(cache) as handle:
        assert "key" in json.load(handle)


CANARY = "sk-canary-0a1b2c3d4e5f6789"


@pytest.mark.parametrize(
    "command",
    [
        ["token", "set", "a"],
        ["remove", "a"],
        ["rename", "a", "b"],
        ["add", "c", "--extends", "glm"],
        ["edit", "a"],
    ],
)
def test_every_write_of_profiles_toml_drops_the_cache(profiles_file, file_keyring, monkeypatch, tmp_path, command):
    # The cache holds a copy of a literal token: once profiles.toml changes, that copy must not stay
    # on disk until some later `run` happens to rewrite the cache.
    profiles_file(f'[profiles.a]\nextends = "glm"\ntoken = "{CANARY}"\n')
    load()
    cache = paths.profiles_cache_file(dict(os.environ))
    assert CANARY in open(cache).read()
    editor = tmp_path / "editor.py"
    editor.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\np.write_text(p.read_text().replace('glm', 'qwen'))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    result = CliRunner().invoke(app, command, input=CANARY + "\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not os.path.exists(cache)
    load()  # the next run rebuilds it
    assert os.path.exists(cache)


def test_a_refused_change_keeps_the_cache(profiles_file):
    profiles_file('[profiles.a]\nextends = "glm"\n')
    load()
    cache = paths.profiles_cache_file(dict(os.environ))
    result = CliRunner().invoke(app, ["add", "a", "--extends", "glm"])
    assert result.exit_code == 2
    assert os.path.exists(cache)
