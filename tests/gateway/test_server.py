"""The gateway end to end, in a thread of the test process, against scripted loopback upstreams."""

from __future__ import annotations

import gzip
import http.client
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.gateway_kit import (
    KEY,
    Reply,
    error,
    gateway_config,
    messages_body,
    post,
    running_gateway,
    sse_events,
    upstream_config,
)
from support.mock_anthropic import closed_port_url

from ccswitch.gateway.config import GatewayConfig
from ccswitch.gateway.routing import tier_model_names

TIERS = {"opus": "kimi", "sonnet": "glm", "haiku": "deepseek", "fable": "kimi"}
pytestmark = pytest.mark.usefixtures("no_errors_logged")  # and the kimi, glm, deepseek mocks: support/gateway_fixtures.py


def config(kimi, glm, deepseek, kimi_url=None, **extra) -> dict:
    upstreams = {
        "kimi": upstream_config(kimi, fallback=("glm",), url=kimi_url),
        "glm": upstream_config(glm, auth="x-api-key", fallback=("deepseek",), serves=("glm-*",), supports_1m=True),
        "deepseek": upstream_config(deepseek, auth="none"),
    }
    return gateway_config(upstreams, TIERS, **extra)


def test_three_tiers_reach_three_upstreams_with_their_own_credentials(kimi, glm, deepseek):
    cfg = config(kimi, glm, deepseek)
    names = tier_model_names(GatewayConfig.from_dict(cfg))
    with running_gateway(cfg) as gw:
        for tier in ("opus", "sonnet", "haiku"):
            assert post(gw.port, messages_body(names[tier])).status == 200
    (k,), (g,), (d,) = kimi.seen, glm.seen, deepseek.seen
    assert (k.model, g.model, d.model) == ("kimi-opus", "glm-sonnet", "deepseek-haiku")
    assert (k.path, g.path) == ("/api/kimi/v1/messages?beta=true", "/api/glm/v1/messages?beta=true")
    assert k.headers["authorization"] == "Bearer tok-kimi-secret" and "x-api-key" not in k.headers
    assert g.headers["x-api-key"] == "tok-glm-secret" and "authorization" not in g.headers
    assert "authorization" not in d.headers and "x-api-key" not in d.headers
    assert [s.headers["x-upstream"] for s in (k, g, d)] == ["kimi", "glm", "deepseek"]
    for seen in (k, g, d):
        assert KEY not in json.dumps(seen.headers)  # the session key stays with the gateway
        assert seen.headers["anthropic-version"] == "2023-06-01"


def test_sse_bytes_are_the_upstreams_and_the_body_only_changes_its_model(kimi, glm, deepseek):
    body = json.dumps(messages_body("opus", text="caf\u00e9 \u6f22")).encode()
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, body)
    assert answer.status == 200 and answer.headers["content-type"] == "text/event-stream"
    assert answer.body == kimi.sent[-1] == b"".join(sse_events("kimi", "kimi-opus", 1))
    assert kimi.seen[0].raw == body.replace(b'"opus"', b'"kimi-opus"', 1)
    assert answer.headers["request-id"] == "req_kimi" and "content-length" not in answer.headers


def test_a_non_streaming_answer_passes_whole(kimi, glm, deepseek):
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("sonnet", stream=False))
    assert answer.status == 200 and answer.body == glm.sent[-1]


