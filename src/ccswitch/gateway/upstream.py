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
import socket
import ssl
import sys
from collections.abc import Sequence

import aiohttp
from aiohttp.helpers import BasicAuth, get_env_proxy_for_url
from yarl import URL

from ccswitch.gateway.failover import is_failover_status, parse_retry_after

if sys.version_info >= (3, 11):
    from asyncio import timeout as deadline
else:  # aiohttp depends on async-timeout below 3.11
    from async_timeout import timeout as deadline

# What one attempt at an upstream came to: an answer to relay, an error the client gets as it is,
# or a failure that moves on to the next upstream.
ANSWERED, PASSED_ON, FAILED = "answered", "passed-on", "failed"
MAX_ERROR_BODY = 1 << 20  # an error answer is a few hundred bytes; more is read but not kept
_DNS_ERROR = getattr(aiohttp, "ClientConnectorDNSError", ())  # aiohttp >= 3.10


class Attempt:
    """What one upstream did with the request.

    kind ANSWERED: `response` is open (2xx), `first` its first body chunk. PASSED_ON: an error status the
    client gets as is. FAILED: move on; `status` is set when it was an HTTP answer (then `body` and
    `headers` too, so the last failure can be passed to the client)."""

    __slots__ = ("kind", "status", "reason", "retry_after", "response", "first", "body", "headers", "request_id")

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
    """(streaming, non-streaming): a non-streaming answer may take `response` seconds to start, so
    its idle read limit must not fire before that."""
    stream = aiohttp.ClientTimeout(total=None, sock_connect=timeouts["connect"], sock_read=timeouts["idle"])
    whole = aiohttp.ClientTimeout(total=None, sock_connect=timeouts["connect"],
                                  sock_read=max(timeouts["idle"], timeouts["response"]))
    return stream, whole


async def attempt(session: aiohttp.ClientSession, method: str, url: URL, headers: Sequence[tuple[str, str]],
                  body: bytes, first_byte: float, timeout: aiohttp.ClientTimeout, now_wall: float,
                  proxy: tuple[URL | None, BasicAuth | None] = (None, None)) -> Attempt:
    """Send the request; wait at most `first_byte` seconds for the status and the first chunk."""
    response = None
    try:
        async with deadline(first_byte):
            response = await session.request(method, url, data=body, headers=headers,
                                             allow_redirects=False, timeout=timeout, proxy=proxy[0],
                                             proxy_auth=proxy[1])
            if 200 <= response.status < 300:
                result = Attempt(ANSWERED, status=response.status)
                result.first = await response.content.readany()
            else:
                result = await _error_answer(response, now_wall)
    except BaseException as exc:
        if response is not None:
            response.close()
        if isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError)):
            return Attempt(FAILED, failure_reason(exc))
        raise
    result.response = response
    result.headers = list(response.headers.items())
    result.request_id = response.headers.get("request-id")
    return result


async def _error_answer(response: aiohttp.ClientResponse, now_wall: float) -> Attempt:
    body = await _read_up_to(response.content, MAX_ERROR_BODY)
    response.release()
    status = response.status
    result = Attempt(FAILED if is_failover_status(status) else PASSED_ON, f"HTTP {status}", status)
    result.body = body
    result.retry_after = parse_retry_after(response.headers.get("retry-after"), now_wall)
    return result


async def _read_up_to(content: aiohttp.StreamReader, limit: int) -> bytes:
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
    """A failure in words; never the URL's credentials or a header (aiohttp messages hold neither)."""
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
    return type(exc).__name__
