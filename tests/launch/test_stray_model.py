"""A `"model"` left in a settings file, on `run`: a plain profile and a gateway session (`routes`,
`run --gateway`) follow the same rule: a model the session does not serve is replaced by the opus
tier in the `--settings` file, with a warning naming the file; one it serves is kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ccswitch.launch import front_door
from ccswitch.launch.plan import prepare

PROFILES = """\
[profiles.pa]
base_url = "http://127.0.0.1:9/a"
token = "env:PA_T"
serves = ["pa-*"]
[profiles.pa.models]
opus = "pa-opus"
sonnet = "pa-sonnet"
haiku = "pa-haiku"

[profiles.pb]
base_url = "http://127.0.0.1:9/b"
token = "env:PB_T"
[profiles.pb.models]
opus = "pb-opus"
sonnet = "pb-sonnet"
haiku = "pb-haiku"

[profiles.pc]
base_url = "http://127.0.0.1:9/c"
token = "env:PB_T"
[profiles.pc.models]
opus = "pc-opus"

[profiles.mix]
routes = { opus = "pa", sonnet = "pb", haiku = "pb" }
"""


@pytest.fixture
def env(profiles_file, fake_claude: Path) -> dict[str, str]:
    profiles_file(PROFILES)
    return dict(os.environ, PATH=f"{fake_claude.parent}{os.pathsep}{os.environ.get('PATH', '')}", PA_T="pa-token-0123456789",
                PB_T="pb-token-0123456789")


def user_model(home: Path, model: str) -> Path:
    path = home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": model}))
    return path


def plan(env, name: str, *options: str, **kw):
    return prepare(name, ["claude", "-p", "hi", *options], profile_set=front_door.load_profiles(env), env=env,
                   cwd=os.getcwd(), **kw)


@pytest.mark.parametrize(("name", "gateway"), [("pa", False), ("mix", False), ("pa", True)])
@pytest.mark.parametrize("stale", ["claude-3-5-sonnet-20241022", "pz::pz-opus", "pb-sonnet-typo"])
def test_a_stale_settings_model_is_replaced_on_every_kind_of_session(env, isolated_home, name, gateway, stale):
    path = user_model(isolated_home, stale)
    launch = plan(env, name, gateway=gateway)
    assert launch.settings["model"] == "opus"
    [warning] = [w for w in launch.warnings if w.code == "stray-model"]
    assert f"{path} sets \"model\": {stale!r}, which profile {name!r} does not serve" in warning.message
    assert "claude starts with opus" in warning.message


@pytest.mark.parametrize(("name", "gateway", "model"), [
    ("mix", False, "sonnet"), ("mix", False, "pb::pb-sonnet"), ("mix", False, "pb::anything"), ("mix", False, "pa-custom"),
    ("mix", False, "pb-haiku"), ("pa", True, "pa::pa-haiku"), ("pa", False, "pa-sonnet"), ("pa", False, "Haiku"),
])
def test_a_model_the_session_serves_is_kept(env, isolated_home, name, gateway, model):
    user_model(isolated_home, model)
    launch = plan(env, name, gateway=gateway)
    assert "model" not in launch.settings and not [w for w in launch.warnings if w.code == "stray-model"]


@pytest.mark.parametrize("model", ["pa::pa-opus", "pc::pc-opus"])
def test_a_gateway_name_is_stray_outside_its_session(env, isolated_home, model):
    """A plain profile's endpoint never serves `profile::model`, even one naming itself; a gateway
    session serves only the names of its own profiles (pc is not one of mix's)."""
    user_model(isolated_home, model)
    assert plan(env, "pa").settings["model"] == "opus"
    assert plan(env, "mix").settings["model"] == "opus" if model.startswith("pc") else "model" not in plan(env, "mix").settings


def test_a_model_typed_on_the_command_line_wins_without_a_warning(env, isolated_home):
    user_model(isolated_home, "claude-3-5-sonnet-20241022")
    launch = plan(env, "mix", "--model", "haiku")
    assert "model" not in launch.settings and not launch.warnings
