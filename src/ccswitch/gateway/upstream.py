"""One attempt at one upstream, with aiohttp's client: a 2xx with its first chunk, an error status
with its (small) body, or a failure named in words.

One pooled `ClientSession` serves every upstream of the session: keep-alive connections, TLS,
proxies and gzip/deflate (and br/zstd when their codecs are installed: aiohttp offers only what it
can decode) are aiohttp's; nothing is hand-rolled here.

Proxies: HTTP(S)_PROXY/NO_PROXY are read once per upstream with aiohttp's own
`get_env_proxy_for_url` (what `trust_env=True` does) and passed with each request. `trust_env=True`
itself looks up the proxy and ~/.netrc in a worker thread on *every* request: two thread hops that
cost ~2 ms and 85% of the throughput here (bench/gateway.py), for an environment that never changes
while the process lives. (And no netrc credentials ride along to an upstream the profile did not
give any.)
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Union

import aiohttp
from aiohttp.helpers import BasicAuth, get_env_proxy_for_url
from yarl import URL

from ccswitch.gateway.body import LARGE
from ccswitch.gateway.failover import is_failover_status, parse_retry_after
from ccswitch.gateway.usage import Usage

Buffer = Union[bytes, bytearray, memoryview]

if sys.version_info >= (3, 11):
    from asyncio import timeout as deadline
else:  # aiohttp depends on async-timeout below 3.11
    from async_timeout import timeout as deadline

# What one attempt at an upstream came to: an answer to relay, an error the client gets as it is,
# or a failure that moves on to the next upstream.
ANSWERED, PASSED_ON, FAILED = "answered", "passed-on", "failed"
MAX_ERROR_BODY = 1 << 20  # an error answer is a few hundred bytes; more is read but not kept
_SLICE = 256 << 10
PROBE_PATH = "/v1/messages"
_DNS_ERROR = getattr(aiohttp, "ClientConnectorDNSError", ())  # aiohttp >= 3.10


class Attempt:
    """What one upstream did with the request.

    kind ANSWERED: `response` is open (2xx), `first` its first body chunk. PASSED_ON: an error status the
    client gets as is. FAILED: move on; `status` is set when it was an HTTP answer (then `body` and
    `headers` too, so the last failure can be passed to the client)."""

    __slots__ = ("kind", "status", "reason", "retry_after", "response", "first", "body", "headers", "request_id",
                 "usage")

    def __init__(self, kind: str, reason: str = "", status: int | None = None) -> None:
        self.kind = kind
        self.reason = reason
        self.status = status
        self.retry_after: float | None = None
        self.response: aiohttp.ClientResponse | None = None
        self.first = b""
        self.body = b""
        self.headers: list[tuple[str, str]] = []
        self.request_id: str | None = None
        self.usage: Usage | None = None  # a translated whole answer's, read off the message it became


def env_proxy(url: str) -> tuple[URL | None, BasicAuth | None]:
    """The proxy (and its credentials) HTTP(S)_PROXY/NO_PROXY give for `url`, or (None, None)."""
    try:
        return get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None


def make_session(timeouts: dict[str, float]) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300, keepalive_timeout=15)
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,  # see the module docstring: proxies come from env_proxy(), once
        auto_decompress=True,
        cookie_jar=aiohttp.DummyCookieJar(),  # an upstream's cookies are not ours to keep or replay
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeouts["connect"], sock_read=timeouts["idle"]),
    )


def client_timeouts(timeouts: dict[str, float]) -> tuple[aiohttp.ClientTimeout, aiohttp.ClientTimeout]:
    """(streaming, non-streaming): aiohttp's read limit is `idle` between a stream's chunks; a
    non-streaming answer may take `response` seconds to start, so its read limit must not fire
    before that (attempt() bounds the wait itself)."""
    stream = aiohttp.ClientTimeout(total=None, sock_connect=timeouts["connect"], sock_read=timeouts["idle"])
    whole = aiohttp.ClientTimeout(total=None, sock_connect=timeouts["connect"],
                                  sock_read=max(timeouts["idle"], timeouts["response"]))
    return stream, whole


def request_body(parts: Sequence[Buffer]) -> tuple[object, list[tuple[str, str]]]:
    """What aiohttp is given to send `parts` one after the other, and the headers that go with it: a
    small body joined; a large one as slices of the parts, each written once the previous one has
    drained (one bytes object would be joined with the headers, then copied into the transport's
    buffer whole: docs/gateway.md, "Memory"), with its Content-Length so that it is not chunked."""
    size = len(parts[0]) if len(parts) == 1 else sum(len(part) for part in parts)
    if size <= LARGE:
        return (parts[0] if len(parts) == 1 else b"".join(parts)), []
    return _slices(parts), [("Content-Length", str(size))]


async def _slices(parts: Sequence[Buffer]):  # -> AsyncIterator[memoryview]
    for part in parts:
        view = memoryview(part)
        for at in range(0, len(view), _SLICE):
            yield view[at : at + _SLICE]


def probe_body(model: str) -> bytes:
    """The smallest streaming request for `model`: one input word, one output token."""
    return json.dumps({"model": model, "max_tokens": 1, "stream": True,
                       "messages": [{"role": "user", "content": "ping"}]}).encode()


async def attempt(session: aiohttp.ClientSession, method: str, url: URL, headers: Sequence[tuple[str, str]],
                  body: Sequence[Buffer], now_wall: float, *, first_byte: float, timeout: aiohttp.ClientTimeout,
                  proxy: tuple[URL | None, BasicAuth | None] = (None, None),
                  working: Callable[[], Awaitable[bool]] | None = None, patience: float = 0.0) -> Attempt:
    """Send the request (`body`: its parts, see request_body) and wait for its answer to start.

    A streaming request (`working` None): the status line and the first chunk within `first_byte`.
    A non-streaming one sends nothing until its whole answer is ready, so silence proves nothing:
    after `first_byte` without a status line, `working()` is asked whether the upstream is at work
    (a probe; see status_line), and if so the status line may take `patience` seconds in all."""
    response = None
    data, framing = request_body(body)
    if framing:
        headers = [*headers, *framing]
    try:
        send = session.request(method, url, data=data, headers=headers, allow_redirects=False, timeout=timeout,
                               proxy=proxy[0], proxy_auth=proxy[1])
        if working is None:
            async with deadline(first_byte):
                response = await send
                result = await _first(response, now_wall)
        else:
            response = await status_line(asyncio.ensure_future(send), first_byte, patience, working)
            result = await _first(response, now_wall)
    except BaseException as exc:
        if response is not None:
            response.close()
        # ValueError: aiohttp refusing a header or URL it will not send ("Forbidden control character...").
        if isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError)):
            return Attempt(FAILED, failure_reason(exc))
        raise
    result.response = response
    result.headers = list(response.headers.items())
    result.request_id = response.headers.get("request-id")
    return result


async def status_line(request: asyncio.Future, first_byte: float, patience: float,
                      working: Callable[[], Awaitable[bool]]) -> aiohttp.ClientResponse:
    """The response of a non-streaming `request` (a task): within `first_byte`; or, if by then
    `working()` (itself bounded by `first_byte`) says the upstream is at work, within `patience`
    seconds of the start; else asyncio.TimeoutError. `request` is cancelled (or its response closed)
    unless its response is returned."""
    started = asyncio.get_running_loop().time()
    try:
        await asyncio.wait((request,), timeout=first_byte)
        if not request.done():
            probe = asyncio.ensure_future(working())
            try:
                await asyncio.wait((request, probe), return_when=asyncio.FIRST_COMPLETED)
                if not request.done() and not probe.result():
                    raise asyncio.TimeoutError
            finally:
                probe.cancel()
            left = patience - (asyncio.get_running_loop().time() - started)
            await asyncio.wait((request,), timeout=max(left, 0.0))
            if not request.done():
                raise asyncio.TimeoutError
        return request.result()
    except BaseException:
        if not request.done():
            request.cancel()
        elif not request.cancelled() and request.exception() is None:
            request.result().close()
        raise


async def _first(response: aiohttp.ClientResponse, now_wall: float) -> Attempt:
    """A 2xx with its first chunk, or an error answer."""
    if 200 <= response.status < 300:
        result = Attempt(ANSWERED, status=response.status)
        result.first = await response.content.readany()
        return result
    return await _error_answer(response, now_wall)


async def _error_answer(response: aiohttp.ClientResponse, now_wall: float) -> Attempt:
    body = await read_up_to(response.content, MAX_ERROR_BODY)
    response.release()
    status = response.status
    result = Attempt(FAILED if is_failover_status(status) else PASSED_ON, f"HTTP {status}", status)
    result.body = body
    result.retry_after = parse_retry_after(response.headers.get("retry-after"), now_wall)
    return result


async def read_up_to(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body up to `limit` bytes (`read(n)` returns as soon as *some* bytes are there)."""
    parts, size = [], 0
    while size < limit:
        part = await content.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def failure_reason(exc: BaseException) -> str:
    """A failure in words chosen here (never str(exc): a library's message may quote the URL's
    credentials or a header value); it goes to claude, the records and the failover chain."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if _DNS_ERROR and isinstance(exc, _DNS_ERROR):
        return "DNS"
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError)):
        return "TLS"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return "proxy"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = getattr(exc, "os_error", None)
        if isinstance(os_error, socket.gaierror):
            return "DNS"
        if getattr(os_error, "errno", None) == errno.ECONNREFUSED or isinstance(os_error, ConnectionRefusedError):
            return "refused"
        return "connect failed"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, ConnectionResetError,
                        aiohttp.ClientOSError)):
        return "reset"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "bad response"
    if isinstance(exc, ValueError):
        return "unsendable request"
    return type(exc).__name__
