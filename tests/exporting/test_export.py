"""`ccswitch export litellm|higress` without a gateway: what the configs say, that no key is ever in
them, and that the client profiles written beside a LiteLLM config load as an included file. (The
LiteLLM config is proven against the real proxy in tests/e2e/test_export_litellm.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.errors import UsageError
from ccswitch.exporting import higress, litellm, plan
from ccswitch.profiles.cache import load_profiles

PLAIN_KEY = "sk-plain-key-0123456789abcdef"

PROFILES = f"""\
[profiles.glm]
base_url = "https://open.bigmodel.cn/api/anthropic"
token = ["env:GLM_A", "env:GLM_B"]
fallback = ["kimi"]
model = "glm-5.1"
context_window = 200000
[profiles.glm.models]
opus = "glm-5.1"
sonnet = "glm-5.1"
haiku = "glm-4.5-air"

[profiles.kimi]
base_url = "https://api.kimi.com/coding"
auth = "x-api-key"
token = "keyring"
[profiles.kimi.models]
opus = "kimi-for-coding"
sonnet = "kimi-for-coding"
haiku = "kimi-for-coding"

[profiles.plain]
base_url = "https://plain.example/anthropic"
token = "{PLAIN_KEY}"
model = "p-1"

[profiles.mix]
routes = {{ opus = "kimi", sonnet = "glm", haiku = "glm" }}