@pytest.mark.parametrize("failure", ["529", "429", "refused", "first-byte timeout", "reset", "TLS"])
def test_each_failure_fails_over_to_the_next_profile_with_its_tier_model(kimi, glm, deepseek, failure):
    extra = {"timeouts": {"first_byte": 0.5}}
    # TLS: an https:// upstream that answers plain HTTP fails the handshake, all on loopback
    kimi_url = {"refused": closed_port_url(), "TLS": kimi.url.replace("http://", "https://")}.get(failure)
    kimi.script({"529": error(529), "429": error(429, **{"retry-after": "30"}), "refused": Reply(),
                 "first-byte timeout": Reply(delay=2.0), "reset": Reply(drop=True), "TLS": Reply()}[failure])
    if failure == "reset":
        kimi.script(Reply(drop=True))  # the gateway tries a reset connection once more first
    with running_gateway(config(kimi, glm, deepseek, kimi_url=kimi_url, **extra)) as gw:
        started = time.perf_counter()
        answer = post(gw.port, messages_body("opus"))
        elapsed = time.perf_counter() - started
        assert answer.status == 200 and b"hello from glm" in answer.body
        assert glm.seen[-1].model == "glm-opus"
        if failure == "first-byte timeout":
            assert elapsed < 1.9
        if failure == "429":  # Retry-After: kimi is skipped until then
            assert post(gw.port, messages_body("kimi::kimi-k2")).status == 200
            assert len(kimi.seen) == 1 and glm.seen[-1].model == "glm-opus"  # kimi-k2: no tier, glm's opus


def test_when_every_upstream_fails_the_client_gets_the_last_answer(kimi, glm, deepseek):
    glm.script(error(503))
    deepseek.script(error(429, "slow down", **{"retry-after": "9"}))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("sonnet"))  # glm, then its fallback deepseek
    assert answer.status == 429 and answer.headers["retry-after"] == "9"
    assert answer.json == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}


def test_when_no_upstream_answers_at_all_the_error_names_each(kimi, glm, deepseek):
    cfg = config(kimi, glm, deepseek)
    for name in ("kimi", "glm", "deepseek"):
        cfg["upstreams"][name]["base_url"] = closed_port_url()
    with running_gateway(cfg) as gw:
        answer = post(gw.port, messages_body("opus"))
    assert answer.status == 502 and answer.json["error"]["type"] == "api_error"
    assert answer.json["error"]["message"] == "no upstream answered (kimi: refused; glm: refused)"


def test_a_400_is_the_requests_fault_and_passes_through_unchanged(kimi, glm, deepseek):
    kimi.script(Reply(400, body=b'{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 1e9 > 32000"}}',
                      split=0.2))  # arriving in two parts: passed on whole
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("opus"))
    assert answer.status == 400
    assert answer.body == b'{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 1e9 > 32000"}}'
    assert glm.seen == []


@pytest.mark.parametrize("key, bearer", [(None, True), ("wrong-key-0123456789", True), ("wrong-key-0123456789", False),
                                         (KEY[:-1], False)])
def test_requests_without_the_session_key_are_refused(kimi, glm, deepseek, key, bearer):
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("opus"), key=key, bearer=bearer)
        assert post(gw.port, messages_body("opus"), bearer=False).status == 200  # x-api-key works too
    assert answer.status == 401 and answer.json["error"]["type"] == "authentication_error"
    assert len(kimi.seen) == 1


THINKING_BODY = {
    "model": "kimi::opus",
    "messages": [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "sig-by-glm"},
                                          {"type": "text", "text": "a1"}]},
        {"role": "user", "content": "q2"},
    ],
    "stream": True,
}
SIGNATURE_400 = error(400, "messages.1.content.0: Invalid `signature` in `thinking` block")


def with_turn(body: dict, *blocks: dict, text: str = "next") -> dict:
    """`body` one turn later: an assistant turn with `blocks`, then a user question."""
    turn = [{"role": "assistant", "content": [*blocks, {"type": "text", "text": "a"}]}, {"role": "user", "content": text}]
    return {**body, "messages": [*body["messages"], *turn]}


def thinking_signatures(seen) -> list[str]:
    return [b["signature"] for m in seen.json["messages"] if m["role"] == "assistant"
            for b in m["content"] if b["type"] == "thinking"]


