"""Shared team profiles: `include` adds files (or directories of *.toml) below the user's own
profiles and above the presets; a user profile of the same name wins; `extends` crosses the layers;
a literal token in an included file is refused with file, profile and line; a missing include is a
warning; the launch cache notices a change in an included file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ccswitch import paths
from ccswitch.commands import profiles as commands
from ccswitch.console import Output
from ccswitch.errors import ProfileFileError, UsageError
from ccswitch.profiles import manage
from ccswitch.profiles.cache import load_profiles
from ccswitch.profiles.presets import presets_dir

TEAM = """\
# the team's providers: no keys here, each developer sets their own
[profiles.team-glm]
extends = "glm"
token = "env:TEAM_GLM_KEY"
description = "the team's GLM"

[profiles.team-gw]
base_url = "https://gw.team.example/anthropic"
token = "keyring"
fallback = ["team-glm"]

[profiles.shared]
base_url = "https://team.example/anthropic"
token = "env:TEAM_SHARED"
"""


@pytest.fixture
def team(tmp_path: Path, isolated_home: Path) -> Path:
    repo = isolated_home / "src" / "team-config"
    repo.mkdir(parents=True)
    path = repo / "ccswitch.toml"
    path.write_text(TEAM)
    return path


def env() -> dict[str, str]:
    return dict(os.environ)


def test_included_profiles_sit_between_the_user_and_the_presets(profiles_file, team: Path) -> None:
    profiles_file('include = ["~/src/team-config/ccswitch.toml"]\n\n'
                  '[profiles.shared]\nbase_url = "https://mine.example/anthropic"\ntoken = "env:MINE"\n\n'
                  '[profiles.mine]\nextends = "team-gw"\nmodel = "x"\n')
    profile_set = load_profiles(env())
    glm = profile_set.get("team-glm")
    assert (glm.origin, glm.file, glm.base_url) == ("included", str(team), profile_set.get_preset("glm").base_url)
    assert [n for n, _ in glm.chain] == ["team-glm", "glm"]
    # The user's own profile of the same name wins...
    assert profile_set.get("shared").base_url == "https://mine.example/anthropic"
    assert profile_set.get("shared").origin == "user"
    # ...and a user profile extends a team one.
    mine = profile_set.get("mine")
    assert (mine.base_url, mine.token, mine.chain[1]) == ("https://gw.team.example/anthropic", "keyring", ("team-gw", "included"))
    assert profile_set.get("team-gw").fallback == ("team-glm",)
    assert mine.origin_label() == "user extends team-gw"
    assert glm.origin_label() == "included (ccswitch.toml) extends glm"


def test_a_user_override_of_an_included_profile_extends_it(profiles_file, team: Path) -> None:
    profiles_file('include = ["~/src/team-config/"]\n\n[profiles.team-gw]\nextends = "team-gw"\ntoken = "env:MY_GW"\n')
    profile = load_profiles(env()).get("team-gw")
    assert (profile.origin, profile.base_url, profile.token) == ("user", "https://gw.team.example/anthropic", "env:MY_GW")
    assert profile.chain == (("team-gw", "user"), ("team-gw", "included"))


def test_a_directory_includes_its_toml_files_and_a_name_in_two_files_is_refused(profiles_file, team: Path) -> None:
    (team.parent / "more.toml").write_text('[profiles.extra]\nbase_url = "https://extra.example"\n')
    (team.parent / "notes.md").write_text("not a profile file")
    profiles_file('include = ["~/src/team-config"]\n')
    profile_set = load_profiles(env())
    assert {"team-glm", "team-gw", "shared", "extra"} <= set(profile_set.names())
    (team.parent / "zz.toml").write_text('\n[profiles.shared]\nbase_url = "https://other.example"\n')
    with pytest.raises(ProfileFileError) as caught:
        load_profiles(env())
    assert caught.value.message == (f"{team.parent / 'zz.toml'}:2: [profiles.shared]: also in {team}; a profile may "
                                    "come from one included file only")


def test_a_literal_token_in_an_included_file_is_refused_with_file_profile_and_line(profiles_file, team: Path) -> None:
    team.write_text(TEAM.replace('token = "env:TEAM_SHARED"', 'token = "sk-team-secret-000"'))
    profiles_file(f'include = ["{team}"]\n')
    with pytest.raises(ProfileFileError) as caught:
        load_profiles(env())
    message = caught.value.message
    assert message.startswith(f"{team}:14: [profiles.shared]: token: a literal token in an included file")
    assert "sk-team-secret-000" not in message
    # In a pool too.
    team.write_text(TEAM.replace('token = "env:TEAM_SHARED"', 'token = ["env:A", "sk-team-secret-000"]'))
    with pytest.raises(ProfileFileError, match=r":14: \[profiles.shared\]: token: a literal token"):
        load_profiles(env())


@pytest.mark.parametrize("line, why", [
    ('default = "team-glm"', "default: not allowed in an included file (the default is yours to choose"),
    ('include = ["x.toml"]', "include: not allowed in an included file (includes do not nest"),
])
def test_an_included_file_holds_only_profiles(profiles_file, team: Path, line: str, why: str) -> None:
    team.write_text(f"{line}\n{TEAM}")
    profiles_file(f'include = ["{team}"]\n')
    with pytest.raises(ProfileFileError) as caught:
        load_profiles(env())
    assert caught.value.message.startswith(f"{team}:1: {why}")


def test_a_missing_include_is_a_warning_and_every_command_still_works(profiles_file, team: Path, capsys) -> None:
    profiles_file('include = ["~/src/gone/ccswitch.toml", "~/src/team-config/ccswitch.toml"]\n'
                  '[profiles.mine]\nbase_url = "https://mine.example"\n')
    profile_set = load_profiles(env())
    assert "mine" in profile_set and "team-glm" in profile_set
    gone = Path(os.environ["HOME"]) / "src" / "gone" / "ccswitch.toml"
    assert capsys.readouterr().err == (f"ccswitch: warning: {paths.profiles_file(env())}: include: {gone} does not "
                                       "exist; its profiles are left out\n")
    # Warm (from the cache) the warning is still said, and on a Tab it is not.
    load_profiles(env())
    assert "does not exist" in capsys.readouterr().err
    load_profiles(env(), warn=False)
    assert capsys.readouterr().err == ""


def test_the_cache_notices_a_change_in_an_included_file(profiles_file, team: Path) -> None:
    profiles_file('include = ["~/src/team-config"]\n')
    assert load_profiles(env()).get("shared").base_url == "https://team.example/anthropic"
    assert Path(paths.profiles_cache_file(env())).exists()
    team.write_text(TEAM.replace("https://team.example/anthropic", "https://moved.example/anthropic"))
    os.utime(team, ns=(time.time_ns(), time.time_ns() + 10_000_000))  # mtime differs even on a coarse clock
    assert load_profiles(env()).get("shared").base_url == "https://moved.example/anthropic"
    # A new file in an included directory is seen too.
    (team.parent / "new.toml").write_text('[profiles.brand-new]\nbase_url = "https://new.example"\n')
    assert "brand-new" in load_profiles(env())
    # And a warm load really comes from the cache (tomllib would not be needed).
    cache = json.loads(Path(paths.profiles_cache_file(env())).read_text())
    assert cache["included_from"]["brand-new"] == str(team.parent / "new.toml")


def test_list_and_show_say_where_each_profile_comes_from(profiles_file, team: Path, capsys) -> None:
    profiles_file('include = ["~/src/team-config/ccswitch.toml"]\n[profiles.mine]\nbase_url = "https://mine.example"\n')
    commands.list_profiles(as_json=True)
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["team-glm"]["origin"], rows["team-glm"]["file"]) == ("included", str(team))
    assert (rows["mine"]["origin"], rows["mine"]["file"]) == ("user", paths.profiles_file(env()))
    assert (rows["glm"]["origin"], rows["glm"]["file"]) == ("preset", None)
    commands.list_profiles(wide=True, out=Output(width=250))
    listed = capsys.readouterr().out
    assert "included (ccswitch.toml) extends glm" in listed
    commands.show_profile("team-glm")
    shown = capsys.readouterr().out
    assert "team-glm (included) -> glm (preset)" in shown and f"file           {team}" in shown


def test_remove_and_rename_refuse_an_included_profile_edit_overrides_it(profiles_file, team: Path) -> None:
    path = profiles_file('include = ["~/src/team-config/ccswitch.toml"]\n')
    for change in (lambda: manage.remove_profile(str(path), presets_dir(), "team-gw", cwd=os.getcwd(), env=env(), cache_path=None),
                   lambda: manage.rename_profile(str(path), presets_dir(), "team-gw", "x", cwd=os.getcwd(), env=env(), cache_path=None)):
        with pytest.raises(UsageError, match=f"comes from {team} \\(an included file\\)"):
            change()
    from ccswitch.profiles.store import open_for_change

    opened = open_for_change(str(path), presets_dir(), cache_path=None)
    start = manage.edit_start(opened, "team-gw")
    assert start.startswith(f"# A new profile 'team-gw' that overrides the profile included from {team}")
    assert 'extends = "team-gw"' in start


def test_a_new_user_profile_may_not_replace_an_included_one_that_others_extend(profiles_file, team: Path) -> None:
    path = profiles_file('include = ["~/src/team-config/ccswitch.toml"]\n[profiles.mine]\nextends = "shared"\n')
    with pytest.raises(UsageError, match="'shared' is an included profile that 'mine' extends"):
        manage.add_profile(str(path), presets_dir(), "shared", {"base_url": "https://evil.example"}, cache_path=None)


def test_a_bad_include_value_names_the_line(profiles_file) -> None:
    path = profiles_file('schema = 1\ninclude = "team.toml"\n')
    with pytest.raises(ProfileFileError) as caught:
        load_profiles(env())
    assert caught.value.message.startswith(f"{path}:2: include: must be an array of paths")


def test_token_set_on_an_included_profile_overrides_it_in_the_users_file(profiles_file, team: Path, file_keyring) -> None:
    path = profiles_file('include = ["~/src/team-config/ccswitch.toml"]\n')
    notes = manage.set_token(str(path), presets_dir(), "shared", "sk-mine-0123456789", cache_path=None)
    assert any("now reads it from there" in note for note in notes)
    profile = load_profiles(env()).get("shared")
    assert (profile.origin, profile.token, profile.base_url) == ("user", "keyring", "https://team.example/anthropic")
    assert "sk-mine" not in path.read_text() and "sk-mine" not in team.read_text()
