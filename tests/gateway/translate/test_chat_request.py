"""Anthropic Messages -> Chat Completions: every mapping point, each request checked against the
`openai` package's own request types with unknown keys refused, and claude's real bodies (captured
from 2.1.330 and 2.1.197) translated without a trace of an Anthropic-only key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.openai_types import Mismatch, check_chat

from ccswitch.gateway.translate.chat_request import to_chat
from ccswitch.gateway.translate.tools import anthropic_id, wire_name
from ccswitch.profiles.apis import options_with_defaults

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "translate"
CAPTURED = sorted(FIXTURES.glob("claude-*-tool-loop.json"))
ANTHROPIC_ONLY = {"cache_control", "defer_loading", "context_management", "metadata", "output_config", "thinking",
                  "safeguards", "input_schema", "tool_use_id", "is_error", "signature"}


def keys(value: object) -> set[str]:
    """Every key of every object in a request, tool parameter schemas aside (they are the tools' own)."""
    if isinstance(value, list):
        return set().union(*map(keys, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    return set(value) | set().union(*(keys(v) for k, v in value.items() if k != "parameters"))


def chat(body: dict, **options) -> dict:
    request, _ = to_chat({"model": "claude-opus-5-5", "max_tokens": 1000, **body}, "gpt-x",
                         options_with_defaults(options))
    check_chat(request)
    return request


def user(*blocks) -> dict:
    return {"role": "user", "content": list(blocks)}


def text(value: str, **extra) -> dict:
    return {"type": "text", "text": value, **extra}


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_claudes_real_bodies_translate_to_valid_chat_requests(path):
    body = json.loads(path.read_text())
    request = chat(body, reasoning_effort=["low", "medium", "high"])
    assert not keys(request) & ANTHROPIC_ONLY
    dumped = json.dumps(request)
    for text_only_anthropic in ("x-anthropic-billing-header", "DeferredToolPlaceholder", "device_id"):
        assert text_only_anthropic not in dumped
    roles = [m["role"] for m in request["messages"]]
    assert roles[0] == "system" and "system" in roles[2:]  # claude's in-conversation system message, in place
    assert roles[-2:] == ["assistant", "tool"]
    assert request["messages"][-1]["content"] == "1\tthe answer is 42\n2\t"
    assert request["stream"] is True and request["stream_options"] == {"include_usage": True}
    assert request["reasoning_effort"] == body["output_config"]["effort"]
    names = [t["function"]["name"] for t in request["tools"]]
    assert "DeferredToolPlaceholder" not in names and "Read" in names


def test_the_validator_refuses_a_leaked_key():
    request = chat({"messages": [user(text("hi"))]})
    with pytest.raises(Mismatch):
        check_chat({**request, "metadata_leak": 1})
    with pytest.raises(Mismatch):
        check_chat({**request, "messages": [{"role": "user", "content": "x", "cache_control": {"type": "ephemeral"}}]})


def test_system_blocks_keep_their_order_without_the_billing_line():
    request = chat({"system": [text("x-anthropic-billing-header: cc_version=1;"), text("first", cache_control={}),
                               text("second")], "messages": [user(text("hi"))]})
    assert request["messages"][0] == {"role": "system", "content": "first\n\nsecond"}
    assert chat({"system": "plain", "messages": []}, system_role="developer")["messages"] == [
        {"role": "developer", "content": "plain"}]


def test_images_base64_and_url_and_a_pdf():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AAAA"}}
    url = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    pdf = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}
    [message] = chat({"messages": [user(text("look"), image, url, pdf)]})["messages"]
    assert message["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "document.pdf"}},
    ]


def test_a_tool_loop_in_order_with_errors_block_content_images_and_text_after_results():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
    messages = [
        user(text("go")),
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig-by-anthropic"},
            text("calling"),
            {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/a"}},
            {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "ls \u00e9"}}]},
        user({"type": "tool_result", "tool_use_id": "toolu_1", "content": [text("line 1"), image]},
             {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
             text("and now?")),
    ]
    out = chat({"messages": messages, "tools": [
        {"name": "Read", "description": "read", "input_schema": {"type": "object", "properties": {}}},
        {"name": "Bash", "input_schema": {"type": "object", "properties": {}}}]})["messages"]
    assert out[1] == {"role": "assistant", "content": "calling", "tool_calls": [
        {"id": "toolu_1", "type": "function", "function": {"name": "Read", "arguments": '{"file_path": "/a"}'}},
        {"id": "toolu_2", "type": "function", "function": {"name": "Bash", "arguments": '{"command": "ls \u00e9"}'}}]}
    assert out[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "line 1"}
    assert out[3] == {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: boom"}
    assert out[4] == {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                                                  {"type": "text", "text": "and now?"}]}
    assert "hmm" not in json.dumps(out)  # thinking never goes to a provider that did not sign it


def test_claudes_own_error_results_are_not_prefixed_twice():
    result = {"type": "tool_result", "tool_use_id": "t", "is_error": True,
              "content": "<tool_use_error>Error: No such tool available: X</tool_use_error>"}
    out = chat({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "X", "input": {}}]},
                             user(result)]})["messages"]
    assert out[-1]["content"].startswith("<tool_use_error>")