[profiles.login]
model = "opus"
"""


def export(names: list[str], every: bool = False) -> plan.Export:
    profile_set = load_profiles(dict(os.environ))
    return plan.build(profile_set, plan.choose(profile_set, names, every), every=every)


def test_litellm_config_groups_keys_and_fallbacks(profiles_file) -> None:
    profiles_file(PROFILES)
    result = export([], every=True)
    config = litellm.config(result)
    deployments = [(e["model_name"], e["litellm_params"]) for e in config["model_list"]]
    # A pool: one deployment per key, the same group (LiteLLM spreads and cools them).
    glm = [p for name, p in deployments if name == "glm/glm-5.1"]
    assert [p["api_key"] for p in glm] == ["os.environ/GLM_A", "os.environ/GLM_B"]
    assert glm[0]["model"] == "openai/glm-5.1" and glm[0]["api_base"] == "https://open.bigmodel.cn/api/anthropic"
    entry = next(e for e in config["model_list"] if e["model_name"] == "glm/glm-5.1")
    assert entry["model_info"] == {"supported_endpoints": ["/v1/messages"]}
    kimi = dict(deployments)["kimi/kimi-for-coding"]
    assert kimi == {"model": "anthropic/kimi-for-coding", "api_base": "https://api.kimi.com/coding",
                    "api_key": "os.environ/KIMI_API_KEY"}
    # A routes profile's groups are named by tier.
    assert dict(deployments)["mix/opus"]["model"] == "anthropic/kimi-for-coding"
    assert dict(deployments)["mix/sonnet"]["model"] == "openai/glm-5.1"
    assert config["router_settings"]["fallbacks"] == [
        {"glm/glm-5.1": ["kimi/kimi-for-coding"]}, {"glm/glm-4.5-air": ["kimi/kimi-for-coding"]},
        {"mix/sonnet": ["kimi/kimi-for-coding"]}, {"mix/haiku": ["kimi/kimi-for-coding"]}]
    assert config["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}
    assert "login: left out (uses Anthropic's own endpoint" in "\n".join(result.notes)
    assert "set KIMI_API_KEY to the key of profile 'kimi': it is in the OS keyring as ccswitch/kimi" in result.notes
    assert "set PLAIN_API_KEY to the key of profile 'plain': it is in plain text in its profiles file" in result.notes
    assert PLAIN_KEY not in yaml.safe_dump(config)


def test_client_profiles_point_claude_at_the_proxy(profiles_file) -> None:
    profiles_file(PROFILES)
    clients = litellm.client_profiles(export(["glm", "mix"]), "http://127.0.0.1:4000")
    assert clients["litellm-glm"] == {
        "description": "glm through the LiteLLM proxy at http://127.0.0.1:4000 (ccswitch export litellm)",
        "base_url": "http://127.0.0.1:4000", "token": "env:LITELLM_API_KEY",
        "models": {"opus": "glm/glm-5.1", "sonnet": "glm/glm-5.1", "haiku": "glm/glm-4.5-air"},
        "model": "glm/glm-5.1", "context_window": 200000}
    assert clients["litellm-mix"]["models"] == {"opus": "mix/opus", "sonnet": "mix/sonnet", "haiku": "mix/haiku"}


def test_naming_a_profile_a_gateway_cannot_serve_is_one_error(profiles_file) -> None:
    profiles_file(PROFILES)
    with pytest.raises(UsageError, match="export: profile 'login' uses Anthropic's own endpoint"):
        export(["login"])
    with pytest.raises(UsageError, match="name profiles or give --all, not both"):
        export(["glm"], every=True)
    with pytest.raises(UsageError, match="no profile named 'nope'"):
        export(["nope"])


def test_the_cli_writes_the_config_and_an_includable_profiles_file(profiles_file, tmp_path: Path) -> None:
    path = profiles_file(PROFILES)
    out = tmp_path / "gw" / "litellm.yaml"
    out.parent.mkdir()
    result = CliRunner().invoke(app, ["export", "litellm", "glm", "kimi", "-o", str(out), "--url", "http://gw.team:4000"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert yaml.safe_load(out.read_text())["model_list"]
    side = out.parent / "litellm.ccswitch.toml"
    assert f"wrote {out} and {side} (litellm-glm, litellm-kimi)" in result.stderr
    path.write_text(f'include = ["{side}"]\n' + path.read_text())
    client = load_profiles(dict(os.environ)).get("litellm-kimi")
    assert (client.origin, client.base_url, client.models["opus"]) == ("included", "http://gw.team:4000",
                                                                      "kimi/kimi-for-coding")
    # Without -o: the YAML on stdout, notes on stderr.
    result = CliRunner().invoke(app, ["export", "litellm", "plain"])
    assert yaml.safe_load(result.stdout)["model_list"][0]["litellm_params"]["api_key"] == "os.environ/PLAIN_API_KEY"
    assert PLAIN_KEY not in result.stdout + result.stderr


OPENAI_FORMAT = """\
[profiles.gpt]
api = "openai-chat"
base_url = "https://api.openai.com/v1"
token = "env:OPENAI_API_KEY"
models = { opus = "gpt-5.5", sonnet = "gpt-5.5", haiku = "gpt-5.5-mini" }

[profiles.resp]
api = "openai-responses"
base_url = "https://api.openai.com/v1"
token = "env:OPENAI_API_KEY"
models = { opus = "o5", sonnet = "o5", haiku = "o5" }
"""


def test_litellm_translates_an_openai_format_profile_and_passes_anthropic_ones_through(profiles_file) -> None:
    """An OpenAI-format provider refuses /v1/messages: LiteLLM must translate, so no pass-through
    mark; the Responses API through LiteLLM's `responses/` bridge."""
    profiles_file(PROFILES + OPENAI_FORMAT)
    config = litellm.config(export(["gpt", "resp", "glm"]))
    entries = {e["model_name"]: e for e in config["model_list"]}
    assert entries["gpt/gpt-5.5"] == {"model_name": "gpt/gpt-5.5", "litellm_params": {
        "model": "custom_openai/gpt-5.5", "api_base": "https://api.openai.com/v1", "api_key": "os.environ/OPENAI_API_KEY"}}
    assert entries["resp/o5"]["litellm_params"]["model"] == "openai/responses/o5" and "model_info" not in entries["resp/o5"]
    assert entries["glm/glm-5.1"]["model_info"] == {"supported_endpoints": ["/v1/messages"]}
    assert not any("options" in note for note in export(["gpt"]).notes)


