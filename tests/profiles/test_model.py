"""Loading profiles.toml: presets, extends, shadowing, and every validation error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.profiles_data import EXAMPLE, REQUIRED_PRESETS

from ccswitch.claude.variables import MANAGED_VARIABLES, NO_TOKEN
from ccswitch.errors import ExitStatus, ProfileFileError, UnknownProfileError
from ccswitch.profiles.environment import profile_environment, sends_no_token
from ccswitch.profiles.presets import preset_names, presets_dir
from ccswitch.profiles.store import load_preset, load_profile_set


def load(path: Path):
    return load_profile_set(str(path), presets_dir())


def test_issue_example_loads_exactly_as_written(profiles_file):
    profiles = load(profiles_file(EXAMPLE))
    assert profiles.default == "glm"
    work = profiles.get("work")
    assert work.base_url == "https://gateway.example.com/anthropic"
    assert work.auth == "bearer" and work.token == "env:WORK_GATEWAY_KEY" and work.model == "sonnet"
    assert work.models == {"opus": "glm-5.1", "sonnet": "glm-5.1", "haiku": "glm-4.5-air"}
    assert work.env == {"API_TIMEOUT_MS": "3000000"}
    assert work.origin_label() == "user"


def test_extends_inherits_and_overrides(profiles_file):
    profiles = load(profiles_file(EXAMPLE))
    myglm, glm = profiles.get("myglm"), profiles.get("glm")
    assert myglm.token == "env:MY_ZHIPU_KEY"
    assert myglm.base_url == glm.base_url == "https://open.bigmodel.cn/api/anthropic"
    assert myglm.models == glm.models
    assert myglm.origin_label() == "user extends glm"
    assert myglm.chain == (("myglm", "user"), ("glm", "preset"))


def test_tables_merge_key_by_key_along_the_chain(profiles_file):
    profiles = load(profiles_file(
        '[profiles.a]\nextends = "glm"\n[profiles.a.models]\nhaiku = "tiny"\n[profiles.a.env]\nX = "1"\n'
        '[profiles.b]\nextends = "a"\nmodel = "haiku"\n[profiles.b.env]\nAPI_TIMEOUT_MS = "5"\n'
    ))
    b = profiles.get("b")
    assert b.models == {"opus": "glm-5.1", "sonnet": "glm-5.1", "haiku": "tiny"}
    assert b.env == {"API_TIMEOUT_MS": "5", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "X": "1"}
    assert [n for n, _ in b.chain] == ["b", "a", "glm"]


def test_user_profile_shadows_preset_and_can_extend_it(profiles_file):
    profiles = load(profiles_file('[profiles.glm]\nextends = "glm"\nmodel = "haiku"\n[profiles.deepseek]\nbase_url = "http://127.0.0.1:9/x"\n'))
    glm = profiles.get("glm")
    assert glm.origin == "user" and glm.model == "haiku"
    assert glm.base_url == "https://open.bigmodel.cn/api/anthropic"  # from the preset it extends
    deepseek = profiles.get("deepseek")
    assert deepseek.base_url == "http://127.0.0.1:9/x" and deepseek.models == {}  # shadowed, not merged
    assert profiles.get_preset("deepseek").base_url == "https://api.deepseek.com/anthropic"
    assert profiles.names().count("glm") == 1


def test_no_file_means_presets_only(config_dir):
    profiles = load(config_dir / "profiles.toml")
    assert set(REQUIRED_PRESETS) <= set(profiles.names())
    assert profiles.default is None
    assert not config_dir.exists()  # reading never creates anything


@pytest.mark.parametrize("name", REQUIRED_PRESETS)
def test_required_presets_exist(name):
    assert name in preset_names(presets_dir())


@pytest.mark.parametrize("name", preset_names(presets_dir()))
def test_every_preset_is_valid_and_documented(name):
    raw = load_preset(presets_dir(), name)
    assert raw.get("description") and raw.get("docs_url", "").startswith("https://")
    assert raw.get("source") and raw.get("models_checked")
    if raw.get("base_url"):
        # a gateway preset pins every tier: claude's own defaults change between releases
        assert {"opus", "sonnet", "haiku"} <= set(raw["models"])
        assert raw.get("token"), "a gateway preset says where its token comes from"


def test_cloud_presets_set_their_switch():
    for name, switch in (("bedrock", "CLAUDE_CODE_USE_BEDROCK"), ("vertex", "CLAUDE_CODE_USE_VERTEX"), ("foundry", "CLAUDE_CODE_USE_FOUNDRY")):
        assert load_preset(presets_dir(), name)["env"][switch] == "1"


def test_region_variants_reachable():
    names = preset_names(presets_dir())
    assert {"kimi-intl", "qwen-intl", "minimax-intl"} <= set(names)


# --- validation: (file text, expected message fragment, expected line) ---------------------------

INVALID = {
    "toml syntax": ('[profiles.a]\nbase_url = "http://x"\nauth = \n', "invalid TOML", 3),
    "unknown key suggests": ('[profiles.kimi]\nbase_ur = "https://x.example"\n', '[profiles.kimi]: unknown key \'base_ur\' (did you mean "base_url"?)', 2),
    "unknown top-level key": ('defualt = "glm"\n', "unknown top-level key 'defualt' (did you mean \"default\"?)", 1),
    "base url not http": ('[profiles.a]\n\nbase_url = "ftp://x.example"\n', "[profiles.a]: base_url: 'ftp://x.example' is not an http(s) URL", 3),
    "base url ends in v1": ('[profiles.a]\nbase_url = "https://x.example/api/v1/"\n', "ends in /v1, but claude appends /v1/messages itself", 2),
    "env value not string": ('[profiles.a]\nbase_url = "https://x.example"\n[profiles.a.env]\nAPI_TIMEOUT_MS = 3000000\n', "[profiles.a.env]: API_TIMEOUT_MS: env values must be strings", 4),
    "env inline table": ('[profiles.a]\nenv = { X = true }\n', "[profiles.a.env]: X: env values must be strings", 2),
    "bad profile name": ('[profiles."my glm"]\nbase_url = "https://x.example"\n', "bad profile name 'my glm'", 1),
    "unknown extends": ('[profiles.a]\nextends = "glmm"\n', "extends: unknown profile 'glmm' (did you mean \"glm\"?)", 2),
    "extends itself": ('[profiles.mine]\nmodel = "x"\nextends = "mine"\n', "[profiles.mine]: extends: a profile cannot extend itself", 3),
    "extends cycle": ('[profiles.a]\nextends = "b"\n[profiles.b]\nextends = "a"\n', "extends cycle: a -> b -> a", None),
    "bad auth": ('[profiles.a]\nauth = "beare"\n', "auth: 'beare' is not one of bearer, x-api-key, none", 2),
    "non-string field": ('[profiles.a]\nmodel = 5\n', "model: must be a string, not a number", 2),
    "unknown tier": ('[profiles.a.models]\nsonet = "x"\n', "unknown model tier 'sonet' (did you mean \"sonnet\"?)", 2),
    "unknown default": ('default = "nope"\n', "default: no profile named 'nope'", 1),
    "token in env": ('[profiles.a]\n[profiles.a.env]\nANTHROPIC_AUTH_TOKEN = "sk-secret"\n', "put credentials in the profile's `token` field", 3),
    "newer schema": ("schema = 2\n", "schema = 2 is not supported", 1),
    "token env bad name": ('[profiles.a]\nbase_url = "https://x.example"\ntoken = "env:A B"\n', "[profiles.a]: token: 'env:A B' does not name an environment variable", 3),
    "token env no name": ('[profiles.a]\nextends = "glm"\n\ntoken = "env:"\n', "[profiles.a]: token: 'env:' does not name an environment variable", 4),
    "token cmd empty": ('[profiles.a]\nextends = "glm"\ntoken = "cmd:  "\n', "[profiles.a]: token: 'cmd:  ' names no command", 3),
    "profile not a table": ('profiles = { a = 1 }\n', "profiles.a: must be a table", None),
    "base url with a space": ('[profiles.a]\nmodel = "m"\nbase_url = "https://x.example/my path"\n',
                              "[profiles.a]: base_url: 'https://x.example/my path' holds a space, which a URL cannot "
                              "hold (percent-encode it: %20)", 3),
    "base url with a quote": ('[profiles.a]\nbase_url = \'https://x.example/"q"\'\n', "holds '\"', which a URL", 2),
    "base url with a tab": ('[profiles.a]\nbase_url = "https://x.example\\t/"\n', "holds '\\t'", 2),
    "base url bad port": ('[profiles.a]\nbase_url = "https://x.example:80a/"\n', "'80a' is not a port number", 2),
    "base url no host": ('[profiles.a]\nbase_url = "https://:8080/"\n', "'https://:8080/' names no host", 2),
    "base url ipv6 unclosed": ('[profiles.a]\nbase_url = "http://[::1:8080/"\n', "'http://[::1:8080/' names no host", 2),
    "base url ipv6 empty": ('[profiles.a]\nbase_url = "http://[]:8080/"\n', "'http://[]:8080/' names no host", 2),
    # httpx refuses a longer URL: `test` raised "URL too long" inside its probing thread.
    "base url too long": ('[profiles.a]\nbase_url = "http://127.0.0.1:9/' + "a" * 70_000 + '"\n',
                          "[profiles.a]: base_url: 70,019 characters long: a URL has at most 65,536", 2),
    "base url ipv6 then junk": ('[profiles.a]\nbase_url = "http://[::1]x/"\n', "'x' is not a port number", 2),
    "base url with credentials": ('[profiles.a]\nbase_url = "http://user:sk-CANARY-0123456789@127.0.0.1:9/x"\n',
                                  "[profiles.a]: base_url: 'http://***@127.0.0.1:9/x' holds a user name or password "
                                  "(before the @), which claude never sends; put the credential in `token`", 2),
    "base url with a token as user": ('[profiles.a]\nbase_url = "https://sk-CANARY-0123456789@h.example"\n',
                                      "'https://***@h.example' holds a user name or password", 2),
    "price nan": ('[profiles.a]\n[profiles.a.prices."m"]\ninput = nan\noutput = 1\ncurrency = "USD"\n',
                  "[profiles.a]: prices.m.input: nan is not a number it can use", 3),
    "price inf in a tier": ('[profiles.a]\n[profiles.a.prices.m]\ninput = 1\noutput = 1\ncurrency = "USD"\n'
                            'tiers = [{ above = 5, input = inf, output = 1 }]\n',
                            "[profiles.a]: prices.m.tiers[0].input: inf is not a number it can use", 6),
    "price -inf in a dated entry": ('[profiles.a]\n[[profiles.a.prices.m]]\ninput = 1\noutput = -inf\ncurrency = "USD"\n',
                                    "[profiles.a]: prices.m[0].output: -inf is not a number it can use", 4),
    "env value with a NUL": ('[profiles.a]\nbase_url = "https://x.example"\n[profiles.a.env]\nFOO = "a\\u0000b"\n',
                             "[profiles.a.env]: FOO: character 2 is NUL, which no process environment can carry", 4),
    "tier model with a NUL": ('[profiles.a]\n[profiles.a.models]\nopus = "m\\u0000"\n',
                              "[profiles.a.models]: opus: character 2 is a control character (NUL), which no model name "
                              "holds", 3),
    "model with a newline": ('[profiles.a]\nmodel = "m\\n"\n', "[profiles.a]: model: character 2 is a control "
                             "character ('\\n'), which no model name holds", 2),
    "serves with a tab": ('[profiles.a]\nserves = ["m*", "x\\ty"]\n', "[profiles.a]: serves[1]: character 2 is a "
                          "control character ('\\t')", 2),
    "header with a NUL": ('[profiles.a]\n[profiles.a.headers]\nX-Team = "a\\u0000"\n',
                          "[profiles.a.headers]: X-Team: character 2 (NUL) cannot be sent in an HTTP header", 3),
    "header beyond ascii": ('[profiles.a]\n[profiles.a.headers]\nX-Team = "café"\n',
                            "[profiles.a.headers]: X-Team: character 4 ('é') cannot be sent in an HTTP header: a "
                            "header value is one line of printable ASCII", 3),
    "header with a line end": ('[profiles.a]\n\n[profiles.a.headers]\nX-Team = "a\\r\\nX-Evil: 1"\n',
                               "X-Team: character 2 ('\\r') cannot be sent", 4),
    "nested too deeply": ("[profiles.a]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
                          "invalid TOML: arrays or tables nested too deeply to read", None),
    "inline tables nested too deeply": ("[profiles.a]\nx = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n",
                                        "nested too deeply", None),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_validation_errors_name_file_profile_key_and_line(case, profiles_file):
    text, fragment, line = INVALID[case]
    path = profiles_file(text)
    before = path.read_bytes()
    with pytest.raises(ProfileFileError) as info:
        load(path)
    message = info.value.message
    assert fragment in message and "CANARY" not in message
    expected_prefix = f"{path}:{line}: " if line else f"{path}: "
    assert message.startswith(expected_prefix), message
    assert info.value.exit_status == ExitStatus.USAGE
    assert path.read_bytes() == before


def test_missing_token_variable_is_not_a_load_error(profiles_file):
    profiles = load(profiles_file(EXAMPLE))
    from ccswitch.profiles.tokens import describe_token

    status = describe_token(profiles.get("work").token, {})
    assert not status.found and status.detail == "missing (WORK_GATEWAY_KEY is not set)"


def test_unknown_profile_suggests(profiles_file):
    profiles = load(profiles_file(EXAMPLE))
    with pytest.raises(UnknownProfileError, match=r"no profile named 'wrk' \(did you mean \"work\"\?\)"):
        profiles.get("wrk")


def test_profile_environment_blanks_what_the_profile_does_not_set(profiles_file):
    profiles = load(profiles_file(EXAMPLE))
    env = profile_environment(profiles.get("work"), "tok-123456789012")
    assert set(MANAGED_VARIABLES) <= set(env)
    assert env["ANTHROPIC_AUTH_TOKEN"] == "tok-123456789012"
    assert env["ANTHROPIC_API_KEY"] == ""  # never both auth headers
    assert env["ANTHROPIC_BASE_URL"] == "https://gateway.example.com/anthropic"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "glm-4.5-air"
    assert env["ANTHROPIC_SMALL_FAST_MODEL"] == ""
    assert env["CLAUDE_CODE_USE_BEDROCK"] == ""
    assert env["ANTHROPIC_MODEL"] == "sonnet"
    assert env["API_TIMEOUT_MS"] == "3000000"
    assert profile_environment(profiles.get("work"), "t", include_model=False)["ANTHROPIC_MODEL"] == ""


def test_x_api_key_and_token_var_and_headers(profiles_file):
    profiles = load(profiles_file('[profiles.q]\nextends = "qwen"\n[profiles.q.headers]\nX-Team = "a b"\nX-Other = "c"\n'))
    env = profile_environment(profiles.get("q"), "tok-123456789012")
    assert env["ANTHROPIC_API_KEY"] == "tok-123456789012" and env["ANTHROPIC_AUTH_TOKEN"] == ""
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == "X-Team: a b\nX-Other: c"
    foundry = profile_environment(profiles.get("foundry"), "tok-123456789012")
    assert foundry["ANTHROPIC_FOUNDRY_API_KEY"] == "tok-123456789012"
    assert foundry["ANTHROPIC_API_KEY"] == foundry["ANTHROPIC_AUTH_TOKEN"] == ""
    anthropic = profile_environment(profiles.get("anthropic"), None)
    assert all(anthropic[var] == "" for var in MANAGED_VARIABLES)


def test_a_third_party_profile_without_a_token_sends_the_placeholder_never_nothing(profiles_file):
    """With no token variable set, claude sends the user's own claude.ai login to the base URL
    (docs/claude-code.md, "Credentials and requests")."""
    profiles = load(profiles_file(
        '[profiles.local]\nbase_url = "http://127.0.0.1:9/x"\nauth = "none"\n'
        '[profiles.forgot]\nbase_url = "https://gw.example.com/anthropic"\n'
        '[profiles.ant]\nbase_url = "https://api.anthropic.com"\nauth = "none"\n'
        '[profiles.cloud]\nbase_url = "https://gw.example.com/x"\nauth = "none"\n'
        '[profiles.cloud.env]\nCLAUDE_CODE_USE_BEDROCK = "1"\n'))
    for name in ("local", "forgot"):
        env = profile_environment(profiles.get(name), None)
        assert env["ANTHROPIC_AUTH_TOKEN"] == NO_TOKEN and env["ANTHROPIC_API_KEY"] == ""
    for name in ("ant", "cloud", "anthropic", "bedrock"):  # Anthropic's own login, a cloud's credentials
        env = profile_environment(profiles.get(name), None)
        assert env["ANTHROPIC_AUTH_TOKEN"] == env["ANTHROPIC_API_KEY"] == ""
    assert profile_environment(profiles.get("forgot"), "tok-123456789012")["ANTHROPIC_AUTH_TOKEN"] == "tok-123456789012"


def test_auth_login_sends_claudes_own_login_to_a_proxy_in_front_of_anthropic(profiles_file):
    """The opt-in beside the placeholder: no token variable at all, and claude's own models (the
    proxy serves Anthropic's): neither tier filling nor a context window of a third party."""
    profiles = load(profiles_file('[profiles.proxy]\nbase_url = "https://llm-proxy.corp.example/anthropic"\n'
                                  'auth = "login"\n'))
    proxy = profiles.get("proxy")
    env = profile_environment(proxy, None)
    assert env["ANTHROPIC_BASE_URL"] == "https://llm-proxy.corp.example/anthropic"
    assert env["ANTHROPIC_AUTH_TOKEN"] == env["ANTHROPIC_API_KEY"] == "" and env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == ""
    assert "CLAUDE_CODE_MAX_CONTEXT_TOKENS" not in env or env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"] == ""
    assert not proxy.needs_token and proxy.token_variable() is None
    assert "sends claude's own login to its endpoint" in sends_no_token(proxy)
    assert "auth = \"login\"" in sends_no_token(proxy.replace(base_url=None))


