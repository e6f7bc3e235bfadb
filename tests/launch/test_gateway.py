"""A run through the gateway, planned without starting one: the model claude asks for, timeouts
from the environment."""

from __future__ import annotations

import os

import pytest

from ccswitch.errors import UsageError
from ccswitch.gateway.config import DEFAULT_TIMEOUTS, GatewayConfig
from ccswitch.gateway.routing import Router
from ccswitch.launch import front_door
from ccswitch.launch.gateway import timeouts_from
from ccswitch.launch.plan import prepare

PROFILES = """\
[profiles.glm]
base_url = "http://127.0.0.1:9/glm"
token = "glm-token-0123456789"
model = "glm-air"
[profiles.glm.models]
opus = "glm-5"
sonnet = "glm-5"
haiku = "glm-flash"

[profiles.tiered]
extends = "glm"
model = "glm-flash"

[profiles.aliased]
extends = "glm"
model = "sonnet"

[profiles.mix]
routes = { opus = "glm" }
model = "opus"
"""


def gateway_launch(name: str, profiles_file, fake_claude, text: str = PROFILES):
    profiles_file(text)
    env = dict(os.environ, PATH=f"{fake_claude.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return prepare(name, ["claude", "-p", "hi"], profile_set=front_door.load_profiles(env), env=env, cwd=os.getcwd(),
                   gateway=True)


@pytest.mark.parametrize(("name", "model", "sent"), [
    ("glm", "glm::glm-air", "glm-air"),  # a full id no tier uses: qualified, or the gateway would not serve it
    ("tiered", "tiered::glm-flash", "glm-flash"),
    ("aliased", "sonnet", "glm-5"),  # claude resolves an alias through the tier the gateway routes
    ("mix", "opus", "glm-5"),
])
def test_the_profiles_model_reaches_its_profile_through_the_gateway(profiles_file, fake_claude, name, model, sent):
    launch = gateway_launch(name, profiles_file, fake_claude)
    at = launch.argv.index("--model")
    assert launch.argv[at + 1] == model
    route = Router(GatewayConfig.from_dict(launch.gateway.config)).route(model)
    assert route is not None and (route.profile, route.model) == (name if name != "mix" else "glm", sent)


def test_timeouts_from_the_environment():
    assert timeouts_from({}) == {}
    assert timeouts_from({"CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT": "15", "CCSWITCH_GATEWAY_IDLE_TIMEOUT": " 2.5 "}) == {
        "first_byte": 15.0, "idle": 2.5}


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_idle_timeout_is_one_line_naming_the_variable(value):
    with pytest.raises(UsageError, match=f"^CCSWITCH_GATEWAY_IDLE_TIMEOUT='{value}': must be a number of seconds from "
                                         "0.1 to 86400$"):
        timeouts_from({"CCSWITCH_GATEWAY_IDLE_TIMEOUT": value})


def test_the_idle_limit_is_well_under_claudes_own():
    # claude gives up on a silent stream after 300 s (docs/gateway.md, "Timeouts"): the gateway must
    # end it well before, with an error event, so that claude's retry goes elsewhere.
    assert DEFAULT_TIMEOUTS["idle"] <= 300 / 3


CHAIN = """\
[profiles.a]
base_url = "http://127.0.0.1:9/a"
token = "a-token-0123456789"
fallback = ["b"]
[profiles.a.models]
opus = "a-opus"

[profiles.b]
base_url = "http://127.0.0.1:9/b"
token = "b-token-0123456789"
fallback = ["c"]
[profiles.b.models]
opus = "b-opus"

[profiles.c]
base_url = "http://127.0.0.1:9/c"
token = "c-token-0123456789"
[profiles.c.models]
opus = "c-opus"

[profiles.notok]
base_url = "http://127.0.0.1:9/n"
[profiles.notok.models]
opus = "n-opus"

[profiles.d]
base_url = "http://127.0.0.1:9/d"
token = "d-token-0123456789"
fallback = ["notok", "a"]
[profiles.d.models]
opus = "d-opus"

[profiles.mixa]
routes = { opus = "a" }

[profiles.mixn]
routes = { opus = "notok", sonnet = "a" }
"""


def chain_launch(name: str, profiles_file, fake_claude, text: str = CHAIN):
    return gateway_launch(name, profiles_file, fake_claude, text)


