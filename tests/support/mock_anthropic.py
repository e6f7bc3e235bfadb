"""A mock of the Anthropic Messages API on 127.0.0.1, good enough for the real claude binary.

It records every request (method, path, headers, JSON body) and answers per the shape claude
expects (docs/claude-code.md, "What a mock must answer"): SSE for `"stream": true`, a JSON message otherwise, an
Anthropic-style error for a configured status, or a delay to provoke timeouts.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def stop_server(server: ThreadingHTTPServer) -> None:
    """shutdown() waits for serve_forever's next poll (0.05 s, several servers a test, hundreds of
    tests): connecting wakes the loop at once."""
    stopping = threading.Thread(target=server.shutdown)
    stopping.start()
    while stopping.is_alive():
        try:
            socket.create_connection(server.server_address[:2], timeout=1).close()
        except OSError:
            pass
        stopping.join(0.01)
    server.server_close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        # A client that gave up (a timeout test) makes the late answer fail to send: expected, not noise.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class Recorded:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: object) -> None:
        self.method = method
        self.path = path
        self.headers = headers  # lower-cased names
        self.body = body

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    def __repr__(self) -> str:
        return f"Recorded({self.method} {self.path} model={self.model!r})"


class MockAnthropic:
    """Start with `with MockAnthropic() as server:`; `server.url` is the base URL to give claude."""

    def __init__(self, *, status: int = 200, reply: str = "pong", delay: float = 0.0, prefix: str = "",
                 usage: dict[str, int] | None = None, echo_credentials: bool = False, stall: float = 0.0,
                 status_by_key: dict[str, int] | None = None, error_headers: dict[str, str] | None = None) -> None:
        self.status = status
        # A key pool's upstream: the status for a request sent with this credential (the header's
        # value as sent: "Bearer KEY" or the x-api-key), and the headers of every error answer.
        self.status_by_key = status_by_key or {}
        self.error_headers = error_headers or {}
        # A careless server: its error message quotes the credential it was sent (nothing may pass it on).
        self.echo_credentials = echo_credentials
        self.stall = stall  # a stream goes silent this long after message_start (an idle upstream)
        # What every answer reports as its usage (the output_tokens arrive in message_delta when streamed).
        self.usage = usage or {"input_tokens": 1, "output_tokens": 1}
        self.answered = 0  # numbers each answer's message id: msg_mock_1, msg_mock_2, ...
        self.reply = reply
        self.delay = delay
        self.prefix = prefix
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def __enter__(self) -> MockAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        stop_server(self._server)

    @property
    def messages(self) -> list[Recorded]:
        """Only the Messages API calls (not HEAD probes or telemetry)."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and "/v1/messages" in r.path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _record(self, body: object) -> None:
                with mock._lock:
                    mock.requests.append(
                        Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )

            def do_HEAD(self) -> None:
                self._record(None)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._record(None)
                self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                self._record(body)
                if mock.delay:
                    time.sleep(mock.delay)
                if not self.path.split("?")[0].endswith("/v1/messages"):
                    self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                    return
                credential = self.headers.get("authorization") or self.headers.get("x-api-key")
                status = mock.status_by_key.get(credential, mock.status)
                if status != 200:
                    kind = ERROR_TYPES.get(status, "api_error")
                    sent = f" for {credential}" if mock.echo_credentials else ""
                    self._send_json(status, {"type": "error", "error": {"type": kind, "message": f"mock {status}{sent}"}},
                                    mock.error_headers)
                    return
                model = body.get("model", "unknown") if isinstance(body, dict) else "unknown"
                with mock._lock:
                    mock.answered += 1
                    answer = message(model, mock.reply, f"msg_mock_{mock.answered}", mock.usage)
                if isinstance(body, dict) and body.get("stream"):
                    self._send_stream(answer)
                else:
                    self._send_json(200, answer)

            def _send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, answer: dict) -> None:
                start = {**answer, "content": [], "usage": {**answer["usage"], "output_tokens": 1}}
                events = [
                    ("message_start", {"type": "message_start", "message": start}),
                    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                    ("ping", {"type": "ping"}),
                    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": mock.reply}}),
                    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": answer["usage"]["output_tokens"]}}),
                    ("message_stop", {"type": "message_stop"}),
                ]
                parts = [f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode() for name, payload in events]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(sum(map(len, parts))))
                self.end_headers()
                if mock.stall:
                    self.wfile.write(parts[0])
                    self.wfile.flush()
                    time.sleep(mock.stall)
                self.wfile.write(b"".join(parts[1:] if mock.stall else parts))

        return Handler


def message(model: str, text: str, message_id: str = "msg_mock", usage: dict[str, int] | None = None) -> dict:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": dict(usage or {"input_tokens": 1, "output_tokens": 1}),
    }


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
