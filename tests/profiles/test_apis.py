"""`api = "openai-chat" | "openai-responses"` and `[profiles.NAME.openai]` options: checked in the
profiles file, refused by `use` and `env` in one line, shown by `show` and `list`, run through the
gateway (its config gets the format and the options), and probed by `test` in their own format."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from support.openai_types import check_chat, check_responses
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.errors import ProfileFileError
from ccswitch.gateway.config import GatewayConfig, GatewayConfigError
from ccswitch.health.probe import probe
from ccswitch.launch import front_door
from ccswitch.launch import gateway as gateways
from ccswitch.launch.plan import prepare
from ccswitch.profiles.schema import validate_user_file
from ccswitch.profiles.tokens import TokenResolver

TOKEN = "sk-openai-secret-0123456789"
PROFILES = """\
[profiles.gpt]
api = "openai-chat"
base_url = "https://api.openai.com/v1"
token = "env:OPENAI_T"
[profiles.gpt.models]
opus = "gpt-big"
sonnet = "gpt-mid"
haiku = "gpt-small"
[profiles.gpt.openai]
max_tokens_field = "max_completion_tokens"
reasoning_effort = ["low", "medium", "high"]

[profiles.resp]
extends = "gpt"
api = "openai-responses"

[profiles.mix]
routes = { opus = "gpt", haiku = "glm" }

