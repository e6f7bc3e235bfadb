"""The gateway's translated path end to end, in a thread of the test process: OpenAI-format
upstreams (support.mock_openai: every request checked against the `openai` package's request types,
unknown keys refused) beside Anthropic ones (support.gateway_kit), failover across formats, errors,
count_tokens, records."""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import time

import pytest
from support.anthropic_stream import check_order
from support.gateway_kit import (
    KEY,
    MockUpstream,
    error,
    gateway_config,
    post,
    running_gateway,
    upstream_config,
)
from support.mock_openai import (
    INVALID_KEY,
    MAPPED,
    Cut,
    Fail,
    Late,
    MockOpenAI,
    unauthorized,
)
from support.openai_streams import STREAMS, read

from ccswitch.gateway.translate.chat_stream import ChatStream
from ccswitch.gateway.translate.responses_stream import ResponsesStream
from ccswitch.gateway.translate.tools import Context, ToolNames

TIERS = ("opus", "sonnet", "haiku", "fable")
TOKEN = "sk-proj-translated-secret-0123456789"
# What claude 2.1.330 sends with every request, besides its credential (observed: docs/translation.md, "Headers").
CLAUDE_HEADERS = {"accept": "application/json", "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
                  "anthropic-dangerous-direct-browser-access": "true", "x-app": "cli",
                  "user-agent": "claude-cli/2.1.330 (external, sdk-cli)", "x-stainless-arch": "x64", "x-stainless-lang": "js",
                  "x-stainless-os": "Linux", "x-stainless-package-version": "0.128.0", "x-stainless-retry-count": "0",
                  "x-stainless-runtime": "node", "x-stainless-runtime-version": "v26.12.1", "x-stainless-timeout": "600",
                  "x-claude-code-session-id": "79578d32-99b8-4de0-9c38-e734afc7d16a"}
TOOLS = [{"name": "Read", "description": "Read a file", "input_schema": {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {"file_path": {"type": "string"}}, "required": ["file_path"], "additionalProperties": False}}]
STEP = ("Read", {"file_path": "/tmp/notes \u00e9\u6f22.txt", "offset": 1})


@pytest.fixture(autouse=True)
def no_errors_logged(caplog):
    yield
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, caplog.text


def openai_upstream(mock: MockOpenAI, *, fallback: tuple[str, ...] = (), token: str = TOKEN, **openai) -> dict:
    return {"base_url": mock.url, "api": mock.api, "token": token, "models": {t: f"gpt-{t}" for t in TIERS},
            "fallback": list(fallback), "openai": {"reasoning_effort": ["low", "medium", "high"], **openai}}


def one_upstream(mock: MockOpenAI, **extra) -> dict:
    return gateway_config({"gpt": openai_upstream(mock)}, dict.fromkeys(TIERS, "gpt"), **extra)


def claude_body(*, stream: bool = True, tool_loop: bool = False, model: str = "opus") -> dict:
    """A body shaped like claude's: system blocks with cache_control, metadata, thinking, tools."""
    messages = [{"role": "user", "content": [{"type": "text", "text": "Read the notes.", "cache_control": {"type": "ephemeral"}}]}]
    if tool_loop:
        messages += [{"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hm", "signature": "c2lnbmVkIGJ5IEFudGhyb3BpYw=="},
            {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"file_path": "/a"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "1\tthe answer is 42"}]}]
    return {"model": model, "messages": messages,
            "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.330;"},
                       {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "tools": TOOLS, "metadata": {"user_id": "{\"device_id\":\"d\"}"}, "max_tokens": 32000,
            "thinking": {"type": "adaptive"}, "context_management": {"edits": []}, "output_config": {"effort": "medium"},
            "stream": stream}


def events(body: bytes) -> list[tuple[str, dict]]:
    out = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def records(path) -> list[dict]:
    for _ in range(50):
        try:
            db = sqlite3.connect(path)
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
            db.close()
            if rows:
                return rows
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return []