def test_a_rejected_thinking_signature_is_stripped_and_retried_once(kimi, glm, deepseek):
    kimi.script(SIGNATURE_400)
    later = with_turn(THINKING_BODY, {"type": "thinking", "thinking": "t", "signature": "sig-by-deepseek"})
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, THINKING_BODY)
        kimi.script(SIGNATURE_400, SIGNATURE_400)
        again = post(gw.port, later)
    assert answer.status == 200 and b"hello from kimi" in answer.body
    first, retried = kimi.seen[0].json, kimi.seen[1].json
    assert first["messages"][1]["content"][0]["type"] == "thinking"
    assert retried["messages"][1]["content"] == [{"type": "text", "text": "a1"}]
    assert retried["model"] == "kimi-opus"
    assert thinking_signatures(kimi.seen[2]) == ["sig-by-deepseek"]  # glm's block, refused before, is not sent
    assert again.status == 400 and len(kimi.seen) == 4  # one retry only; the second 400 is passed on


def test_thinking_blocks_an_upstream_refused_are_stripped_before_sending_from_then_on(kimi, glm, deepseek):
    kimi.script(SIGNATURE_400)
    own = {"type": "thinking", "thinking": "t2", "signature": "sig-by-kimi"}
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        assert post(gw.port, THINKING_BODY).status == 200  # refused, stripped, retried: 2 requests
        assert post(gw.port, with_turn(THINKING_BODY, own)).status == 200  # the next turn: 1 request
        assert post(gw.port, {**THINKING_BODY, "model": "glm::glm-opus"}).status == 200
    assert len(kimi.seen) == 3
    assert thinking_signatures(kimi.seen[2]) == ["sig-by-kimi"]  # its own block stays
    assert thinking_signatures(glm.seen[0]) == ["sig-by-glm"]  # remembered per upstream


def test_a_profile_qualified_name_switches_provider(kimi, glm, deepseek):
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        assert post(gw.port, messages_body("glm::glm-5.1")).status == 200
        assert post(gw.port, messages_body("glm-4.6")).status == 200  # glm's serves pattern
    assert [s.model for s in glm.seen] == ["glm-5.1", "glm-4.6"] and kimi.seen == []


def test_count_tokens_is_routed_the_same_way(kimi, glm, deepseek):
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, {"model": "haiku", "messages": []}, path="/v1/messages/count_tokens?beta=true")
    assert answer.status == 200
    assert deepseek.seen[0].path == "/api/deepseek/v1/messages/count_tokens?beta=true"
    assert deepseek.seen[0].model == "deepseek-haiku"


def test_a_model_nobody_serves_gets_an_anthropic_error_naming_what_works(kimi, glm, deepseek):
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("gpt-5"))
        broken = post(gw.port, b'{"messages": []}')
    assert answer.status == 404 and answer.json["error"]["type"] == "not_found_error"
    assert "use one of: opus, sonnet, haiku, fable, kimi::kimi-opus" in answer.json["error"]["message"]
    assert "glm-*" in answer.json["error"]["message"]
    assert broken.status == 400 and broken.json["error"]["type"] == "invalid_request_error"


def test_a_stream_broken_mid_way_ends_with_an_error_event_and_the_retry_goes_elsewhere(kimi, glm, deepseek):
    kimi.script(Reply(break_after_first=True))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("opus"))
        retry = post(gw.port, messages_body("opus", stream=False))  # what claude does next
    first_event = sse_events("kimi", "kimi-opus", 1)[0]
    assert answer.status == 200 and answer.body.startswith(first_event)
    assert answer.body[len(first_event):].startswith(b"event: error\ndata: ")
    assert json.loads(answer.body.split(b"data: ")[-1])["error"]["type"] == "overloaded_error"
    assert retry.status == 200 and retry.body == glm.sent[-1] and len(kimi.seen) == 1


def test_an_overloaded_error_event_from_the_upstream_is_relayed_and_cools_it_down(kimi, glm, deepseek):
    kimi.script(Reply(error_event="overloaded_error"))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("opus"))
        retry = post(gw.port, messages_body("opus", stream=False))
    assert answer.status == 200 and answer.body == kimi.sent[0]  # relayed as it came
    assert retry.body == glm.sent[-1] and len(kimi.seen) == 1