def test_tools_schemas_deferred_and_server_tools():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"format": {"type": "string", "format": "uri"}}, "additionalProperties": False}
    tools = [{"name": "Fetch", "description": "d", "input_schema": schema, "cache_control": {"type": "ephemeral"}},
             {"name": "WebFetch", "description": "w", "input_schema": {"type": "object"}, "defer_loading": True},
             {"name": "DeferredToolPlaceholder", "description": "never", "input_schema": {"type": "object"},
              "defer_loading": True},
             {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    request = chat({"messages": [user(text("hi"))], "tools": tools})
    assert request["tools"] == [{"type": "function", "function": {"name": "Fetch", "description": "d", "parameters": schema}}]
    loaded = [{"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "ToolSearch", "input": {}}]},
              user({"type": "tool_result", "tool_use_id": "t1",
                    "content": [{"type": "tool_reference", "tool_name": "WebFetch"}]}, text("Tool loaded."))]
    request = chat({"messages": [user(text("hi")), *loaded], "tools": tools},
                   drop_schema_keywords=["$schema", "additionalProperties", "format"])
    assert [t["function"]["name"] for t in request["tools"]] == ["Fetch", "WebFetch"]
    # keywords go, a property that happens to be called "format" stays
    assert request["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {"format": {"type": "string"}}}
    assert request["messages"][-2] == {"role": "tool", "tool_call_id": "t1", "content": "Tool loaded: WebFetch"}


@pytest.mark.parametrize(("choice", "expected", "parallel"), [
    ({"type": "auto"}, "auto", None),
    ({"type": "any"}, "required", None),
    ({"type": "tool", "name": "Read"}, {"type": "function", "function": {"name": "Read"}}, None),
    ({"type": "none"}, "none", None),
    ({"type": "any", "disable_parallel_tool_use": True}, "required", False),
])
def test_tool_choice(choice, expected, parallel):
    request = chat({"messages": [user(text("hi"))], "tool_choice": choice,
                    "tools": [{"name": "Read", "input_schema": {"type": "object"}}]})
    assert request["tool_choice"] == expected
    assert request.get("parallel_tool_calls") == parallel


def test_sampling_stop_and_anthropic_only_fields():
    request = chat({"messages": [user(text("hi"))], "temperature": 0.2, "top_p": 0.9, "top_k": 5,
                    "stop_sequences": ["END"], "metadata": {"user_id": "x"}, "service_tier": "auto",
                    "context_management": {"edits": []}, "safeguards": {}, "stream": False})
    assert {k: request[k] for k in ("temperature", "top_p", "stop")} == {"temperature": 0.2, "top_p": 0.9, "stop": ["END"]}
    assert set(request) == {"model", "messages", "max_tokens", "temperature", "top_p", "stop"}


@pytest.mark.parametrize(("body", "accepted", "expected"), [
    ({"output_config": {"effort": "high"}}, ["low", "medium", "high"], "high"),
    ({"output_config": {"effort": "max"}}, ["low", "medium", "high"], "high"),
    ({"output_config": {"effort": "low"}}, ["medium", "high"], "medium"),
    ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, ["low", "medium", "high"], "low"),
    ({"thinking": {"type": "enabled", "budget_tokens": 10000}}, ["low", "medium", "high"], "medium"),
    ({"thinking": {"type": "enabled", "budget_tokens": 31999}}, ["low", "medium", "high", "xhigh"], "high"),
    ({"thinking": {"type": "disabled"}}, ["none", "low", "high"], "none"),
    ({"thinking": {"type": "adaptive"}}, ["low", "high"], None),
    ({"output_config": {"effort": "high"}}, [], None),
])
def test_reasoning_effort(body, accepted, expected):
    request = chat({"messages": [user(text("hi"))], **body}, reasoning_effort=accepted)
    assert request.get("reasoning_effort") == expected


def test_json_schema_output_format():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    request = chat({"messages": [user(text("hi"))], "output_config": {"format": {"type": "json_schema", "schema": schema}}})
    assert request["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}


def test_output_limit_field_and_cap_and_stream_options():
    body = {"messages": [user(text("hi"))], "max_tokens": 128000, "stream": True}
    assert chat(body)["max_tokens"] == 128000
    request = chat(body, max_tokens_field="max_completion_tokens", max_output_tokens=32768, stream_options=False)
    assert request["max_completion_tokens"] == 32768 and "max_tokens" not in request
    assert "stream_options" not in request and request["stream"] is True


def test_long_tool_names_are_shortened_the_same_way_in_tools_and_history():
    long = "mcp__" + "very_long_server_name__" * 3 + "do_the_thing"
    assert len(long) > 64
    request = chat({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": long, "input": {}}]},
                                 user({"type": "tool_result", "tool_use_id": "t", "content": "ok"})],
                    "tools": [{"name": long, "input_schema": {"type": "object"}}],
                    "tool_choice": {"type": "tool", "name": long}})
    short = request["tools"][0]["function"]["name"]
    assert len(short) <= 64 and short == wire_name(long) != long
    assert request["messages"][0]["tool_calls"][0]["function"]["name"] == short
    assert request["tool_choice"]["function"]["name"] == short
    assert wire_name(long + "x") != short


def test_a_gemini_thought_signature_goes_back_on_its_call():
    carried = anthropic_id("function-call-1", "c2lnbmF0dXJl+/=")
    messages = [{"role": "assistant", "content": [{"type": "tool_use", "id": carried, "name": "Read", "input": {}}]},
                user({"type": "tool_result", "tool_use_id": carried, "content": "ok"})]
    request, _ = to_chat({"model": "m", "messages": messages}, "gemini-x", options_with_defaults({}))
    call = request["messages"][0]["tool_calls"][0]
    assert call["id"] == "function-call-1" and request["messages"][1]["tool_call_id"] == "function-call-1"
    assert call.pop("extra_content") == {"google": {"thought_signature": "c2lnbmF0dXJl+/="}}
    check_chat(request)  # with Gemini's one extension removed, the rest is plain OpenAI