@pytest.mark.parametrize("api", ["openai-chat", "openai-responses"])
def test_a_tool_call_streams_back_in_fragments_as_claude_reads_it(api):
    with MockOpenAI(api, steps=[STEP]) as gpt:
        with running_gateway(one_upstream(gpt)) as gw:
            answer = post(gw.port, claude_body(), headers=CLAUDE_HEADERS)
    assert answer.status == 200 and answer.headers["content-type"] == "text/event-stream"
    assert gpt.problems == []
    [seen] = gpt.seen
    assert seen.path == gpt.path and seen.model == "gpt-opus"  # the format's path, claude's ?beta=true left behind
    kinds = [name for name, _ in events(answer.body)]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    starts = [data["content_block"] for name, data in events(answer.body) if name == "content_block_start"]
    assert starts == [{"type": "tool_use", "id": "call_mock_1", "name": "Read", "input": {}}]
    fragments = [data["delta"]["partial_json"] for name, data in events(answer.body)
                 if name == "content_block_delta" and data["delta"]["type"] == "input_json_delta"]
    assert len(fragments) > 5 and json.loads("".join(fragments)) == STEP[1]  # as they came, not re-assembled
    delta = dict(events(answer.body))["message_delta"]
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert {k: delta["usage"][k] for k in MAPPED} == MAPPED


def test_claudes_anthropic_headers_stay_behind_and_the_upstreams_credential_goes(tmp_path):
    with MockOpenAI(steps=[STEP]) as gpt:
        config = gateway_config({"gpt": {**openai_upstream(gpt), "headers": {"OpenAI-Project": "proj_1"}}},
                                dict.fromkeys(TIERS, "gpt"))
        with running_gateway(config) as gw:
            post(gw.port, claude_body(), headers=CLAUDE_HEADERS)
    [seen] = gpt.seen
    assert seen.headers["authorization"] == f"Bearer {TOKEN}" and seen.headers["openai-project"] == "proj_1"
    assert seen.headers["user-agent"] == CLAUDE_HEADERS["user-agent"]
    assert seen.headers["content-type"] == "application/json" and seen.headers["accept"] == "text/event-stream"
    leaked = [name for name in seen.headers if name.startswith(("anthropic-", "x-stainless-", "x-claude-code", "x-app", "x-api-key"))]
    assert leaked == []
    assert KEY not in json.dumps(seen.headers)


@pytest.mark.parametrize("api", ["openai-chat", "openai-responses"])
def test_a_whole_answer_is_translated_for_claudes_non_streaming_retry(api, tmp_path):
    db = tmp_path / "records.sqlite3"
    with MockOpenAI(api, steps=[STEP]) as gpt:
        with running_gateway(one_upstream(gpt, records=str(db))) as gw:
            answer = post(gw.port, claude_body(stream=False))
            final = post(gw.port, claude_body(stream=False, tool_loop=True))
    assert gpt.problems == [] and [s.body.get("stream") for s in gpt.seen] == [None, None]
    assert answer.status == 200 and answer.json["type"] == "message" and answer.json["stop_reason"] == "tool_use"
    assert answer.json["content"] == [{"type": "tool_use", "id": "call_mock_1", "name": "Read", "input": STEP[1]}]
    assert {k: answer.json["usage"][k] for k in MAPPED} == MAPPED
    assert final.json["content"] == [{"type": "text", "text": "done"}] and final.json["stop_reason"] == "end_turn"
    assert answer.headers["request-id"] == "req_openai_1"
    rows = records(db)
    assert [(r["outcome"], r["input_tokens"], r["cache_read_tokens"], r["output_tokens"]) for r in rows] == [("ok", 176, 1024, 57)] * 2
    assert rows[0]["message_id"] == answer.json["id"] and rows[0]["request_id"] == "req_openai_1"


