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
        (lambda d: d["upstreams"]["kimi"].update(tokens=[[0, "sk-pool-SECRET"]]),
         "upstreams.kimi: give token (one key) or tokens (a pool), not both"),
        (lambda d: d["upstreams"]["kimi"].pop("token") and d["upstreams"]["kimi"].update(tokens=[]),
         "upstreams.kimi.tokens: must be a non-empty list of [index, key] pairs"),
        (lambda d: d["upstreams"]["kimi"].pop("token") and d["upstreams"]["kimi"].update(tokens=["sk-pool-SECRET"]),
         "upstreams.kimi.tokens[0]: must be [index, key]"),
        (lambda d: d["upstreams"]["kimi"].pop("token") and d["upstreams"]["kimi"].update(
            tokens=[[0, "sk-a-SECRET"], [1, "sk-b-SECRET\r"]]), "upstreams.kimi.tokens[1]: must be [index, key]: an index"),
        (lambda d: d["upstreams"]["kimi"].pop("token") and d["upstreams"]["kimi"].update(tokens=[[-1, "sk-a-SECRET"]]),
         "upstreams.kimi.tokens[0]: must be [index, key]"),
        (lambda d: d["upstreams"]["kimi"].pop("token") and d["upstreams"]["kimi"].update(
            tokens=[[2, "sk-a-SECRET"], [2, "sk-b-SECRET"]]), "upstreams.kimi.tokens[1]: index 2 is given twice"),
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


def test_a_key_pool_keeps_each_key_with_its_index():
    data = valid()
    data["upstreams"]["kimi"].pop("token")
    data["upstreams"]["kimi"]["tokens"] = [[1, "sk-b-SECRET"], [2, "sk-c-SECRET"]]
    config = GatewayConfig.from_dict(data)
    kimi, glm, local = (config.upstreams[n] for n in ("kimi", "glm", "local"))
    assert kimi.keys == ((1, "sk-b-SECRET"), (2, "sk-c-SECRET")) and kimi.token == "sk-b-SECRET"
    assert glm.keys == ((None, "sk-glm-SECRET"),) and local.keys == ()  # one key: no index to record
    assert "SECRET" not in repr(config) + repr(kimi)


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


def test_an_upstreams_quota_windows_in_the_profiles_format():
    data = valid()
    data["upstreams"]["kimi"]["quota"] = {"window": "5h", "prompts": 600, "reset": "block"}
    data["upstreams"]["glm"]["quota"] = [{"window": "1w", "requests": 45000, "reset": "fixed",
                                          "anchor": "2026-01-05T00:00:00+08:00"}, {"window": "1d"}]
    config = GatewayConfig.from_dict(data)
    kimi, glm, local = (config.upstreams[n] for n in ("kimi", "glm", "local"))
    assert [(q.window, q.seconds, q.measure, q.limit, q.reset) for q in kimi.quotas] == [
        ("5h", 5 * 3600, "prompts", 600, "block")]
    assert [(q.window, q.limit, q.anchor) for q in glm.quotas] == [("1w", 45000, (2026, 1, 5, 0, 0, 0, 8 * 3600)),
                                                                    ("1d", None, None)]  # only tracked
    assert local.quotas == ()


@pytest.mark.parametrize(("quota", "expected"), [
    ([], "upstreams.kimi.quota: an empty array (leave `quota` out for no quota)"),
    ({"window": "5x", "prompts": 1}, "upstreams.kimi.quota.window: '5x' is not a duration (30m, 5h, 7d, 1w, 1mo)"),
    ([{"window": "5h", "prompts": 1}, {"window": "1w", "requests": 0}],
     "upstreams.kimi.quota[1].requests: must be a whole number above 0, not 0"),
    ({"window": "5h", "prompts": 1, "tokens": 5}, "upstreams.kimi.quota: one measure per window (prompts or tokens)"),
    ({"window": "5h", "reset": "weekly"}, "upstreams.kimi.quota.reset: 'weekly' is not one of rolling, block, fixed"),
    ({"window": "1w", "reset": "fixed", "anchor": "monday"}, "upstreams.kimi.quota.anchor: 'monday' is not a date"),
    ({"window": "5h", "limit": 5}, "upstreams.kimi.quota: unknown key 'limit'"),
    ("5h", "upstreams.kimi.quota: must be a table such as"),
])
def test_a_bad_quota_is_one_line_naming_the_upstream_and_the_key(quota, expected):
    assert error_for(lambda d: d["upstreams"]["kimi"].update(quota=quota)).startswith(expected)