@pytest.mark.parametrize("name", ["a", "mixa"])
def test_a_fallback_with_a_fallback_of_its_own_starts_the_gateway(profiles_file, fake_claude, name):
    launch = chain_launch(name, profiles_file, fake_claude)
    config = GatewayConfig.from_dict(launch.gateway.config)
    # The gateway follows the routed profile's own list only: c is no upstream, and b's list is trimmed to match.
    assert list(config.upstreams) == ["a", "b"] and config.upstreams["b"].fallback == ()
    assert Router(config).route("opus").attempts == (("a", "a-opus"), ("b", "b-opus"))
    assert launch.warnings == []


def test_a_profile_without_a_token_through_the_gateway_is_one_line_naming_it(profiles_file, fake_claude):
    with pytest.raises(UsageError) as raised:
        chain_launch("notok", profiles_file, fake_claude)
    assert raised.value.message == (
        "profile 'notok' has no token, and the gateway must send its endpoint one (set `token` in [profiles.notok], or "
        'auth = "none" for an endpoint that takes none)')
    with pytest.raises(UsageError, match="^profile 'mixn': 'notok' has no token, "):
        chain_launch("mixn", profiles_file, fake_claude)


def test_a_fallback_without_a_token_is_left_out_with_a_warning(profiles_file, fake_claude):
    launch = chain_launch("d", profiles_file, fake_claude)
    config = GatewayConfig.from_dict(launch.gateway.config)
    assert list(config.upstreams) == ["d", "a"] and config.upstreams["d"].fallback == ("a",)
    assert [w.message for w in launch.warnings] == [
        "profile 'd': its fallback 'notok' is left out of the gateway (profile 'notok' has no token, and the gateway "
        'must send its endpoint one (set `token` in [profiles.notok], or auth = "none" for an endpoint that takes none))']


def test_an_endpoint_that_takes_no_token_is_an_upstream(profiles_file, fake_claude):
    launch = chain_launch("notok", profiles_file, fake_claude, CHAIN.replace('base_url = "http://127.0.0.1:9/n"',
                                                                             'base_url = "http://127.0.0.1:9/n"\nauth = "none"'))
    assert GatewayConfig.from_dict(launch.gateway.config).upstreams["notok"].auth == "none"
QUOTA_PROFILES = """\
[profiles.k]
base_url = "http://127.0.0.1:9/k"
token = "k-token-0123456789"
plan = "pro"
models = { opus = "k-opus", sonnet = "k-sonnet", haiku = "k-haiku" }
[[profiles.k.quota]]
window = "5h"
prompts = 600
reset = "block"
[[profiles.k.quota]]
window = "1w"
reset = "fixed"
anchor = 2026-01-05T00:00:00+08:00
requests = 45000
plan = "pro"
[[profiles.k.quota]]
window = "1w"
requests = 90000
plan = "max"
[[profiles.k.quota]]
window = "1mo"
reset = "fixed"
[profiles.plain]
base_url = "http://127.0.0.1:9/p"
token = "p-token-0123456789"
models = { opus = "p-opus", sonnet = "p-sonnet", haiku = "p-haiku" }
[profiles.mix]
routes = { opus = "k", sonnet = "plain" }
"""


def test_the_gateway_gets_each_upstreams_quota_windows_in_force(profiles_file, fake_claude):
    profiles_file(QUOTA_PROFILES)
    env = dict(os.environ, PATH=f"{fake_claude.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    launch = prepare("mix", ["claude", "-p", "hi"], profile_set=front_door.load_profiles(env), env=env, cwd=os.getcwd())
    upstreams = launch.gateway.config["upstreams"]
    # the plan's windows and those of no plan (one only tracked too), not another plan's
    assert upstreams["k"]["quota"] == [
        {"window": "5h", "reset": "block", "prompts": 600},
        {"window": "1w", "reset": "fixed", "requests": 45000, "anchor": "2026-01-05T00:00:00+08:00"},
        {"window": "1mo", "reset": "fixed"},
    ]
    assert "quota" not in upstreams["plain"]
    config = GatewayConfig.from_dict(launch.gateway.config)
    assert [(q.window, q.measure, q.limit, q.reset, q.anchor) for q in config.upstreams["k"].quotas] == [
        ("5h", "prompts", 600, "block", None), ("1w", "requests", 45000, "fixed", (2026, 1, 5, 0, 0, 0, 8 * 3600)),
        ("1mo", "requests", None, "fixed", None)]
    assert config.upstreams["plain"].quotas == ()
