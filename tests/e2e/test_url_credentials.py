"""What the real claude does with a user name and password in ANTHROPIC_BASE_URL: it sends neither
(no Basic credentials, only the token's header), so a profile's base_url may not hold them
(profiles.schema; docs/claude-code.md, "Credentials and requests")."""

from __future__ import annotations

import subprocess

from support.mock_anthropic import MockAnthropic


def test_claude_sends_no_credential_from_the_base_url(claude_bin, claude_env, project):
    with MockAnthropic() as server:
        env = {**claude_env, "ANTHROPIC_BASE_URL": server.url.replace("http://", "http://user:sk-CANARY-0123@"),
               "ANTHROPIC_AUTH_TOKEN": "sk-token-0123456789"}
        result = subprocess.run([str(claude_bin), "-p", "hi", "--model", "m"], env=env, cwd=project,
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stdout + result.stderr
        assert server.messages and all(m.headers.get("authorization") == "Bearer sk-token-0123456789"
                                       and "x-api-key" not in m.headers for m in server.messages)
        assert not any("CANARY" in value or "dXNlcj" in value for r in server.requests for value in r.headers.values())
