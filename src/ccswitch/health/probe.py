"""One minimal, real request to an endpoint in the format it speaks (Anthropic Messages, or OpenAI
Chat Completions / Responses for a translated profile), timed and classified in words.

`probe()` is pure and reusable: it prints nothing, reads no global state (proxies and CA files come
from the `env` it is given, the way claude would see them) and never raises for a network or HTTP
failure; it returns a `ProbeResult`. `ccswitch test` runs it for every profile and model; launch-time
fallback can reuse it as is.

httpx is imported inside `probe()` only: this module must stay importable from anything on the launch
path without paying for an HTTP client.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

from ccswitch.health.outcomes import Outcome
from ccswitch.profiles.apis import (
    ANTHROPIC,
    OPENAI_CHAT,
    OPENAI_RESPONSES,
    PATHS,
    is_translated,
)
from ccswitch.redact import mask

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
# Enough for any model to say something, little enough to cost nothing.
PROBE_MAX_TOKENS = 8
RESPONSES_MIN_OUTPUT = 16  # the Responses API refuses a smaller max_output_tokens
PROBE_PROMPT = "Reply with the word OK."
DETAIL_LIMIT = 200
USER_AGENT = "ccswitch-test (Anthropic Messages API probe)"


class ProbeResult:
    """What one request found. Times are milliseconds from the start of the request, or None."""

    __slots__ = ("ok", "reason", "status", "detail", "url", "model", "stream", "connect_ms", "first_byte_ms", "total_ms")

    def __init__(
        self,
        *,
        ok: bool,
        reason: str,
        url: str,
        model: str,
        stream: bool,
        status: int | None = None,
        detail: str = "",
        connect_ms: float | None = None,
        first_byte_ms: float | None = None,
        total_ms: float | None = None,
    ) -> None:
        self.ok = ok
        self.reason = reason
        self.status = status
        self.detail = detail
        self.url = url
        self.model = model
        self.stream = stream
        self.connect_ms = connect_ms
        self.first_byte_ms = first_byte_ms
        self.total_ms = total_ms

    def as_dict(self) -> dict[str, object]:
        return {slot: getattr(self, slot) for slot in self.__slots__}

    def __repr__(self) -> str:
        return f"ProbeResult(ok={self.ok}, reason={self.reason!r}, status={self.status}, model={self.model!r})"


def messages_url(base_url: str | None, api: str = ANTHROPIC) -> str:
    """Where requests go for this base URL (a path prefix is kept): claude's /v1/messages, or the
    OpenAI format's own path under the provider's base."""
    if is_translated(api):
        return (base_url or "").rstrip("/") + PATHS[api]
    return (base_url or DEFAULT_BASE_URL).rstrip("/") + "/v1/messages"


def request_headers(
    auth_variable: str | None, token: str | None, custom_headers: Mapping[str, str] | None = None,
    api: str = ANTHROPIC,
) -> dict[str, str]:
    """The headers claude (or, for an OpenAI format, the gateway) would send: the profile's custom
    headers, then version and credential."""
    headers = dict(custom_headers or {})
    headers["content-type"] = "application/json"
    if not is_translated(api):
        headers["anthropic-version"] = ANTHROPIC_VERSION
    headers.setdefault("user-agent", USER_AGENT)
    if token:
        if auth_variable == "ANTHROPIC_API_KEY" or (auth_variable or "").endswith("_API_KEY"):
            headers["x-api-key"] = token
        else:
            headers["authorization"] = f"Bearer {token}"
    return headers


def request_body(model: str, stream: bool, api: str = ANTHROPIC, options: Mapping[str, object] | None = None) -> dict[str, object]:
    if api == OPENAI_RESPONSES:
        return {"model": model, "input": PROBE_PROMPT, "max_output_tokens": RESPONSES_MIN_OUTPUT, "store": False,
                "stream": stream}
    field = str((options or {}).get("max_tokens_field") or "max_tokens") if api == OPENAI_CHAT else "max_tokens"
    return {
        "model": model,
        field: PROBE_MAX_TOKENS,
        "messages": [{"role": "user", "content": PROBE_PROMPT}],
        "stream": stream,
    }


class _Timing:
    """Milliseconds since the request started, at each phase httpcore reports."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.marks: dict[str, float] = {}
        self.start = clock()

    def restart(self) -> None:
        self.start = self.clock()  # once the client is built: its TLS set-up is not the endpoint's latency

    def trace(self, event: str, info: object) -> None:
        # The last completed connect/TLS step ends "connect".
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            self.marks["connect"] = self.clock()

    def first_byte(self) -> None:
        self.marks.setdefault("first_byte", self.clock())

    def ms(self, mark: str | None = None) -> float | None:
        if mark is not None and mark not in self.marks:
            return None
        at = self.marks[mark] if mark else self.clock()
        return round((at - self.start) * 1000, 1)


