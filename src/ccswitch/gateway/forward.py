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
from copy import copy
from urllib.parse import urlsplit

import aiohttp
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import Response, StreamResponse
from yarl import URL

from ccswitch.gateway import upstream as up
from ccswitch.gateway.apierror import error_body, sse_error_event
from ccswitch.gateway.body import BodyError, BodyTooLarge, RequestBody, read_body
from ccswitch.gateway.config import GatewayConfig, Upstream
from ccswitch.gateway.failover import Breakers, is_thinking_signature_error
from ccswitch.gateway.headers import (
    authorized,
    client_response_headers,
    credential_headers,
    upstream_request_headers,
    without_token,
)
from ccswitch.gateway.keys import KeyPool, key_trouble, pools_for
from ccswitch.gateway.quota import QuotaBook, answered_messages_request
from ccswitch.gateway.records import COUNT_TOKENS_PATH, MESSAGES_PATH, RecordWriter
from ccswitch.gateway.routing import Route, Router
from ccswitch.gateway.translate.stream import StreamTranslator
from ccswitch.gateway.translate.tools import Context
from ccswitch.gateway.translated import (
    SSE,
    Translation,
    answer_headers,
    count_tokens,
    error_headers,
    header,
    message_events,
    translations,
)
from ccswitch.gateway.usage import SSEUsage, Usage, read_json_answer

JSON = "application/json"
MAX_BODY = 64 << 20  # Anthropic accepts 32 MB requests; aiohttp's default (1 MiB) would refuse long contexts
MAX_JSON_ANSWER = 16 << 20  # a non-streaming answer kept (only) to read its usage at the end
# An `error` event inside a 200 stream that says the provider is in trouble, not the request.
UPSTREAM_TROUBLE = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
MAX_REFUSED_SIGNATURES = 4096  # per upstream: the thinking blocks of a long session, a few MB at most
COOLING = "cooling down"


class ShuttingDown(Exception):
    """Fed into an upstream stream to end its relay when the gateway stops."""


class Target:
    """An upstream with what every request to it needs, computed once."""

    __slots__ = ("name", "upstream", "base", "host", "credentials", "proxy", "_urls", "key_index")

    def __init__(self, upstream: Upstream) -> None:
        self.name = upstream.name
        self.upstream = upstream
        self.base = upstream.base_url
        self.host = urlsplit(upstream.base_url).hostname
        self.credentials = credential_headers(upstream)
        self.proxy = up.env_proxy(upstream.base_url)
        self._urls: dict[str, URL] = {}
        self.key_index: int | None = None  # the key of a pool these credentials are (recorded)

    def keyed(self, index: int, credentials: list[tuple[str, str]]) -> Target:
        """This upstream with one key of its pool: that key's credentials, the rest shared."""
        keyed = copy(self)
        keyed.key_index, keyed.credentials = index, credentials
        return keyed

    def url(self, raw_path: str) -> URL:
        """base URL + the request's path and query, parsed once per distinct path."""
        url = self._urls.get(raw_path)
        if url is None:
            if len(self._urls) > 64:
                self._urls.clear()
            url = self._urls[raw_path] = URL(self.base + raw_path, encoded=True)
        return url


class Exchange:
    """One client request on its way through: its body, the failover chain so far, and the record
    it will leave."""

    __slots__ = ("request", "body", "started", "row", "response", "failover", "last_failure", "translated")

    def __init__(self, request: BaseRequest, started: float, row: dict) -> None:
        self.request = request
        self.body: RequestBody | None = None
        self.started = started
        self.row = row
        self.response: aiohttp.ClientResponse | None = None
        self.failover: list[list[str]] = []  # [profile, what went wrong], in the order tried
        self.last_failure: tuple[Target, str, up.Attempt] | None = None
        self.translated: tuple[bytes, object] | None = None  # this attempt's body for an OpenAI-format upstream, its Context

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)


