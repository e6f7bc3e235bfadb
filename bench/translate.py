"""Translation benchmark: the translators alone (no sockets), beside baselines measured in the same run.

    python bench/translate.py [--seconds 2]

- A 62 KB claude-shaped request (claude 2.1.330's captured tool-loop body, padded with a tool result
  to 62 KB): Anthropic -> Chat Completions and -> Responses, parse + translate + serialise, per
  request; baselines: the pass-through's own work on the same body (`RequestBody` + `with_model`:
  one regex, no parse) and a bare `json.loads` + `json.dumps` round trip (what any translation must
  at least do).
- A 4,000-chunk Chat Completions stream (text deltas, then a tool call whose arguments arrive in
  fragments, then usage and [DONE]), fed one upstream chunk per call: chunks/s through `ChatStream`;
  baselines: the pass-through's usage meter (`SSEUsage.feed`) on the Anthropic stream of the same
  length, and `DataReader` alone. The same for a 4,000-event Responses stream.
Goals (issue 17, for the whole relayed path in phase 2): >= 20,000 chunks/s, <= 1.5 ms added p50 at
62 KB. Two shared cores: compare within a run; CPU time (process_time) is printed beside wall time.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from ccswitch.gateway.body import RequestBody  # noqa: E402
from ccswitch.gateway.sse import DataReader, frame  # noqa: E402
from ccswitch.gateway.translate.chat_request import to_chat  # noqa: E402
from ccswitch.gateway.translate.chat_stream import ChatStream  # noqa: E402
from ccswitch.gateway.translate.params import encode  # noqa: E402
from ccswitch.gateway.translate.responses_request import to_responses  # noqa: E402
from ccswitch.gateway.translate.responses_stream import ResponsesStream  # noqa: E402
from ccswitch.gateway.translate.tools import Context, ToolNames  # noqa: E402
from ccswitch.gateway.usage import SSEUsage, Usage  # noqa: E402
from ccswitch.profiles.apis import options_with_defaults  # noqa: E402

OPTIONS = options_with_defaults({"reasoning_effort": ["low", "medium", "high"]})
CHUNKS = 4000


def body_62k() -> bytes:
    body = json.loads((REPO / "tests/fixtures/translate/claude-2.1.330-tool-loop.json").read_text())
    compact = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    pad = 62 * 1024 - len(compact)
    if pad > 0:
        body["messages"][-1]["content"][0]["content"] += "x" * pad
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def chat_chunks() -> list[bytes]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x"}

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        data = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": f"word{i} "}) for i in range(CHUNKS // 2)]
    out.append(chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                      "function": {"name": "Bash", "arguments": ""}}]}))
    out += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": f'"a{i}",'}}]}) for i in range(CHUNKS // 2 - 4)]
    out.append(chunk({}, "tool_calls"))
    usage = {**base, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 9,
                                              "prompt_tokens_details": {"cached_tokens": 1}}}
    out.append(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
    return out


def responses_chunks() -> list[bytes]:
    def ev(data: dict) -> bytes:
        return f"event: {data['type']}\ndata: ".encode() + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    out = [ev({"type": "response.created", "sequence_number": 0, "response": {"id": "r", "model": "gpt-x"}})]
    out += [ev({"type": "response.output_text.delta", "sequence_number": i, "item_id": "m", "output_index": 0,
                "content_index": 0, "delta": f"word{i} ", "logprobs": []}) for i in range(CHUNKS - 2)]
    out.append(ev({"type": "response.completed", "sequence_number": CHUNKS,
                   "response": {"id": "r", "status": "completed", "usage": {"input_tokens": 9, "output_tokens": 9}}}))
    return out


def anthropic_chunks() -> list[bytes]:
    events = [frame("message_start", {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 9}}})]
    events += [frame("content_block_delta", {"type": "content_block_delta", "index": 0,
                                             "delta": {"type": "text_delta", "text": f"word{i} "}}) for i in range(CHUNKS - 2)]
    events.append(frame("message_delta", {"type": "message_delta", "usage": {"output_tokens": 9}}))
    return events


def per_call(work, seconds: float) -> tuple[float, float, int]:
    """(median wall µs, CPU µs per call, calls) over `seconds`, in 20 batches."""
    samples, cpu0, calls, end = [], time.process_time(), 0, time.perf_counter() + seconds
    batch = 1
    while time.perf_counter() < end or len(samples) < 20:
        start = time.perf_counter()
        for _ in range(batch):
            work()
        elapsed = time.perf_counter() - start
        samples.append(elapsed / batch)
        calls += batch
        if elapsed < 0.005:
            batch *= 2
    return statistics.median(samples) * 1e6, (time.process_time() - cpu0) / calls * 1e6, calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds
    raw = body_62k()
    print(f"request: {len(raw)} bytes (claude 2.1.330's tool-loop body, padded)")
    rows = [
        ("pass-through: RequestBody + with_model", lambda: RequestBody(raw).with_model("gpt-x")),
        ("baseline: json.loads + json.dumps", lambda: json.dumps(json.loads(raw), ensure_ascii=False,
                                                                 separators=(",", ":")).encode()),
        ("-> Chat Completions (parse, translate, encode)", lambda: encode(to_chat(json.loads(raw), "gpt-x", OPTIONS)[0])),
        ("-> Responses (parse, translate, encode)", lambda: encode(to_responses(json.loads(raw), "gpt-x", OPTIONS)[0])),
    ]
    base = None
    for label, work in rows:
        wall, cpu, _ = per_call(work, seconds)
        base = base or wall
        print(f"  {label:<48} {wall / 1000:7.3f} ms p50  {cpu / 1000:7.3f} ms CPU  {1e6 / wall:8.0f} req/s  "
              f"x{wall / base:5.1f} of pass-through")

    def relay(chunks, make):
        def run():
            stream = make()
            for chunk in chunks:
                stream.feed(chunk)
            stream.close()
        return run

    anthropic, chat, responses = anthropic_chunks(), chat_chunks(), responses_chunks()
    print(f"stream: {CHUNKS} upstream chunks, fed one per call")

    def meter_run():
        meter = SSEUsage(Usage())
        for chunk in anthropic:
            meter.feed(chunk)

    def reader_run():
        reader = DataReader()
        for chunk in chat:
            reader.feed(chunk)

    rows = [("pass-through: SSEUsage on Anthropic events", meter_run, len(anthropic)),
            ("baseline: DataReader alone on Chat chunks", reader_run, len(chat)),
            ("ChatStream: Chat chunks -> Anthropic SSE", relay(chat, lambda: ChatStream(Context("gpt-x", ToolNames()))), len(chat)),
            ("ResponsesStream: events -> Anthropic SSE", relay(responses, lambda: ResponsesStream(Context("gpt-x", ToolNames()))),
             len(responses))]
    for label, work, count in rows:
        wall, cpu, _ = per_call(work, seconds)
        print(f"  {label:<48} {count / wall * 1e6:9.0f} chunks/s  {wall / count:6.2f} µs/chunk  "
              f"{cpu / count:6.2f} µs CPU/chunk")


if __name__ == "__main__":
    main()
