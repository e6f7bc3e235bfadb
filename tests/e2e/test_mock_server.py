"""The mock Anthropic server is accepted by the real claude binary: the base every conformance test stands on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.mock_anthropic import MockAnthropic


def test_real_claude_talks_to_the_mock(claude_bin, claude_env, project):
    with MockAnthropic(reply="pong", prefix="/api/anthropic") as server:
        env = dict(claude_env, ANTHROPIC_BASE_URL=server.url, ANTHROPIC_AUTH_TOKEN="test-token-123456")
        result = subprocess.run(
            [str(claude_bin), "-p", "hi", "--model", "mock-model-1"],
            cwd=project, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pong" in result.stdout
    [first, *_] = server.messages
    assert first.path.startswith("/api/anthropic/v1/messages")
    assert first.headers["authorization"] == "Bearer test-token-123456"
    assert "x-api-key" not in first.headers
    assert any(r.model == "mock-model-1" for r in server.messages)


def test_mock_answers_configured_errors(claude_bin, claude_env, tmp_path):
    with MockAnthropic(status=403) as server:
        env = dict(claude_env, ANTHROPIC_BASE_URL=server.url, ANTHROPIC_AUTH_TOKEN="test-token-123456")
        result = subprocess.run(
            [str(claude_bin), "-p", "hi"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 1
    assert server.messages


def test_npm_installs_claude_with_its_home_and_cache_inside_the_repo():
    from support.claude_client import npm_environment
    from support.processes import REPO

    env = npm_environment()
    for key in ("HOME", "npm_config_cache", "npm_config_userconfig"):
        assert Path(env[key]).is_relative_to(REPO / ".cache"), key
