"""The request handler: check the session key, route the model, try the upstreams in order until one
answers, relay its answer byte for byte, and queue one usage record.

Failover happens only before the first byte reaches the client. After that nothing is spliced: a
broken SSE stream ends with an Anthropic `error` event (claude then repeats the request, not
streaming, and the cooled-down upstream is skipped), any other body is cut off.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp.web_exceptions import HTTPRequestEntityTooLarge
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import Response, StreamResponse
from yarl import URL

from ccswitch.gateway import upstream as up
from ccswitch.gateway.apierror import error_body, sse_error_event
from ccswitch.gateway.body import BodyError, RequestBody
from ccswitch.gateway.config import GatewayConfig, Upstream
from ccswitch.gateway.failover import Breakers, is_thinking_signature_error
from ccswitch.gateway.headers import (
    authorized,
    client_response_headers,
    credential_headers,
    upstream_request_headers,
)
from ccswitch.gateway.records import RecordWriter
from ccswitch.gateway.routing import Route, Router
from ccswitch.gateway.usage import SSEUsage, Usage, read_json_answer

JSON = "application/json"
MAX_JSON_ANSWER = 16 << 20  # a non-streaming answer kept (only) to read its usage at the end
# An `error` event inside a 200 stream that says the provider is in trouble, not the request.
UPSTREAM_TROUBLE = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})


class ShuttingDown(Exception):
    """Fed into an upstream stream to end its relay when the gateway stops."""


class Target:
    """An upstream with what every request to it needs, computed once."""

    __slots__ = ("name", "upstream", "base", "host", "credentials", "proxy", "_urls")

    def __init__(self, upstream: Upstream) -> None:
        self.name = upstream.name
        self.upstream = upstream
        self.base = upstream.base_url
        self.host = urlsplit(upstream.base_url).hostname
        self.credentials = credential_headers(upstream)
        self.proxy = up.env_proxy(upstream.base_url)
        self._urls: dict[str, URL] = {}

    def url(self, raw_path: str) -> URL:
        """base URL + the request's path and query, parsed once per distinct path."""
        url = self._urls.get(raw_path)
        if url is None:
            if len(self._urls) > 64:
                self._urls.clear()
            url = self._urls[raw_path] = URL(self.base + raw_path, encoded=True)
        return url


class Exchange:
    """One client request on its way through: its body (thinking blocks may get stripped), the
    failover chain so far, and the record it will leave."""

    __slots__ = ("request", "body", "stripped", "started", "row", "response", "failover")

    def __init__(self, request: BaseRequest, started: float, row: dict) -> None:
        self.request = request
        self.body: RequestBody | None = None
        self.stripped = False
        self.started = started
        self.row = row
        self.response: aiohttp.ClientResponse | None = None
        self.failover: list[list[str]] = []

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)


