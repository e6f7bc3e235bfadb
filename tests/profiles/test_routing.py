"""Routing a model name to a profile: specificity, user over preset, token presence, ties, `which`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ccswitch.claude.models import is_alias
from ccswitch.cli.app import app
from ccswitch.profiles.presets import presets_dir
from ccswitch.profiles.routing import candidates, route_model, specificity
from ccswitch.profiles.store import load_profile_set

USER = """
[profiles.gw]
base_url = "https://gw.example.com"
token = "env:GW_KEY"
serves = ["kimi-*", "exact-model"]

[profiles.gw2]
base_url = "https://gw2.example.com"
token = "env:GW2_KEY"
serves = ["tie-*"]

[profiles.gw3]
base_url = "https://gw3.example.com"
token = "env:GW3_KEY"
serves = ["tie-*", "exact-*"]
"""


def load(path):
    return load_profile_set(str(path), presets_dir())


def test_specificity_orders_exact_then_literal_characters():
    assert specificity("kimi-for-coding") > specificity("kimi-k2-*") > specificity("kimi-*") > specificity("*")


@pytest.mark.parametrize("alias", ["opus", "sonnet", "haiku", "sonnet[1m]", "opusplan", "fable"])
def test_aliases_do_not_route(alias):
    assert is_alias(alias)


def test_more_specific_preset_pattern_beats_user_catch_all(profiles_file):
    profiles = load(profiles_file(USER))
    route = route_model("kimi-k2-0905-preview", profiles, {})
    assert (route.profile, route.pattern) == ("kimi", "kimi-k2*")  # 7 literal chars beat "kimi-*" (5)


def test_exact_name_beats_patterns(profiles_file):
    profiles = load(profiles_file(USER))
    assert route_model("exact-model", profiles, {}).profile == "gw"


def test_a_tie_between_user_profiles_goes_to_the_first_name_and_says_so(profiles_file):
    profiles = load(profiles_file(USER))
    route = route_model("tie-1", profiles, {"GW2_KEY": "a", "GW3_KEY": "b"})
    assert route.profile == "gw2"
    assert route.tie_break == "chosen over 'gw3', which matches as well: its name comes first"


@pytest.mark.parametrize("tokens", [{}, {"ZHIPU_API_KEY": "a", "ZAI_API_KEY": "b"}])
def test_out_of_the_box_glm_and_qwen_models_route_to_the_region_primary_preset(profiles_file, tokens):
    """Both tokens set, or neither: the presets that serve the same models are told apart, not an error."""
    profiles = load(profiles_file(""))
    glm = route_model("glm-5.1", profiles, tokens)
    assert glm.profile == "glm"
    assert glm.tie_break == "chosen over 'zai', which matches as well: it has prefer_when_tied = true"
    assert route_model("qwen3-coder", profiles, {}).profile == "qwen"


def test_the_users_default_breaks_a_tie_first(profiles_file):
    profiles = load(profiles_file('default = "zai"\n'))
    route = route_model("glm-5.1", profiles, {})
    assert route.profile == "zai" and route.tie_break.endswith("it is your `default`")
    profiles = load(profiles_file('default = "gw3"\n' + USER))
    assert route_model("tie-1", profiles, {}).profile == "gw3"


def test_which_prints_the_tie_break(profiles_file):
    profiles_file("")
    result = CliRunner().invoke(app, ["which", "glm-5.1"], catch_exceptions=False)
    assert result.exit_code == 0
    first, *rest = result.stdout.splitlines()
    assert first.startswith("glm  preset profile 'glm' serves 'glm-*' (token missing); chosen over 'zai'")
    assert first.endswith("it has prefer_when_tied = true")
    assert rest == ["  also matches: preset profile 'zai' serves 'glm-*' (token missing)"]
    data = json.loads(CliRunner().invoke(app, ["which", "glm-5.1", "--json"]).stdout)
    assert data["route"]["tie_break"].startswith("chosen over 'zai'")


def test_token_presence_breaks_a_tie(profiles_file):
    profiles = load(profiles_file(USER))
    assert route_model("tie-1", profiles, {"GW3_KEY": "x"}).profile == "gw3"
    assert route_model("glm-5.1", profiles, {"ZAI_API_KEY": "x"}).profile == "zai"
    assert route_model("glm-5.1", profiles, {"ZHIPU_API_KEY": "x"}).profile == "glm"


def test_user_profile_beats_preset_at_equal_specificity(profiles_file):
    profiles = load(profiles_file('[profiles.mine]\nbase_url = "https://m.example"\nserves = ["deepseek-*"]\n'))
    assert route_model("deepseek-v4-pro", profiles, {"DEEPSEEK_API_KEY": "x"}).profile == "mine"


def test_no_match(profiles_file):
    assert route_model("no-such-model-7", load(profiles_file("")), {}) is None
    assert route_model("gpt-4o", load(profiles_file("")), {}).profile == "openai"  # the translated preset


def test_matching_is_case_sensitive(profiles_file):
    profiles = load(profiles_file(""))
    assert route_model("Qwen/Qwen3-Coder", profiles, {}).profile == "modelscope"
    assert route_model("qwen/qwen3-coder", profiles, {}).profile == "openrouter"


def test_serves_must_be_an_array_of_strings(profiles_file):
    from ccswitch.errors import ProfileFileError

    path = profiles_file('[profiles.a]\nserves = "kimi-*"\n')
    with pytest.raises(ProfileFileError, match=r":2: \[profiles.a\]: serves: must be an array of non-empty strings"):
        load(path)


def test_which_command(profiles_file, monkeypatch):
    profiles_file(USER)
    runner = CliRunner()
    result = runner.invoke(app, ["which", "kimi-k2-0905-preview", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["route"]["profile"] == "kimi"
    assert "gw" in [r["profile"] for r in data["also"]]
    text = runner.invoke(app, ["which", "exact-model"], catch_exceptions=False)
    assert text.exit_code == 0 and text.stdout.startswith("gw ")
    none = runner.invoke(app, ["which", "no-such-model-7"], catch_exceptions=False)
    assert none.exit_code == 1 and "no profile serves 'no-such-model-7'" in none.stderr
    alias = runner.invoke(app, ["which", "sonnet"], catch_exceptions=False)
    assert alias.exit_code == 2 and "claude alias" in alias.stderr


@pytest.mark.parametrize(
    ("model", "pattern", "expected"),
    [
        ("kimi-k2-0905", "kimi-k2*", True),
        ("qwen/qwen3-coder", "qwen*", False),
        ("qwen/qwen3-coder", "*/*", True),
        ("a/b/c", "*/*", False),
        ("glm-4.5", "glm-?.?", True),
        ("glm-4.5", "glm-[45].5", True),
        ("glm-6.5", "glm-[!45].5", True),
        ("glm-4.5", "glm-[!45].5", False),
        ("model.v1", "model.v?", True),
        ("modelXv1", "model.v?", False),
    ],
)
def test_pattern_matching(model, pattern, expected):
    from ccswitch.profiles.routing import matches

    assert matches(model, pattern) is expected


KEYRING_AND_CMD = """
[profiles.kr]
base_url = "https://kr.example.com"
token = "keyring"
serves = ["same-*"]