class _TooSlow(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def probe(
    base_url: str | None,
    auth_variable: str | None,
    token: str | None,
    model: str,
    timeout: float,
    stream: bool = False,
    *,
    headers: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    transport: object | None = None,
    clock: Callable[[], float] = time.perf_counter,
    api: str = ANTHROPIC,
    options: Mapping[str, object] | None = None,
) -> ProbeResult:
    """Send one tiny request in the endpoint's format (`api`; `options`: the profile's OpenAI-format
    options) and say how it went.

    `auth_variable` is the variable claude would read the token from (ANTHROPIC_AUTH_TOKEN -> Bearer,
    ANTHROPIC_API_KEY -> x-api-key). `timeout` bounds each phase (connect, write, each read) and the
    whole answer. `env` supplies HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY and CA files, as claude
    would read them. The token never appears in the result.
    """
    import httpx  # ~0.25 s: only a probe pays for it, never a plain `run`

    url = messages_url(base_url, api)
    timing = _Timing(clock)

    secrets = [token or "", *(headers or {}).values()]

    def result(ok: bool, reason: str, status: int | None = None, detail: str = "") -> ProbeResult:
        return ProbeResult(ok=ok, reason=reason, status=status, detail=_scrub(detail, secrets), url=url, model=model,
                           stream=stream, connect_ms=timing.ms("connect"), first_byte_ms=timing.ms("first_byte"),
                           total_ms=timing.ms())

    try:
        client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            trust_env=False,  # proxies come from `env`, not from this process's environment
            mounts=None if transport is not None else proxy_mounts(env or {}),
            transport=transport,  # type: ignore[arg-type]
            verify=_verify(env or {}),
            follow_redirects=False,
        )
    except (ValueError, OSError, httpx.InvalidURL) as exc:  # a malformed proxy URL or CA file
        reason, words = _setup_failure(exc)
        return result(False, reason, detail=words)
    timing.restart()
    request = {"headers": request_headers(auth_variable, token, headers, api),
               "content": json.dumps(request_body(model, stream, api, options)).encode()}
    try:
        with client:
            status, content_type, body = _send(client, url, request, timing, timeout)
    except _TooSlow as slow:
        return result(False, Outcome.TIMEOUT, slow.status, f"no complete answer within {timeout:g} s")
    except httpx.TimeoutException as exc:
        return result(False, Outcome.TIMEOUT, detail=f"{_phase(exc)} timed out after {timeout:g} s")
    except (httpx.HTTPError, OSError, ValueError) as exc:  # OSError, ValueError: anything the transport let through
        reason = classify_exception(exc)
        return result(False, reason, detail=failure_words(exc, reason))
    reason, detail = classify_response(status, body, content_type, model, stream, api)
    return result(reason == Outcome.OK, reason, status, detail)


