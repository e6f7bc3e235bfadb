"""Headers: the session key check, what goes upstream, what comes back."""

from __future__ import annotations

import pytest

from ccswitch.gateway.config import Upstream
from ccswitch.gateway.headers import (
    authorized,
    client_response_headers,
    credential_headers,
    upstream_request_headers,
    without_1m,
)

KEY = b"session-key-0123456789"


def upstream(auth: str = "bearer", supports_1m: bool = False, headers: dict | None = None) -> Upstream:
    return Upstream(name="kimi", base_url="http://127.0.0.1:9", auth=auth, token=None if auth == "none" else "tok",
                    headers=headers or {}, models={}, serves=(), fallback=(), supports_1m=supports_1m)


@pytest.mark.parametrize("headers, ok", [
    ({"authorization": "Bearer session-key-0123456789"}, True),
    ({"authorization": "bearer  session-key-0123456789 "}, True),
    ({"x-api-key": "session-key-0123456789"}, True),
    ({"x-api-key": "session-key-0123456789", "authorization": "Bearer session-key-0123456789"}, True),
    ({"x-api-key": "wrong", "authorization": "Bearer session-key-0123456789"}, True),  # apiKeyHelper sends both
    ({"authorization": "Basic session-key-0123456789"}, False),
    ({"x-api-key": "session-key-012345678"}, False),
    ({"x-api-key": "s\u00e9ssion"}, False),
    ({}, False),
])
def test_the_session_key(headers, ok):
    assert authorized(headers, KEY) is ok


def test_credentials_per_auth_mode():
    assert credential_headers(upstream("bearer", headers={"X-Team": "a"})) == [("Authorization", "Bearer tok"), ("X-Team", "a")]
    assert credential_headers(upstream("x-api-key")) == [("x-api-key", "tok")]
    assert credential_headers(upstream("none")) == []


CLIENT = [
    ("Host", "127.0.0.1:4000"), ("Authorization", "Bearer session"), ("x-api-key", "session"),
    ("Content-Type", "application/json"), ("Content-Length", "99"), ("Accept-Encoding", "gzip, br, zstd"),
    ("Connection", "keep-alive, X-Private"), ("X-Private", "hop"), ("Keep-Alive", "timeout=5"),
    ("anthropic-version", "2023-06-01"), ("anthropic-beta", "context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14"),
    ("x-claude-code-session-id", "abc"), ("X-Team", "client's"), ("User-Agent", "claude-cli/2.1"),
]


def test_headers_for_an_upstream():
    up = upstream(headers={"X-Team": "profile's"})
    out = upstream_request_headers(CLIENT, up, credential_headers(up))
    assert out == [
        ("Content-Type", "application/json"), ("anthropic-version", "2023-06-01"),
        ("anthropic-beta", "fine-grained-tool-streaming-2025-05-14"),
        ("x-claude-code-session-id", "abc"), ("User-Agent", "claude-cli/2.1"),
        ("Authorization", "Bearer tok"), ("X-Team", "profile's"),
    ]


def test_1m_betas_kept_where_supported_and_the_header_dropped_when_emptied():
    up = upstream(supports_1m=True)
    assert ("anthropic-beta", CLIENT[10][1]) in upstream_request_headers(CLIENT, up, [])
    only_1m = [("anthropic-beta", "context-1m-2025-08-07")]
    assert upstream_request_headers(only_1m, upstream(), []) == []
    assert without_1m("a, context-1m-x ,b") == "a,b"


def test_response_headers_lose_hop_by_hop_and_decoded_framing():
    headers = [("Content-Type", "text/event-stream"), ("Content-Length", "10"), ("Content-Encoding", "gzip"),
               ("Transfer-Encoding", "chunked"), ("Connection", "close"), ("request-id", "req_1"),
               ("retry-after", "3")]
    assert client_response_headers(headers) == [("Content-Type", "text/event-stream"), ("request-id", "req_1"),
                                                 ("retry-after", "3")]


def test_an_error_body_quoting_the_upstream_token_reaches_the_client_without_it():
    from ccswitch.gateway.headers import HIDDEN_TOKEN, without_token

    kimi = Upstream(name="kimi", base_url="http://127.0.0.1:9", auth="bearer", token="sk-kimi-0123456789", headers={},
                    models={}, serves=(), fallback=(), supports_1m=False)
    body = b'{"error": {"message": "invalid key Bearer sk-kimi-0123456789 (sk-kimi-0123456789)"}}'
    assert without_token(body, kimi) == b'{"error": {"message": "invalid key Bearer ' + HIDDEN_TOKEN + b" (" + HIDDEN_TOKEN + b')"}}'
    assert without_token(b"tok tok", upstream()) == b"tok tok"  # a dummy token is no secret, and would match anything


def test_every_key_of_a_pool_is_hidden_and_each_key_gets_its_own_credential():
    from ccswitch.gateway.headers import HIDDEN_TOKEN, without_token

    pool = Upstream(name="kimi", base_url="http://127.0.0.1:9", auth="x-api-key", token="sk-pool-a-0123456789",
                    headers={"X-Team": "a"}, models={}, serves=(), fallback=(), supports_1m=False,
                    keys=((0, "sk-pool-a-0123456789"), (3, "sk-pool-b-0123456789")))
    body = b"no such key: sk-pool-b-0123456789 (nor sk-pool-a-0123456789)"
    assert without_token(body, pool) == b"no such key: " + HIDDEN_TOKEN + b" (nor " + HIDDEN_TOKEN + b")"
    assert credential_headers(pool, "sk-pool-b-0123456789") == [("x-api-key", "sk-pool-b-0123456789"), ("X-Team", "a")]
    assert credential_headers(pool) == [("x-api-key", "sk-pool-a-0123456789"), ("X-Team", "a")]