def test_an_openai_format_profiles_own_options_are_named_as_not_exported(profiles_file) -> None:
    profiles_file(OPENAI_FORMAT + '[profiles.gpt.openai]\nstream_options = false\nmax_tokens_field = "max_tokens"\n')
    assert ("gpt: its [openai] options (max_tokens_field, stream_options) are ccswitch's own gateway's; they are not "
            "exported (set the equivalent in the gateway if it needs one)") in export(["gpt"]).notes


def test_higress_routes_by_profile_with_key_failover(profiles_file) -> None:
    profiles_file(PROFILES)
    result = export(["glm", "kimi", "mix"])
    documents = higress.resources(result)
    kinds = [(d["kind"], d["metadata"]["name"]) for d in documents]
    assert kinds[:3] == [("WasmPlugin", "ccswitch-model-router"), ("WasmPlugin", "ccswitch-ai-proxy"),
                         ("McpBridge", "default")]
    assert documents[0]["spec"]["defaultConfig"] == {"addProviderHeader": "x-higress-llm-provider"}
    rules = {r["ingress"][0]: r["config"]["provider"] for r in documents[1]["spec"]["matchRules"]}
    glm = rules["ccswitch-glm"]
    assert (glm["type"], glm["genericHost"], glm["basePath"], glm["basePathHandling"]) == (
        "generic", "open.bigmodel.cn", "/api/anthropic", "prepend")
    assert glm["apiTokens"] == ["${GLM_A}", "${GLM_B}"]
    assert glm["modelMapping"] == {"glm-5.1": "glm-5.1", "glm-4.5-air": "glm-4.5-air"}
    assert glm["failover"]["enabled"] and glm["failover"]["failoverOnStatus"] == ["429", "5.*"]
    assert rules["ccswitch-kimi"]["type"] == "claude"
    ingress = next(d for d in documents if d["kind"] == "Ingress" and d["metadata"]["name"] == "ccswitch-glm")
    assert ingress["metadata"]["annotations"]["higress.io/exact-match-header-x-higress-llm-provider"] == "glm"
    assert any("mix/opus: left out (a routes profile's tier" in n for n in result.notes)
    assert any("glm/glm-5.1: its fallbacks (kimi/kimi-for-coding) are not exported" in n for n in result.notes)
    assert "ccswitch-mix" not in rules


def test_higress_keeps_a_port_and_plain_http_and_sends_openai_format_through_its_openai_provider(profiles_file) -> None:
    """A gateway on a port over plain HTTP (the `litellm` and `ai-gateway` presets), and an
    OpenAI-format provider, which ai-proxy's `openai` type translates for claude."""
    profiles_file((PROFILES + OPENAI_FORMAT + '''
[profiles.team]
base_url = "http://gw.internal:4000/anthropic/"
token = "env:TEAM_KEY"
model = "t-1"
''').replace("https://api.openai.com/v1", "http://10.0.0.5:8080/v1", 1))
    result = export(["team", "gpt", "resp"])
    documents = higress.resources(result)
    rules = {r["ingress"][0]: r["config"]["provider"] for r in documents[1]["spec"]["matchRules"]}
    team = rules["ccswitch-team"]
    assert (team["type"], team["genericHost"], team["basePath"]) == ("generic", "gw.internal:4000", "/anthropic")
    gpt = rules["ccswitch-gpt"]
    assert (gpt["type"], gpt["openaiCustomUrl"]) == ("openai", "10.0.0.5:8080/v1/chat/completions")
    assert "genericHost" not in gpt and gpt["apiTokens"] == ["${OPENAI_API_KEY}"]
    registries = {r["name"]: (r["domain"], r["port"]) for r in documents[2]["spec"]["registries"]}
    assert registries == {"ccswitch-team": ("gw.internal", 4000), "ccswitch-gpt": ("10.0.0.5", 8080)}
    ingress = next(d for d in documents if d["kind"] == "Ingress" and d["metadata"]["name"] == "ccswitch-team")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["higress.io/backend-protocol"] == "HTTP" and "higress.io/proxy-ssl-name" not in annotations
    assert "ccswitch-resp" not in rules and any(n.startswith("resp: left out") for n in result.notes)


