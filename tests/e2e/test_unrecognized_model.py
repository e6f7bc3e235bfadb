"""claude 2.1.330+ prints `[claude-code:unrecognized_model] {...}` for a model id it does not know:
on stderr in `-p` mode only, changing nothing else; and no variable claude reads silences it
(docs/claude-code.md, "Models claude does not know"). These tests pin what that page says, so a
release that changes it (a variable that does silence it, the line on stdout) shows up here."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.claude_client import skip_first_run
from support.mock_anthropic import MockAnthropic, closed_port_url
from support.processes import subprocess_env
from support.profiles_data import PA_PB
from support.terminal import Terminal

NOTICE = "[claude-code:unrecognized_model]"
# Every variable claude reads that could describe a model to it (names found in the binary).
CANDIDATES = {
    "ANTHROPIC_DEFAULT_OPUS_MODEL_NAME": "PA Opus", "ANTHROPIC_DEFAULT_OPUS_MODEL_DESCRIPTION": "pa's best",
    "ANTHROPIC_DEFAULT_OPUS_MODEL_SUPPORTED_CAPABILITIES": "thinking,effort",
    "ANTHROPIC_CUSTOM_MODEL_OPTION": "pa-opus", "ANTHROPIC_CUSTOM_MODEL_OPTION_NAME": "PA Opus",
    "ANTHROPIC_CUSTOM_MODEL_OPTION_DESCRIPTION": "pa's best", "ANTHROPIC_CUSTOM_MODEL_OPTION_SUPPORTED_CAPABILITIES": "thinking",
    "ANTHROPIC_DEFAULT_MODEL": "pa-opus", "CLAUDE_CODE_MAX_CONTEXT_TOKENS": "128000", "CLAUDE_CODE_DISABLE_1M_CONTEXT": "1",
}


@pytest.fixture
def mock():
    with MockAnthropic(reply="pong") as server:
        yield server


@pytest.fixture
def env(claude_bin, claude_env, profiles_file, mock) -> dict[str, str]:
    profiles_file(PA_PB.format(pa=mock.url, pb=closed_port_url()))
    return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), PA_T="pa-token-0123456789",
                          PB_T="pb-token-0123456789")


@pytest.mark.parametrize(("profile", "model"), [("pa", "pa-opus"), ("mix", "pa::pa-opus")])
def test_the_line_is_on_stderr_only_and_the_answer_is_intact(env, mock, project, profile, model):
    result = subprocess.run([sys.executable, "-m", "ccswitch", "run", profile, "--", "claude", "-p", "hi",
                             "--output-format", "json"], cwd=project, env=env, capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["result"] == "pong"  # stdout stays machine-readable
    [line] = [line for line in result.stderr.splitlines() if line.startswith(NOTICE)]
    assert json.loads(line[len(NOTICE):]) == {"model": model, "query_source": "sdk"}
    assert [m.model for m in mock.messages] == [model.split("::")[-1]]


def test_interactive_claude_does_not_show_it(env, mock, project, isolated_home):
    skip_first_run(isolated_home, project)
    with Terminal([sys.executable, "-m", "ccswitch", "run", "pa", "--", "claude"], env, str(project)) as term:
        assert term.wait_for("❯", 60), term.text()[-2000:]
        term.type("hello\r")
        assert term.wait_for("pong", 60), term.text()[-2000:]
        time.sleep(1)
        assert "unrecognized_model" not in term.text()


def test_no_variable_claude_reads_silences_it(claude_bin, claude_env, mock, tmp_path: Path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": mock.url, "ANTHROPIC_AUTH_TOKEN": "tok-0123456789",
                                            "ANTHROPIC_DEFAULT_OPUS_MODEL": "pa-opus", **CANDIDATES}}))
    result = subprocess.run([str(claude_bin), "--settings", str(settings), "-p", "hi", "--model", "opus"], cwd=tmp_path,
                            env=claude_env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0 and result.stdout.strip() == "pong", result.stdout + result.stderr
    assert f'{NOTICE} {{"model":"pa-opus","query_source":"sdk"}}' in result.stderr
