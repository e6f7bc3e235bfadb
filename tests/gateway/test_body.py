"""The request body: the model swapped without touching another byte; thinking blocks stripped."""

from __future__ import annotations

import asyncio
import json

import pytest

from ccswitch.gateway.body import LARGE, BodyError, BodyTooLarge, RequestBody, read_body

CLAUDE_BODY = (
    b'{"model":"kimi::kimi-k2","messages":[{"role":"user","content":[{"type":"text","text":"say \\"model\\": \\u00e9 \xe6\xbc\xa2"}]}],'
    b'"system":[{"type":"text","text":"You are Claude Code"}],"tools":[],"metadata":{"user_id":"u"},'
    b'"max_tokens":32000,"stream":true}'
)


def test_the_fast_path_changes_only_the_model_value():
    body = RequestBody(CLAUDE_BODY)
    assert (body.model, body.stream) == ("kimi::kimi-k2", True)
    out = body.with_model("kimi-k2-0905-preview")
    assert out == CLAUDE_BODY.replace(b'"kimi::kimi-k2"', b'"kimi-k2-0905-preview"', 1)
    assert body.with_model("kimi::kimi-k2") is CLAUDE_BODY  # nothing to change: the same bytes object


def test_whitespace_around_the_leading_model_is_kept():
    raw = b' { "model" : "opus", "stream": false, "messages": []}'
    body = RequestBody(raw)
    assert (body.model, body.stream) == ("opus", False)
    assert body.with_model("glm-5.1") == b' { "model" : "glm-5.1", "stream": false, "messages": []}'


def test_a_model_id_with_characters_json_escapes():
    assert RequestBody(b'{"model":"x"}').with_model('a"b\\c') == b'{"model":"a\\"b\\\\c"}'


@pytest.mark.parametrize("raw", [
    b'{"messages":[],"model":"opus","stream":true}',  # model not first
    b'{"model":"op\\u0075s","stream":true,"messages":[]}',  # an escape in the value
])
def test_other_shapes_take_the_parsing_path(raw):
    body = RequestBody(raw)
    assert (body.model, body.stream) == ("opus", True)
    assert json.loads(body.with_model("glm-5.1")) == {**json.loads(raw), "model": "glm-5.1"}


@pytest.mark.parametrize("raw, message", [
    (b"not json", "not valid JSON"),
    (b"[1]", "must be a JSON object"),
    (b'{"messages":[]}', "model: a model name is required"),
    (b'{"model":""}', "model: a model name is required"),
    (b'{"model":5}', "model: a model name is required"),
])
def test_bodies_that_cannot_be_routed(raw, message):
    with pytest.raises(BodyError, match=message):
        RequestBody(raw)


def test_stream_is_read_from_the_top_level_flag():
    assert RequestBody(b'{"model":"m","stream": true}').stream
    assert not RequestBody(b'{"model":"m","messages":[]}').stream
    # the last "stream" is not the flag: the whole body is searched
    assert RequestBody(b'{"model":"m","stream":true,"tools":[{"input_schema":{"stream":{"type":"boolean"}}}]}').stream
    assert not RequestBody(b'{"model":"m","tools":[{"input":{"stream":true}}],"stream":false}').stream
    assert not RequestBody(b'{"model":"m","stream":false,"x":"\\"stream\\":true"}').stream  # inside a string


THINKING = {
    "model": "glm::glm-5.1",
    "messages": [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig-from-kimi"},
            {"type": "text", "text": "a1"},
            {"type": "tool_use", "id": "t1", "name": "Read", "input": {"type": "thinking"}},
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"}]},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "xyz"}]},
        {"role": "assistant", "content": "plain text"},
        {"role": "user", "content": [{"type": "text", "text": "q2"}]},
    ],
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "stream": True,
}


def test_thinking_blocks_are_stripped_from_assistant_turns_only():
    body = RequestBody(json.dumps(THINKING).encode())
    assert body.has_thinking_blocks()
    stripped = body.without_thinking()
    messages = json.loads(stripped.raw)["messages"]
    assert messages[1]["content"] == THINKING["messages"][1]["content"][1:]  # tool input untouched
    assert [m["content"] for m in messages[2:]] == [THINKING["messages"][2]["content"], "plain text",
                                                    THINKING["messages"][5]["content"]]
    assert len(messages) == 5  # the turn that was only redacted thinking is gone
    assert json.loads(stripped.raw)["thinking"] == THINKING["thinking"]  # the request's own setting stays
    assert (stripped.model, stripped.stream) == ("glm::glm-5.1", True)
    assert stripped.raw.startswith(b'{"model":"glm::glm-5.1"')  # still first: the fast path applies again
    assert stripped.without_thinking() is None


def test_no_thinking_blocks_nothing_to_strip():
    body = RequestBody(b'{"model":"m","messages":[{"role":"assistant","content":[{"type":"text","text":"x"}]}]}')
    assert not body.has_thinking_blocks()
    assert body.without_thinking() is None


def test_only_the_refused_thinking_blocks_are_stripped_when_named():
    body = RequestBody(json.dumps(THINKING).encode())
    assert body.thinking_signatures() == {"sig-from-kimi", "xyz"}  # a redacted block is known by its data
    stripped = body.without_thinking({"xyz", "unrelated"})
    assert [m["content"] for m in json.loads(stripped.raw)["messages"]][1] == THINKING["messages"][1]["content"]
    assert len(json.loads(stripped.raw)["messages"]) == 5  # the redacted-only turn is gone
    assert body.without_thinking({"unrelated"}) is None
    assert body.with_model("glm-5.1").startswith(b'{"model": "glm-5.1", "messages"')  # still sliced, not re-serialised


class Chunks:
    """aiohttp's StreamReader as read_body uses it: `readany()` until b""."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    async def readany(self) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def read(chunks: tuple[bytes, ...], length: int | None, limit: int = 100) -> bytearray:
    return asyncio.run(read_body(Chunks(*chunks), length, limit))


def test_the_body_is_read_into_one_buffer():
    assert read((b'{"model"', b':"m"}'), 13) == bytearray(b'{"model":"m"}')
    assert read((b'{"model"', b':"m"}'), None) == bytearray(b'{"model":"m"}')  # chunked, or decoded gzip
    assert read((b'{"mod',), 13) == bytearray(b'{"mod')  # the client stopped short: what came


@pytest.mark.parametrize("chunks, length", [((b"x" * 60, b"x" * 60), None), ((), 101)])
def test_a_body_over_the_limit_is_refused(chunks, length):
    with pytest.raises(BodyTooLarge, match="too large"):
        read(chunks, length)


def test_a_body_longer_than_announced_is_refused():
    with pytest.raises(BodyError, match="longer than its Content-Length"):
        read((b"12345", b"678"), 6)


def test_a_large_bodys_parts_share_its_memory():
    raw = bytearray(CLAUDE_BODY.replace(b"You are Claude Code", b"x" * LARGE))
    body = RequestBody(raw)
    head, model, tail = body.parts("kimi-k2")
    assert b"".join((head, model, tail)) == body.with_model("kimi-k2")
    assert isinstance(head, memoryview) and head.obj is raw and tail.obj is raw
    assert body.parts("kimi::kimi-k2") == (raw,)
    assert RequestBody(CLAUDE_BODY).parts("kimi-k2") == (RequestBody(CLAUDE_BODY).with_model("kimi-k2"),)
