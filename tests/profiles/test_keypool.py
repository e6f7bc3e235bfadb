"""Key pools, the profile side: `token = [...]` is checked by the schema, described key by key
without resolving anything, resolved to its first working key for a plain `run`, and handed to the
gateway's planner as the list of (index, key) that resolve."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ccswitch.commands import profiles as commands
from ccswitch.console import Output
from ccswitch.errors import ProfileFileError, UsageError
from ccswitch.launch import front_door
from ccswitch.launch.gateway import plan_gateway, upstream_keys
from ccswitch.launch.plan import prepare
from ccswitch.profiles import keyrings, manage, tokens
from ccswitch.profiles.cache import load_profiles
from ccswitch.profiles.presets import presets_dir

KEY_A = "sk-pool-key-a-0123456789abcdef"
KEY_B = "sk-pool-key-b-fedcba9876543210"

POOL = """\
[profiles.pool]
base_url = "http://127.0.0.1:9/api"
token = ["env:POOL_KEY_A", "env:POOL_KEY_B", "keyring:pool-third"]
[profiles.pool.models]
opus = "m-opus"
sonnet = "m-sonnet"
haiku = "m-haiku"

[profiles.mix]
routes = { opus = "pool", sonnet = "pool", haiku = "pool" }
"""


@pytest.fixture
def pool_env(profiles_file, fake_claude: Path) -> dict[str, str]:
    profiles_file(POOL)
    env = dict(os.environ)
    env["PATH"] = f"{fake_claude.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_schema_refuses_an_empty_pool_a_bad_reference_and_a_repeated_key(profiles_file) -> None:
    bad = {
        "token = []": "a key pool must be a non-empty array",
        'token = ["env:A", 3]': "a key pool must be a non-empty array",
        'token = ["env:A", "env:9x"]': "token[1]: 'env:9x' does not name an environment variable",
        'token = ["env:A", "env:A"]': "token[1]: the pool names env:A twice",
        'token = ["keyring", "keyring"]': "a bare `keyring` is the profile's one entry",
    }
    for line, message in bad.items():
        path = profiles_file(f'[profiles.p]\nbase_url = "https://x.example"\n{line}\n')
        with pytest.raises(ProfileFileError) as caught:
            load_profiles(dict(os.environ))
        assert message in caught.value.message and f"{path}:3:" in caught.value.message


def test_a_pool_is_a_tuple_on_the_profile_and_a_child_replaces_it(profiles_file) -> None:
    profiles_file(POOL + '\n[profiles.child]\nextends = "pool"\n\n[profiles.single]\nextends = "pool"\ntoken = "env:ONE"\n')
    profile_set = load_profiles(dict(os.environ))
    assert profile_set.get("pool").token == ("env:POOL_KEY_A", "env:POOL_KEY_B", "keyring:pool-third")
    assert profile_set.get("child").token == profile_set.get("pool").token
    assert profile_set.get("single").token == "env:ONE"
    # Through the JSON cache too (a warm `run`): still a tuple, not a list.
    assert load_profiles(dict(os.environ)).get("pool").token == profile_set.get("pool").token


def test_describing_a_pool_resolves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import keyring

    def boom(*args: object) -> None:
        raise AssertionError("describing a pool read the keyring")

    monkeypatch.setattr(keyring, "get_password", boom)
    marker = tmp_path / "ran"
    status = tokens.describe_token(("env:A", "env:B", "keyring:x", f"cmd:touch {marker}"), {"B": KEY_B}, "p")
    assert status.kind == "pool" and status.found is True
    assert [m.found for m in status.members] == [False, True, None, None]
    assert status.detail.startswith("pool of 4 keys, 1 found (0: missing (A is not set); 1: found in $B;")
    assert not marker.exists()
    assert KEY_B not in json.dumps(status.as_dict())


def test_run_without_the_gateway_uses_the_first_key_that_resolves(pool_env: dict[str, str]) -> None:
    pool_env["POOL_KEY_B"] = KEY_B  # A is not set: B is the first that resolves
    launch = prepare("pool", ["claude", "-p", "hi"], profile_set=front_door.load_profiles(pool_env), env=pool_env,
                     cwd=os.getcwd())
    assert launch.token == KEY_B
    pool_env["POOL_KEY_A"] = KEY_A
    launch = prepare("pool", ["claude", "-p", "hi"], profile_set=front_door.load_profiles(pool_env), env=pool_env,
                     cwd=os.getcwd())
    assert launch.token == KEY_A


def test_a_pool_where_nothing_resolves_is_one_error_naming_each_key(pool_env: dict[str, str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, entry: None)
    with pytest.raises(UsageError) as caught:
        prepare("pool", ["claude"], profile_set=front_door.load_profiles(pool_env), env=pool_env, cwd=os.getcwd())
    message = caught.value.message
    assert message.startswith("profile 'pool': token: no key of its pool of 3 resolves (key 0: token: POOL_KEY_A is not set")
    assert "key 2: no token in the OS keyring under ccswitch/pool-third" in message
    assert "\n" not in message


def test_the_gateway_planner_gets_every_key_that_resolves_with_its_index(pool_env: dict[str, str], file_keyring) -> None:
    pool_env["POOL_KEY_B"] = KEY_B
    import keyring

    keyring.set_password(keyrings.KEYRING_SERVICE, "pool-third", "sk-third-key-000111222")
    profile_set = front_door.load_profiles(pool_env)
    resolver = tokens.TokenResolver(pool_env)
    assert upstream_keys(profile_set.get("pool"), resolver) == [(1, KEY_B), (2, "sk-third-key-000111222")]
    plan = plan_gateway(profile_set.get("mix"), profile_set, resolver, session="s", records=None)
    # The gateway gets the pool: every key that resolves, with its index in the profile's array...
    upstream = plan.config["upstreams"]["pool"]
    assert upstream["tokens"] == [[1, KEY_B], [2, "sk-third-key-000111222"]] and "token" not in upstream
    # ...and every env: key of the pool is kept from the session, not only the first.
    assert set(plan.token_variables) == {"POOL_KEY_A", "POOL_KEY_B"}


def test_list_and_show_describe_the_pool(pool_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda *a: (_ for _ in ()).throw(AssertionError("keyring read")))
    monkeypatch.setenv("POOL_KEY_A", KEY_A)
    commands.list_profiles(as_json=True)
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    pool = rows["pool"]["token"]
    assert pool["kind"] == "pool" and [m["found"] for m in pool["pool"]] == [True, False, None]
    commands.list_profiles(wide=True, out=Output(width=200))
    listed = capsys.readouterr().out
    assert "pool of 3: 1 found, 1 not checked" in listed
    commands.show_profile("pool")
    shown = capsys.readouterr().out
    assert "[env:POOL_KEY_A, env:POOL_KEY_B, keyring:pool-third]: pool of 3 keys, 1 found" in shown
    assert KEY_A not in shown and KEY_A not in listed


def test_token_set_refuses_a_pool(pool_env: dict[str, str]) -> None:
    env = pool_env
    path = Path(env["CCSWITCH_HOME"]) / "profiles.toml"
    before = path.read_text()
    with pytest.raises(UsageError) as caught:
        manage.set_token(str(path), presets_dir(), "pool", "sk-new", cache_path=None)
    assert "has a key pool of 3" in caught.value.message and "keyring:ENTRY" in caught.value.message
    assert path.read_text() == before
