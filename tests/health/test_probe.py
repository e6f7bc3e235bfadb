"""probe(): one real request to the loopback mock, classified in words, timed, token never echoed."""

from __future__ import annotations

import socket

import pytest
from support.mock_anthropic import MockAnthropic, closed_port_url

from ccswitch.health import probe as probes
from ccswitch.health.probe import classify_exception, classify_response, probe

TOKEN = "sk-test-secret-0123456789"


def test_ok_sends_claudes_request_shape():
    with MockAnthropic(prefix="/api/anthropic") as server:
        result = probe(server.url, "ANTHROPIC_AUTH_TOKEN", TOKEN, "glm-5.1", 5, headers={"X-Team": "platform"})
    assert result.ok and result.reason == "ok" and result.status == 200
    [request] = server.messages
    assert request.path == "/api/anthropic/v1/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-api-key" not in request.headers
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["x-team"] == "platform"
    assert request.body["model"] == "glm-5.1"
    assert 1 <= request.body["max_tokens"] <= 8
    assert request.body["stream"] is False
    assert result.connect_ms is not None and result.first_byte_ms is not None
    assert result.connect_ms <= result.first_byte_ms <= result.total_ms
    assert TOKEN not in repr(result.as_dict())


def test_api_key_auth_uses_x_api_key():
    with MockAnthropic() as server:
        probe(server.url, "ANTHROPIC_API_KEY", TOKEN, "m", 5)
    [request] = server.messages
    assert request.headers["x-api-key"] == TOKEN
    assert "authorization" not in request.headers


def test_no_auth_sends_no_credential():
    with MockAnthropic() as server:
        assert probe(server.url, None, None, "m", 5).ok
    [request] = server.messages
    assert "x-api-key" not in request.headers and "authorization" not in request.headers


@pytest.mark.parametrize(
    ("status", "reason"),
    [(401, "auth rejected"), (403, "auth rejected"), (404, "model not found"), (429, "rate limited"),
     (500, "server error"), (529, "server error")],
)
def test_http_errors_are_named(status, reason):
    with MockAnthropic(status=status) as server:
        result = probe(server.url, "ANTHROPIC_AUTH_TOKEN", TOKEN, "m", 5)
    assert not result.ok
    assert (result.reason, result.status, result.detail) == (reason, status, f"mock {status}")


def test_streaming_answer_is_ok_and_sent_as_a_stream():
    with MockAnthropic(reply="hi") as server:
        result = probe(server.url, "ANTHROPIC_AUTH_TOKEN", TOKEN, "m", 5, stream=True)
    assert result.ok and result.stream
    assert server.messages[0].body["stream"] is True
    assert result.first_byte_ms is not None


def test_slow_answer_past_the_timeout():
    with MockAnthropic(delay=3) as server:
        result = probe(server.url, "ANTHROPIC_AUTH_TOKEN", TOKEN, "m", 0.5)
    assert (result.ok, result.reason, result.status) == (False, "timeout", None)
    assert "0.5 s" in result.detail


def test_refused_port():
    result = probe(closed_port_url(), None, None, "m", 5)
    assert (result.ok, result.reason, result.status) == (False, "refused", None)


def test_tls_failure():
    # Speaking TLS to a plain-HTTP server fails in the handshake.
    with MockAnthropic() as server:
        result = probe(server.url.replace("http://", "https://"), None, None, "m", 5)
    assert result.reason == "TLS"


