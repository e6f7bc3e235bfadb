"""The real client: after `ccswitch use P` a plain `claude -p` reaches P's server with P's token and
model; after `use Q` it reaches Q; after `off` it reaches what the user's own settings pointed at."""

from __future__ import annotations

import json
import subprocess
import sys

from support.mock_anthropic import MockAnthropic
from support.processes import subprocess_env

P_TOKEN = "p-token-0123456789abcdef"
Q_TOKEN = "q-key-fedcba9876543210"
ORIGINAL_TOKEN = "orig-token-aaaabbbbcccc"
SHELL_KEY = "shell-api-key-should-never-be-sent"


def _ccswitch(*args: str) -> None:
    env = subprocess_env(P_TOKEN=P_TOKEN, Q_TOKEN=Q_TOKEN)
    result = subprocess.run([sys.executable, "-m", "ccswitch", *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _claude(claude_bin, claude_env, cwd, shell_exports: bool = True) -> subprocess.CompletedProcess:
    # Stale exports in the shell: the blanked settings values a profile writes must win over them.
    env = dict(claude_env, ANTHROPIC_API_KEY=SHELL_KEY, ANTHROPIC_MODEL="shell-model") if shell_exports else claude_env
    result = subprocess.run([str(claude_bin), "-p", "hi"], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_plain_claude_follows_use_switch_and_off(claude_bin, claude_env, isolated_home, profiles_file, project):
    with MockAnthropic(reply="from-p") as p, MockAnthropic(reply="from-q", prefix="/api/anthropic") as q, \
            MockAnthropic(reply="from-original") as original:
        profiles_file(
            f"""
[profiles.p]
base_url = "{p.url}"
token = "env:P_TOKEN"
model = "p-main-model"
[profiles.p.models]
haiku = "p-small-model"

[profiles.q]
base_url = "{q.url}"
auth = "x-api-key"
token = "env:Q_TOKEN"
model = "sonnet"
[profiles.q.models]
sonnet = "q-sonnet-model"
"""
        )
        settings = isolated_home / ".claude" / "settings.json"
        settings.parent.mkdir()
        user_file = {
            "permissions": {"allow": ["Bash(ls)"]},
            "env": {"ANTHROPIC_BASE_URL": original.url, "ANTHROPIC_AUTH_TOKEN": ORIGINAL_TOKEN},
            "model": "original-model",
        }
        settings.write_text(json.dumps(user_file, indent=2) + "\n")

        _ccswitch("use", "p")
        assert "from-p" in _claude(claude_bin, claude_env, project).stdout
        assert p.messages and not q.messages and not original.messages
        for message in p.messages:
            assert message.headers["authorization"] == f"Bearer {P_TOKEN}"
            assert "x-api-key" not in message.headers
        assert {m.model for m in p.messages} <= {"p-main-model", "p-small-model"}
        assert "p-main-model" in {m.model for m in p.messages}

        _ccswitch("use", "q")
        assert "from-q" in _claude(claude_bin, claude_env, project).stdout
        assert q.messages and not original.messages
        for message in q.messages:
            assert message.path.startswith("/api/anthropic/v1/messages")
            assert message.headers["x-api-key"] == Q_TOKEN
            assert "authorization" not in message.headers
        assert "q-sonnet-model" in {m.model for m in q.messages}

        _ccswitch("off")
        assert json.loads(settings.read_text()) == user_file
        assert "from-original" in _claude(claude_bin, claude_env, project, shell_exports=False).stdout
        for message in original.messages:
            assert message.headers["authorization"] == f"Bearer {ORIGINAL_TOKEN}"
        assert "original-model" in {m.model for m in original.messages}
