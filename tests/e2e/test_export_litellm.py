"""`ccswitch export litellm` against the real LiteLLM proxy (the `litellm` lane: `pytest -m litellm`;
.ci/run runs it after the README's command). One proxy, started with the exported config on
loopback, serves the real claude through to loopback mocks: each profile's own key reaches its own
provider (bearer or x-api-key), a routes profile's tiers go where its routes say, and a 429 fails
over as the `fallback` list says."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.litellm_proxy import LiteLLMUnavailable, Proxy
from support.mock_anthropic import MockAnthropic
from support.mock_openai import MockOpenAI
from support.processes import subprocess_env

pytestmark = pytest.mark.litellm

KEYS = {"glm": "glm-key-0123456789abcdef", "kimi": "kimi-key-0123456789abcdef", "deep": "deep-key-0123456789abcdef",
        "gpt": "gpt-key-0123456789abcdef"}
MASTER = "sk-master-0123456789abcdef"

PROFILES = """\
[profiles.glm]
base_url = "{glm}"
token = "env:GLM_T"
fallback = ["deep"]
[profiles.glm.models]
opus = "g-opus"
sonnet = "g-sonnet"
haiku = "g-haiku"

[profiles.kimi]
base_url = "{kimi}"
auth = "x-api-key"
token = "keyring"
[profiles.kimi.models]
opus = "k-opus"
sonnet = "k-sonnet"
haiku = "k-haiku"

[profiles.deep]
base_url = "{deep}"
token = "env:DEEP_T"
[profiles.deep.models]
opus = "d-opus"
sonnet = "d-sonnet"
haiku = "d-haiku"

[profiles.mix]
routes = {{ opus = "kimi", sonnet = "deep", haiku = "deep" }}

[profiles.gpt]
api = "openai-chat"
base_url = "{gpt}"
token = "env:GPT_T"
models = {{ opus = "gpt-big", sonnet = "gpt-big", haiku = "gpt-small" }}

[profiles.resp]
api = "openai-responses"
base_url = "{resp}"
token = "env:GPT_T"
models = {{ opus = "r-big", sonnet = "r-big", haiku = "r-small" }}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ccswitch(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccswitch", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)


def test_the_exported_config_serves_claude_through_the_real_litellm(profiles_file, claude_bin, claude_env, project,
                                                                    tmp_path: Path) -> None:
    with MockAnthropic(reply="from-glm", status=429) as glm, MockAnthropic(reply="from-kimi") as kimi, \
            MockAnthropic(reply="from-deep") as deep, MockOpenAI(final_text="from-gpt") as gpt, \
            MockOpenAI("openai-responses", final_text="from-resp") as resp:
        path = profiles_file(PROFILES.format(glm=glm.url, kimi=kimi.url, deep=deep.url, gpt=gpt.url, resp=resp.url))
        port = free_port()
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), LITELLM_API_KEY=MASTER)
        exported = ccswitch("export", "litellm", "--all", "-o", str(tmp_path / "litellm.yaml"),
                            "--url", f"http://127.0.0.1:{port}", env=env, cwd=project)
        assert exported.returncode == 0, exported.stderr
        config = yaml.safe_load((tmp_path / "litellm.yaml").read_text())
        assert "set KIMI_API_KEY to the key of profile 'kimi': it is in the OS keyring as ccswitch/kimi" in exported.stderr
        text = (tmp_path / "litellm.yaml").read_text()
        assert all(key not in text for key in KEYS.values())
        assert {"glm/g-sonnet": ["deep/d-sonnet"]} in config["router_settings"]["fallbacks"]
        # The client profiles, included as a team file would be.
        path.write_text(f'include = ["{tmp_path / "litellm.ccswitch.toml"}"]\n' + path.read_text())
        proxy_env = {"GLM_T": KEYS["glm"], "KIMI_API_KEY": KEYS["kimi"], "DEEP_T": KEYS["deep"], "GPT_T": KEYS["gpt"],
                     "LITELLM_MASTER_KEY": MASTER, "HOME": str(tmp_path)}
        try:
            proxy = Proxy(tmp_path / "litellm.yaml", port, proxy_env, tmp_path / "litellm.log")
            proxy.__enter__()
        except LiteLLMUnavailable as error:
            pytest.fail(str(error), pytrace=False)
        try:
            # x-api-key provider, its own key.
            result = ccswitch("run", "litellm-kimi", "--", "claude", "-p", "hi", env=env, cwd=project)
            assert result.returncode == 0 and "from-kimi" in result.stdout, result.stdout + result.stderr
            request = kimi.messages[-1]
            assert request.headers.get("x-api-key") == KEYS["kimi"] and request.model in ("k-opus", "k-sonnet", "k-haiku")
            # A routes profile: sonnet goes to deep with deep's bearer key.
            result = ccswitch("run", "litellm-mix", "--", "claude", "-p", "hi", "--model", "sonnet", env=env, cwd=project)
            assert result.returncode == 0 and "from-deep" in result.stdout, result.stdout + result.stderr
            assert deep.messages[-1].model == "d-sonnet"
            assert deep.messages[-1].headers.get("authorization") == f"Bearer {KEYS['deep']}"
            # glm answers 429: the proxy fails over to deep, as glm's fallback list says.
            before = len(deep.messages)
            result = ccswitch("run", "litellm-glm", "--", "claude", "-p", "hi", "--model", "sonnet", env=env, cwd=project)
            assert result.returncode == 0 and "from-deep" in result.stdout, result.stdout + result.stderr
            assert glm.messages and glm.messages[0].headers.get("authorization") == f"Bearer {KEYS['glm']}"
            assert glm.messages[0].model == "g-sonnet"
            assert [m.model for m in deep.messages[before:]][-1] == "d-sonnet"
            # OpenAI-format providers: LiteLLM translates claude's request to their own format.
            result = ccswitch("run", "litellm-gpt", "--", "claude", "-p", "hi", "--model", "sonnet", env=env, cwd=project)
            assert result.returncode == 0 and "from-gpt" in result.stdout, result.stdout + result.stderr + str(gpt.problems)
            assert gpt.seen and {seen.path for seen in gpt.seen} == {"/v1/chat/completions"}, [s.path for s in gpt.seen]
            assert gpt.seen[-1].headers.get("authorization") == f"Bearer {KEYS['gpt']}" and not gpt.problems
            result = ccswitch("run", "litellm-resp", "--", "claude", "-p", "hi", "--model", "sonnet", env=env, cwd=project)
            assert result.returncode == 0 and "from-resp" in result.stdout, result.stdout + result.stderr + str(resp.problems)
            assert resp.seen and {seen.path for seen in resp.seen} == {"/v1/responses"}, [s.path for s in resp.seen]
            assert resp.seen[-1].model == "r-big" and not resp.problems
        finally:
            proxy.__exit__()
        for mock in (glm, kimi, deep):
            for request in mock.messages:
                assert MASTER not in str(request.headers), "the proxy's own key reached a provider"
        for mock in (gpt, resp):
            for seen in mock.seen:
                assert MASTER not in str(seen.headers), "the proxy's own key reached a provider"
