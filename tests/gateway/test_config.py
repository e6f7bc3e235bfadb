"""The config contract: what validates, and the one-line error for each mistake."""

from __future__ import annotations

import copy

import pytest

from ccswitch.gateway.config import DEFAULT_TIMEOUTS, GatewayConfig, GatewayConfigError

MODELS = {"opus": "k-opus", "sonnet": "k-sonnet", "haiku": "k-haiku", "fable": "k-fable"}


def valid() -> dict:
    return {
        "session": "s1",
        "key": "k" * 32,
        "upstreams": {
            "kimi": {"base_url": "https://api.example.com/anthropic/", "token": "sk-kimi-SECRET", "models": dict(MODELS),
                     "fallback": ["glm"]},
            "glm": {"base_url": "http://127.0.0.1:9", "auth": "x-api-key", "token": "sk-glm-SECRET",
                    "models": dict(MODELS), "serves": ["glm-*"], "supports_1m": True, "headers": {"X-Team": "a"}},
            "local": {"base_url": "http://localhost:11434", "auth": "none", "models": dict(MODELS)},
        },
        "tiers": {"opus": "kimi", "sonnet": "glm", "haiku": "local", "fable": "kimi"},
    }


def error_for(mutate) -> str:
    data = copy.deepcopy(valid())
    mutate(data)
    with pytest.raises(GatewayConfigError) as info:
        GatewayConfig.from_dict(data)
    message = str(info.value)
    assert "\n" not in message
    assert "SECRET" not in message and "k" * 32 not in message
    return message


def test_a_valid_config_with_defaults():
    config = GatewayConfig.from_dict(valid())
    kimi, glm, local = (config.upstreams[n] for n in ("kimi", "glm", "local"))
    assert kimi.base_url == "https://api.example.com/anthropic"  # trailing slash dropped
    assert (kimi.auth, kimi.supports_1m, kimi.fallback, kimi.serves) == ("bearer", False, ("glm",), ())
    assert (glm.auth, glm.supports_1m, glm.headers) == ("x-api-key", True, {"X-Team": "a"})
    assert local.token is None
    assert config.timeouts == DEFAULT_TIMEOUTS and config.listen is None and config.records is None
    assert "SECRET" not in repr(config) + repr(kimi) and "k" * 32 not in repr(config)


def test_listen_and_parent():
    data = valid() | {"listen": {"fd": 5}, "parent_pid": 4242, "records": "/tmp/x.sqlite3"}
    config = GatewayConfig.from_dict(data)
    assert (config.listen, config.parent_pid, config.records) == ({"fd": 5}, 4242, "/tmp/x.sqlite3")
    assert GatewayConfig.from_dict(valid() | {"listen": {"host": "::1", "port": 0}}).listen == {"host": "::1", "port": 0}


def test_the_exit_status_is_a_usage_error():
    assert GatewayConfigError.exit_status == 2


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["tiers"].update(opus="kimmi"), "tiers.opus: unknown profile 'kimmi' (known: kimi, glm, local)"),
        (lambda d: d["tiers"].pop("haiku"), "tiers.haiku: routed to no profile"),
        (lambda d: d["tiers"].update(fable=""), "tiers.fable: routed to no profile"),
        (lambda d: d["upstreams"]["kimi"].update(fallback=["kimi"]),
         "upstreams.kimi.fallback: fallback cycle: 'kimi' falls back to itself"),
        (lambda d: d["upstreams"]["kimi"].update(fallback=["nope"]), "upstreams.kimi.fallback: unknown profile 'nope'"),
        (lambda d: d["upstreams"]["kimi"].update(fallback=["glm", "glm"]), "'glm' is listed twice"),
        (lambda d: d.update(tierz={}), "tierz: unknown key"),
        (lambda d: d["upstreams"]["kimi"].update(modles={}), "upstreams.kimi.modles: unknown key"),
        (lambda d: d.update(key="short"), "key: must be 16-512 printable ASCII"),
        (lambda d: d["upstreams"]["kimi"].pop("token"), "upstreams.kimi.token: auth 'bearer' needs a non-empty token"),
        (lambda d: d["upstreams"]["kimi"].update(token="SECRET\nX-Evil: 1"), "upstreams.kimi.token: auth 'bearer' needs"),
        (lambda d: d["upstreams"]["kimi"].update(auth="basic"), "upstreams.kimi.auth: 'basic' is not one of"),
        (lambda d: d["upstreams"]["kimi"].update(base_url="https://x.example/v1"), "ends in /v1"),
        (lambda d: d["upstreams"]["kimi"].update(base_url="ftp://x"), "is not an http(s) URL"),
        (lambda d: d["upstreams"]["kimi"]["models"].pop("fable"), "upstreams.kimi.models.fable: missing"),
        (lambda d: d["upstreams"]["kimi"].update(headers={"Authorization": "x"}), "the gateway sets this header itself"),
        (lambda d: d["upstreams"]["kimi"].update(serves="glm-*"), "upstreams.kimi.serves: must be a list of strings"),
        (lambda d: d["upstreams"].update({"a::b": d["upstreams"]["kimi"]}), "bad profile name 'a::b'"),
        (lambda d: d.update(upstreams={}), "upstreams: at least one profile is needed"),
        (lambda d: d.update(listen={"host": "0.0.0.0", "port": 80}), "is not a loopback address; set allow_remote"),
        (lambda d: d.update(timeouts={"first_byte": 0}), "timeouts.first_byte: must be a positive number"),
        (lambda d: d.update(version=2), "version: 2 is not supported"),
        (lambda d: d.update(parent_pid="12"), "parent_pid: must be an integer"),
    ],
)
def test_each_mistake_gets_one_clear_line(mutate, expected):
    assert expected in error_for(mutate)


def test_remote_listening_needs_allow_remote():
    config = GatewayConfig.from_dict(valid() | {"listen": {"host": "0.0.0.0", "port": 80}, "allow_remote": True})
    assert config.listen == {"host": "0.0.0.0", "port": 80}


def test_mutual_fallbacks_are_not_a_cycle():
    # Failover follows the routed profile's own list only, so kimi -> glm and glm -> kimi never loop.
    data = valid()
    data["upstreams"]["glm"]["fallback"] = ["kimi"]
    assert GatewayConfig.from_dict(data).upstreams["glm"].fallback == ("kimi",)


def test_not_an_object():
    with pytest.raises(GatewayConfigError, match="config: must be an object, not list"):
        GatewayConfig.from_dict([])
