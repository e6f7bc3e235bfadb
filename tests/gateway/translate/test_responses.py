"""Anthropic Messages <-> OpenAI Responses: requests checked against openai's ResponseCreateParams
(unknown keys refused), recorded event streams (built with openai's event models) replayed however
they are cut and folded by the anthropic SDK, reasoning carried across turns for its own profile
only, and the JSON answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.anthropic_stream import check_order, events, fold
from support.openai_streams import ARGS, STREAMS, read
from support.openai_types import check_responses

from ccswitch.gateway.translate.responses_answer import from_responses
from ccswitch.gateway.translate.responses_request import to_responses
from ccswitch.gateway.translate.responses_stream import ResponsesStream
from ccswitch.gateway.translate.tools import Context, ToolNames
from ccswitch.profiles.apis import options_with_defaults

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "translate"


def responses(body: dict, profile: str = "gpt", **options) -> dict:
    request, _ = to_responses({"model": "claude-opus-5-5", "max_tokens": 1000, **body}, "gpt-x",
                              options_with_defaults(options), profile)
    check_responses(request)
    return request


def replay(data: bytes, cuts: list[int] | None = None, profile: str = "gpt") -> bytes:
    stream = ResponsesStream(Context("gpt-x", ToolNames(), profile))
    cuts = list(range(1, len(data))) if cuts is None else cuts
    out = [stream.feed(data[a:b]) for a, b in zip([0, *cuts], [*cuts, len(data)])]
    return b"".join(out) + stream.close()


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("claude-*-tool-loop.json")), ids=lambda p: p.stem)
def test_claudes_real_bodies_translate_to_valid_responses_requests(path):
    body = json.loads(path.read_text())
    request = responses(body, reasoning_effort=["low", "medium", "high"])
    kinds = [item.get("type", item.get("role")) for item in request["input"]]
    assert kinds.count("function_call") == 2 and kinds.count("function_call_output") == 2
    assert request["store"] is False and request["max_output_tokens"] == body["max_tokens"]
    assert request["reasoning"] == {"effort": body["output_config"]["effort"], "summary": "auto"}
    assert "x-anthropic-billing-header" not in request["instructions"]
    assert "DeferredToolPlaceholder" not in json.dumps(request["tools"])


def test_a_tool_loop_as_input_items():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
    request = responses({"system": "be brief", "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "text", "text": "calling"},
                                          {"type": "tool_use", "id": "call_1", "name": "Read", "input": {"p": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": [
            {"type": "text", "text": "out"}, image]}, {"type": "text", "text": "next?"}]}],
        "tools": [{"name": "Read", "input_schema": {"type": "object"}}], "tool_choice": {"type": "tool", "name": "Read"},
        "stop_sequences": ["X"], "metadata": {"user_id": "u"}, "stream": True})
    assert request["instructions"] == "be brief"
    assert request["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        {"type": "message", "role": "assistant", "content": "calling"},
        {"type": "function_call", "call_id": "call_1", "name": "Read", "arguments": '{"p": 1}'},
        {"type": "function_call_output", "call_id": "call_1", "output": [
            {"type": "input_text", "text": "out"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBO", "detail": "auto"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "next?"}]}]
    assert request["tools"] == [{"type": "function", "name": "Read", "parameters": {"type": "object"}, "strict": False}]
    assert request["tool_choice"] == {"type": "function", "name": "Read"}
    assert "stop" not in request and request["stream"] is True


def test_json_schema_output():
    schema = {"type": "object"}
    request = responses({"messages": [{"role": "user", "content": "x"}],
                         "output_config": {"format": {"type": "json_schema", "schema": schema}}})
    assert request["text"] == {"format": {"type": "json_schema", "name": "output", "schema": schema}}


@pytest.mark.parametrize("path", sorted(STREAMS.glob("responses-*.sse")), ids=lambda p: p.stem)
def test_every_recorded_stream_gives_the_same_answer_however_it_is_cut(path):
    data = path.read_bytes()
    whole, byte_by_byte = replay(data, []), replay(data)
    check_order(events(whole))
    strip = [(n, {k: v for k, v in d.items() if k != "message"}) for n, d in events(whole)]
    assert strip == [(n, {k: v for k, v in d.items() if k != "message"}) for n, d in events(byte_by_byte)]


def test_text_stream():
    message = fold(replay(read("responses-text.sse"), []))
    assert [b["text"] for b in message["content"]] == ["Hello w\u00f6rld \u6f22"]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["input_tokens"] == 176 and message["usage"]["cache_read_input_tokens"] == 1024


def test_tool_loop_stream_and_reasoning_carried_to_the_next_turn_for_its_own_profile_only():
    raw = replay(read("responses-tool-loop.sse"), [])
    message = fold(raw)
    thinking, text, tool = message["content"]
    assert thinking["thinking"] == "I should run it." and thinking["signature"].startswith("ccswitch-responses:")
    assert text["text"] == "Running."
    assert (tool["id"], tool["name"], tool["input"]) == ("call_1", "Bash", json.loads(ARGS))
    assert message["stop_reason"] == "tool_use"
    assert sum(1 for n, d in events(raw) if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta") > 5
    history = {"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": message["content"]}]}
    [item] = [i for i in responses(history)["input"] if i.get("type") == "reasoning"]
    assert item == {"type": "reasoning", "encrypted_content": "gAAAAencrypted==",  # no id: see reasoning_item
                    "summary": [{"type": "summary_text", "text": "I should run it."}]}
    assert not [i for i in responses(history, profile="other")["input"] if i.get("type") == "reasoning"]
    anthropic_signed = {"type": "thinking", "thinking": "t", "signature": "EqQBCkgIARABGAIi"}
    assert "reasoning" not in json.dumps(responses({"messages": [{"role": "assistant", "content": [anthropic_signed]}]})["input"])


def test_incomplete_failed_error_and_cut_streams():
    assert fold(replay(read("responses-incomplete.sse"), []))["stop_reason"] == "max_tokens"
    for name, kind, words in (("failed", "api_error", "The model failed."), ("error-event", "rate_limit_error", "Slow down."),
                              ("cut", "overloaded_error", "before the answer was complete")):
        last_name, last = events(replay(read(f"responses-{name}.sse"), []))[-1]
        assert last_name == "error" and last["error"]["type"] == kind and words in last["error"]["message"]


def test_json_answer():
    from openai.types.responses import Response

    answer = Response.model_validate({
        "id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-x", "status": "completed",
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "output": [{"type": "reasoning", "id": "rs_9", "summary": [{"type": "summary_text", "text": "hmm"}],
                    "encrypted_content": "enc"},
                   {"type": "message", "id": "m", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
                   {"type": "function_call", "id": "fc", "call_id": "call_9", "name": "Read", "arguments": '{"a": 1}'}],
        "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 40, "cache_write_tokens": 10},
                  "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 107}})
    message = from_responses(json.loads(answer.model_dump_json()), Context("gpt-x", ToolNames(), "gpt"))
    assert [b["type"] for b in message["content"]] == ["thinking", "text", "tool_use"]
    assert message["content"][2]["input"] == {"a": 1} and message["stop_reason"] == "tool_use"
    assert message["usage"] == {"input_tokens": 50, "cache_read_input_tokens": 40, "cache_creation_input_tokens": 10,
                                "output_tokens": 7}