def test_1m_context_beta_only_where_supported(kimi, glm, deepseek):
    beta = {"anthropic-beta": "context-1m-2025-08-07,interleaved-thinking-2025-05-14"}
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        post(gw.port, messages_body("opus"), headers=beta)
        post(gw.port, messages_body("sonnet"), headers=beta)
    assert kimi.seen[0].headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert glm.seen[0].headers["anthropic-beta"] == beta["anthropic-beta"]


def test_compressed_bodies_both_ways(kimi, glm, deepseek):
    kimi.script(Reply(gzip=True))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, messages_body("opus", stream=False))
        packed = post(gw.port, gzip.compress(json.dumps(messages_body("opus", stream=False)).encode()),
                      headers={"Content-Encoding": "gzip"})
    assert answer.status == 200 and answer.body == kimi.sent[0] and "content-encoding" not in answer.headers
    assert packed.status == 200 and kimi.seen[1].model == "kimi-opus" and "content-encoding" not in kimi.seen[1].headers


def test_other_paths(kimi, glm, deepseek):
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        def ask(method: str, path: str, key: str | None = None) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
            conn.request(method, path, headers={"x-api-key": key} if key else {})
            response = conn.getresponse()
            return response.status, response.read()

        assert ask("HEAD", "/") == (200, b"")
        assert ask("HEAD", "/api/hello")[0] == 200
        status, body = ask("GET", "/v1/models", KEY)
        assert status == 200 and "kimi::kimi-opus" in [m["id"] for m in json.loads(body)["data"]]
        assert ask("GET", "/v1/models")[0] == 401
        status, body = ask("GET", "/nowhere")
        assert status == 404 and json.loads(body)["error"]["type"] == "not_found_error"
    assert kimi.seen == []


def test_a_bounded_load_loses_nothing(kimi, glm, deepseek):
    expected = b"".join(sse_events("kimi", "kimi-opus", 0))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: post(gw.port, messages_body("opus"), timeout=30), range(500)))
    assert [a.status for a in answers] == [200] * 500
    # the mock numbers its answers; everything else is byte for byte the same
    assert sorted(a.body.replace(b"msg_kimi_", b"#", 1).split(b"#", 1)[0] for a in answers)[0] == expected.split(b"msg_kimi_")[0]
    assert sorted(int(a.body.split(b"msg_kimi_")[1].split(b'"')[0]) for a in answers) == list(range(1, 501))
    assert len(kimi.seen) == 500 and glm.seen == []


def test_records_hold_usage_and_no_secret(kimi, glm, deepseek, tmp_path):
    db_path = tmp_path / "state" / "usage.sqlite3"
    kimi.script(error(529))
    with running_gateway(config(kimi, glm, deepseek, records=str(db_path))) as gw:
        post(gw.port, messages_body("opus", text="PROMPT-TEXT-XYZ"))
        post(gw.port, messages_body("haiku", stream=False))
        post(gw.port, messages_body("nobody-serves-this"))
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    assert len(rows) == 3
    first, second, third = rows
    assert {k: first[k] for k in ("session", "path", "profile", "upstream_host", "model_requested", "model_sent", "stream",
                                  "status", "outcome", "input_tokens", "output_tokens", "cache_read_tokens",
                                  "cache_write_tokens", "message_id", "request_id")} == {
        "session": "sess-1", "path": "/v1/messages", "profile": "glm", "upstream_host": "127.0.0.1",
        "model_requested": "opus", "model_sent": "glm-opus", "stream": 1, "status": 200, "outcome": "ok",
        "input_tokens": 11, "output_tokens": 7, "cache_read_tokens": 5, "cache_write_tokens": 3,
        "message_id": "msg_glm_1", "request_id": "req_glm"}
    assert json.loads(first["failover"]) == [["kimi", "HTTP 529"]]
    assert 0 < first["ttfb_ms"] <= first["total_ms"]
    assert (second["profile"], second["input_tokens"], second["output_tokens"], second["message_id"]) == (
        "deepseek", 13, 4, "msg_deepseek_1")
    assert (third["outcome"], third["status"], third["profile"]) == ("no_route", 404, None)
    everything = b"".join(p.read_bytes() for p in db_path.parent.iterdir())
    for secret in (b"tok-kimi-secret", b"tok-glm-secret", KEY.encode(), b"PROMPT-TEXT-XYZ", b"hello from"):
        assert secret not in everything


