"""`ccswitch run P -- claude -p ...` against the real claude and a mock Anthropic API on 127.0.0.1.

Every assertion is about what reached the server. A second mock, the decoy, is what every
conflicting source (user, project and local settings, CLAUDE_CONFIG_DIR, the shell) points at: it
must receive nothing. A control run without ccswitch shows that the decoys do work on plain claude.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic
from support.processes import subprocess_env

TOKEN = "gw-token-0123456789abcdef"
DECOY_TOKEN = "decoy-token-9876543210"

PROFILES = """\
[profiles.gw]
base_url = "{url}"
auth = "bearer"
token = "env:GW_TOKEN"
model = "gw-main"
[profiles.gw.models]
opus = "gw-opus"
sonnet = "gw-sonnet"
haiku = "gw-haiku"
[profiles.gw.headers]
X-Team = "platform"
[profiles.gw.env]
API_TIMEOUT_MS = "123000"

[profiles.key]
base_url = "{url}"
auth = "x-api-key"
token = "env:GW_TOKEN"
"""


@pytest.fixture
def server():
    with MockAnthropic(reply="pong", prefix="/api/anthropic") as mock:
        yield mock


@pytest.fixture
def decoy():
    with MockAnthropic(reply="decoy") as mock:
        yield mock


@pytest.fixture
def run_env(claude_bin, claude_env, profiles_file, server) -> dict[str, str]:
    profiles_file(PROFILES.format(url=server.url))
    return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), GW_TOKEN=TOKEN)


def ccswitch(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ccswitch", "run", *args], cwd=cwd, env=env, input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )


def decoy_settings(decoy: MockAnthropic, tag: str) -> dict:
    return {
        "env": {
            "ANTHROPIC_BASE_URL": decoy.url,
            "ANTHROPIC_AUTH_TOKEN": DECOY_TOKEN,
            "ANTHROPIC_API_KEY": DECOY_TOKEN,
            "ANTHROPIC_MODEL": f"decoy-{tag}",
            "ANTHROPIC_CUSTOM_HEADERS": f"X-Decoy: {tag}",
        },
        "model": f"decoy-model-{tag}",
    }


def assert_reached_profile(server: MockAnthropic, model: str = "gw-main") -> None:
    assert server.messages, "nothing reached the profile's server"
    for request in server.messages:
        assert request.path.startswith("/api/anthropic/v1/messages")
        assert request.headers.get("authorization") == f"Bearer {TOKEN}"
        assert "x-api-key" not in request.headers
        assert request.headers.get("x-team") == "platform"
        assert "x-decoy" not in request.headers
    assert model in {r.model for r in server.messages}


def test_bearer_profile_reaches_its_server(run_env, project, server):
    result = ccswitch(["gw", "--", "claude", "-p", "hi"], run_env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pong" in result.stdout
    assert_reached_profile(server)
    # the profile's extra env reached claude: API_TIMEOUT_MS=123000 is sent as seconds
    assert server.messages[0].headers.get("x-stainless-timeout") == "123"


def test_x_api_key_profile_sends_only_x_api_key(run_env, project, server):
    result = ccswitch(["key", "--", "claude", "-p", "hi", "--model", "k-model"], dict(run_env, ANTHROPIC_AUTH_TOKEN="stray"), project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.messages
    for request in server.messages:
        assert request.headers.get("x-api-key") == TOKEN
        assert "authorization" not in request.headers


@pytest.mark.parametrize(
    ("model_args", "expected"),
    [
        ([], "gw-main"),
        (["--model", "opus"], "gw-opus"),
        (["--model", "sonnet"], "gw-sonnet"),
        (["--model", "haiku"], "gw-haiku"),
        (["--model", "vendor/Model:Tag-1.2"], "vendor/Model:Tag-1.2"),
    ],
)
def test_model_choice(run_env, project, server, model_args, expected):
    result = ccswitch(["gw", "--", "claude", "-p", "hi", *model_args], run_env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in {r.model for r in server.messages}
    assert "gw-main" not in {r.model for r in server.messages} or expected == "gw-main"


def write_conflicts(home: Path, project: Path, decoy: MockAnthropic) -> None:
    for path, tag in (
        (home / ".claude" / "settings.json", "user"),
        (project / ".claude" / "settings.json", "project"),
        (project / ".claude" / "settings.local.json", "local"),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(decoy_settings(decoy, tag)))


def shell_conflicts(decoy: MockAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_BASE_URL": decoy.url, "ANTHROPIC_AUTH_TOKEN": DECOY_TOKEN, "ANTHROPIC_API_KEY": DECOY_TOKEN,
            "ANTHROPIC_MODEL": "decoy-shell", "ANTHROPIC_SMALL_FAST_MODEL": "decoy-shell"}


def test_profile_beats_user_project_local_settings_and_shell_at_once(run_env, project, server, decoy, claude_bin, isolated_home):
    write_conflicts(isolated_home, project, decoy)
    env = dict(run_env, **shell_conflicts(decoy))
    # Control: plain claude in the same place goes to the decoy, so the conflicts are real.
    control = subprocess.run([str(claude_bin), "-p", "hi"], cwd=project, env=env, capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    assert decoy.messages, control.stdout + control.stderr
    decoy.requests.clear()

    result = ccswitch(["gw", "--", "claude", "-p", "hi"], env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert decoy.requests == []
    assert_reached_profile(server)


def test_profile_beats_claude_config_dir_settings(run_env, project, server, decoy, tmp_path):
    config = tmp_path / "claude-config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps(decoy_settings(decoy, "config-dir")))
    result = ccswitch(["gw", "--", "claude", "-p", "hi"], dict(run_env, CLAUDE_CONFIG_DIR=str(config)), project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert decoy.requests == []
    assert_reached_profile(server)
    assert json.loads((config / ".claude.json").read_text()).get("hasCompletedOnboarding") is True


def test_users_own_settings_are_merged_and_the_profile_still_wins(run_env, project, server, decoy):
    mine = project / "mine.json"
    mine.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": decoy.url, "API_TIMEOUT_MS": "77000"}}))
    result = ccswitch(["key", "--", "claude", "--settings", str(mine), "-p", "hi"], run_env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert decoy.requests == []
    assert server.messages[0].headers.get("x-stainless-timeout") == "77"  # the user's variable kept


def test_exit_code_comes_back(claude_bin, claude_env, profiles_file, project):
    with MockAnthropic(status=403) as failing:
        profiles_file(PROFILES.format(url=failing.url))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), GW_TOKEN=TOKEN)
        result = ccswitch(["gw", "--", "claude", "-p", "hi"], env, project)
    assert result.returncode == 1
    assert failing.messages


def test_stdin_reaches_claude(run_env, project, server):
    result = ccswitch(["gw", "--", "claude", "-p"], run_env, project, stdin="question-from-stdin-4711\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert any("question-from-stdin-4711" in json.dumps(r.body) for r in server.messages)


def test_token_never_on_claudes_command_line(run_env, project, server, claude_bin, tmp_path):
    """A wrapper on PATH named claude records its argv, then execs the real claude."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    wrapper = bin_dir / "claude"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\nexec "{claude_bin}" "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in run_env.items() if k != "CCSWITCH_CLAUDE"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    result = ccswitch(["gw", "--", "claude", "-p", "hi"], env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    argv = record.read_text()
    assert TOKEN not in argv and "--settings" in argv
    assert_reached_profile(server)
    settings_path = Path(argv.splitlines()[argv.splitlines().index("--settings") + 1])
    assert stat.S_IMODE(settings_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings_path.parent.stat().st_mode) == 0o700
    assert TOKEN in settings_path.read_text()
