"""A loopback OpenAI-format provider (Chat Completions or Responses), strict like the real ones, for
the gateway's translated path: in-process (tests/gateway) and with the real claude (tests/e2e).

- Every request is checked against the `openai` package's own request types with unknown keys
  refused (support.openai_types): a key the translators let through gets a 400 in OpenAI's words,
  and lands in `problems`, which a test asserts is empty.
- It makes claude use tools, like support.mock_tool_turn: the request holding N tool results
  (`tool` messages, `function_call_output` items) is answered with the N-th scripted call, its
  arguments streamed in fragments of a few characters; once the script is done, with text.
- `gemini=True`: Gemini's OpenAI endpoint as its docs describe it (base path /v1beta/openai): each
  call comes whole in one chunk with `extra_content.google.thought_signature`, and a later request
  whose calls lack their signatures is refused the way Gemini refuses it (an error in a list).
- Every answer reports USAGE; MAPPED is what it comes to in Anthropic terms.
- `script(Fail(...), ...)` queues what the next requests get instead of a normal answer (an error
  status with an OpenAI-format body, a dropped connection, a late or stalled answer; None: a normal
  answer).
The answers are built from the package's response models (ChatCompletionChunk, the Responses
stream events), so each is one the SDK itself accepts. 127.0.0.1 only.
"""

from __future__ import annotations

import collections
import copy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

from support.mock_anthropic import _Server, stop_server
from support.openai_types import Mismatch, check_chat, check_responses

