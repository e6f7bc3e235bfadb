"""Headers in both directions: the client's session key, what goes upstream, what comes back.

Pure functions over (name, value) pairs, so they are tested without a server.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping

from ccswitch.gateway.config import Upstream

# RFC 9110 7.6.1 hop-by-hop headers (plus the legacy Proxy-Connection): never forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade"}
)
# The client's credentials are replaced by the upstream's; framing and encodings are aiohttp's to set
# (the body it receives is already decoded, and its client only asks for encodings it can decode).
DROP_REQUEST = HOP_BY_HOP | {"host", "content-length", "content-encoding", "accept-encoding", "authorization",
                             "x-api-key", "expect"}
# aiohttp's client decodes a compressed response, so its length and encoding no longer apply.
DROP_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding"}
CONTEXT_1M_PREFIX = "context-1m-"


def authorized(headers: Mapping[str, str], key: bytes) -> bool:
    """Does the request carry the session key, as `x-api-key` or `Authorization: Bearer`? Both are
    compared in constant time (claude's apiKeyHelper sends the key in both)."""
    ok = False
    api_key = headers.get("x-api-key")
    if api_key is not None:
        ok |= hmac.compare_digest(api_key.encode("utf-8", "surrogateescape"), key)
    auth = headers.get("authorization")
    if auth is not None and auth[:7].lower() == "bearer ":
        ok |= hmac.compare_digest(auth[7:].strip().encode("utf-8", "surrogateescape"), key)
    return ok


HIDDEN_TOKEN = b"<token hidden by the ccswitch gateway>"


def without_token(body: bytes, upstream: Upstream) -> bytes:
    """An upstream's error body for the client, without the token it was sent (any key of its pool):
    a careless server quotes it ("invalid key sk-..."), and claude would show it and keep it in its
    transcript."""
    for _, token in upstream.keys:
        if len(token) >= 8:  # shorter ones are dummies ("ollama"), which would match anything
            body = body.replace(token.encode("utf-8", "surrogateescape"), HIDDEN_TOKEN)
    return body


def credential_headers(upstream: Upstream, token: str | None = None) -> list[tuple[str, str]]:
    """The upstream's credential (its token, or `token`: one key of its pool) and custom headers,
    computed once per upstream (and key)."""
    token = upstream.token if token is None else token
    pairs: list[tuple[str, str]] = []
    if upstream.auth == "bearer":
        pairs.append(("Authorization", f"Bearer {token}"))
    elif upstream.auth == "x-api-key":
        pairs.append(("x-api-key", str(token)))
    pairs.extend(upstream.headers.items())
    return pairs


def without_1m(beta: str) -> str:
    """`anthropic-beta` minus the 1M-context betas an upstream does not support."""
    return ",".join(b for b in (p.strip() for p in beta.split(",")) if b and not b.startswith(CONTEXT_1M_PREFIX))


def upstream_request_headers(client: Iterable[tuple[str, str]], upstream: Upstream,
                             credentials: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers, minus hop-by-hop/credential/framing ones (and those its Connection header
    names), with the upstream's credential and custom headers (which win over the client's).
    One pass and no set copies: this runs on every request."""
    overrides = {name.lower() for name in upstream.headers} if upstream.headers else None
    out, named = [], None
    for name, value in client:
        lower = name.lower()
        if lower in DROP_REQUEST:
            if lower == "connection":
                named = _connection_tokens(value)
            continue
        if overrides and lower in overrides:
            continue
        if lower == "anthropic-beta" and not upstream.supports_1m and CONTEXT_1M_PREFIX in value:
            value = without_1m(value)
            if not value:
                continue
        out.append((name, value))
    if named:
        out = [(name, value) for name, value in out if name.lower() not in named]
    out.extend(credentials)
    return out


def _connection_tokens(value: str) -> set[str]:
    """Header names a Connection header declares hop-by-hop (beyond the usual keep-alive/close)."""
    return {t for t in (token.strip().lower() for token in value.split(",")) if t and t not in ("keep-alive", "close")}


def client_response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream's response headers for the client, minus hop-by-hop and decoded framing."""
    out, named = [], None
    for name, value in upstream:
        lower = name.lower()
        if lower in DROP_RESPONSE:
            if lower == "connection":
                named = _connection_tokens(value)
            continue
        out.append((name, value))
    if named:
        out = [(name, value) for name, value in out if name.lower() not in named]
    return out