def test_a_token_in_a_variable_of_its_own_still_keeps_claudes_login_home(profiles_file):
    profiles = load(profiles_file('[profiles.own]\nbase_url = "https://gw.example.com/x"\n'
                                  'token_var = "ANTHROPIC_FOUNDRY_API_KEY"\n'))
    env = profile_environment(profiles.get("own"), "tok-123456789012")
    assert env["ANTHROPIC_FOUNDRY_API_KEY"] == "tok-123456789012" and env["ANTHROPIC_AUTH_TOKEN"] == NO_TOKEN


def test_bom_is_accepted(profiles_file):
    path = profiles_file("")
    path.write_bytes("\ufeff".encode() + EXAMPLE.encode())
    assert load(path).default == "glm"


@pytest.mark.parametrize("url", ["http://[::1]:8080/x", "https://h.example/a?x=1#y", "https://bücher.example/x",
                                 "https://gw.example.com:8443/anthropic/u@x", "http://localhost:4000"])
def test_urls_claude_can_use_are_accepted(profiles_file, url):
    assert load(profiles_file(f'[profiles.a]\nbase_url = "{url}"\n')).get("a").base_url == url


def test_a_symlink_loop_is_an_error_not_an_absent_file(config_dir):
    config_dir.mkdir(parents=True)
    path = config_dir / "profiles.toml"
    path.symlink_to("profiles.toml")
    with pytest.raises(ProfileFileError, match=r"profiles.toml: cannot read: a symlink loop$"):
        load(path)