def test_the_tool_result_goes_back_as_a_tool_message_without_claudes_thinking():
    with MockOpenAI(steps=[STEP]) as gpt:
        with running_gateway(one_upstream(gpt)) as gw:
            answer = post(gw.port, claude_body(tool_loop=True))
    assert gpt.problems == [] and b"done" in answer.body
    messages = gpt.seen[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[2]["tool_calls"][0]["id"] == "toolu_01" and messages[3] == {
        "role": "tool", "tool_call_id": "toolu_01", "content": "1\tthe answer is 42"}
    assert "thinking" not in json.dumps(messages) and "billing" not in json.dumps(messages)


def test_records_hold_the_usage_in_anthropic_terms_and_the_providers_request_id(tmp_path):
    db = tmp_path / "records.sqlite3"
    with MockOpenAI(steps=[STEP]) as gpt:
        with running_gateway(one_upstream(gpt, records=str(db))) as gw:
            first = post(gw.port, claude_body())
    [row] = records(db)
    message_id = dict(events(first.body))["message_start"]["message"]["id"]
    assert (row["profile"], row["model_sent"], row["status"], row["outcome"]) == ("gpt", "gpt-opus", 200, "ok")
    assert (row["input_tokens"], row["cache_read_tokens"], row["cache_write_tokens"], row["output_tokens"]) == (176, 1024, 0, 57)
    assert row["message_id"] == message_id and row["request_id"] == "req_openai_1" == first.headers["request-id"]


def test_count_tokens_is_answered_here_for_an_openai_format_upstream(tmp_path):
    db = tmp_path / "records.sqlite3"
    with MockOpenAI() as gpt:
        with running_gateway(one_upstream(gpt, records=str(db))) as gw:
            answers = [post(gw.port, claude_body(tool_loop=True), path="/v1/messages/count_tokens?beta=true")
                       for _ in range(25)]  # claude's /context sends about this many
            other = post(gw.port, claude_body(), path="/v1/messages/batches")
    assert gpt.seen == []  # nothing went upstream
    assert {a.status for a in answers} == {200} and 20 < answers[0].json["input_tokens"] < 200
    assert other.status == 404 and "has no such endpoint" in other.json["error"]["message"]
    rows = records(db)
    assert {(r["outcome"], r["profile"], r["status"]) for r in rows[:25]} == {("local", "gpt", 200)}


@pytest.mark.parametrize("api", ["openai-chat", "openai-responses"])
def test_an_openai_401_reaches_claude_with_the_providers_message_and_status(api):
    with MockOpenAI(api) as gpt:
        gpt.script(unauthorized(), unauthorized())
        with running_gateway(one_upstream(gpt)) as gw:
            streaming = post(gw.port, claude_body())
            whole = post(gw.port, claude_body(stream=False))
    for answer in (streaming, whole):
        assert answer.status == 401 and answer.headers["content-type"].startswith("application/json")
        assert answer.json == {"type": "error", "error": {"type": "authentication_error", "message": INVALID_KEY}}


def test_an_upstream_error_never_shows_its_token():
    with MockOpenAI() as gpt:
        gpt.script(Fail(400, f"Invalid key {TOKEN} for model gpt-opus", "invalid_request_error"))
        with running_gateway(one_upstream(gpt)) as gw:
            answer = post(gw.port, claude_body())
    assert answer.status == 400 and TOKEN not in answer.body.decode()
    assert "<token hidden by the ccswitch gateway>" in answer.json["error"]["message"]


def test_failover_crosses_formats_both_ways(tmp_path):
    db = tmp_path / "records.sqlite3"
    with MockOpenAI(steps=[STEP]) as gpt, MockUpstream("kimi") as kimi:
        upstreams = {"gpt": openai_upstream(gpt, fallback=("kimi",)),
                     "kimi": upstream_config(kimi, fallback=("gpt",))}
        with running_gateway(gateway_config(upstreams, {"opus": "gpt", "sonnet": "kimi", "haiku": "kimi", "fable": "gpt"},
                                            records=str(db))) as gw:
            gpt.script(Fail(500))
            to_anthropic = post(gw.port, claude_body(tool_loop=True, model="opus"), headers=CLAUDE_HEADERS)
            kimi.script(error(529))
            to_openai = post(gw.port, claude_body(tool_loop=True, model="sonnet"), headers=CLAUDE_HEADERS)
    assert to_anthropic.status == 200 and b"hello from kimi" in to_anthropic.body
    assert kimi.seen[0].model == "kimi-opus" and kimi.seen[0].json["messages"][1]["content"][0]["type"] == "thinking"
    assert kimi.seen[0].headers["anthropic-beta"].startswith("claude-code")  # the Anthropic upstream gets claude's headers
    assert to_openai.status == 200 and b"done" in to_openai.body
    assert gpt.problems == [] and gpt.seen[-1].model == "gpt-sonnet"
    assert [m["role"] for m in gpt.seen[-1].body["messages"]] == ["system", "user", "assistant", "tool"]
    rows = records(db)  # each row names the failure before the upstream that answered
    assert [(r["profile"], json.loads(r["failover"])) for r in rows] == [("kimi", [["gpt", "HTTP 500"]]),
                                                                         ("gpt", [["kimi", "HTTP 529"]])]


def test_a_key_pool_of_an_openai_format_upstream_moves_to_the_next_key_on_a_429(tmp_path):
    db = tmp_path / "records.sqlite3"
    keys = ["sk-proj-pool-zero-0123456789", "sk-proj-pool-one-0123456789"]
    with MockOpenAI(steps=[STEP]) as gpt, MockUpstream("kimi") as kimi:
        pool = openai_upstream(gpt, fallback=("kimi",))
        del pool["token"]
        pool["tokens"] = [[0, keys[0]], [1, keys[1]]]
        upstreams = {"gpt": pool, "kimi": upstream_config(kimi)}
        with running_gateway(gateway_config(upstreams, dict.fromkeys(TIERS, "gpt"), records=str(db))) as gw:
            gpt.script(Fail(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded"))
            answer = post(gw.port, claude_body(), headers=CLAUDE_HEADERS)
    assert answer.status == 200 and kimi.seen == []  # the next key, not the fallback
    assert [seen.headers["authorization"] for seen in gpt.seen] == [f"Bearer {keys[0]}", f"Bearer {keys[1]}"]
    assert gpt.seen[0].body == gpt.seen[1].body and gpt.problems == []
    (row,) = records(db)
    assert (row["profile"], row["key_index"], json.loads(row["failover"])) == ("gpt", 1, [["gpt", "key 0: HTTP 429"]])
    everything = b"".join(path.read_bytes() for path in tmp_path.glob("records.sqlite3*"))
    assert everything and not any(key.encode() in everything for key in keys)


def test_a_stream_is_relayed_as_it_arrives_not_held_back():
    with MockOpenAI(final_text="one two three four five six") as gpt:
        gpt.script(Cut(after=3, stall=2.0))
        with running_gateway(one_upstream(gpt)) as gw:
            conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
            conn.request("POST", "/v1/messages", json.dumps(claude_body()), {"Authorization": f"Bearer {KEY}",
                                                                             "Content-Type": "application/json"})
            started = time.monotonic()
            response = conn.getresponse()
            early = b""
            while b"text_delta" not in early and time.monotonic() - started < 1.8:
                early += response.read1(65536)
            waited = time.monotonic() - started
            rest = response.read()
            conn.close()
    assert waited < 1.5, "the first events waited for the stall"
    assert b"message_start" in early and b"text_delta" in early
    assert b"message_stop" in rest


def test_a_stream_broken_mid_way_ends_with_an_error_event_and_the_retry_goes_to_the_fallback():
    with MockOpenAI() as gpt, MockUpstream("kimi") as kimi:
        upstreams = {"gpt": openai_upstream(gpt, fallback=("kimi",)), "kimi": upstream_config(kimi)}
        with running_gateway(gateway_config(upstreams, dict.fromkeys(TIERS, "gpt"))) as gw:
            gpt.script(Cut(after=3))
            broken = post(gw.port, claude_body())
            retry = post(gw.port, claude_body(stream=False))
    kinds = [name for name, _ in events(broken.body)]
    assert kinds[0] == "message_start" and kinds[-1] == "error" and "message_stop" not in kinds
    assert dict(events(broken.body))["error"]["error"]["type"] == "overloaded_error"
    assert retry.status == 200 and retry.json["content"][0]["text"] == "hello from kimi"  # gpt cools down


def test_a_silent_stream_ends_after_the_idle_limit():
    with MockOpenAI() as gpt:
        gpt.script(Cut(after=2, stall=5.0))
        with running_gateway(one_upstream(gpt, timeouts={"idle": 1})) as gw:
            started = time.monotonic()
            answer = post(gw.port, claude_body())
    assert time.monotonic() - started < 4
    error_event = dict(events(answer.body))["error"]["error"]
    assert error_event == {"type": "overloaded_error", "message": "upstream 'gpt' sent nothing for 1 s"}


def test_a_late_first_byte_fails_over_and_a_late_whole_answer_is_probed_in_the_upstreams_format():
    with MockOpenAI() as gpt, MockUpstream("kimi") as kimi:
        upstreams = {"gpt": openai_upstream(gpt, fallback=("kimi",)), "kimi": upstream_config(kimi)}
        with running_gateway(gateway_config(upstreams, dict.fromkeys(TIERS, "gpt"), timeouts={"first_byte": 1})) as gw:
            gpt.script(Cut(after=0, stall=3.0))
            late_stream = post(gw.port, claude_body())
            gpt.script(Late(2.5))
            started = time.monotonic()
            late_whole = post(gw.port, claude_body(stream=False))
            took = time.monotonic() - started
    assert late_stream.status == 200 and b"hello from kimi" in late_stream.body
    assert late_whole.status == 200 and late_whole.json["content"] == [{"type": "text", "text": "done"}] and took >= 2.5
    probe = gpt.seen[-1]  # sent while the whole answer was late, and answered at once: gpt is at work
    assert probe.body["stream"] is True and probe.body["max_tokens"] == 16 and probe.path == gpt.path
    assert gpt.problems == []


def test_an_error_inside_a_2xx_answer_fails_over():
    with MockOpenAI() as gpt, MockUpstream("kimi") as kimi:
        upstreams = {"gpt": openai_upstream(gpt, fallback=("kimi",)), "kimi": upstream_config(kimi)}
        with running_gateway(gateway_config(upstreams, dict.fromkeys(TIERS, "gpt"))) as gw:
            gpt.script(Fail(200, "quota exceeded", "insufficient_quota"))
            answer = post(gw.port, claude_body(stream=False))
            gpt.script(*[Fail(200, "quota exceeded", "insufficient_quota")] * 2)
            kimi.script(error(529), error(529))
            last = post(gw.port, claude_body(stream=False))
    assert answer.status == 200 and answer.json["content"][0]["text"] == "hello from kimi"
    assert last.status == 529  # the last failure passed on: kimi's own


def test_a_stream_answered_with_one_json_body_reaches_claude_as_events(tmp_path):
    db = tmp_path / "records.sqlite3"
    with MockOpenAI(steps=[STEP], whole=True) as gpt:
        with running_gateway(one_upstream(gpt, records=str(db))) as gw:
            answer = post(gw.port, claude_body())
    assert answer.headers["content-type"] == "text/event-stream"
    kinds = [name for name, _ in events(answer.body)]
    assert kinds == ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                     "message_delta", "message_stop"]
    assert json.loads(dict(events(answer.body))["content_block_delta"]["delta"]["partial_json"]) == STEP[1]
    [row] = records(db)  # the usage the events carry, recorded
    assert (row["outcome"], row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == ("ok", 176, 1024, 57)
    assert row["message_id"] == dict(events(answer.body))["message_start"]["message"]["id"]


@pytest.mark.parametrize("given", [None, "", "resp_123", "msg_kept"])
def test_a_whole_message_as_events_says_which_message_id_claude_was_given(given):
    from ccswitch.gateway.translated import message_events

    message = {"model": "gpt-x", "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
               "usage": {"input_tokens": 3, "output_tokens": 1}}
    if given is not None:
        message["id"] = given
    raw, sent_id = message_events(message)
    assert dict(events(raw))["message_start"]["message"]["id"] == sent_id  # what the record names
    assert sent_id == "msg_kept" if given == "msg_kept" else sent_id.startswith("msg_")


def _comparable(raw: bytes) -> list[tuple[str, dict]]:
    """The events with what is random per run (the message id, ids made for calls that had none) fixed."""
    return [(name, json.loads(re.sub(r'"(msg|call)_[0-9a-f]{24}"', r'"\1_x"', json.dumps(data))))
            for name, data in events(raw)]


@pytest.mark.parametrize("name", sorted(p.name for p in STREAMS.iterdir()))
def test_every_recorded_stream_reaches_claude_through_the_gateway_as_the_translator_writes_it(name):
    """The edge cases phase 1 replayed into the translators alone (tests/gateway/translate/), now
    through the gateway, the upstream's bytes arriving in 7-byte pieces: the relay changes nothing."""
    data = read(name)
    chat = name.startswith("chat-")
    stream = (ChatStream if chat else ResponsesStream)(Context("gpt-opus", ToolNames(), "gpt"))
    expected = stream.feed(data) + stream.close()
    with MockOpenAI("openai-chat" if chat else "openai-responses", replay=data) as upstream:
        with running_gateway(one_upstream(upstream)) as gw:
            answer = post(gw.port, claude_body())
    assert answer.status == 200 and upstream.problems == []
    check_order(events(answer.body))
    assert _comparable(answer.body) == _comparable(expected)