class Gateway:
    def __init__(self, config: GatewayConfig, session: aiohttp.ClientSession, records: RecordWriter | None,
                 breakers: Breakers | None = None, quotas: QuotaBook | None = None) -> None:
        self.config = config
        self.key = config.key.encode()
        self.router = Router(config)
        self.breakers = breakers or Breakers(**config.breaker)
        # The upstreams with a quota (quota.py); None when none has one (then nothing is counted).
        self.quotas = quotas if quotas is not None else QuotaBook.of(config.upstreams.values())
        # Whose records say which requests were prompts: the profiles with quota windows (only they
        # count prompts; for any other profile the body is not looked at again).
        self.prompts_of = frozenset(upstream.name for upstream in config.upstreams.values() if upstream.quotas)
        self.session = session
        self.records = records
        self.timeouts = config.timeouts
        self.stream_timeout, self.whole_timeout = up.client_timeouts(config.timeouts)
        self.targets = {name: Target(u) for name, u in config.upstreams.items()}
        # Upstreams with a key pool (keys.py): each key with its own credentials, cooled on its own.
        self.pools = pools_for(config.upstreams.values(), lambda name, index, credentials:
                               self.targets[name].keyed(index, credentials), config.breaker["cooldown"])
        # upstream -> signatures of thinking blocks it refused (made by another provider): stripped
        # before sending from then on. Signatures are unique, so one set serves every session.
        self.refused_thinking: dict[str, set[str]] = {}
        self.active: set[Exchange] = set()  # relays streaming now (shutdown ends them)
        self.in_flight = 0  # Messages requests being handled (shutdown waits for them)
        self.translations = translations(config.upstreams)  # the OpenAI-format upstreams (translated.py)

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
            if row.get("profile") in self.prompts_of and answered_messages_request(row):
                row["prompt"] = int(exchange.body.is_prompt())  # after the answer: off its path
            if self.quotas is not None:
                self.quotas.count(row)
            if self.records is not None:
                self.records.put(row)

    async def _messages(self, exchange: Exchange) -> StreamResponse:
        row = exchange.row
        try:
            exchange.body = RequestBody(await read_body(exchange.request.content, _decoded_length(exchange.request),
                                                        MAX_BODY))
        except BodyTooLarge as exc:
            return self._refuse(exchange, 413, str(exc), "bad_request")
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
        """Failover: the route's upstreams in order. One cooling down or over its quota is skipped
        while another is left to try, and tried last when none of those answered (a real answer
        beats a made-up one; the quota is our count, the provider's is the one that holds). The
        row's failover chain names each upstream once, in the order tried (and each key of a pool
        that was cooled on the way); the last one tried is the row's profile, not a step of the
        chain."""
        if self.quotas is not None and not self.quotas.ready:
            await self.quotas.wait_ready()  # the gateway's first moments: the records' first read
        held = []
        for name, model in route.attempts:
            reason = self._held(name)
            if reason is None:
                answer = await self._attempt(exchange, name, model)
                if answer is not None:
                    return answer
            else:
                held.append((name, model, reason))
                exchange.failover.append([name, reason])
        for name, model, reason in held:
            exchange.failover.remove([name, reason])
            answer = await self._attempt(exchange, name, model, None if reason == COOLING else reason)
            if answer is not None:
                return answer
        exchange.failover.pop()
        target, model, result = exchange.last_failure
        return self._answer_error(exchange, target, model, result, "failed")

    def _held(self, name: str) -> str | None:
        """Why upstream `name` waits its turn (its quota used up, or cooling down), or None. The
        quota first: an upstream held for it must not take the breaker's half-open trial."""
        if self.quotas is not None:
            reason = self.quotas.held(name)
            if reason is not None:
                return reason
        return None if self.breakers.available(name) else COOLING

    async def _attempt(self, exchange: Exchange, name: str, model: str, quota: str | None = None) -> StreamResponse | None:
        """One upstream: its answer relayed, its error passed on, or None (a failure noted in the
        chain and the breaker: the next upstream's turn). `quota`: it was held for its quota, which
        its failure is then told with."""
        translation = self.translations.get(name)
        if translation is not None:  # this attempt's body in its format, or the answer given here
            local = self._translate(exchange, self.targets[name], model, translation)
            if local is not None:
                return local
        target = self.targets[name]
        pool = self.pools.get(name)
        if pool is None:
            result = await self._try(exchange, target, model)
        else:
            target, result = await self._try_keys(exchange, pool, model)
        if result.kind == up.ANSWERED:
            self.breakers.success(name)
            return await self._relay(exchange, target, model, result)
        if result.kind == up.PASSED_ON:
            self.breakers.success(name)  # it answered: the request was at fault
            return self._answer_error(exchange, target, model, result, "passed")
        self.breakers.failure(name, result.retry_after)
        if quota is not None:
            result.reason = f"{quota}, then {result.reason}"
        exchange.failover.append([name, result.reason])
        exchange.last_failure = (target, model, result)
        return None

    async def _try_keys(self, exchange: Exchange, pool: KeyPool, model: str) -> tuple[Target, up.Attempt]:
        """A key pool's keys in turn (keys.py): a key refused for itself (rate limit, quota,
        credential) cools down and the same request goes at once with the next key. The upstream
        has failed only when no key is left, and the breaker then keeps it aside until a key is back;
        a key's trouble alone never opens it. Every failure names its key."""
        tried = []
        key = pool.pick()
        while True:
            tried.append(key)
            result = await self._try(exchange, key.target, model)
            if result.kind == up.ANSWERED:
                return key.target, result
            result.reason = f"key {key.index}: {result.reason}"
            trouble = key_trouble(result.status, result.body) if result.status is not None else None
            if trouble is None:
                return key.target, result
            pool.cool(key, trouble, result.retry_after)
            result.kind = up.FAILED  # even a 400 of a spent key: another profile may still answer
            following = pool.pick(tried)
            if following is None:
                result.retry_after = pool.wait()
                return key.target, result
            exchange.failover.append([key.target.name, result.reason])
            key = following

    async def _try(self, exchange: Exchange, target: Target, model: str) -> up.Attempt:
        body = self._without_refused_thinking(exchange.body, target.name)
        result = await self._send(exchange, target, model, body)
        if result.kind == up.FAILED and result.reason == "reset" and result.status is None:
            # Most likely a pooled keep-alive connection the upstream had just closed: once more on a
            # fresh one before calling the upstream down.
            result = await self._send(exchange, target, model, body)
        if (result.kind == up.PASSED_ON and is_thinking_signature_error(result.status, result.body)
                and target.name not in self.translations and body.has_thinking_blocks()):
            stripped = body.without_thinking()
            if stripped is not None:
                # Remembered, so that later turns (which carry the same blocks) lose them before they
                # are sent, not after another refused round trip.
                self._remember_refused_thinking(target.name, body.thinking_signatures())
                result = await self._send(exchange, target, model, stripped)
        return result

    def _without_refused_thinking(self, body: RequestBody, name: str) -> RequestBody:
        """`body` minus the thinking blocks upstream `name` has refused before (their signatures)."""
        refused = self.refused_thinking.get(name)
        if refused and body.has_thinking_blocks():
            return body.without_thinking(refused) or body
        return body

    def _remember_refused_thinking(self, name: str, signatures: set[str]) -> None:
        refused = self.refused_thinking.setdefault(name, set())
        if len(refused) + len(signatures) > MAX_REFUSED_SIGNATURES:
            refused.clear()  # bounded; the worst case is one more refused round trip
        refused.update(signatures)

    async def _send(self, exchange: Exchange, target: Target, model: str, body: RequestBody) -> up.Attempt:
        translation = self.translations.get(target.name)
        if translation is not None:
            return await self._send_translated(exchange, target, model, translation)
        request = exchange.request
        headers = upstream_request_headers(request.headers.items(), target.upstream, target.credentials)
        if "Content-Type" not in request.headers:
            headers.append(("Content-Type", JSON))
        # A non-streaming answer is silent until it is whole: when it is late, _working() tells a slow
        # upstream from a dead one.
        working = None if body.stream else (lambda: self._working(target, model, headers))
        return await up.attempt(self.session, request.method, target.url(request.raw_path), headers,
                                body.parts(model), time.time(), first_byte=self.timeouts["first_byte"],
                                timeout=self.stream_timeout if body.stream else self.whole_timeout, proxy=target.proxy,
                                working=working, patience=self.timeouts["response"])

    async def _working(self, target: Target, model: str, headers: list[tuple[str, str]],
                       translation: Translation | None = None) -> bool:
        """Is an upstream that has not started a non-streaming answer at work on it, or dead? Asked
        with the smallest streaming request for the same model (in the upstream's format): one that
        starts within first_byte, or is refused for a reason other than a server error, shows the
        upstream at work (docs/gateway.md, "Timeouts")."""
        url, body = ((target.url(up.PROBE_PATH), up.probe_body(model)) if translation is None
                     else (translation.url, translation.probe(model)))
        probe = await up.attempt(self.session, "POST", url, headers, (body,), time.time(),
                                 first_byte=self.timeouts["first_byte"], timeout=self.stream_timeout, proxy=target.proxy)
        if probe.response is not None:
            probe.response.close()
        return probe.status is not None and probe.status < 500

    # An OpenAI-format upstream (translated.py): the same path, with its own request and answer.

    def _translate(self, exchange: Exchange, target: Target, model: str, translation: Translation) -> Response | None:
        """This attempt's body in the upstream's format: each attempt translates claude's body anew,
        so failover crosses formats either way. Or the answer when nothing goes upstream:
        count_tokens estimated here (OpenAI formats have no such endpoint), any other path or a body
        that cannot be translated refused."""
        path, exchange.translated = exchange.row["path"], None
        try:
            if path == MESSAGES_PATH:
                exchange.translated = translation.request(exchange.body.parsed(), model)
                return None
            if path != COUNT_TOKENS_PATH:
                return self._refuse(exchange, 404, f"{path}: {target.name!r} speaks {translation.api}, which has no "
                                    "such endpoint", "bad_request")
            estimate = count_tokens(exchange.body.parsed())
        except BodyError as exc:
            return self._refuse(exchange, 400, str(exc), "bad_request")
        exchange.row.update(profile=target.name, model_sent=model, status=200, outcome="local",
                            ttfb_ms=exchange.elapsed_ms())
        return Response(body=estimate, content_type=JSON)

    async def _send_translated(self, exchange: Exchange, target: Target, model: str,
                               translation: Translation) -> up.Attempt:
        """Like _send, in the upstream's format. A whole answer (not a stream) is read and translated
        here, before anything reaches claude: an upstream that breaks off, or wraps an error in a 2xx,
        still fails over."""
        body, context = exchange.translated
        headers = translation.headers(exchange.request.headers.items(), target.credentials, context.stream)
        working = None if context.stream else (lambda: self._working(target, model, headers, translation))
        result = await up.attempt(self.session, "POST", translation.url, headers, (body,), time.time(),
                                  first_byte=self.timeouts["first_byte"],
                                  timeout=self.stream_timeout if context.stream else self.whole_timeout,
                                  proxy=target.proxy, working=working, patience=self.timeouts["response"])
        if result.request_id is None:
            result.request_id = header(result.headers, "x-request-id")
        if result.kind == up.ANSWERED and not _streamed(context, result):
            await self._whole_answer(result, translation, context)
        return result

    async def _whole_answer(self, result: up.Attempt, translation: Translation, context: Context) -> None:
        """Read a whole answer into `result.body` as claude's message (SSE events when claude asked
        for a stream and the provider sent one JSON body), or make `result` a failure."""
        response = result.response
        try:
            data = result.first + await up.read_up_to(response.content, MAX_JSON_ANSWER)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            result.kind, result.reason, result.status = up.FAILED, f"{up.failure_reason(exc)} mid-answer", None
            return
        finally:
            response.close()
        message = translation.answer(data, context)
        if message is None:  # an error object in a 2xx (502: the upstream, not claude, is at fault): it fails over
            result.kind, result.reason, result.status, result.body = up.FAILED, "error in a 2xx answer", 502, data
            return
        result.usage = Usage()
        result.usage.read_message(message)
        if context.stream:  # the record names the message id the events give claude
            result.body, result.usage.message_id = message_events(message)
        else:
            result.body = json.dumps(message).encode()

    async def _relay_translated(self, exchange: Exchange, target: Target, model: str, result: up.Attempt,
                                translation: Translation) -> StreamResponse:
        """An OpenAI-format answer in Anthropic's format: a stream translated chunk by chunk as it
        arrives (never held back), or the whole answer _whole_answer translated."""
        self._note(exchange, target, model, result)
        context = exchange.translated[1]
        exchange.translated = None  # the upstream's body is sent: not kept while the answer streams
        if not _streamed(context, result):  # the whole answer, already read and translated
            meter = _Meter(result.usage or Usage(), False, False)  # usage read before the body was made
            exchange.row["ttfb_ms"] = exchange.elapsed_ms()
            out = Response(status=200, body=result.body, headers=answer_headers(result.request_id, context.stream))
            return self._finish_relay(exchange, target, result.status, "ok", meter, out)
        response = exchange.response = result.response
        stream = translation.stream(context)
        out = StreamResponse(status=200, headers=answer_headers(result.request_id, True))
        meter = _Meter(Usage(), True, False)
        self.active.add(exchange)
        try:
            outcome = await self._pump(exchange, out, result.first, meter, stream)
        finally:
            self.active.discard(exchange)
            response.close()
        if outcome in ("broken", "shutdown"):
            await _end_with_error(out, self._broken(outcome, target.name, exchange.row.get("error")), stream)
        return self._finish_relay(exchange, target, 200, outcome, meter, out)

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
        translation = self.translations.get(target.name)
        if translation is not None:  # the provider's message and status, in Anthropic's shape
            return Response(status=result.status, body=translation.error(result.status, without_token(result.body, target.upstream)),
                            headers=[*error_headers(result.headers), ("Content-Type", JSON)])
        return Response(status=result.status, body=without_token(result.body, target.upstream),
                        headers=client_response_headers(result.headers))

    def _note(self, exchange: Exchange, target: Target, model: str, result: up.Attempt) -> None:
        exchange.row.update(profile=target.name, upstream_host=target.host, model_sent=model,
                            request_id=result.request_id, key_index=target.key_index)

    async def _relay(self, exchange: Exchange, target: Target, model: str, result: up.Attempt) -> StreamResponse:
        """Send the answer on as it arrives: headers, the first chunk, then every chunk, unchanged."""
        translation = self.translations.get(target.name)
        if translation is not None:
            return await self._relay_translated(exchange, target, model, result, translation)
        self._note(exchange, target, model, result)
        response = exchange.response = result.response
        out = StreamResponse(status=result.status, headers=client_response_headers(result.headers))
        sse = response.content_type == "text/event-stream"
        meter = _Meter(Usage(), sse and exchange.row["path"] == "/v1/messages", not sse)
        self.active.add(exchange)
        try:
            outcome = await self._pump(exchange, out, result.first, meter)
        finally:
            self.active.discard(exchange)
            response.close()
        if outcome in ("broken", "shutdown") and sse:
            await _end_with_error(out, self._broken(outcome, target.name, exchange.row.get("error")))
        elif outcome in ("broken", "shutdown"):
            _cut(exchange.request)  # a JSON body cannot carry an error event: the client sees it cut
        return self._finish_relay(exchange, target, result.status, outcome, meter, out)

    def _finish_relay(self, exchange: Exchange, target: Target, status: int, outcome: str, meter: _Meter,
                      out: StreamResponse) -> StreamResponse:
        """The usage read, the upstream cooled down if its answer broke, the row filled in."""
        meter.finish()
        usage = meter.usage
        if usage.error_type and outcome == "ok":
            exchange.row["error"] = f"error event: {usage.error_type}"
        if outcome == "broken" or usage.error_type in UPSTREAM_TROUBLE:
            # claude repeats the request (not streaming): let that go to the next profile
            self.breakers.cool_down(target.name)
        exchange.row.update(status=status, outcome=outcome, input_tokens=usage.input_tokens,
                            output_tokens=usage.output_tokens, cache_read_tokens=usage.cache_read,
                            cache_write_tokens=usage.cache_write, message_id=usage.message_id)
        return out

    async def _pump(self, exchange: Exchange, out: StreamResponse, chunk: bytes, meter: _Meter,
                    stream: StreamTranslator | None = None) -> str:
        """Write each chunk as it arrives (translated first, for an OpenAI-format upstream); the last
        one goes out with the end of the body, in one send (a small answer that came whole is one
        write: headers, body and end)."""
        content, row = exchange.response.content, exchange.row
        try:
            await out.prepare(exchange.request)
            while not content.at_eof():
                if stream is not None:
                    chunk = stream.feed(chunk)
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
            if stream is not None:
                chunk = stream.feed(chunk) + stream.close()
            await out.write_eof(chunk)
            meter.feed(chunk)
            row.setdefault("ttfb_ms", exchange.elapsed_ms())
            return "ok"
        except ConnectionError:  # the client went away (aiohttp's ClientConnectionResetError is one)
            return "client_closed"

    def _broken(self, outcome: str, name: str, error: str | None) -> str:
        """Why a stream that started did not end well, for its closing error event."""
        if outcome == "shutdown":
            return "the ccswitch gateway is shutting down"
        if error == "timeout mid-stream":
            return f"upstream {name!r} sent nothing for {self.timeouts['idle']:g} s"
        return f"upstream {name!r} failed mid-stream"

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


async def _end_with_error(out: StreamResponse, message: str, stream: StreamTranslator | None = None) -> None:
    """An `overloaded_error` event: claude answers it by sending the request again, not streaming
    (docs/gateway.md, "When a stream breaks"), and the broken upstream is cooling down by then. A
    translated stream that has ended already (message_stop sent) gets nothing more."""
    event = sse_error_event("overloaded_error", message) if stream is None else stream.out.error("overloaded_error", message)
    try:
        if event:
            await out.write(event)
        await out.write_eof()
    except ConnectionError:
        pass


def _streamed(context: Context, result: up.Attempt) -> bool:
    """Is a translated answer relayed as a stream (claude asked for one and the provider sends one)?"""
    return context.stream and result.response.content_type == SSE


def _decoded_length(request: BaseRequest) -> int | None:
    """The body's length as the handler reads it: Content-Length, unless aiohttp decodes a
    Content-Encoding (then unknown until read)."""
    encoding = request.headers.get("Content-Encoding")
    return request.content_length if not encoding or encoding.strip().lower() == "identity" else None


def _cut(request: BaseRequest) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _error(status: int, message: str) -> Response:
    return Response(status=status, body=error_body(status, message), content_type=JSON)