def test_dns_failure(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    result = probe("https://gateway.example.invalid", None, None, "m", 5)
    assert result.reason == "DNS"


def test_404_without_a_model_error_is_endpoint_not_found():
    # A wrong base_url path: an HTML page, or the server naming the path rather than the model.
    assert classify_response(404, b"<html>Not Found</html>", "text/html", "m", False)[0] == "endpoint not found"
    body = b'{"type": "error", "error": {"type": "not_found_error", "message": "/x/v1/messages"}}'
    assert classify_response(404, body, "application/json", "m", False)[0] == "endpoint not found"
    body = b'{"type": "error", "error": {"type": "not_found_error", "message": "model: glm-9"}}'
    assert classify_response(404, body, "application/json", "glm-9", False)[0] == "model not found"


def test_html_200_is_not_ok():
    assert classify_response(200, b"<html>hello</html>", "text/html", "m", False)[0] == "other"
    assert classify_response(200, b"data: nothing\n\n", "text/event-stream", "m", True)[0] == "other"


def test_provider_model_error_on_400():
    body = b'{"error": {"message": "Model Not Exist", "type": "invalid_request_error"}}'
    assert classify_response(400, body, "application/json", "glm-9", False) == ("model not found", "Model Not Exist")


def test_error_inside_a_stream():
    body = b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    assert classify_response(200, body, "text/event-stream", "m", True)[0] == "server error"


def test_token_echoed_by_server_is_masked():
    body = f'{{"error": {{"type": "authentication_error", "message": "bad key {TOKEN}"}}}}'.encode()
    reason, detail = classify_response(401, body, "application/json", "m", False)
    scrubbed = probes._scrub(detail, [TOKEN])
    assert reason == "auth rejected" and TOKEN not in scrubbed and "sk-…6789" in scrubbed


def test_proxy_from_env_is_used_and_no_proxy_respected():
    with MockAnthropic() as proxy:
        result = probe("http://gateway.example.invalid/api", None, None, "m", 5, env={"HTTPS_PROXY": "", "HTTP_PROXY": proxy.url})
        assert result.ok
        assert proxy.messages[0].path == "http://gateway.example.invalid/api/v1/messages"
        with MockAnthropic() as target:
            env = {"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"}
            assert probe(target.url, None, None, "m", 5, env=env).ok
            assert len(target.messages) == 1
    assert len(proxy.messages) == 1


def test_process_environment_proxy_is_not_used(monkeypatch):
    # Only the env handed in counts: the core never reads os.environ.
    monkeypatch.setenv("HTTP_PROXY", closed_port_url())
    with MockAnthropic() as server:
        assert probe(server.url, None, None, "m", 5, env={}).ok


def test_classify_exception_walks_the_cause_chain():
    outer = RuntimeError("wrapped")
    outer.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert classify_exception(outer) == "refused"
    assert classify_exception(RuntimeError("nothing known")) == "other"


def test_probe_module_does_not_import_httpx_until_called():
    import subprocess
    import sys

    from support.processes import subprocess_env

    code = "import sys, ccswitch.health.probe, ccswitch.health.endpoint_checks; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_an_html_error_page_is_named_by_its_title_not_dumped():
    page = (b"<!DOCTYPE html>\n<html><head><style>body{font:13px sans-serif} .x{}</style>"
            b"<title>431 Request Header Fields Too Large</title></head><body><center><h1>431 Request Header "
            b"Fields Too Large</h1></center><hr><center>nginx</center>" + b"<p>padding</p>" * 50 + b"</body></html>")
    reason, detail = classify_response(431, page, "text/html; charset=utf-8", "glm-5.1", False)
    assert detail == "an HTML page: 431 Request Header Fields Too Large"
    _, untitled = classify_response(502, b"<html><body><div>\n</div></body></html>", "", "m", False)
    assert untitled == "an HTML page, not an API answer"
    assert classify_response(500, b"upstream connect error", "text/plain", "m", False)[1] == "upstream connect error"


@pytest.mark.parametrize(("token", "headers"), [
    (TOKEN + "\r", {}), (TOKEN[:8] + "\n" + TOKEN[8:], {}), (TOKEN + "\u00e9", {}), (TOKEN, {"X-Secret": TOKEN + "\r"}),
])
def test_a_header_that_cannot_be_sent_is_named_never_quoted(token, headers):
    # httpx/h11 say "Illegal header value b'Bearer sk-…\r'": the probe passes on words of its own.
    with MockAnthropic() as server:
        result = probe(server.url, "ANTHROPIC_AUTH_TOKEN", token, "m", 5, headers=headers)
    assert (result.ok, result.reason) == (False, "other") and not server.messages
    assert result.detail == probes.UNSENDABLE_HEADER
    assert TOKEN[:8] not in repr(result.as_dict()) and TOKEN[-8:] not in repr(result.as_dict())


def test_a_proxy_url_httpx_refuses_is_not_quoted():
    result = probe("https://api.example.com", None, None, "m", 5, env={"HTTPS_PROXY": "ftp://user:pw-secret-123@proxy:21"})
    assert result.reason == "proxy" and "pw-secret-123" not in result.detail and "HTTPS_PROXY" in result.detail


def test_an_unreadable_ca_file_is_named_by_its_variable(tmp_path):
    result = probe("https://api.example.com", None, None, "m", 5, env={"SSL_CERT_FILE": str(tmp_path / "missing.pem")})
    assert result.reason == "other" and result.detail == (
        "cannot read a CA file (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS): No such file or directory")


def test_refused_and_tls_failures_are_in_the_systems_words():
    assert probe(closed_port_url(), None, None, "m", 5).detail == "Connection refused"
    with MockAnthropic() as server:
        result = probe(server.url.replace("http://", "https://"), None, None, "m", 5)
    assert result.detail.startswith("the TLS handshake failed (")
