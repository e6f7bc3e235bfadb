"""The resume hint: a claude started by `run` is told to print `ccswitch --resume ID` on exit, and
`ccswitch --resume ID` resumes the session on the profile it last ran on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ccswitch import paths
from ccswitch.errors import UsageError
from ccswitch.launch import front_door
from ccswitch.launch.plan import prepare, with_resume_hint
from ccswitch.usage.sessions import last_launch, record_session

PROFILES = """\
default = "gw"

[profiles.gw]
base_url = "http://127.0.0.1:9/gw"
token = "env:GW_TOKEN"

[profiles.other]
base_url = "http://127.0.0.1:9/other"
token = "env:GW_TOKEN"
"""
SESSION = "0b9c3f5e-8a59-4c2e-9d55-2f1e6c7a8b90"


@pytest.fixture
def env(profiles_file, fake_claude: Path, tmp_path: Path) -> dict[str, str]:
    profiles_file(PROFILES)
    ccswitch = tmp_path / "bin" / "ccswitch"  # the installed command, beside the fake claude
    ccswitch.write_text("#!/bin/sh\n")
    ccswitch.chmod(0o755)
    return dict(os.environ, PATH=f"{fake_claude.parent}{os.pathsep}/usr/bin:/bin", GW_TOKEN="gw-token-0123456789")


def test_a_claude_run_is_told_to_name_ccswitch_in_its_resume_hint(env):
    launch = prepare("gw", ["claude"], profile_set=front_door.load_profiles(env), env=env, cwd=os.getcwd())
    assert launch.env["CLAUDE_CODE_RESUME_HINT_COMMAND"] == "ccswitch"
    other = prepare("gw", ["sh", "-c", "true"], profile_set=front_door.load_profiles(env), env=env, cwd=os.getcwd())
    assert "CLAUDE_CODE_RESUME_HINT_COMMAND" not in other.env


def test_no_hint_without_a_ccswitch_command_to_type_and_the_users_own_one_stays(tmp_path):
    assert with_resume_hint({"PATH": str(tmp_path)}) == {"PATH": str(tmp_path)}  # run as `python -m ccswitch`
    mine = {"PATH": os.environ["PATH"], "CLAUDE_CODE_RESUME_HINT_COMMAND": "cc"}
    assert with_resume_hint(mine) == mine


def test_resume_uses_the_profile_the_session_last_ran_on(env, monkeypatch):
    state = paths.user_state_dir(env)
    record_session(state, SESSION, "gw", 1.0)
    record_session(state, SESSION, "other", 2.0)
    assert last_launch(state, SESSION) == ("other", False) and last_launch(state, "unknown") is None
    started = {}
    monkeypatch.setattr(front_door, "exec_program", lambda path, argv, child_env: started.update(argv=argv) or 0)
    assert front_door.resume([SESSION], env) == 0
    argv = started["argv"]
    assert argv[-2:] == ["--resume", SESSION] and "--session-id" not in argv
    settings = json.loads(Path(argv[argv.index("--settings") + 1]).read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/other"
    front_door.resume(["another-session"], env)  # unknown: the usual choice (the default)
    settings = json.loads(Path(started["argv"][started["argv"].index("--settings") + 1]).read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/gw"


def test_a_session_run_through_the_gateway_resumes_through_it(env, monkeypatch, profiles_file):
    profiles_file(PROFILES + '[profiles.other.models]\nopus = "o-opus"\nsonnet = "o-sonnet"\nhaiku = "o-haiku"\n')
    started = {}
    monkeypatch.setattr(front_door, "start_gateway", lambda launch: started.update(gateway=launch.gateway))
    monkeypatch.setattr(front_door, "exec_program", lambda path, argv, child_env: 0)
    assert front_door.run("other", ["claude", "--session-id", SESSION], env=env, gateway=True) == 0
    assert last_launch(paths.user_state_dir(env), SESSION) == ("other", True)
    started.clear()
    assert front_door.resume([SESSION], env) == 0
    assert started["gateway"] is not None  # not a direct launch of `other`: failover stays
    assert last_launch(paths.user_state_dir(env), SESSION) == ("other", True)


@pytest.mark.parametrize("args", [["a", "b"], ["--fork-session"]])
def test_resume_takes_one_session_id_at_most(env, args):
    with pytest.raises(UsageError, match="takes one session id at most"):
        front_door.resume(args, env)