USAGE = {"prompt_tokens": 1200, "completion_tokens": 57, "total_tokens": 1257,
         "prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 20}}
RESPONSES_USAGE = {"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 0}, "output_tokens": 57,
                   "output_tokens_details": {"reasoning_tokens": 20}, "total_tokens": 1257}
MAPPED = {"input_tokens": 176, "cache_read_input_tokens": 1024, "output_tokens": 57}  # 1200 - 1024 cached
INVALID_KEY = ("Incorrect API key provided: sk-proj-****wxyz. You can find your API key at "
               "https://platform.openai.com/account/api-keys.")
GEMINI_NO_SIGNATURE = ("Function call is missing a thought_signature in functionCall parts. This is required for "
                       "tools to work correctly, and missing thought_signature may lead to degraded model performance.")


class Fail:
    """What the mock does with one request instead of answering it: an error status with an
    OpenAI-format error body, or (`drop`) a connection closed without a word."""

    def __init__(self, status: int = 500, message: str = "The server had an error while processing your request.",
                 kind: str = "server_error", code: str | None = None, drop: bool = False, echo: bool = False) -> None:
        self.status, self.drop = status, drop
        self.echo = echo  # a careless provider: its message quotes the credential it was sent
        self.body = {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Cut:
    """An answer that starts and then, after `after` chunks, goes silent for `stall` seconds (and
    goes on), or with no stall breaks off (the connection closed mid-stream)."""

    def __init__(self, after: int = 2, stall: float = 0.0) -> None:
        self.after, self.stall = after, stall


class Late:
    """An answer that starts only after `seconds` (nothing sent before, not even the status line)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


def unauthorized() -> Fail:
    return Fail(401, INVALID_KEY, "invalid_request_error", "invalid_api_key")


class Seen:
    def __init__(self, path: str, headers: dict[str, str], body: dict) -> None:
        self.path, self.headers, self.body = path, headers, body

    @property
    def model(self) -> str:
        return self.body.get("model", "")


class MockOpenAI:
    def __init__(self, api: str = "openai-chat", *, prefix: str = "/v1", steps: list[tuple[str, dict]] = (),
                 final_text: str = "done", gemini: bool = False, reasoning: bool = False, fragment: int = 4,
                 whole: bool = False, replay: bytes | None = None) -> None:
        self.api, self.prefix, self.steps, self.final_text = api, prefix, list(steps), final_text
        self.gemini, self.reasoning, self.fragment = gemini, reasoning, fragment
        self.whole = whole  # a server that answers a streaming request with one JSON body
        self.replay = replay  # a recorded stream: every streaming request gets it, in pieces of 7 bytes
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self.answered = 0
        self.calls: list[str] = []  # the ids of the tool calls it made, in order
        self.signatures: dict[str, str] = {}  # Gemini: call id -> the thought signature it came with
        self.signatures_back = 0  # calls that came back with their signature
        self.reasoning_back: list[dict] = []  # Responses: reasoning items that came back
        self._script: collections.deque[Fail | Cut | Late | None] = collections.deque()
        # Imported here, once: two handler threads importing openai at the same moment deadlock on its
        # package's circular imports (`ccswitch test` sends its requests concurrently).
        import openai.types.chat  # noqa: F401
        import openai.types.responses  # noqa: F401
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    @property
    def path(self) -> str:
        return self.prefix + ("/chat/completions" if self.api == "openai-chat" else "/responses")

    def script(self, *replies: Fail | Cut | Late | None) -> MockOpenAI:
        with self._lock:
            self._script.extend(replies)
        return self

    def __enter__(self) -> MockOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        stop_server(self._server)

    # --- what a request is worth ---

    def check(self, body: dict) -> str | None:
        """Why a provider would refuse `body`, or None."""
        if self.gemini:
            body = copy.deepcopy(body)  # `seen` keeps the request as it came
            problem = self._take_signatures(body)
            if problem:
                return problem
        try:
            (check_chat if self.api == "openai-chat" else check_responses)(body)
        except Mismatch as exc:
            return str(exc)
        if self.api == "openai-responses":
            self.reasoning_back += [i for i in body.get("input", ()) if isinstance(i, dict) and i.get("type") == "reasoning"]
        return None

    def _take_signatures(self, body: dict) -> str | None:
        """Gemini's check: every call in the history carries the signature it came with (and is
        plain OpenAI once that is taken off)."""
        for message in body.get("messages", ()):
            for call in message.get("tool_calls") or ():
                extra = call.pop("extra_content", None)  # Gemini's one extension; the rest is plain OpenAI
                signature = (extra or {}).get("google", {}).get("thought_signature")
                if signature is None or signature != self.signatures.get(call["id"]):
                    return GEMINI_NO_SIGNATURE
                self.signatures_back += 1
        return None

    def results_in(self, body: dict) -> int:
        if self.api == "openai-chat":
            return sum(1 for m in body.get("messages", ()) if m.get("role") == "tool")
        return sum(1 for i in body.get("input", ()) if isinstance(i, dict) and i.get("type") == "function_call_output")

    def next_step(self, body: dict) -> tuple[str, dict] | None:
        done = self.results_in(body)
        return self.steps[done] if done < len(self.steps) and body.get("tools") else None

    # --- answers: Chat Completions ---

    def chat_chunks(self, n: int, model: str, step: tuple[str, dict] | None) -> list[bytes]:
        base = {"id": f"chatcmpl-{n}", "object": "chat.completion.chunk", "created": 1764979200, "model": model}

        def chunk(delta: dict | None = None, finish: str | None = None, usage: dict | None = None) -> bytes:
            from openai.types.chat import ChatCompletionChunk

            data = {**base, "choices": [] if usage else [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
            if usage:
                data["usage"] = usage
            return b"data: " + ChatCompletionChunk.model_validate(data).model_dump_json(exclude_unset=True).encode() + b"\n\n"

        out = [chunk({"role": "assistant", "content": ""})]
        if self.reasoning:
            out.append(chunk({"reasoning_content": "Let me think."}))
        if step is None:
            text = self.final_text
            out += [chunk({"content": text[i:i + self.fragment]}) for i in range(0, len(text), self.fragment)]
            out.append(chunk(finish="stop"))
        else:
            call_id, args = self._call_id(n), json.dumps(step[1])
            if self.gemini:  # whole, with its thought signature
                signature = self.signatures[call_id] = f"sig+/{n}=="
                out.append(chunk({"tool_calls": [{"index": 0, "id": call_id, "type": "function", "function": {
                    "name": step[0], "arguments": args}, "extra_content": {"google": {"thought_signature": signature}}}]}))
            else:
                out.append(chunk({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                                  "function": {"name": step[0], "arguments": ""}}]}))
                out += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + self.fragment]}}]})
                        for i in range(0, len(args), self.fragment)]
            out.append(chunk(finish="tool_calls"))
        return out + [chunk(usage=USAGE), b"data: [DONE]\n\n"]

    def chat_completion(self, n: int, model: str, step: tuple[str, dict] | None) -> dict:
        from openai.types.chat import ChatCompletion

        message: dict = {"role": "assistant", "content": None if step else self.final_text}
        if step:
            call = {"id": self._call_id(n), "type": "function", "function": {"name": step[0], "arguments": json.dumps(step[1])}}
            if self.gemini:
                call["extra_content"] = {"google": {"thought_signature": self.signatures.setdefault(call["id"], f"sig+/{n}==")}}
            message["tool_calls"] = [call]
        data = {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": 1764979200, "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if step else "stop"}],
                "usage": USAGE}
        return json.loads(ChatCompletion.model_validate(data).model_dump_json(exclude_unset=True))

    def _call_id(self, n: int) -> str:
        call_id = f"function-call-{n}" if self.gemini else f"call_mock_{n}"
        if call_id not in self.calls:
            self.calls.append(call_id)
        return call_id

    # --- answers: Responses ---

    def response_events(self, n: int, model: str, step: tuple[str, dict] | None) -> list[bytes]:
        from openai.types.responses import ResponseStreamEvent
        from pydantic import TypeAdapter

        adapter, seq = TypeAdapter(ResponseStreamEvent), iter(range(1, 10000))
        response = {"id": f"resp_{n}", "object": "response", "created_at": 1764979200, "model": model, "output": [],
                    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "status": "in_progress"}

        def ev(kind: str, **fields) -> bytes:
            data = adapter.validate_python({"type": kind, "sequence_number": next(seq), **fields})
            return f"event: {kind}\ndata: ".encode() + data.model_dump_json(exclude_unset=True).encode() + b"\n\n"

        out = [ev("response.created", response=response), ev("response.in_progress", response=response)]
        items = self.response_items(n, step)
        for index, item in enumerate(items):
            if item["type"] == "reasoning":
                out += [ev("response.output_item.added", output_index=index, item={**item, "summary": []}),
                        ev("response.reasoning_summary_text.delta", item_id=item["id"], output_index=index, summary_index=0,
                           delta=item["summary"][0]["text"])]
            elif item["type"] == "message":
                text = item["content"][0]["text"]
                out += [ev("response.output_item.added", output_index=index, item={**item, "content": [], "status": "in_progress"})]
                out += [ev("response.output_text.delta", item_id=item["id"], output_index=index, content_index=0,
                           delta=text[i:i + self.fragment], logprobs=[]) for i in range(0, len(text), self.fragment)]
            else:
                args = item["arguments"]
                out += [ev("response.output_item.added", output_index=index, item={**item, "arguments": "", "status": "in_progress"})]
                out += [ev("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                           delta=args[i:i + self.fragment]) for i in range(0, len(args), self.fragment)]
            out.append(ev("response.output_item.done", output_index=index, item=item))
        done = {**response, "status": "completed", "output": items, "usage": RESPONSES_USAGE}
        return out + [ev("response.completed", response=done)]

    def response_items(self, n: int, step: tuple[str, dict] | None) -> list[dict]:
        items: list[dict] = []
        if self.reasoning:
            items.append({"type": "reasoning", "id": f"rs_{n}", "encrypted_content": f"enc-{n}",
                          "summary": [{"type": "summary_text", "text": "Let me think."}]})
        if step is None:
            items.append({"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                          "content": [{"type": "output_text", "text": self.final_text, "annotations": []}]})
        else:
            items.append({"type": "function_call", "id": f"fc_{n}", "call_id": self._call_id(n), "name": step[0],
                          "arguments": json.dumps(step[1]), "status": "completed"})
        return items

    def response(self, n: int, model: str, step: tuple[str, dict] | None) -> dict:
        from openai.types.responses import Response

        data = {"id": f"resp_{n}", "object": "response", "created_at": 1764979200, "model": model,
                "output": self.response_items(n, step), "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
                "status": "completed", "usage": RESPONSES_USAGE}
        return json.loads(Response.model_validate(data).model_dump_json(exclude_unset=True))

    # --- HTTP ---

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                with mock._lock:
                    mock.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    # a provider routes first: a wrong path is a 404 whatever the script says
                    fail = mock._script.popleft() if mock._script and self.path == mock.path else None
                if self.path != mock.path:
                    return self._json(404, {"error": {"message": f"Invalid URL (POST {self.path})",
                                                      "type": "invalid_request_error", "param": None, "code": None}})
                if isinstance(fail, Fail):
                    return self._fail(fail)
                if isinstance(fail, Late):
                    time.sleep(fail.seconds)
                with mock._lock:
                    problem = mock.check(body)
                    if problem is None:
                        mock.answered += 1
                    else:
                        mock.problems.append(problem)
                    n = mock.answered
                if problem is not None:
                    error = {"error": {"message": problem, "type": "invalid_request_error", "param": None, "code": None}}
                    return self._json(400, [error] if mock.gemini else error)
                self._answer(n, body, fail)

            def _answer(self, n: int, body: dict, cut: Cut | Late | None) -> None:
                step, model, chat = mock.next_step(body), body.get("model", ""), mock.api == "openai-chat"
                if not body.get("stream") or mock.whole:
                    return self._json(200, mock.chat_completion(n, model, step) if chat else mock.response(n, model, step))
                if mock.replay is not None:  # lines and UTF-8 characters split across reads, as a slow network would
                    parts = [mock.replay[at:at + 7] for at in range(0, len(mock.replay), 7)]
                else:
                    parts = mock.chat_chunks(n, model, step) if chat else mock.response_events(n, model, step)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("x-request-id", f"req_openai_{n}")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i, part in enumerate(parts):  # one chunk each, flushed: the gateway gets them as they are sent
                    if isinstance(cut, Cut) and i == cut.after:
                        if not cut.stall:
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                        time.sleep(cut.stall)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def _fail(self, fail: Fail) -> None:
                if fail.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = fail.body
                if fail.echo:
                    sent = self.headers.get("authorization") or self.headers.get("x-api-key")
                    body = {"error": {**body["error"], "message": f"{body['error']['message']} (you sent {sent})"}}
                self._json(fail.status, [body] if mock.gemini else body)

            def _json(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-request-id", f"req_openai_{mock.answered}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