class Gateway:
    def __init__(self, config: GatewayConfig, session: aiohttp.ClientSession, records: RecordWriter | None,
                 breakers: Breakers | None = None) -> None:
        self.config = config
        self.key = config.key.encode()
        self.router = Router(config)
        self.breakers = breakers or Breakers(**config.breaker)
        self.session = session
        self.records = records
        self.first_byte = {True: config.timeouts["first_byte"], False: config.timeouts["response"]}
        stream_timeout, whole_timeout = up.client_timeouts(config.timeouts)
        self.read_timeout = {True: stream_timeout, False: whole_timeout}
        self.targets = {name: Target(u) for name, u in config.upstreams.items()}
        self.active: set[Exchange] = set()  # relays streaming now (shutdown ends them)
        self.in_flight = 0  # Messages requests being handled (shutdown waits for them)

    async def handle(self, request: BaseRequest) -> StreamResponse:
        method, path = request.method, request.path
        if method == "POST" and path.startswith("/v1/"):
            return await self.messages(request)
        if method in ("HEAD", "GET") and path in ("/", "/api/hello"):
            return Response(status=200)  # claude's reachability probe
        if method == "GET" and path == "/v1/models":
            if not authorized(request.headers, self.key):
                return _error(401, "missing or wrong session key for this ccswitch gateway")
            return self.models()
        return _error(404, f"{method} {path}: not found on this ccswitch gateway")

    def models(self) -> Response:
        data = [{"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}
                for name in self.router.names()]
        payload = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        return Response(body=json.dumps(payload).encode(), content_type=JSON)

    async def messages(self, request: BaseRequest) -> StreamResponse:
        started, wall = time.perf_counter(), time.time()
        if not authorized(request.headers, self.key):
            # Not recorded: without the key a request belongs to nobody, and anyone could fill the file.
            return _error(401, "missing or wrong session key for this ccswitch gateway")
        row = {"time": wall, "session": self.config.session, "path": request.path}
        exchange = Exchange(request, started, row)
        self.in_flight += 1
        try:
            return await self._messages(exchange)
        finally:
            self.in_flight -= 1
            row["total_ms"] = exchange.elapsed_ms()
            if exchange.failover:
                row["failover"] = json.dumps(exchange.failover)
            if self.records is not None:
                self.records.put(row)

    async def _messages(self, exchange: Exchange) -> StreamResponse:
        row = exchange.row
        try:
            exchange.body = RequestBody(await exchange.request.read())
        except HTTPRequestEntityTooLarge:
            return self._refuse(exchange, 413, "the request body is too large", "bad_request")
        except BodyError as exc:
            return self._refuse(exchange, 400, str(exc), "bad_request")
        row["model_requested"], row["stream"] = exchange.body.model, int(exchange.body.stream)
        route = self.router.route(exchange.body.model)
        if route is None:
            return self._refuse(exchange, 404, self.router.not_served_message(exchange.body.model), "no_route")
        return await self._forward(exchange, route)

    def _refuse(self, exchange: Exchange, status: int, message: str, outcome: str) -> Response:
        exchange.row.update(status=status, outcome=outcome, ttfb_ms=exchange.elapsed_ms())
        return _error(status, message)

    async def _forward(self, exchange: Exchange, route: Route) -> StreamResponse:
        """Try the route's attempts in order, skipping upstreams in cooldown; when every one is
        cooling down, try them all anyway (a real answer beats a made-up one)."""
        last, tried = None, False
        for honour_breakers in (True, False):
            for name, model in route.attempts:
                if honour_breakers and not self.breakers.available(name):
                    exchange.failover.append([name, "cooling down"])
                    continue
                tried = True
                target = self.targets[name]
                result = await self._try(exchange, target, model)
                if result.kind == up.ANSWERED:
                    self.breakers.success(name)
                    return await self._relay(exchange, target, model, result)
                if result.kind == up.PASSED_ON:
                    self.breakers.success(name)  # it answered: the request was at fault
                    return self._answer_error(exchange, target, model, result, "passed")
                self.breakers.failure(name, result.retry_after)
                exchange.failover.append([name, result.reason])
                last = (target, model, result)
            if tried:
                break
        exchange.failover.pop()  # the last one tried is the row's profile, not a failover step
        return self._answer_error(exchange, *last, "failed")

    async def _try(self, exchange: Exchange, target: Target, model: str) -> up.Attempt:
        result = await self._send(exchange, target, model)
        if result.kind == up.FAILED and result.reason == "reset" and result.status is None:
            # Most likely a pooled keep-alive connection the upstream had just closed: once more on a
            # fresh one before calling the upstream down.
            result = await self._send(exchange, target, model)
        if (result.kind == up.PASSED_ON and not exchange.stripped and exchange.body.has_thinking_blocks()
                and is_thinking_signature_error(result.status, result.body)):
            stripped = exchange.body.without_thinking()
            if stripped is not None:
                exchange.body, exchange.stripped = stripped, True
                result = await self._send(exchange, target, model)
        return result

    async def _send(self, exchange: Exchange, target: Target, model: str) -> up.Attempt:
        request, body = exchange.request, exchange.body
        headers = upstream_request_headers(request.headers.items(), target.upstream, target.credentials)
        if "Content-Type" not in request.headers:
            headers.append(("Content-Type", JSON))
        return await up.attempt(self.session, request.method, target.url(request.raw_path), headers,
                                body.with_model(model), self.first_byte[body.stream], self.read_timeout[body.stream],
                                time.time(), target.proxy)

    def _answer_error(self, exchange: Exchange, target: Target, model: str, result: up.Attempt,
                      outcome: str) -> Response:
        """An upstream's error answer as it came (status, body, headers), or, when no upstream
        answered at all, an Anthropic-shaped 502/504 naming each failure."""
        self._note(exchange, target, model, result)
        if result.status is None:
            status = 504 if result.reason == "timeout" else 502
            steps = [f"{name}: {reason}" for name, reason in [*exchange.failover, [target.name, result.reason]]]
            exchange.row.update(status=status, outcome=outcome, error=result.reason, ttfb_ms=exchange.elapsed_ms())
            return _error(status, "no upstream answered (" + "; ".join(steps) + ")")
        exchange.row.update(status=result.status, outcome=outcome, error=result.reason, ttfb_ms=exchange.elapsed_ms())
        return Response(status=result.status, body=result.body, headers=client_response_headers(result.headers))

    def _note(self, exchange: Exchange, target: Target, model: str, result: up.Attempt) -> None:
        exchange.row.update(profile=target.name, upstream_host=target.host, model_sent=model,
                            request_id=result.request_id)

    async def _relay(self, exchange: Exchange, target: Target, model: str, result: up.Attempt) -> StreamResponse:
        """Send the answer on as it arrives: headers, the first chunk, then every chunk, unchanged."""
        self._note(exchange, target, model, result)
        response = exchange.response = result.response
        out = StreamResponse(status=result.status, headers=client_response_headers(result.headers))
        sse = response.content_type == "text/event-stream"
        usage = Usage()
        meter = _Meter(usage, sse and exchange.row["path"] == "/v1/messages", not sse)
        self.active.add(exchange)
        try:
            outcome = await self._pump(exchange, out, result.first, meter)
        finally:
            self.active.discard(exchange)
            response.close()
        if outcome in ("broken", "shutdown") and sse:
            await _end_with_error(out, outcome, target.name)
        elif outcome in ("broken", "shutdown"):
            _cut(exchange.request)  # a JSON body cannot carry an error event: the client sees it cut
        meter.finish()
        if usage.error_type and outcome == "ok":
            exchange.row["error"] = f"error event: {usage.error_type}"
        if outcome == "broken" or usage.error_type in UPSTREAM_TROUBLE:
            # claude repeats the request (not streaming): let that go to the next profile
            self.breakers.cool_down(target.name)
        exchange.row.update(status=result.status, outcome=outcome, input_tokens=usage.input_tokens,
                            output_tokens=usage.output_tokens, cache_read_tokens=usage.cache_read,
                            cache_write_tokens=usage.cache_write, message_id=usage.message_id)
        return out

    async def _pump(self, exchange: Exchange, out: StreamResponse, chunk: bytes, meter: _Meter) -> str:
        """Write each chunk as it arrives; the last one goes out with the end of the body, in one
        send (a small answer that came whole is one write: headers, body and end)."""
        content, row = exchange.response.content, exchange.row
        try:
            await out.prepare(exchange.request)
            while not content.at_eof():
                if chunk:
                    await out.write(chunk)
                    meter.feed(chunk)
                if "ttfb_ms" not in row:
                    row["ttfb_ms"] = exchange.elapsed_ms()
                try:
                    chunk = await content.readany()
                except ShuttingDown:
                    return "shutdown"
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                    row["error"] = f"{up.failure_reason(exc)} mid-stream"
                    return "broken"
            await out.write_eof(chunk)
            meter.feed(chunk)
            row.setdefault("ttfb_ms", exchange.elapsed_ms())
            return "ok"
        except ConnectionError:  # the client went away (aiohttp's ClientConnectionResetError is one)
            return "client_closed"

    def stop_streams(self) -> None:
        """End every relay still running (the gateway is stopping): each ends with an error event."""
        for exchange in list(self.active):
            if exchange.response is not None:
                exchange.response.content.set_exception(ShuttingDown())


class _Meter:
    """Reads usage from the chunks after they were sent: SSE events as they pass, or a JSON answer
    (kept up to a limit) once it is complete."""

    __slots__ = ("usage", "sse", "parts", "size")

    def __init__(self, usage: Usage, sse: bool, keep_json: bool) -> None:
        self.usage = usage
        self.sse = SSEUsage(usage) if sse else None
        self.parts: list[bytes] | None = [] if keep_json else None
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if self.sse is not None:
            self.sse.feed(chunk)
        elif self.parts is not None:
            self.size += len(chunk)
            if self.size > MAX_JSON_ANSWER:
                self.parts = None
            else:
                self.parts.append(chunk)

    def finish(self) -> None:
        if self.sse is not None:
            self.sse.close()
        elif self.parts:
            read_json_answer(b"".join(self.parts), self.usage)


async def _end_with_error(out: StreamResponse, outcome: str, name: str) -> None:
    if outcome == "shutdown":
        event = sse_error_event("overloaded_error", "the ccswitch gateway is shutting down")
    else:
        event = sse_error_event("overloaded_error", f"upstream {name!r} failed mid-stream")
    try:
        await out.write(event)
        await out.write_eof()
    except ConnectionError:
        pass


def _cut(request: BaseRequest) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _error(status: int, message: str) -> Response:
    return Response(status=status, body=error_body(status, message), content_type=JSON)