[profiles.missing]
base_url = "https://missing.example.com"
token = "env:MISSING_KEY"
serves = ["same-*"]

[profiles.pm]
base_url = "https://pm.example.com"
token = "cmd:pass show pm"
serves = ["same-*"]
"""


def test_keyring_and_cmd_tokens_are_not_called_missing_and_rank_above_a_missing_one(profiles_file):
    """Routing reads no keychain and runs no password manager: such a token is "not read", not
    "missing", and it ranks as a token that may be there, above one that is known to be missing
    (it used to compare None with a bool and crash `which` and `run`)."""
    profiles = load(profiles_file(KEYRING_AND_CMD))
    route = route_model("same-1", profiles, {})
    assert route.profile == "kr" and route.token_found is None
    assert route.reason().startswith("user profile 'kr' serves 'same-*' (token in the OS keyring, not read)")
    others = {r.profile: r.reason() for r in candidates("same-1", profiles, {})}
    assert "(token from a command, not run)" in others["pm"]
    assert "(token missing)" in others["missing"]
    assert [r.profile for r in candidates("same-1", profiles, {})][-1] == "missing"


def test_which_and_dry_run_say_not_read_for_a_keyring_token(profiles_file, file_keyring, capsys):
    profiles_file(KEYRING_AND_CMD)
    file_keyring.set_password("ccswitch", "kr", "kr-secret-0123456789")
    which = CliRunner().invoke(app, ["which", "same-1"])
    assert which.exit_code == 0, which.output
    assert which.stdout.splitlines()[0].startswith("kr  user profile 'kr' serves 'same-*' (token in the OS keyring, not read)")
    assert "token missing" not in which.stdout.splitlines()[0]
    from ccswitch.launch import front_door

    assert front_door.main(["run", "--dry-run", "--", "claude", "--model", "same-1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("profile: kr (routed by model 'same-1': user profile 'kr' serves 'same-*' "
                            "(token in the OS keyring, not read)"), first


def test_a_profile_of_yours_serves_the_models_it_maps_without_a_serves_line(profiles_file):
    """`opus = "gpt-5.5"` in your own profile says it serves gpt-5.5: it beats the `openai` preset's
    `gpt-*` (exact beats a pattern), whose token is missing here. A preset's mapping alone does not
    route, and a `routes` profile serves nothing itself."""
    profiles = load(profiles_file(
        '[profiles.gpt]\napi = "openai-chat"\nbase_url = "https://gw.example/v1"\ntoken = "env:GPT_KEY"\n'
        'models = { opus = "gpt-5.5", sonnet = "gpt-5.5", haiku = "gpt-5.5-mini" }\n'
        '[profiles.mix]\nroutes = { opus = "gpt", sonnet = "gpt", haiku = "gpt" }\n'))
    route = route_model("gpt-5.5", profiles, {})
    assert (route.profile, route.pattern) == ("gpt", "gpt-5.5")
    assert route_model("gpt-5.5-mini", profiles, {}).profile == "gpt"
    assert route_model("gpt-4.1", profiles, {}).profile == "openai"  # not mapped: the preset's pattern
    assert [r.profile for r in candidates("gpt-5.5", profiles, {})] == ["gpt", "openai"]


def test_what_a_profile_inherits_from_a_preset_or_a_claude_id_does_not_route_to_it(profiles_file):
    """Only models you wrote count: `extends = "litellm"` inherits the preset's Claude ids and
    `extends = "glm"` its glm-5.1, neither of which may pull `--model` away from where it went."""
    profiles = load(profiles_file(
        'default = "anthropic"\n'
        '[profiles.corp]\nextends = "litellm"\ntoken = "env:CORP_KEY"\n'
        '[profiles.mine]\nextends = "glm"\ntoken = "env:MINE_KEY"\n'
        '[profiles.team]\nextends = "mine"\nmodels = { opus = "team-model" }\n'
        '[profiles.claudish]\nbase_url = "https://gw.example"\ntoken = "env:X"\nmodel = "claude-opus-4-5"\n'))
    for model in ("claude-sonnet-4-5", "claude-opus-4-5"):
        assert all(r.pattern != model for r in candidates(model, profiles, {})), model
    assert all(r.pattern == "glm-*" for r in candidates("glm-5.1", profiles, {}))  # the serves it inherits, no more
    assert route_model("team-model", profiles, {}).profile == "team"
    assert profiles.written_models("team") == {"team-model"}  # mine wrote no models; glm's are the preset's
