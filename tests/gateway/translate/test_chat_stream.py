"""Chat Completions streams -> Anthropic SSE: recorded streams (tests/fixtures/translate/streams/,
built with openai's ChatCompletionChunk) replayed whole, frame by frame, byte by byte and in random
pieces; the output checked against the event order claude needs and folded into the final message
by the anthropic SDK's own accumulator."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.anthropic_stream import check_order, events, fold
from support.openai_streams import ARGS, FRAGMENTS, STREAMS, USAGE, call, chunk, read

from ccswitch.gateway.translate.chat_stream import ChatStream
from ccswitch.gateway.translate.tools import Context, ToolNames, upstream_id

MAPPED_USAGE = {"input_tokens": 176, "cache_read_input_tokens": 1024, "output_tokens": 57}


def replay(data: bytes, pieces: list[int] | None = None, names: ToolNames | None = None) -> bytes:
    stream = ChatStream(Context("gpt-x", names or ToolNames()))
    cuts = sorted(set(pieces or [])) if pieces is not None else list(range(1, len(data)))
    out = [stream.feed(data[a:b]) for a, b in zip([0, *cuts], [*cuts, len(data)])]
    return b"".join(out) + stream.close()


def final(name: str, **kwargs) -> dict:
    message = fold(replay(read(f"chat-{name}.sse"), [], **kwargs))
    message.pop("id")
    return message


def blocks(message: dict) -> list[tuple]:
    out = []
    for b in message["content"]:
        if b["type"] == "text":
            out.append(("text", b["text"]))
        elif b["type"] == "thinking":
            out.append(("thinking", b["thinking"]))
        else:
            out.append(("tool_use", b["id"], b["name"], b["input"]))
    return out


@pytest.mark.parametrize("path", sorted(STREAMS.glob("chat-*.sse")), ids=lambda p: p.stem)
def test_every_recorded_stream_gives_the_same_answer_however_it_is_cut(path):
    data = path.read_bytes()
    whole = replay(data, [])
    frames = [i + 2 for i in range(len(data)) if data[i:i + 2] == b"\n\n"]
    check_order(events(whole))
    for other in (replay(data, frames), replay(data)):  # frame by frame, byte by byte
        check_order(events(other))
        assert _without_ids(other) == _without_ids(whole)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), max_size=15))
def test_random_cuts_of_a_tool_stream(cuts):
    data = read("chat-tool-fragments.sse")
    assert _without_ids(replay(data, [c for c in cuts if c < len(data)])) == _without_ids(replay(data, []))


def _without_ids(raw: bytes) -> list:
    out = []
    for name, data in events(raw):
        if name == "message_start":
            data["message"].pop("id")
        out.append((name, data))
    return out


def test_text_with_role_only_and_empty_chunks_and_usage_in_a_last_chunk():
    message = final("text")
    assert blocks(message) == [("text", "Hello w\u00f6rld \u6f22")]
    assert message["stop_reason"] == "end_turn" and message["usage"] | MAPPED_USAGE == message["usage"]


def test_content_and_finish_in_one_chunk_keeps_the_content():
    message = final("content-with-finish")
    assert blocks(message) == [("text", "cut here")] and message["stop_reason"] == "max_tokens"


def test_arguments_in_many_fragments_arrive_whole_and_stream_as_they_come():
    message = final("tool-fragments")
    assert blocks(message) == [("tool_use", "call_1", "Bash", json.loads(ARGS))]
    assert message["stop_reason"] == "tool_use" and message["usage"]["output_tokens"] == 57
    deltas = [d["delta"]["partial_json"] for n, d in events(replay(read("chat-tool-fragments.sse"), []))
              if n == "content_block_delta"]
    assert len(deltas) > 5 and "".join(deltas) == ARGS  # fragments, not re-assembled


def test_usage_on_every_chunk_does_not_close_the_call_early():
    message = final("usage-every-chunk")
    assert blocks(message) == [("tool_use", "call_1", "Bash", json.loads(ARGS))]
    assert message["usage"]["output_tokens"] == len(FRAGMENTS) + 2  # the last chunk's count wins


def test_parallel_calls_and_text_before_them():
    message = final("parallel-calls")
    assert blocks(message) == [("text", "Two reads."), ("tool_use", "call_a", "Read", {"file_path": "/a"}),
                               ("tool_use", "call_b", "Read", {"file_path": "/b"})]


def test_interleaved_calls_wait_their_turn():
    message = final("interleaved-calls")
    assert blocks(message) == [("tool_use", "call_a", "Read", {"file_path": "/a"}),
                               ("tool_use", "call_b", "Read", {"file_path": "/b"})]


def test_a_whole_call_in_one_chunk_with_a_gemini_thought_signature():
    message = final("gemini-whole-call")
    [first, second] = blocks(message)
    assert first[2:] == ("Read", {"file_path": "/a"}) and second == ("tool_use", "function-call-10", "Read", {"file_path": "/b"})
    assert upstream_id(first[1]) == ("function-call-9", "CiQB+sig/==")
    assert message["stop_reason"] == "tool_use"  # Gemini says "stop"


def test_reasoning_content_and_reasoning_become_thinking():
    assert blocks(final("reasoning-content")) == [("thinking", "Let me think."), ("text", "Answer.")]
    assert blocks(final("reasoning-openrouter")) == [("thinking", "Pondering."), ("text", "Done.")]


def test_thinking_text_and_a_call_in_one_chunk_go_out_in_that_order():
    assert blocks(final("all-in-one-chunk")) == [("thinking", "plan"), ("text", "I'll run it."),
                                                 ("tool_use", "call_1", "Bash", {"command": "ls"})]


def test_an_error_mid_stream_becomes_an_anthropic_error_event():
    evs = events(replay(read("chat-error-mid-stream.sse"), []))
    name, data = evs[-1]
    assert name == "error" and data["error"] == {"type": "api_error",
                                                "message": "The server had an error while processing your request."}
    assert "message_stop" not in [n for n, _ in evs]


def test_a_missing_done_still_finishes_and_a_cut_stream_is_an_error():
    message = final("missing-done")
    assert blocks(message) == [("text", "ok")] and message["usage"]["cache_read_input_tokens"] == 1024
    evs = events(replay(read("chat-cut-before-finish.sse"), []))
    assert evs[-1][0] == "error" and evs[-1][1]["error"]["type"] == "overloaded_error"


def test_finish_reasons():
    assert final("content-filter")["stop_reason"] == "refusal"
    assert final("text")["stop_reason"] == "end_turn"


def test_glued_frames_are_both_read():
    assert blocks(final("glued-frames")) == [("text", "one two")]


def test_nothing_is_held_back():
    stream = ChatStream(Context("gpt-x", ToolNames()))
    assert b"message_start" in stream.feed(chunk({"role": "assistant", "content": ""}))
    assert b"text_delta" in stream.feed(chunk({"content": "Hi"}))
    assert b'"name":"Bash"' in stream.feed(chunk({"tool_calls": [call(0, "c1", "Bash", "")]}))
    assert b"input_json_delta" in stream.feed(chunk({"tool_calls": [call(0, args='{"comm')]}))
    assert b"message_stop" not in stream.feed(chunk(finish="tool_calls"))  # waits for the usage
    assert b"message_stop" in stream.feed(chunk(choices=False, usage=USAGE) + b"data: [DONE]\n\n")
    assert stream.feed(chunk({"content": "late"})) == b""


def test_a_shortened_tool_name_comes_back_whole():
    long = "mcp__" + "x" * 70
    names = ToolNames([long])
    data = chunk({"tool_calls": [call(0, "c1", names.add(long), "{}")]}, finish="tool_calls") + b"data: [DONE]\n\n"
    assert blocks(fold(replay(data, [], names)))[0][2] == long


def test_an_id_anthropic_would_refuse_is_carried_and_comes_back():
    data = chunk({"tool_calls": [call(0, "functions.Read:0", "Read", "{}")]}, finish="tool_calls") + b"data: [DONE]\n\n"
    [(_, tool_id, _, _)] = blocks(fold(replay(data, [])))
    assert tool_id.replace("_", "").replace("-", "").isalnum() and upstream_id(tool_id) == ("functions.Read:0", None)
