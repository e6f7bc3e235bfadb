"""The settings "model" around ccswitch sessions, with the real claude and loopback mocks: a stale
Claude id left in a settings file does not pick a gateway session's tier (as it does not pick a
plain profile's), and what `/model` saves inside a session is flagged by `status` and `doctor`, with
a fix that works."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.claude_client import skip_first_run
from support.mock_anthropic import MockAnthropic
from support.processes import ccswitch, subprocess_env, wait_until
from support.profiles_data import PA_PB
from support.terminal import Terminal

RETIRED = "claude-3-5-sonnet-20241022"
TOKENS = {"pa": "pa-token-0123456789", "pb": "pb-token-0123456789"}


@pytest.fixture
def mocks():
    with MockAnthropic(reply="from-pa") as pa, MockAnthropic(reply="from-pb") as pb:
        yield {"pa": pa, "pb": pb}


@pytest.fixture
def env(claude_bin, claude_env, profiles_file, mocks) -> dict[str, str]:
    profiles_file(PA_PB.format(pa=mocks["pa"].url, pb=mocks["pb"].url))
    return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), PA_T=TOKENS["pa"], PB_T=TOKENS["pb"])


def user_settings(home: Path) -> Path:
    return home / ".claude" / "settings.json"


def write_user_model(home: Path, model: str) -> None:
    user_settings(home).parent.mkdir(parents=True, exist_ok=True)
    user_settings(home).write_text(json.dumps({"model": model}, indent=2) + "\n")


def session_model_warnings(env: dict[str, str], cwd: Path) -> tuple[list[dict], list[dict]]:
    status = json.loads(ccswitch("status", "--json", env=env, cwd=cwd).stdout)
    doctor = json.loads(ccswitch("doctor", "--json", env=env, cwd=cwd).stdout)
    return ([w for w in status["warnings"] if w["code"] in ("gateway-model", "stray-model")],
            [c for c in doctor["checks"] if c["name"] == "session model"])


def test_a_retired_claude_model_in_the_user_settings_does_not_pick_a_gateway_tier(env, mocks, project, isolated_home):
    """Before: the gateway routed the retired sonnet id to the sonnet tier (pb), and claude said it was
    retired. A plain profile already had the opus tier put in its --settings; a routes profile too."""
    write_user_model(isolated_home, RETIRED)
    result = ccswitch("run", "mix", "--", "claude", "-p", "hi", env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "from-pa" and [m.model for m in mocks["pa"].messages][:1] == ["pa-opus"]
    assert not mocks["pb"].messages
    assert f"{user_settings(isolated_home)} sets \"model\": '{RETIRED}', which profile 'mix' does not serve" in result.stderr
    assert "was retired" not in result.stdout + result.stderr  # claude's own notice of the model it started on


def test_what_slash_model_saves_in_a_session_is_flagged_and_the_fix_works(env, mocks, project, isolated_home, claude_bin,
                                                                          claude_env):
    """Interactive claude: the session starts on the opus tier despite a retired model in the user
    settings; `/model pb::pb-sonnet` then saves that gateway name as the user's default (claude's own
    write, read back here); `status` and `doctor` name the file and the fix; the fix removes it."""
    write_user_model(isolated_home, RETIRED)
    skip_first_run(isolated_home, project)
    with Terminal([sys.executable, "-m", "ccswitch", "run", "mix", "--", "claude"], env, str(project)) as term:
        assert term.wait_for("❯", 60), term.text()[-2000:]
        term.type("first question\r")
        assert wait_until(lambda: mocks["pa"].messages), term.text()[-2000:]
        assert mocks["pa"].messages[0].model == "pa-opus" and not mocks["pb"].messages
        term.type("/model pb::pb-sonnet")
        time.sleep(1)
        term.type("\r")
        if term.wait_for("Switch model?", 10):  # a conversation is cached for the current model: confirm
            term.type("\r")
        assert term.wait_for("saved as your default", 30), term.text()[-2000:]
        assert wait_until(lambda: "pb::pb-sonnet" in user_settings(isolated_home).read_text(), 10)
    assert json.loads(user_settings(isolated_home).read_text()) == {"model": "pb::pb-sonnet"}  # what claude wrote

    warnings, checks = session_model_warnings(env, project)
    [warning] = warnings
    assert warning["code"] == "gateway-model" and str(user_settings(isolated_home)) in warning["message"]
    assert "'pb::pb-sonnet', a name only a ccswitch gateway routes" in warning["message"]
    assert warning["fix"] == f"`/model default` in a plain `claude` removes it from {user_settings(isolated_home)}"
    [check] = checks
    assert check["status"] == "warn" and check["message"] == warning["message"] and check["fix"] == warning["fix"]

    # The fix, as the user would type it: `/model default` in a plain claude.
    with Terminal([str(claude_bin)], claude_env, str(project)) as term:
        assert term.wait_for("❯", 60), term.text()[-2000:]
        term.type("/model default")
        time.sleep(1)
        term.type("\r")
        assert wait_until(lambda: "model" not in json.loads(user_settings(isolated_home).read_text()), 30), term.text()[-2000:]
    assert session_model_warnings(env, project) == ([], [])


def test_with_a_profile_in_use_the_fix_is_use_again(env, mocks, project, isolated_home, claude_bin, claude_env):
    """After `use pa`, the same gateway name saved by `/model` (the content the test above read back
    from claude) makes a plain claude send `pb::pb-sonnet` to pa; `ccswitch use pa` puts pa's model back."""
    assert ccswitch("use", "pa", env=env, cwd=project).returncode == 0
    settings = json.loads(user_settings(isolated_home).read_text())
    user_settings(isolated_home).write_text(json.dumps({**settings, "model": "pb::pb-sonnet"}, indent=2))
    plain = subprocess.run([str(claude_bin), "-p", "hi"], cwd=project, env=claude_env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
    assert [m.model for m in mocks["pa"].messages][:1] == ["pb::pb-sonnet"], plain.stdout + plain.stderr
    warnings, checks = session_model_warnings(env, project)
    assert [w["fix"].split(" (")[0] for w in warnings] == ["`ccswitch use pa` writes pa's model in its place"]
    assert [c["fix"] for c in checks] == [w["fix"] for w in warnings]
    assert ccswitch("use", "pa", env=env, cwd=project).returncode == 0
    assert json.loads(user_settings(isolated_home).read_text())["model"] == "opus"
    assert session_model_warnings(env, project) == ([], [])
    mocks["pa"].requests.clear()
    subprocess.run([str(claude_bin), "-p", "hi"], cwd=project, env=claude_env, capture_output=True, timeout=120,
                   stdin=subprocess.DEVNULL)
    assert [m.model for m in mocks["pa"].messages][:1] == ["pa-opus"]