def test_http_proxy_and_no_proxy_are_honoured(kimi, glm, deepseek, monkeypatch):
    # kimi's mock plays the proxy: the gateway must send it the absolute URL of an upstream it never
    # resolves itself; glm on 127.0.0.1 is excluded by NO_PROXY and reached directly.
    proxy_url = kimi.url.split("/api/")[0]
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    cfg = config(kimi, glm, deepseek, kimi_url="http://kimi.upstream.invalid/anthropic")
    with running_gateway(cfg) as gw:
        assert post(gw.port, messages_body("opus")).status == 200
        assert post(gw.port, messages_body("sonnet")).status == 200
    assert kimi.seen[0].path == "http://kimi.upstream.invalid/anthropic/v1/messages?beta=true"
    assert kimi.seen[0].headers["authorization"] == "Bearer tok-kimi-secret"
    assert glm.seen[0].path == "/api/glm/v1/messages?beta=true"


def test_a_json_answer_broken_mid_way_reaches_the_client_cut_off(kimi, glm, deepseek):
    kimi.script(Reply(truncate=True))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            post(gw.port, messages_body("opus", stream=False))
        retry = post(gw.port, messages_body("opus", stream=False))
    assert retry.status == 200 and retry.body == glm.sent[-1]  # kimi cooled down


def test_a_cooling_fallback_is_tried_when_the_primary_fails_and_nothing_else_is_left(kimi, glm, deepseek, tmp_path):
    db_path = tmp_path / "records.sqlite3"
    cfg = config(kimi, glm, deepseek, kimi_url=closed_port_url(), records=str(db_path))
    glm.script(error(429, **{"retry-after": "30"}))
    with running_gateway(cfg) as gw:
        assert post(gw.port, messages_body("glm::glm-opus")).status == 200  # glm: 429 (cools down 30 s); deepseek
        answer = post(gw.port, messages_body("opus"))  # kimi refuses; glm, cooling, is all that is left
    assert answer.status == 200 and b"hello from glm" in answer.body
    rows = sqlite3.connect(db_path).execute("SELECT profile, failover FROM requests ORDER BY id").fetchall()
    assert rows[-1] == ("glm", json.dumps([["kimi", "refused"]]))


def test_the_failover_chain_names_each_upstream_once_in_the_order_tried(kimi, glm, deepseek):
    cfg = config(kimi, glm, deepseek, kimi_url=closed_port_url(), breaker={"failures": 1})
    cfg["upstreams"]["glm"].update(base_url=closed_port_url(), fallback=[])
    with running_gateway(cfg) as gw:
        assert post(gw.port, messages_body("glm::glm-opus")).status == 502  # glm refuses: it cools down
        answer = post(gw.port, messages_body("opus"))
    assert answer.status == 502
    assert answer.json["error"]["message"] == "no upstream answered (kimi: refused; glm: refused)"


def test_a_cooling_primary_is_skipped_and_named_in_the_chain(kimi, glm, deepseek, tmp_path):
    db_path = tmp_path / "records.sqlite3"
    kimi.script(error(429, **{"retry-after": "30"}))
    with running_gateway(config(kimi, glm, deepseek, records=str(db_path))) as gw:
        post(gw.port, messages_body("kimi::kimi-opus"))  # kimi: 429, glm answers; kimi cools down
        answer = post(gw.port, messages_body("opus"))
    assert answer.status == 200 and len(kimi.seen) == 1
    rows = sqlite3.connect(db_path).execute("SELECT profile, failover FROM requests ORDER BY id").fetchall()
    assert rows == [("glm", json.dumps([["kimi", "HTTP 429"]])), ("glm", json.dumps([["kimi", "cooling down"]]))]


