"""Recorded upstream streams for the translation tests (and for phase-2 mocks that replay them):
each OpenAI-format stream as the bytes a provider sends, built from the `openai` package's own
response models (ChatCompletionChunk, the Responses stream events) so that every chunk is one the
SDK accepts. `python tests/support/openai_streams.py` rewrites tests/fixtures/translate/streams/;
tests/gateway/translate/test_fixtures.py checks the files are what this builds.

The shapes follow the providers' documented streams: OpenAI (usage in a last chunk without
choices), Groq-style usage on every chunk, DeepSeek/vLLM `reasoning_content`, OpenRouter `reasoning`,
Gemini's whole calls in one chunk with `extra_content.google.thought_signature`.
"""

from __future__ import annotations

import json
from pathlib import Path

STREAMS = Path(__file__).resolve().parents[1] / "fixtures" / "translate" / "streams"
BASE = {"id": "chatcmpl-rec1", "object": "chat.completion.chunk", "created": 1764979200, "model": "gpt-x"}
USAGE = {"prompt_tokens": 1200, "completion_tokens": 57, "total_tokens": 1257,
         "prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 20}}


def chunk(delta: dict | None = None, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> bytes:
    from openai.types.chat import ChatCompletionChunk

    data = {**BASE, "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if choices else []}
    if usage is not None:
        data["usage"] = usage
    model = ChatCompletionChunk.model_validate(data)
    return b"data: " + model.model_dump_json(exclude_unset=True).encode() + b"\n\n"


def call(index: int, id: str | None = None, name: str | None = None, args: str | None = None, **extra) -> dict:
    function = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    out = {"index": index, **({"id": id, "type": "function"} if id else {}), "function": function}
    return {**out, **extra}


DONE = b"data: [DONE]\n\n"
ARGS = '{"command": "echo h\u00e9llo \u6f22\u5b57", "description": "say it"}'
FRAGMENTS = [ARGS[i:i + 5] for i in range(0, len(ARGS), 5)]


def chat_streams() -> dict[str, bytes]:
    role = chunk({"role": "assistant", "content": ""})
    s = {
        "text": role + chunk({"content": ""}) + chunk({"content": "Hello"}) + chunk({"content": " w\u00f6rld \u6f22"})
        + chunk(finish="stop") + chunk(choices=False, usage=USAGE) + DONE,
        "content-with-finish": role + chunk({"content": "cut "}) + chunk({"content": "here"}, finish="length") + DONE,
        "tool-fragments": role + chunk({"tool_calls": [call(0, "call_1", "Bash", "")]})
        + b"".join(chunk({"tool_calls": [call(0, args=f)]}) for f in FRAGMENTS)
        + chunk(finish="tool_calls") + chunk(choices=False, usage=USAGE) + DONE,
        "usage-every-chunk": b"".join(chunk(d, f, usage={**USAGE, "completion_tokens": n})
                                      for n, (d, f) in enumerate([({"role": "assistant"}, None),
                                                                  ({"tool_calls": [call(0, "call_1", "Bash", FRAGMENTS[0])]}, None),
                                                                  *[({"tool_calls": [call(0, args=f)]}, None) for f in FRAGMENTS[1:]],
                                                                  ({}, "tool_calls")], start=1)) + DONE,
        "parallel-calls": role + chunk({"content": "Two reads."})
        + chunk({"tool_calls": [call(0, "call_a", "Read", '{"file_')]}) + chunk({"tool_calls": [call(0, args='path": "/a"}')]})
        + chunk({"tool_calls": [call(1, "call_b", "Read", '{"file_path"')]}) + chunk({"tool_calls": [call(1, args=': "/b"}')]})
        + chunk(finish="tool_calls") + chunk(choices=False, usage=USAGE) + DONE,
        "interleaved-calls": role + chunk({"tool_calls": [call(0, "call_a", "Read", '{"file_')]})
        + chunk({"tool_calls": [call(1, "call_b", "Read", '{"file_path": ')]})
        + chunk({"tool_calls": [call(0, args='path": "/a"}')]}) + chunk({"tool_calls": [call(1, args='"/b"}')]})
        + chunk(finish="tool_calls") + DONE,
        "gemini-whole-call": chunk({"role": "assistant", "tool_calls": [
            call(0, "function-call-9", "Read", '{"file_path": "/a"}', extra_content={"google": {"thought_signature": "CiQB+sig/=="}}),
            call(1, "function-call-10", "Read", '{"file_path": "/b"}')]}, finish="stop")
        + chunk(choices=False, usage=USAGE) + DONE,
        "reasoning-content": role + chunk({"reasoning_content": "Let me "}) + chunk({"reasoning_content": "think."})
        + chunk({"content": "Answer."}) + chunk(finish="stop", usage=USAGE) + DONE,
        "reasoning-openrouter": role + chunk({"reasoning": "Pondering."}) + chunk({"content": "Done."}, finish="stop") + DONE,
        "all-in-one-chunk": chunk({"role": "assistant", "reasoning_content": "plan", "content": "I'll run it.",
                                   "tool_calls": [call(0, "call_1", "Bash", '{"command": "ls"}')]}, finish="tool_calls") + DONE,
        "error-mid-stream": role + chunk({"content": "partial"})
        + b'data: {"error": {"message": "The server had an error while processing your request.", "type": "server_error", "code": null}}\n\n',
        "missing-done": role + chunk({"content": "ok"}) + chunk(finish="stop") + chunk(choices=False, usage=USAGE),
        "cut-before-finish": role + chunk({"content": "partial answer"}),
        "content-filter": role + chunk({"content": "I can"}) + chunk(finish="content_filter") + DONE,
        "glued-frames": (role + chunk({"content": "one"})).replace(b"\n\ndata: ", b"data: ", 1) + chunk({"content": " two"})
        + chunk(finish="stop") + DONE,
    }
    return s


def write() -> None:
    STREAMS.mkdir(parents=True, exist_ok=True)
    for name, data in chat_streams().items():
        (STREAMS / f"chat-{name}.sse").write_bytes(data)


def read(name: str) -> bytes:
    return (STREAMS / name).read_bytes()


# --- Responses ---------------------------------------------------------------------------------

RESPONSE = {"id": "resp_rec1", "object": "response", "created_at": 1764979200, "model": "gpt-x", "output": [],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "status": "in_progress"}
RESPONSES_USAGE = {"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 0}, "output_tokens": 57,
                   "output_tokens_details": {"reasoning_tokens": 20}, "total_tokens": 1257}


def event(data: dict) -> bytes:
    """One Responses stream event, checked by openai's own event models."""
    from openai.types.responses import ResponseStreamEvent
    from pydantic import TypeAdapter

    model = TypeAdapter(ResponseStreamEvent).validate_python(data)
    return f"event: {data['type']}\ndata: ".encode() + model.model_dump_json(exclude_unset=True).encode() + b"\n\n"


def responses_streams() -> dict[str, bytes]:
    seq = iter(range(1, 1000))

    def ev(kind: str, **fields) -> bytes:
        return event({"type": kind, "sequence_number": next(seq), **fields})

    def created() -> bytes:
        return ev("response.created", response=RESPONSE) + ev("response.in_progress", response=RESPONSE)

    def completed(status: str = "completed", **extra) -> bytes:
        return ev(f"response.{status}", response={**RESPONSE, "status": status, "usage": RESPONSES_USAGE, **extra})

    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}
    text_part = {"type": "output_text", "text": "", "annotations": []}
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    fcall = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "Bash", "arguments": "", "status": "in_progress"}

    def text_item(index: int, pieces: list[str]) -> bytes:
        done = {**message, "status": "completed", "content": [{**text_part, "text": "".join(pieces)}]}
        return (ev("response.output_item.added", output_index=index, item=message)
                + ev("response.content_part.added", item_id="msg_1", output_index=index, content_index=0, part=text_part)
                + b"".join(ev("response.output_text.delta", item_id="msg_1", output_index=index, content_index=0,
                              delta=p, logprobs=[]) for p in pieces)
                + ev("response.output_item.done", output_index=index, item=done))

    def call_item(index: int, item: dict, fragments: list[str]) -> bytes:
        done = {**item, "arguments": "".join(fragments), "status": "completed"}
        return (ev("response.output_item.added", output_index=index, item=item)
                + b"".join(ev("response.function_call_arguments.delta", item_id=item["id"], output_index=index, delta=f)
                           for f in fragments)
                + ev("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                     arguments="".join(fragments), name=item["name"])
                + ev("response.output_item.done", output_index=index, item=done))

    def reasoning_item(index: int, pieces: list[str], encrypted: str | None) -> bytes:
        done = {**reasoning, "summary": [{"type": "summary_text", "text": "".join(pieces)}]}
        if encrypted:
            done["encrypted_content"] = encrypted
        return (ev("response.output_item.added", output_index=index, item=reasoning)
                + b"".join(ev("response.reasoning_summary_text.delta", item_id="rs_1", output_index=index,
                              summary_index=0, delta=p) for p in pieces)
                + ev("response.output_item.done", output_index=index, item=done))

    streams = {"text": created() + text_item(0, ["Hel", "lo w\u00f6rld \u6f22"]) + completed()}
    streams["tool-loop"] = (created() + reasoning_item(0, ["I should ", "run it."], "gAAAAencrypted==")
                            + text_item(1, ["Running."]) + call_item(2, fcall, FRAGMENTS) + completed())
    streams["incomplete"] = created() + text_item(0, ["cut"]) + completed("incomplete", incomplete_details={"reason": "max_output_tokens"})
    seq = iter(range(1, 1000))
    streams["failed"] = created() + text_item(0, ["part"]) + ev(
        "response.failed", response={**RESPONSE, "status": "failed",
                                     "error": {"code": "server_error", "message": "The model failed."}})
    seq = iter(range(1, 1000))
    streams["error-event"] = created() + ev("error", code="rate_limit_exceeded", message="Slow down.", param=None)
    seq = iter(range(1, 1000))
    streams["cut"] = created() + ev("response.output_item.added", output_index=0, item=message)
    return streams


def write_responses() -> None:
    for name, data in responses_streams().items():
        (STREAMS / f"responses-{name}.sse").write_bytes(data)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    write()
    write_responses()
    print(json.dumps(sorted(p.name for p in STREAMS.iterdir())))
