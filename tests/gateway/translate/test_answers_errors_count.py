"""A Chat Completions JSON answer (built with openai's ChatCompletion model) as an Anthropic message;
OpenAI-format errors as Anthropic errors with the provider's message; the count_tokens estimate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccswitch.gateway.apierror import from_openai_error
from ccswitch.gateway.translate.chat_answer import from_chat
from ccswitch.gateway.translate.count_tokens import answer, estimate
from ccswitch.gateway.translate.tools import Context, ToolNames, upstream_id

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "translate"


def completion(message: dict, finish: str = "stop", usage: dict | None = None) -> dict:
    from openai.types.chat import ChatCompletion

    data = {"id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "gpt-x",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
            "usage": usage or {"prompt_tokens": 100, "completion_tokens": 9, "total_tokens": 109,
                               "prompt_tokens_details": {"cached_tokens": 60}}}
    return json.loads(ChatCompletion.model_validate(data).model_dump_json(exclude_unset=True))


def test_a_json_answer_with_reasoning_text_and_calls():
    names = ToolNames(["mcp__" + "y" * 80])
    wire = names.add("mcp__" + "y" * 80)
    message = from_chat(completion({"content": "Let me look.", "reasoning_content": "think", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": '{"file_path": "/a"}'}},
        {"id": "fc-2", "type": "function", "function": {"name": wire, "arguments": "not json"},
         "extra_content": {"google": {"thought_signature": "sig"}}}]}, finish="tool_calls"),
        Context("gpt-x", names))
    thinking, text, first, second = message["content"]
    assert thinking == {"type": "thinking", "thinking": "think", "signature": ""} and text["text"] == "Let me look."
    assert first == {"type": "tool_use", "id": "call_1", "name": "Read", "input": {"file_path": "/a"}}
    assert second["name"] == "mcp__" + "y" * 80 and second["input"] == {"_raw_arguments": "not json"}
    assert upstream_id(second["id"]) == ("fc-2", "sig")
    assert message["stop_reason"] == "tool_use" and message["type"] == "message"
    assert message["usage"] == {"input_tokens": 40, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0,
                                "output_tokens": 9}


@pytest.mark.parametrize(("finish", "stop"), [("stop", "end_turn"), ("length", "max_tokens"),
                                             ("content_filter", "refusal"), ("tool_calls", "tool_use")])
def test_finish_reasons(finish, stop):
    assert from_chat(completion({"content": "x"}, finish), Context("gpt-x", ToolNames()))["stop_reason"] == stop


@pytest.mark.parametrize(("status", "body", "kind", "message"), [
    (401, b'{"error": {"message": "Incorrect API key provided: sk-ab***cd.", "type": "invalid_request_error", '
          b'"code": "invalid_api_key"}}', "authentication_error", "Incorrect API key provided: sk-ab***cd."),
    (429, b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}',
     "rate_limit_error", "Rate limit reached"),
    (400, b'[{"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}]',
     "invalid_request_error", "API key not valid."),  # Gemini's OpenAI endpoint: a list
    (404, b'{"error": "model not found"}', "not_found_error", "model not found"),
    (503, b"<html>upstream down</html>", "api_error", "<html>upstream down</html>"),
    (422, b'{"detail": "bad field"}', "invalid_request_error", "bad field"),
])
def test_openai_errors_become_anthropic_errors_with_the_providers_message(status, body, kind, message):
    assert json.loads(from_openai_error(status, body)) == {"type": "error", "error": {"type": kind, "message": message}}


def test_count_tokens_estimates_claudes_real_body_in_a_plausible_range():
    body = json.loads((FIXTURES / "claude-2.1.330-tool-loop.json").read_text())
    size = len(json.dumps({k: body[k] for k in ("system", "messages", "tools")}))
    tokens = estimate(body)
    assert size / 6 < tokens < size / 3  # 4 bytes a token, give or take the JSON around the text
    assert answer({"messages": []}) == {"input_tokens": 1}
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "A" * 100000}}
    assert estimate({"messages": [{"role": "user", "content": [image]}]}) < 2000  # an image is not its base64
    assert estimate({"messages": [{"role": "user", "content": "\u6f22" * 300}]}) >= 200  # CJK: ~1 token a character