[profiles.glm]
base_url = "http://127.0.0.1:9/anthropic"
token = "env:GLM_T"
fallback = ["gpt"]
[profiles.glm.models]
opus = "glm-5.1"
haiku = "glm-4.5-air"
"""


@pytest.fixture
def env(profiles_file, fake_claude) -> dict[str, str]:
    profiles_file(PROFILES)
    environ = dict(os.environ)
    environ["PATH"] = f"{fake_claude.parent}{os.pathsep}{environ.get('PATH', '')}"
    environ.update(OPENAI_T=TOKEN, GLM_T="glm-secret-0123456789")
    return environ


def check(text: str) -> None:
    import tomllib

    validate_user_file(tomllib.loads(text), "profiles.toml", text)


@pytest.mark.parametrize(("text", "message"), [
    ('[profiles.a]\napi = "openai"\n', r"profiles.toml:2: \[profiles.a\]: api: 'openai' is not one of anthropic, openai-chat, "
                                        r"openai-responses \(did you mean \"openai-chat\"\?\)"),
    ('[profiles.a]\napi = "openai-chat"\n[profiles.a.openai]\nmax_tokens_field = "max"\n',
     r"profiles.toml:4: \[profiles.a.openai\]: max_tokens_field: must be one of max_tokens, max_completion_tokens"),
    ('[profiles.a]\napi = "openai-chat"\n[profiles.a.openai]\nreasoning_effort = ["ultra"]\n',
     r"reasoning_effort: each level must be one of none, minimal"),
    ('[profiles.a]\n[profiles.a.openai]\nstrict = true\n', r"unknown option 'strict'"),
    ('[profiles.a]\nbase_url = "https://x.example/v1"\n', r"ends in /v1"),
    ('[profiles.a]\napi = "openai-chat"\nroutes = { opus = "b" }\n', r"a profile with `routes` has no endpoint"),
])
def test_bad_api_fields_name_the_file_profile_key_and_line(text, message):
    with pytest.raises(ProfileFileError, match=message):
        check(text)


def test_an_openai_base_may_end_in_v1_and_a_child_inherits_its_parents_api():
    check('[profiles.a]\napi = "openai-chat"\nbase_url = "https://api.openai.com/v1"\n')
    check('[profiles.b]\nextends = "a"\nbase_url = "https://proxy.example/v1"\n')


@pytest.mark.parametrize("command", [["use", "gpt"], ["use", "resp", "--scope", "project"]])
def test_use_refuses_a_translated_profile_in_one_line(env, command):
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "ccswitch run" in lines[0] and "OpenAI" in lines[0]
    assert not (os.path.exists(os.path.join(env["HOME"], ".claude", "settings.json")))


def test_env_refuses_a_translated_profile_in_one_line(env, monkeypatch, capsys):
    for key in ("PATH", "OPENAI_T"):
        monkeypatch.setenv(key, env[key])
    assert front_door.main(["env", "gpt"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "use `ccswitch run gpt`" in err and TOKEN not in err


def test_show_and_list_say_the_format(env):
    shown = CliRunner().invoke(app, ["show", "resp"], env=env)
    assert shown.exit_code == 0
    assert "OpenAI Responses -> https://api.openai.com/v1/responses" in shown.output
    assert "max_tokens_field=max_completion_tokens" in shown.output and TOKEN not in shown.output
    assert "sent to the provider by ccswitch's gateway" in shown.output and "ANTHROPIC_AUTH_TOKEN" not in shown.output
    data = json.loads(CliRunner().invoke(app, ["show", "gpt", "--json"], env=env).output)
    assert data["api"] == "openai-chat" and data["requests_to"] == "https://api.openai.com/v1/chat/completions"
    assert data["token_variable"] is None  # claude holds the gateway's session key, never this token
    listed = CliRunner().invoke(app, ["list", "--wide"], env=env).output
    assert "api.openai.com (openai-chat)" in listed


def test_run_goes_through_the_gateway_with_the_format_and_options(env):
    launch = prepare("gpt", ["claude", "-p", "hi"], profile_set=front_door.load_profiles(env), env=env,
                     cwd=os.getcwd(), dry_run=True)
    assert launch.gateway is not None  # claude talks to the gateway only
    assert launch.settings["env"]["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:")
    assert TOKEN not in json.dumps(launch.settings) and TOKEN not in json.dumps(launch.env)
    plan = gateways.plan_gateway(front_door.load_profiles(env).get("mix"), front_door.load_profiles(env),
                                 TokenResolver(env), session="s", records=None)
    config = GatewayConfig.from_dict(plan.config)
    gpt = config.upstreams["gpt"]
    assert (gpt.api, gpt.base_url) == ("openai-chat", "https://api.openai.com/v1")
    assert gpt.openai["max_tokens_field"] == "max_completion_tokens" and gpt.openai["stream_options"] is True
    assert config.upstreams["glm"].api == "anthropic" and config.upstreams["glm"].fallback == ("gpt",)


@pytest.mark.parametrize(("upstream", "message"), [
    ({"api": "openai"}, r"upstreams.u.api: 'openai' is not one of"),
    ({"openai": {"stream_options": True}}, r"options of an OpenAI-format upstream, but its api is 'anthropic'"),
    ({"api": "openai-chat", "openai": {"system_role": "boss"}}, r"upstreams.u.openai.system_role: must be one of"),
    ({"base_url": "https://x.example/v1"}, r"ends in /v1"),
])
def test_gateway_config_checks_the_format(upstream, message):
    base = {"base_url": "https://x.example", "token": "t" * 20, "models": dict.fromkeys(("opus", "sonnet", "haiku", "fable"), "m")}
    config = {"session": "s", "key": "k" * 32, "upstreams": {"u": {**base, **upstream}}, "tiers": dict.fromkeys(
        ("opus", "sonnet", "haiku", "fable"), "u")}
    with pytest.raises(GatewayConfigError, match=message):
        GatewayConfig.from_dict(config)
    GatewayConfig.from_dict({**config, "upstreams": {"u": {**base, "api": "openai-chat", "base_url": "https://x.example/v1"}}})


def _answer(request: httpx.Request, seen: list) -> httpx.Response:
    seen.append(request)
    body = json.loads(request.content)
    if request.url.path.endswith("/chat/completions"):
        from openai.types.chat import ChatCompletion

        answer = ChatCompletion.model_validate({
            "id": "c", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "stop"}]})
    else:
        from openai.types.responses import Response

        answer = Response.model_validate({
            "id": "r", "object": "response", "created_at": 1, "model": body["model"], "status": "completed",
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "output": [{"type": "message", "id": "m", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "OK", "annotations": []}]}]})
    return reply(200, json.loads(answer.model_dump_json()))


def reply(status: int, payload: object) -> httpx.Response:
    """An answer the probe can stream (it reads the raw body as it comes)."""
    return httpx.Response(status, headers={"content-type": "application/json"},
                          stream=httpx.ByteStream(json.dumps(payload).encode()))


@pytest.mark.parametrize(("api", "path", "validate"), [("openai-chat", "/v1/chat/completions", check_chat),
                                                       ("openai-responses", "/v1/responses", check_responses)])
def test_test_probes_in_the_profiles_own_format(api, path, validate):
    seen: list[httpx.Request] = []
    result = probe("https://api.example/v1", "ANTHROPIC_AUTH_TOKEN", TOKEN, "gpt-x", 5, api=api,
                   options={"max_tokens_field": "max_completion_tokens"},
                   transport=httpx.MockTransport(lambda r: _answer(r, seen)))
    assert result.ok, result
    [request] = seen
    assert request.url.path == path and request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "anthropic-version" not in request.headers
    validate(json.loads(request.content))


def test_a_probe_of_an_anthropic_answer_at_an_openai_path_is_not_ok_and_errors_never_echo_the_token():
    anthropic = {"type": "message", "content": []}
    result = probe("https://api.example/v1", "ANTHROPIC_AUTH_TOKEN", TOKEN, "gpt-x", 5, api="openai-chat",
                   transport=httpx.MockTransport(lambda r: reply(200, anthropic)))
    assert not result.ok and "openai-chat" in result.detail
    rejected = {"error": {"message": f"Incorrect API key provided: {TOKEN}", "type": "invalid_request_error",
                          "code": "invalid_api_key"}}
    result = probe("https://api.example/v1", "ANTHROPIC_AUTH_TOKEN", TOKEN, "gpt-x", 5, api="openai-chat",
                   transport=httpx.MockTransport(lambda r: reply(401, rejected)))
    assert result.reason == "auth rejected" and "Incorrect API key" in result.detail and TOKEN not in result.detail
    gemini = [{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}]
    result = probe("https://api.example/v1beta/openai", "ANTHROPIC_AUTH_TOKEN", TOKEN, "gemini-x", 5, api="openai-chat",
                   transport=httpx.MockTransport(lambda r: reply(400, gemini)))
    assert result.detail.startswith("API key not valid")


def test_run_fallback_probes_a_translated_profile_in_its_format(env):
    from ccswitch.launch.fallback import _probe_of

    seen = {}

    def fake_probe(*args, **kwargs):
        seen.update(kwargs)
        from ccswitch.health.probe import ProbeResult

        return ProbeResult(ok=True, reason="ok", url="u", model=args[3], stream=False, status=200)

    profile = front_door.load_profiles(env).get("resp")
    key, run_probe = _probe_of(profile, "gpt-big", env, TokenResolver(env), fake_probe, 5)
    run_probe()
    assert key.startswith("https://api.openai.com/v1/responses|")
    assert seen["api"] == "openai-responses" and seen["options"]["max_tokens_field"] == "max_completion_tokens"


def test_a_translated_profile_without_a_token_is_probed_with_none_as_the_gateway_sends(profiles_file, env):
    """claude.variables.NO_TOKEN is what claude sends; an OpenAI-format endpoint hears the gateway,
    which sends no credential for `auth = "none"`."""
    from ccswitch.health.endpoint_checks import plan

    profiles_file(PROFILES + '\n[profiles.free]\nextends = "gpt"\nauth = "none"\ntoken = ""\n')
    profile_set = front_door.load_profiles(env)
    [target, *_] = plan(profile_set.get("free"), env)
    assert target.token is None
    shown = CliRunner().invoke(app, ["show", "free"], env=env).output
    [auth_line] = [line for line in shown.splitlines() if line.split()[:1] == ["auth"]]
    assert auth_line.split() == ["auth", "none"]  # nothing is sent: no "sent to the provider by the gateway"


def test_show_names_a_missing_token_as_missing_not_the_placeholder(profiles_file, env):
    profiles_file('[profiles.gw]\nbase_url = "https://gw.example.com/x"\ntoken = "env:GW_UNSET_T"\nmodel = "m"\n')
    shown = CliRunner().invoke(app, ["show", "gw"], env={k: v for k, v in env.items() if k != "GW_UNSET_T"}).output
    assert "ANTHROPIC_AUTH_TOKEN=<missing>" in shown and "ccswitch-no-token" not in shown