def test_a_link_to_nothing_is_an_error_not_an_absent_file(config_dir, tmp_path):
    config_dir.mkdir(parents=True)
    path = config_dir / "profiles.toml"
    path.symlink_to(tmp_path / "dotfiles" / "profiles.toml")
    with pytest.raises(ProfileFileError, match=r"a symlink to .*dotfiles/profiles.toml, which does not exist"):
        load(path)


def test_a_config_dir_that_is_a_file_is_an_error(config_dir):
    config_dir.parent.mkdir(parents=True)
    config_dir.write_text("not a directory\n")
    with pytest.raises(ProfileFileError, match=f"cannot read: {config_dir} is a file, not a directory"):
        load(config_dir / "profiles.toml")


def test_unreadable_file_is_a_clear_error(profiles_file):
    path = profiles_file(EXAMPLE)
    if os.geteuid() == 0:
        path.unlink()
        path.mkdir()  # root reads anything: a directory in its place fails the same way
    else:
        path.chmod(0)
    with pytest.raises(ProfileFileError, match="cannot read"):
        load(path)


def test_a_nul_in_an_env_value_stops_use_and_run_before_anything_is_written(profiles_file, isolated_home, capsys):
    from typer.testing import CliRunner

    from ccswitch.cli.app import app
    from ccswitch.launch import front_door

    path = profiles_file('[profiles.x]\nbase_url = "http://127.0.0.1:9"\ntoken = "sk-xxxxxxxxxxxxxxxx"\n'
                         '[profiles.x.env]\nFOO = "a\\u0000b"\n')
    expected = f"ccswitch: error: {path}:5: [profiles.x.env]: FOO: character 2 is NUL, which no process environment " \
               "can carry\n"
    result = CliRunner().invoke(app, ["use", "x"])
    assert (result.exit_code, result.stderr) == (2, expected)
    assert front_door.main(["run", "x", "--", "true"]) == 2
    assert capsys.readouterr().err == expected
    assert not (isolated_home / ".claude").exists()
