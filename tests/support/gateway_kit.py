"""Test kit for the gateway: scripted mock upstreams (a threaded stdlib server, deliberately not
aiohttp), a gateway running in a thread of the test process, and a small HTTP client.
Everything listens on and talks to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import collections
import gzip
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ccswitch.gateway.config import GatewayConfig
from ccswitch.gateway.server import Service
from ccswitch.gateway.spawn import listen_socket
from support.mock_anthropic import stop_server

KEY = "test-session-key-0123456789abcdef"
TIERS = ("opus", "sonnet", "haiku", "fable")


class Reply:
    """What a mock does with one request. Default: a normal answer (SSE when asked to stream)."""

    def __init__(self, status: int = 200, *, body: bytes | dict | None = None, headers: dict | None = None,
                 delay: float = 0.0, break_after_first: bool = False, stall_after_first: float = 0.0,
                 drop: bool = False, gzip: bool = False, truncate: bool = False, split: float = 0.0,
                 error_event: str | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.delay = delay  # before the status line: a first-byte timeout
        self.break_after_first = break_after_first  # send message_start, then cut the connection
        self.stall_after_first = stall_after_first  # send message_start, then wait this long
        self.drop = drop  # close the connection without answering
        self.gzip = gzip  # a JSON answer sent gzip-compressed
        self.truncate = truncate  # a JSON answer cut off half-way (its Content-Length promised more)
        self.split = split  # a body sent in two parts, this many seconds apart
        self.error_event = error_event  # a stream that sends message_start, then an error event of this type


def error(status: int, message: str = "mock error", **headers: str) -> Reply:
    kind = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
            529: "overloaded_error"}.get(status, "api_error")
    return Reply(status, body={"type": "error", "error": {"type": kind, "message": message}}, headers=headers)


class Seen:
    def __init__(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> None:
        self.method, self.path, self.headers, self.raw = method, path, headers, raw

    @property
    def json(self) -> dict:
        return json.loads(self.raw)

    @property
    def model(self) -> str:
        return self.json["model"]

    @property
    def key(self) -> str | None:
        """The credential it came with (Bearer or x-api-key)."""
        bearer = self.headers.get("authorization", "")
        return bearer[7:] if bearer.startswith("Bearer ") else self.headers.get("x-api-key")


def sse_events(name: str, model: str, n: int) -> list[bytes]:
    """The answer of mock `name` as separate SSE events (sent as separate chunks)."""
    message = {"id": f"msg_{name}_{n}", "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "usage": {"input_tokens": 11, "output_tokens": 1, "cache_read_input_tokens": 5,
                                              "cache_creation_input_tokens": 3}}
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": f"hello from {name} \u00e9\u6f22"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return [f"event: {e}\ndata: {json.dumps(d, ensure_ascii=False)}\n\n".encode() for e, d in events]


def json_answer(name: str, model: str, n: int) -> dict:
    return {"id": f"msg_{name}_{n}", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": f"hello from {name}"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 13, "output_tokens": 4}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout tests) makes late writes fail: expected


class MockUpstream:
    """`with MockUpstream("kimi") as kimi:`; `kimi.script(Reply(...), ...)` queues replies for the
    next requests, after which it answers normally; `kimi.by_key[token] = Reply(...)` answers every
    request sent with that key so (a key pool). `kimi.seen` lists what arrived."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[Seen] = []
        self.sent: list[bytes] = []  # the exact bytes of each 200 body sent
        self.by_key: dict[str, Reply] = {}
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/{self.name}"

    def script(self, *replies: Reply) -> MockUpstream:
        with self._lock:
            self._script.extend(replies)
        return self

    def __enter__(self) -> MockUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        stop_server(self._server)

    def _next(self, seen: Seen) -> tuple[Reply, int]:
        with self._lock:
            self.seen.append(seen)
            keyed = self.by_key.get(seen.key)
            if keyed is not None:
                return keyed, len(self.seen)
            return (self._script.popleft() if self._script else Reply()), len(self.seen)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                reply, n = mock._next(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.status != 200 or reply.body is not None:
                    return self._send_body(reply)
                body = json.loads(raw)
                if body.get("stream"):
                    events = sse_events(mock.name, body["model"], n)
                    if reply.error_event:
                        error = {"type": "error", "error": {"type": reply.error_event, "message": "mock"}}
                        events = [events[0], f"event: error\ndata: {json.dumps(error)}\n\n".encode()]
                    return self._send_sse(reply, events)
                self._send_body(Reply(body=json_answer(mock.name, body["model"], n), headers=reply.headers,
                                      gzip=reply.gzip, truncate=reply.truncate))

            def _send_body(self, reply: Reply) -> None:
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                if reply.status == 200:
                    mock.sent.append(data)
                if reply.gzip:
                    data = gzip.compress(data)
                self.send_response(reply.status)
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Type", "application/json")
                self.send_header("request-id", f"req_{mock.name}")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if reply.truncate:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    time.sleep(0.2)  # the half is relayed before the cut (else the gateway may retry)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.split:
                    self.wfile.write(data[:10])
                    self.wfile.flush()
                    time.sleep(reply.split)
                    data = data[10:]
                self.wfile.write(data)

            def _send_sse(self, reply: Reply, events: list[bytes]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("request-id", f"req_{mock.name}")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i, event in enumerate(events):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                    self.wfile.flush()
                    if reply.break_after_first:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if i == 0 and reply.stall_after_first:
                        time.sleep(reply.stall_after_first)
                # Recorded before the last chunk: the client's answer cannot end before it does, so
                # a test that reads `sent` after its answer always finds this stream there.
                mock.sent.append(b"".join(events))
                self.wfile.write(b"0\r\n\r\n")

        return Handler


def upstream_config(mock: MockUpstream, *, auth: str = "bearer", fallback: tuple[str, ...] = (),
                    serves: tuple[str, ...] = (), supports_1m: bool = False, url: str | None = None) -> dict:
    return {
        "base_url": url or mock.url,
        "auth": auth,
        "token": f"tok-{mock.name}-secret",
        "headers": {"X-Upstream": mock.name},
        "models": {tier: f"{mock.name}-{tier}" for tier in TIERS},
        "serves": list(serves),
        "fallback": list(fallback),
        "supports_1m": supports_1m,
    }


def gateway_config(upstreams: dict[str, dict], tiers: dict[str, str], **extra: object) -> dict:
    return {"session": "sess-1", "key": KEY, "upstreams": upstreams, "tiers": tiers, **extra}


class Running:
    def __init__(self, service: Service, port: int) -> None:
        self.service = service
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


@contextmanager
def running_gateway(config: dict) -> Iterator[Running]:
    """The gateway serving `config` in a thread of this process, on a fresh loopback socket."""
    sock = listen_socket()
    service = Service(GatewayConfig.from_dict(config), sock)
    thread = threading.Thread(target=lambda: asyncio.run(service.run()), daemon=True)
    thread.start()
    try:
        yield Running(service, sock.getsockname()[1])
    finally:
        for _ in range(200):
            if service.stopped is not None:
                break
            time.sleep(0.01)
        service.stop(grace=1.0)
        thread.join(10)
        assert not thread.is_alive(), "the gateway did not stop"


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def post(port: int, body: dict | bytes, *, key: str | None = KEY, path: str = "/v1/messages?beta=true",
         headers: dict[str, str] | None = None, bearer: bool = True, timeout: float = 10.0) -> Answer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", "anthropic-version": "2023-06-01"}
    if key is not None:
        sent.update({"Authorization": f"Bearer {key}"} if bearer else {"x-api-key": key})
    sent.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=data, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def messages_body(model: str, *, stream: bool = True, text: str = "hi") -> dict:
    # Claude Code's field order: model first.
    return {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}], "stream": stream}