def _send(client: object, url: str, request: Mapping[str, object], timing: _Timing, timeout: float) -> tuple[int, str, bytes]:
    """(status, content type, the first 64 KiB of the body); _TooSlow past the overall deadline."""
    deadline = timing.start + timeout
    body = bytearray()
    with client.stream("POST", url, extensions={"trace": timing.trace}, **request) as response:  # type: ignore[attr-defined]
        for chunk in response.iter_raw():
            timing.first_byte()
            if len(body) < 65536:
                body.extend(chunk)
            if timing.clock() > deadline:
                raise _TooSlow(response.status_code)
        timing.first_byte()
        return response.status_code, response.headers.get("content-type", ""), bytes(body)


def classify_response(status: int, body: bytes, content_type: str, model: str, stream: bool,
                      api: str = ANTHROPIC) -> tuple[str, str]:
    """(reason, detail) for an HTTP answer."""
    message, error_type = _error_message(body)
    if 200 <= status < 300 and is_translated(api):
        return _classify_openai_answer(status, body, content_type, model, stream, api, message)
    if 200 <= status < 300:
        text = body.decode("utf-8", "replace")
        if stream or "text/event-stream" in content_type:
            if "event: error" in text or '"type": "error"' in text or '"type":"error"' in text:
                return (_classify_error_text(message or text, model), f"error inside the stream: {message or text[:DETAIL_LIMIT]}")
            if "message_start" not in text:
                return Outcome.OTHER, f"HTTP {status} but no Messages API stream (is base_url right?)"
            return Outcome.OK, ""
        try:
            data = json.loads(text)
        except ValueError:
            return Outcome.OTHER, f"HTTP {status} but the answer is not JSON (is base_url right?)"
        if not isinstance(data, dict) or data.get("type") != "message":
            return Outcome.OTHER, f"HTTP {status} but the answer is not a Messages API message (is base_url right?)"
        return Outcome.OK, ""
    detail = message or _snippet(body, content_type) or f"HTTP {status}"
    if status in (401, 403):
        return Outcome.AUTH, detail
    if status == 404:
        if message is None or "/v1/messages" in message:
            # Not an Anthropic-style error about the model: the path itself is wrong.
            return Outcome.ENDPOINT, detail if message else "HTTP 404 at this URL (is base_url right?)"
        return Outcome.MODEL, detail
    if status in (400, 422):
        return _classify_error_text(message or "", model, default=Outcome.BAD_REQUEST), detail
    if status == 429:
        return Outcome.RATE_LIMIT, detail
    if status >= 500:
        return Outcome.SERVER, detail
    if status == 407:
        return Outcome.PROXY, detail
    if error_type == "not_found_error":
        return Outcome.MODEL, detail
    return Outcome.OTHER, detail


# What proves an answer is in the OpenAI format asked for: (streamed, whole).
_OPENAI_MARKS = {OPENAI_CHAT: ('"chat.completion.chunk"', '"choices"'), OPENAI_RESPONSES: ('"response.', '"output"')}


def _classify_openai_answer(status: int, body: bytes, content_type: str, model: str, stream: bool, api: str,
                            message: str | None) -> tuple[str, str]:
    text = body.decode("utf-8", "replace")
    streamed = stream or "text/event-stream" in content_type
    if message is not None and ('"error"' in text or "event: error" in text):
        return _classify_error_text(message, model), f"error inside the answer: {message}"
    mark = _OPENAI_MARKS[api][0 if streamed else 1]
    if mark.replace(" ", "") not in text.replace(" ", ""):
        return Outcome.OTHER, f"HTTP {status} but no {api} answer (is base_url right?)"
    return Outcome.OK, ""


def _classify_error_text(text: str, model: str, default: str = Outcome.OTHER) -> str:
    # Providers report an unknown model as a 400 with their own wording ("model not exist",
    # "Invalid model", "模型不存在"); name the model problem when the message is about the model.
    lowered = text.lower()
    if "model" in lowered or (model and model.lower() in lowered) or "模型" in text:
        return Outcome.MODEL
    if "rate" in lowered and "limit" in lowered:
        return Outcome.RATE_LIMIT
    if "overloaded" in lowered:
        return Outcome.SERVER
    return default


