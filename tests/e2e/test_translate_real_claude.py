"""What the real claude sends in a tool loop (ToolSearch, then Read, then text; against a loopback
mock) translates into requests the `openai` package's own types accept, unknown keys refused: every
body of the loop, for Chat Completions and for Responses. The committed fixtures
(tests/fixtures/translate/) are this capture, scrubbed; this test repeats it on CI's pinned claude,
so a new key claude starts sending cannot slip past the translators unseen. It runs on CI's pinned
release and on 2.1.197 (the last release for Node 20), each installed by support.claude_client."""

from __future__ import annotations

import subprocess

import pytest
from support.claude_client import CLAUDE_CODE_VERSION, ClaudeUnavailable, claude_binary
from support.mock_tool_turn import ToolTurnMock
from support.openai_types import check_chat, check_responses

from ccswitch.gateway.translate.chat_request import to_chat
from ccswitch.gateway.translate.responses_request import to_responses
from ccswitch.profiles.apis import options_with_defaults

KNOWN_TOP_LEVEL = {"model", "messages", "system", "tools", "metadata", "max_tokens", "thinking", "context_management",
                   "output_config", "stream", "temperature", "top_p", "top_k", "stop_sequences", "tool_choice"}


@pytest.fixture(params=[CLAUDE_CODE_VERSION, "2.1.197"])
def claude_release(request):
    try:
        return claude_binary(request.param)
    except ClaudeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def test_claudes_tool_loop_translates_to_valid_openai_requests(claude_release, claude_env, project):
    (project / "notes.txt").write_text("the answer is 42\n")
    steps = [("ToolSearch", {"query": "select:WebFetch", "max_results": 5}),
             ("Read", {"file_path": str(project / "notes.txt")})]
    with ToolTurnMock(steps) as mock:
        env = {**claude_env, "ANTHROPIC_BASE_URL": mock.url, "ANTHROPIC_AUTH_TOKEN": "capture-token-0123456789"}
        result = subprocess.run([str(claude_release), "-p", "Read notes.txt and tell me the answer.", "--allowedTools", "Read"],
                                cwd=project, env=env, capture_output=True, text=True, timeout=120,
                                stdin=subprocess.DEVNULL)
        bodies = mock.messages()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(bodies) >= 3  # the ToolSearch call, the Read call, the answer
    last = bodies[-1]
    kinds = [b.get("type") for m in last["messages"] if isinstance(m["content"], list) for b in m["content"]]
    assert "tool_use" in kinds and "tool_result" in kinds
    options = options_with_defaults({"reasoning_effort": ["low", "medium", "high"]})
    for body in bodies:
        assert set(body) <= KNOWN_TOP_LEVEL, f"claude sends a key the translators do not know: {set(body) - KNOWN_TOP_LEVEL}"
        chat, _ = to_chat(body, "gpt-x", options)
        check_chat(chat)
        responses, _ = to_responses(body, "gpt-x", options)
        check_responses(responses)
    chat, _ = to_chat(last, "gpt-x", options)
    assert [m["role"] for m in chat["messages"]][-2:] == ["assistant", "tool"]
    names = [t["function"]["name"] for t in chat["tools"]]
    assert "WebFetch" in names  # 2.1.330: loaded by ToolSearch, now a function; 2.1.197: never deferred
    assert "DeferredToolPlaceholder" not in names
