"""A loopback Anthropic Messages mock that makes claude use tools: it answers the request holding N
`tool_result` blocks with the N-th scripted `tool_use` (tool name and input), and with text once the
script is done. It records every request body as received, which is how the bodies claude
really sends are captured (docs/translation.md, "What claude sends").
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support.mock_anthropic import message


class ToolTurnMock:
    def __init__(self, steps: list[tuple[str, dict]], final_text: str = "done", fail_from: int | None = None) -> None:
        self.steps, self.final_text = steps, final_text
        self.fail_from = fail_from  # from the request holding this many tool results on: 529 (a provider gone down)
        self.bodies: list[tuple[str, bytes]] = []  # (path, raw body)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ToolTurnMock:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def messages(self) -> list[dict]:
        with self._lock:
            return [json.loads(raw) for path, raw in self.bodies if path.split("?")[0].endswith("/v1/messages")]

    @staticmethod
    def results(body: dict) -> int:
        return sum(1 for msg in body.get("messages", []) if isinstance(msg.get("content"), list)
                   for block in msg["content"] if isinstance(block, dict) and block.get("type") == "tool_result")

    def answer(self, body: dict) -> dict:
        done = self.results(body)
        answer = message(body.get("model", "m"), self.final_text, f"msg_tool_{len(self.bodies)}",
                         {"input_tokens": 10, "output_tokens": 5})
        if done < len(self.steps) and body.get("tools"):  # a background request (a title) has no tools
            tool, tool_input = self.steps[done]
            answer["content"] = [{"type": "tool_use", "id": f"toolu_mock_{done + 1}", "name": tool, "input": tool_input}]
            answer["stop_reason"] = "tool_use"
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with mock._lock:
                    mock.bodies.append((self.path, raw))
                body = json.loads(raw or b"{}")
                if self.path.split("?")[0].endswith("/count_tokens"):
                    return self._send(200, "application/json", json.dumps({"input_tokens": 100}).encode())
                answer = mock.answer(body)
                if mock.fail_from is not None and mock.results(body) >= mock.fail_from:
                    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                    return self._send(529, "application/json", json.dumps(error).encode())
                if not body.get("stream"):
                    return self._send(200, "application/json", json.dumps(answer).encode())
                self._send(200, "text/event-stream", _sse(answer))

            def _send(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _sse(answer: dict) -> bytes:
    start = {**answer, "content": [], "stop_reason": None}
    events = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(answer["content"]):
        if block["type"] == "tool_use":
            events += [("content_block_start", {"type": "content_block_start", "index": index,
                                                "content_block": {**block, "input": {}}}),
                       ("content_block_delta", {"type": "content_block_delta", "index": index,
                                                "delta": {"type": "input_json_delta",
                                                          "partial_json": json.dumps(block["input"])}})]
        else:
            events += [("content_block_start", {"type": "content_block_start", "index": index,
                                                "content_block": {"type": "text", "text": ""}}),
                       ("content_block_delta", {"type": "content_block_delta", "index": index,
                                                "delta": {"type": "text_delta", "text": block["text"]}})]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events += [("message_delta", {"type": "message_delta", "delta": {"stop_reason": answer["stop_reason"]},
                                  "usage": {"output_tokens": 5}}),
               ("message_stop", {"type": "message_stop"})]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()