def classify_exception(exc: BaseException) -> str:
    """The reason for a failure before any HTTP answer: timeout, refused, DNS, TLS, proxy or other."""
    import socket  # only to classify a failure
    import ssl

    chain = _chain(exc)
    for error in chain:
        name = type(error).__name__
        if "Timeout" in name or isinstance(error, (TimeoutError, socket.timeout)):
            return Outcome.TIMEOUT
        if name == "ProxyError":
            return Outcome.PROXY
        if isinstance(error, (ssl.SSLError, ssl.CertificateError)):
            return Outcome.TLS
        if isinstance(error, socket.gaierror):
            return Outcome.DNS
        if isinstance(error, ConnectionRefusedError):
            return Outcome.REFUSED
    text = " ".join(str(error) for error in chain).lower()
    if any(s in text for s in ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo")):
        return Outcome.DNS
    if any(s in text for s in ("connection refused", "errno 111", "errno 61", "10061")):
        return Outcome.REFUSED
    if any(s in text for s in ("ssl", "certificate", "tls")):
        return Outcome.TLS
    return Outcome.OTHER


def _error_message(body: bytes) -> tuple[str | None, str | None]:
    """The message and type of an Anthropic-style error body, or (None, None)."""
    text = body.decode("utf-8", "replace").strip()
    candidates = [text]
    # In a stream the error is the data line of an `event: error`.
    candidates += [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, list) and data:  # Gemini's OpenAI endpoint wraps its error in a list
            data = data[0]
        if not isinstance(data, dict):
            continue
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            return (str(message)[:DETAIL_LIMIT] if message is not None else None), (
                str(error.get("type")) if error.get("type") else None
            )
        if isinstance(error, str):  # OpenAI-ish gateways
            return error[:DETAIL_LIMIT], None
        if isinstance(data.get("message"), str) and data.get("type") != "message":
            return data["message"][:DETAIL_LIMIT], None
    return None, None


def _snippet(body: bytes, content_type: str = "") -> str:
    """A non-API answer in a few words. An HTML page (a proxy's or a CDN's error page) is named by
    its title or first heading, never dumped: its markup says nothing and floods the table."""
    text = " ".join(body.decode("utf-8", "replace").split())
    if "html" in content_type.lower() or text[:200].lstrip().lower().startswith(("<!doctype html", "<html", "<head", "<body")):
        import html
        import re

        found = None
        for tag in ("title", "h1", "h2"):
            match = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}\s*>", text, re.IGNORECASE | re.DOTALL)
            words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""
            if words:
                found = words
                break
        return f"an HTML page: {found[:80]}" if found else "an HTML page, not an API answer"
    return text[:DETAIL_LIMIT]


def _phase(exc: BaseException) -> str:
    name = type(exc).__name__
    return {"ConnectTimeout": "connect", "ReadTimeout": "reading the answer", "WriteTimeout": "sending", "PoolTimeout": "waiting for a connection"}.get(
        name, "the request"
    )


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


# A failure before any answer, in words chosen here: a library's message may quote the request
# (h11: "Illegal header value b'Bearer sk-…'", a proxy URL with its password), so none is passed on.
# What is passed on names the connection only: the OS's strerror, OpenSSL's reason and verify message.
FAILURE_WORDS = {
    Outcome.REFUSED: "connection refused",
    Outcome.DNS: "the host name does not resolve",
    Outcome.TLS: "the TLS handshake failed",
    Outcome.PROXY: "the proxy failed or refused the connection",
}
UNSENDABLE_HEADER = "a header cannot be sent: the token or a custom header holds a character HTTP does not allow"


