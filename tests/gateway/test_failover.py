"""Failover policy and the circuit breaker, on an injected clock."""

from __future__ import annotations

import pytest

from ccswitch.gateway.failover import (
    MAX_RETRY_AFTER,
    Breakers,
    is_failover_status,
    is_thinking_signature_error,
    parse_retry_after,
)


@pytest.mark.parametrize("status", [401, 402, 403, 408, 429, 500, 502, 503, 504, 529])
def test_statuses_that_fail_over(status):
    assert is_failover_status(status)


@pytest.mark.parametrize("status", [200, 301, 400, 404, 405, 409, 413, 422])
def test_statuses_that_are_the_requests_fault(status):
    assert not is_failover_status(status)


def test_thinking_signature_errors():
    anthropic = b'{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0: Invalid `signature` in `thinking` block"}}'
    assert is_thinking_signature_error(400, anthropic)
    assert is_thinking_signature_error(400, b'{"error":{"message":"Thinking block SIGNATURE verification failed"}}')
    assert not is_thinking_signature_error(400, b'{"error":{"message":"max_tokens too large"}}')
    assert not is_thinking_signature_error(500, anthropic)


def test_retry_after():
    assert parse_retry_after("7", 0) == 7.0
    assert parse_retry_after(" 1.5 ", 0) == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", 1445412500.0) == 10.0
    assert parse_retry_after("-3", 0) == 0.0
    assert parse_retry_after("99999999", 0) == MAX_RETRY_AFTER
    for bad in (None, "", "soon", "nan"):
        assert parse_retry_after(bad, 0) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breakers(clock) -> Breakers:
    return Breakers(failures=3, cooldown=30.0, max_cooldown=100.0, clock=clock)


def test_repeated_failures_open_the_circuit_until_the_cooldown_ends(breakers, clock):
    breakers.failure("kimi")
    breakers.failure("kimi")
    assert breakers.available("kimi")  # two failures: still closed
    breakers.failure("kimi")
    assert not breakers.available("kimi") and breakers.is_open("kimi")
    assert breakers.available("glm")  # circuits are per upstream
    clock.now += 29.9
    assert not breakers.available("kimi")
    clock.now += 0.2
    assert breakers.available("kimi")  # half-open: this request is the trial
    assert not breakers.available("kimi")  # others keep skipping it while the trial runs


def test_a_success_resets_the_count(breakers):
    breakers.failure("kimi")
    breakers.failure("kimi")
    breakers.success("kimi")
    breakers.failure("kimi")
    breakers.failure("kimi")
    assert breakers.available("kimi")


def test_a_failed_trial_reopens_for_twice_as_long_up_to_the_cap(breakers, clock):
    for _ in range(3):
        breakers.failure("kimi")
    for expected in (60.0, 100.0, 100.0):
        clock.now += 1000
        assert breakers.available("kimi")  # the trial
        breakers.failure("kimi")
        clock.now += expected - 0.1
        assert not breakers.available("kimi")
        clock.now += 0.2
        assert breakers.available("kimi")
        clock.now -= 0.1  # back inside the window for the next round's arithmetic
        breakers.failure("kimi")


def test_a_successful_trial_closes_the_circuit(breakers, clock):
    for _ in range(3):
        breakers.failure("kimi")
    clock.now += 30
    assert breakers.available("kimi")
    breakers.success("kimi")
    assert breakers.available("kimi") and breakers.available("kimi")
    breakers.failure("kimi")
    assert breakers.available("kimi")  # one failure after closing does not reopen it


def test_a_trial_that_never_reports_expires(breakers, clock):
    for _ in range(3):
        breakers.failure("kimi")
    clock.now += 30
    assert breakers.available("kimi")  # granted, then the client went away: no verdict
    clock.now += 29
    assert not breakers.available("kimi")
    clock.now += 2
    assert breakers.available("kimi")


def test_retry_after_opens_at_once_for_that_long(breakers, clock):
    breakers.failure("kimi", retry_after=5.0)
    assert not breakers.available("kimi")
    clock.now += 5.01
    assert breakers.available("kimi")
    breakers.success("kimi")
    breakers.failure("kimi", retry_after=500.0)  # honoured beyond max_cooldown: the upstream said so
    clock.now += 499
    assert not breakers.available("kimi")


def test_cool_down_after_a_broken_stream(breakers, clock):
    breakers.cool_down("kimi")
    assert not breakers.available("kimi")
    clock.now += 30.01
    assert breakers.available("kimi")


def test_failures_in_words():
    import asyncio
    import errno
    import socket
    from unittest import mock

    import aiohttp

    from ccswitch.gateway.upstream import failure_reason

    key = mock.Mock(host="x.example", port=443, ssl=True)
    assert failure_reason(asyncio.TimeoutError()) == "timeout"
    assert failure_reason(aiohttp.ClientConnectorError(key, ConnectionRefusedError(errno.ECONNREFUSED, "refused"))) == "refused"
    assert failure_reason(aiohttp.ClientConnectorError(key, socket.gaierror(-2, "Name or service not known"))) == "DNS"
    assert failure_reason(aiohttp.ClientConnectorError(key, OSError(errno.ENETUNREACH, "unreachable"))) == "connect failed"
    assert failure_reason(aiohttp.ClientConnectorSSLError(key, OSError("bad handshake"))) == "TLS"
    assert failure_reason(aiohttp.ServerDisconnectedError()) == "reset"
    assert failure_reason(aiohttp.ClientPayloadError("incomplete")) == "reset"
    assert failure_reason(aiohttp.ClientProxyConnectionError(key, OSError("proxy down"))) == "proxy"
    if hasattr(aiohttp, "ClientConnectorDNSError"):
        assert failure_reason(aiohttp.ClientConnectorDNSError(key, OSError("no such host"))) == "DNS"


def test_a_header_aiohttp_will_not_send_fails_over_in_words_never_quoting_it():
    import asyncio
    import time

    import aiohttp
    from support.gateway_kit import MockUpstream
    from yarl import URL

    from ccswitch.gateway.upstream import FAILED, attempt

    async def one(url: str):
        async with aiohttp.ClientSession() as session:
            return await attempt(session, "POST", URL(url + "/v1/messages"), [("authorization", "Bearer sk-CANARY-01234\r")],
                                 [b"{}"], time.time(), first_byte=5.0, timeout=aiohttp.ClientTimeout(total=5))

    with MockUpstream("kimi") as kimi:
        result = asyncio.run(one(kimi.url))
    assert (result.kind, result.reason) == (FAILED, "unsendable request") and not kimi.seen