def test_a_large_body_reaches_each_upstream_tried_whole_with_its_length(kimi, glm, deepseek):
    body = json.dumps(messages_body("opus", text="caf\u00e9 " * 700_000)).encode()  # 4.2 MB: sent in slices
    kimi.script(error(529))
    with running_gateway(config(kimi, glm, deepseek)) as gw:
        answer = post(gw.port, body, timeout=30)
    assert answer.status == 200 and b"hello from glm" in answer.body
    for seen, model in ((kimi.seen[0], b'"kimi-opus"'), (glm.seen[0], b'"glm-opus"')):
        assert seen.raw == body.replace(b'"opus"', model, 1)
        assert seen.headers["content-length"] == str(len(seen.raw)) and "transfer-encoding" not in seen.headers


def test_a_non_streaming_request_to_a_dead_upstream_fails_over_after_the_first_byte_timeout(kimi, glm, deepseek):
    kimi.script(Reply(delay=5.0), Reply(delay=5.0))  # the request hangs, and so does the tiny probe
    with running_gateway(config(kimi, glm, deepseek, timeouts={"first_byte": 0.3})) as gw:
        started = time.perf_counter()
        answer = post(gw.port, messages_body("opus", stream=False))
        elapsed = time.perf_counter() - started
    assert answer.status == 200 and answer.body == glm.sent[-1]
    assert elapsed < 2.5  # first_byte for the status line, first_byte for the probe; not 5 s, not `response`
    probe = kimi.seen[1].json
    assert (probe["model"], probe["max_tokens"], probe["stream"]) == ("kimi-opus", 1, True)
    assert kimi.seen[1].headers["authorization"] == "Bearer tok-kimi-secret"


def test_a_slow_non_streaming_answer_from_a_working_upstream_is_waited_for(kimi, glm, deepseek):
    kimi.script(Reply(delay=1.2))  # no status line for 3 x first_byte; the probe that follows is answered at once
    with running_gateway(config(kimi, glm, deepseek, timeouts={"first_byte": 0.4})) as gw:
        answer = post(gw.port, messages_body("opus", stream=False))
        streamed = post(gw.port, messages_body("opus"))  # the probe's answer left kimi's circuit closed
    assert answer.status == 200 and answer.json["id"] == "msg_kimi_1" and glm.seen == []
    assert answer.body in kimi.sent and len(kimi.seen) == 3 and kimi.seen[1].json["max_tokens"] == 1
    assert streamed.status == 200 and b"hello from kimi" in streamed.body


def test_a_non_streaming_answer_slower_than_the_response_limit_fails_over(kimi, glm, deepseek):
    kimi.script(Reply(delay=3.0))
    with running_gateway(config(kimi, glm, deepseek, timeouts={"first_byte": 0.2, "response": 0.6})) as gw:
        started = time.perf_counter()
        answer = post(gw.port, messages_body("opus", stream=False))
        elapsed = time.perf_counter() - started
    assert answer.status == 200 and answer.body == glm.sent[-1] and elapsed < 2.5


def test_a_stream_silent_past_the_idle_limit_ends_with_an_error_event_and_the_retry_goes_elsewhere(kimi, glm, deepseek):
    kimi.script(Reply(stall_after_first=5.0))
    with running_gateway(config(kimi, glm, deepseek, timeouts={"idle": 0.3})) as gw:
        started = time.perf_counter()
        answer = post(gw.port, messages_body("opus"))
        elapsed = time.perf_counter() - started
        retry = post(gw.port, messages_body("opus", stream=False))
    first_event = sse_events("kimi", "kimi-opus", 1)[0]
    assert answer.body.startswith(first_event + b"event: error\ndata: ") and elapsed < 3.0
    assert json.loads(answer.body.split(b"data: ")[-1])["error"] == {
        "type": "overloaded_error", "message": "upstream 'kimi' sent nothing for 0.3 s"}
    assert retry.status == 200 and retry.body == glm.sent[-1] and len(kimi.seen) == 1