def failure_words(exc: BaseException, reason: str) -> str:
    import ssl  # only on a failure

    chain = _chain(exc)
    for error in chain:
        if isinstance(error, UnicodeError) or (type(error).__name__ == "LocalProtocolError" and "header" in str(error).lower()):
            return UNSENDABLE_HEADER
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError) and isinstance(error.verify_message, str):
            return f"the server's certificate is not trusted: {error.verify_message}"
        if isinstance(error, ssl.SSLError) and isinstance(error.reason, str):
            return f"{FAILURE_WORDS[Outcome.TLS]} ({error.reason})"
        if isinstance(error, OSError) and not isinstance(error, ssl.SSLError) and isinstance(error.strerror, str):
            return error.strerror
    if reason in FAILURE_WORDS:
        return FAILURE_WORDS[reason]
    if any(type(error).__name__ == "RemoteProtocolError" for error in chain):
        return "the server closed the connection or answered with something that is not HTTP"
    return f"the request failed ({type(exc).__name__})"


def _setup_failure(exc: BaseException) -> tuple[str, str]:
    """(reason, words) for an HTTP client that cannot be built: a proxy URL httpx refuses (its message
    quotes the URL, password included), or a CA file that cannot be loaded."""
    import ssl  # only on a failure

    if isinstance(exc, ssl.SSLError):
        return Outcome.OTHER, "a CA file (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS) holds no usable certificate"
    if isinstance(exc, OSError):
        return Outcome.OTHER, f"cannot read a CA file (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS): {exc.strerror or type(exc).__name__}"
    if "proxy" in str(exc).lower():
        return Outcome.PROXY, "the proxy setting (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) is not a URL that can be used"
    return Outcome.OTHER, f"cannot set up the HTTP client ({type(exc).__name__}; check the proxy and CA file settings)"


def _scrub(text: str, secrets: list[str]) -> str:
    """A server may echo the credential (or a custom header) back in its error; never pass it on."""
    for secret in secrets:
        if secret and len(secret) >= 8 and text:  # shorter ones are dummies ("ollama"), not secrets
            text = text.replace(secret, mask(secret))
    return text[:DETAIL_LIMIT] if len(text) > DETAIL_LIMIT else text


def proxy_mounts(env: Mapping[str, str]) -> dict[str, object]:
    """httpx transports for HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, minus NO_PROXY hosts.

    Mirrors httpx's own reading of these variables (lower-case names win, as in curl), but from
    the `env` given rather than this process's.
    """
    import httpx  # ~0.25 s: only a probe pays for it, never a plain `run`

    def get(name: str) -> str:
        return (env.get(name.lower()) or env.get(name) or "").strip()

    proxies: dict[str, str] = {}
    for scheme, var in (("http://", "HTTP_PROXY"), ("https://", "HTTPS_PROXY"), ("all://", "ALL_PROXY")):
        value = get(var)
        if value:
            proxies[scheme] = value if "://" in value else f"http://{value}"
    if not proxies:
        return {}
    mounts: dict[str, object] = {pattern: httpx.HTTPTransport(proxy=url) for pattern, url in proxies.items()}
    for host in get("NO_PROXY").split(","):
        host = host.strip()
        if not host:
            continue
        if host == "*":
            return {}
        if "://" in host:
            mounts[host] = None
        elif host.replace(".", "").isdigit() or host.lower() == "localhost":
            mounts[f"all://{host}"] = None
        elif ":" in host and not host.startswith("["):  # IPv6
            mounts[f"all://[{host}]"] = None
        else:
            mounts[f"all://*{host.lstrip('.')}"] = None
    return mounts


def _verify(env: Mapping[str, str]) -> object:
    """TLS verification: certifi's bundle plus the CA files claude's runtime would trust."""
    extra = [env.get(var) for var in ("SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS") if env.get(var)]
    if not extra:
        return True
    import ssl  # only when a probe is sent (httpx needs it anyway)

    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    for path in extra:
        context.load_verify_locations(cafile=path)
    return context