def test_higress_keeps_an_ipv6_hosts_brackets(profiles_file) -> None:
    profiles_file('[profiles.v6]\nbase_url = "http://[2001:db8::1]:8443/anthropic"\ntoken = "env:V6_KEY"\nmodel = "m"\n')
    documents = higress.resources(export(["v6"]))
    provider = documents[1]["spec"]["matchRules"][0]["config"]["provider"]
    assert (provider["genericHost"], provider["basePath"]) == ("[2001:db8::1]:8443", "/anthropic")
    assert documents[2]["spec"]["registries"][0] == {"name": "ccswitch-v6", "type": "dns", "domain": "2001:db8::1",
                                                     "port": 8443}


@pytest.mark.parametrize("command", ["litellm", "higress"])
def test_output_to_a_fifo_or_a_missing_folder_writes_nothing(profiles_file, tmp_path: Path, command) -> None:
    profiles_file(PROFILES)
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)
    result = CliRunner().invoke(app, ["export", command, "glm", "-o", str(fifo)])
    assert (result.exit_code, result.stderr) == (2, f"ccswitch: error: cannot write {fifo}: it is a FIFO, not a file "
                                                    "(for stdout: -o - or no -o); nothing written\n")
    assert fifo.is_fifo()
    missing = tmp_path / "no" / "such" / "x.yaml"
    result = CliRunner().invoke(app, ["export", command, "glm", "-o", str(missing)])
    assert result.exit_code == 2 and f"the folder {missing.parent} does not exist (create it first)" in result.stderr
    assert not (tmp_path / "no").exists()


def test_a_fifo_beside_the_litellm_config_stops_both_files(profiles_file, tmp_path: Path) -> None:
    profiles_file(PROFILES)
    os.mkfifo(tmp_path / "x.ccswitch.toml")
    result = CliRunner().invoke(app, ["export", "litellm", "glm", "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2 and "x.ccswitch.toml: it is a FIFO" in result.stderr
    assert not (tmp_path / "x.yaml").exists() and (tmp_path / "x.ccswitch.toml").is_fifo()


@pytest.mark.parametrize("output", ["-", "/dev/stdout"])
def test_output_dash_or_dev_stdout_is_stdout(profiles_file, output) -> None:
    profiles_file(PROFILES)
    result = CliRunner().invoke(app, ["export", "litellm", "glm", "-o", output])
    assert result.exit_code == 0 and yaml.safe_load(result.stdout)["model_list"]
    assert not Path("-").exists() and not Path("-").with_suffix(".ccswitch.toml").exists()


@pytest.mark.parametrize("command", ["litellm", "higress"])
def test_stdout_is_the_file_byte_for_byte(profiles_file, tmp_path: Path, command) -> None:
    """PyYAML writes U+0085 (a model id may hold anything) as it is: shown through the console's
    escape() it became `?` on stdout while -o FILE kept it, and YAML read the two differently."""
    profiles_file(PROFILES.replace('model = "p-1"', 'model = "p\\u00851"'))
    to_stdout = CliRunner().invoke(app, ["export", command, "plain"])
    assert to_stdout.exit_code == 0, to_stdout.stderr
    CliRunner().invoke(app, ["export", command, "plain", "-o", str(tmp_path / "x.yaml")])
    assert to_stdout.stdout == (tmp_path / "x.yaml").read_text(encoding="utf-8")
    assert "\x85" in to_stdout.stdout  # (PyYAML folds the line there: the value reads back as "p 1")
