"""Quotas in the gateway: an upstream whose declared quota is used up in the current window is held
back like one cooling down (tried last, when nothing else is left) until its window gives room
again; what counts (answered Messages requests, prompts by their last user message); the records'
rows of every gateway, read once at the start and then as they are written, and this gateway's own
answers counted once."""

from __future__ import annotations

import json
import math
import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.gateway_kit import (
    gateway_config,
    messages_body,
    post,
    running_gateway,
    upstream_config,
)
from support.mock_anthropic import closed_port_url

from ccswitch.gateway import quota as quota_module
from ccswitch.gateway import records as records_module
from ccswitch.gateway.body import RequestBody
from ccswitch.gateway.quota import Meter, QuotaBook
from ccswitch.gateway.records import COLUMNS, open_db
from ccswitch.profiles.quota import parse_quotas
from ccswitch.usage.windows import clock, over_quota

TIERS = {"opus": "kimi", "sonnet": "kimi", "haiku": "kimi", "fable": "kimi"}
pytestmark = pytest.mark.usefixtures("no_errors_logged")  # and the kimi and glm mocks: support/gateway_fixtures.py


def config(kimi, glm, quota, *, fallback=True, kimi_url=None, **extra) -> dict:
    upstreams = {"kimi": upstream_config(kimi, fallback=("glm",) if fallback else (), url=kimi_url),
                 "glm": upstream_config(glm)}
    upstreams["kimi"]["quota"] = quota
    return gateway_config(upstreams, TIERS, **extra)


def tool_results_body(model: str = "opus") -> dict:
    """A request of claude's tool loop: its last user message holds tool results, not a prompt."""
    return {"model": model, "max_tokens": 64, "stream": True, "messages": [
        {"role": "user", "content": "list the files"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
        {"role": "user", "content": [{"tool_use_id": "toolu_1", "type": "tool_result", "content": "a.txt"}]}]}


def served_by(answer) -> str:
    assert answer.status == 200, answer.body
    return "kimi" if b"hello from kimi" in answer.body else "glm" if b"hello from glm" in answer.body else "?"


def rows(path) -> list[dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]


def wait_for_rows(path, count: int, seconds: float = 5.0) -> list[dict]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists() and len(found := rows(path)) >= count:
            return found
        time.sleep(0.05)
    return rows(path)


def seed(path, times: list[float], profile: str = "kimi", prompt: int = 1) -> None:
    """Answers another session's gateway recorded earlier, in the records' own schema."""
    db = open_db(str(path))
    full = [{"time": ts, "session": "earlier", "path": "/v1/messages", "profile": profile, "status": 200, "outcome": "ok",
             "prompt": prompt, "input_tokens": 10} for ts in times]
    db.executemany(f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                   [tuple(row.get(c) for c in COLUMNS) for row in full])
    db.close()


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


# --- end to end, a gateway in a thread against loopback mocks ---------------------------------------


def test_a_quota_used_up_by_prompts_sends_the_rest_to_the_fallback_and_the_chain_says_why(kimi, glm, tmp_path):
    db = tmp_path / "records.sqlite3"
    with running_gateway(config(kimi, glm, {"window": "1h", "prompts": 2}, records=str(db))) as gw:
        assert served_by(post(gw.port, messages_body("opus"))) == "kimi"  # prompt 1
        assert served_by(post(gw.port, tool_results_body())) == "kimi"  # tool results: not a prompt
        assert served_by(post(gw.port, messages_body("opus"))) == "kimi"  # prompt 2: used up
        assert served_by(post(gw.port, tool_results_body())) == "glm"  # the whole profile waits
        time.sleep(0.6)  # its own answers come back from the records: counted once, not twice
        assert served_by(post(gw.port, messages_body("opus"))) == "glm"
    first = min(r["time"] for r in rows(db))
    reason = f"quota: 2/2 prompts per 1h until {clock(first + 3600, time.time())}"
    found = wait_for_rows(db, 5)
    assert [(r["profile"], r["prompt"], r["failover"]) for r in found] == [
        ("kimi", 1, None), ("kimi", 0, None), ("kimi", 1, None),
        ("glm", None, json.dumps([["kimi", reason]])), ("glm", None, json.dumps([["kimi", reason]]))]  # glm: no quota
    assert len(kimi.seen) == 3 and glm.seen[0].model == "glm-opus"  # the fallback's own model for the tier


@pytest.mark.parametrize("reset", ["rolling", "block", "fixed"])
def test_an_upstream_over_its_quota_is_used_again_when_its_window_resets(kimi, glm, tmp_path, reset):
    """A one-minute window, used up by another session's answers of 58 s ago (a fixed one: whose
    window ends in two seconds): held until the window gives room again, then served again."""
    db = tmp_path / "records.sqlite3"
    now = time.time()
    quota = {"window": "1m", "prompts": 2, "reset": reset}
    if reset == "fixed":
        ends = math.ceil(now) + 2
        quota["anchor"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ends))
        seed(db, [now - 10, now - 5])
    else:
        seed(db, [now - 58.5, now - 58.5])
        ends = now - 58.5 + 60  # rolling: the oldest use leaves; block: the block that started with it ends
    with running_gateway(config(kimi, glm, quota, records=str(db))) as gw:
        assert served_by(post(gw.port, messages_body("opus"))) == "glm"
        sleep_until(ends + 0.2)
        assert served_by(post(gw.port, messages_body("opus"))) == "kimi"
        assert served_by(post(gw.port, tool_results_body())) == "kimi"
    mine = wait_for_rows(db, 5)[2:]
    assert json.loads(mine[0]["failover"]) == [["kimi", f"quota: 2/2 prompts per 1m until {clock(ends, now)}"]]
    assert [(r["profile"], r["failover"]) for r in mine[1:]] == [("kimi", None), ("kimi", None)]


def test_a_quota_counts_requests_or_tokens_too(kimi, glm, tmp_path):
    # each of the mock's answers: 26 tokens (11 in, 7 out, 5 read from the cache, 3 written to it)
    quota = [{"window": "1h", "requests": 5}, {"window": "1d", "tokens": 52}]
    with running_gateway(config(kimi, glm, quota)) as gw:
        served = [served_by(post(gw.port, tool_results_body())) for _ in range(3)]
    assert served == ["kimi", "kimi", "glm"]  # 52 tokens: the day's window is used up, the hour's is not
    quota = [{"window": "1h", "requests": 2}, {"window": "1d", "tokens": 1000}]
    with running_gateway(config(kimi, glm, quota)) as gw:
        served = [served_by(post(gw.port, tool_results_body())) for _ in range(3)]
    assert served == ["kimi", "kimi", "glm"]


def test_with_nothing_else_left_the_upstream_over_its_quota_is_sent_the_request(kimi, glm, tmp_path):
    """Our count is an estimate and the provider's meter is the one that holds: the request goes to
    it, and the provider answers (here it still serves; a refusal would be its own words)."""
    db = tmp_path / "records.sqlite3"
    with running_gateway(config(kimi, glm, {"window": "1h", "prompts": 1}, fallback=False, records=str(db))) as gw:
        answers = [served_by(post(gw.port, messages_body("opus"))) for _ in range(3)]
    assert answers == ["kimi"] * 3 and glm.seen == []
    assert [(r["profile"], r["status"], r["failover"]) for r in wait_for_rows(db, 3)] == [("kimi", 200, None)] * 3


def test_when_the_upstream_over_its_quota_is_tried_last_and_fails_the_error_names_the_quota(kimi, glm, tmp_path):
    db = tmp_path / "records.sqlite3"
    now = time.time()
    seed(db, [now - 60])
    cfg = config(kimi, glm, {"window": "1h", "prompts": 1}, fallback=False, kimi_url=closed_port_url(), records=str(db))
    with running_gateway(cfg) as gw:
        answer = post(gw.port, messages_body("opus"))
    reason = f"quota: 1/1 prompt per 1h until {clock(now - 60 + 3600, now)}, then refused"
    assert answer.status == 502 and answer.json["error"]["message"] == f"no upstream answered (kimi: {reason})"
    assert wait_for_rows(db, 2)[1]["error"] == reason


def test_a_fallback_over_its_own_quota_is_skipped_too(kimi, glm, deepseek, tmp_path):
    db = tmp_path / "records.sqlite3"
    now = time.time()
    seed(db, [now - 30], profile="glm")
    upstreams = {"kimi": upstream_config(kimi, fallback=("glm", "deepseek"), url=closed_port_url()),
                 "glm": upstream_config(glm) | {"quota": {"window": "1h", "prompts": 1}},
                 "deepseek": upstream_config(deepseek)}
    with running_gateway(gateway_config(upstreams, TIERS, records=str(db))) as gw:
        answer = post(gw.port, messages_body("opus"))
    assert b"hello from deepseek" in answer.body and glm.seen == []
    assert json.loads(wait_for_rows(db, 2)[1]["failover"]) == [
        ["kimi", "refused"], ["glm", f"quota: 1/1 prompt per 1h until {clock(now - 30 + 3600, now)}"]]


def test_gateways_sharing_the_records_count_each_others_answers(kimi, glm, tmp_path, monkeypatch):
    """Two sessions on one plan: what one uses reaches the other's count (within FOLLOW_SECONDS)."""
    monkeypatch.setattr(records_module, "FOLLOW_SECONDS", 0.3)
    db = tmp_path / "records.sqlite3"
    quota = {"window": "1h", "prompts": 2}
    with running_gateway(config(kimi, glm, quota, records=str(db))) as one, \
            running_gateway(config(kimi, glm, quota, records=str(db), session="sess-2")) as two:
        assert served_by(post(one.port, messages_body("opus"))) == "kimi"
        assert served_by(post(two.port, messages_body("opus"))) == "kimi"
        time.sleep(1.0)
        assert served_by(post(one.port, messages_body("opus"))) == "glm"
        assert served_by(post(two.port, messages_body("opus"))) == "glm"


def test_a_request_waits_for_the_first_read_of_the_records(kimi, glm, tmp_path, monkeypatch):
    """The records are read in their thread as the gateway starts; a request arriving before that
    read is done waits for it (else an earlier session's use would be missed)."""
    real = records_module.read_answered

    def slow(*args):
        time.sleep(0.5)
        return real(*args)

    monkeypatch.setattr(records_module, "read_answered", slow)
    db = tmp_path / "records.sqlite3"
    seed(db, [time.time() - 60])
    with running_gateway(config(kimi, glm, {"window": "1h", "prompts": 1}, records=str(db))) as gw:
        assert served_by(post(gw.port, messages_body("opus"))) == "glm"


def test_a_window_without_a_limit_is_only_tracked_its_prompts_noted(kimi, glm, tmp_path):
    db = tmp_path / "records.sqlite3"
    with running_gateway(config(kimi, glm, {"window": "5h", "reset": "block"}, records=str(db))) as gw:
        served = [served_by(post(gw.port, body)) for body in (messages_body("opus"), tool_results_body())]
    assert served == ["kimi", "kimi"]
    assert [(r["profile"], r["prompt"]) for r in wait_for_rows(db, 2)] == [("kimi", 1), ("kimi", 0)]


def test_without_records_the_gateway_counts_its_own_answers(kimi, glm):
    with running_gateway(config(kimi, glm, {"window": "1h", "prompts": 1})) as gw:
        assert [served_by(post(gw.port, messages_body("opus"))) for _ in range(2)] == ["kimi", "glm"]


def test_count_tokens_and_failed_requests_do_not_count(kimi, glm):
    from support.gateway_kit import error

    kimi.script(error(529))  # fails over to glm: kimi did not answer
    with running_gateway(config(kimi, glm, {"window": "1h", "requests": 1})) as gw:
        assert served_by(post(gw.port, messages_body("opus"))) == "glm"
        assert post(gw.port, messages_body("opus", stream=False), path="/v1/messages/count_tokens").status == 200
        assert served_by(post(gw.port, messages_body("opus"))) == "kimi"
        assert served_by(post(gw.port, messages_body("opus"))) == "glm"


def test_an_upstream_without_a_quota_has_nothing_counted(kimi, glm):
    from ccswitch.gateway.config import GatewayConfig

    plain = gateway_config({"kimi": upstream_config(kimi), "glm": upstream_config(glm)}, TIERS)
    assert QuotaBook.of(GatewayConfig.from_dict(plain).upstreams.values()) is None


# --- the pieces --------------------------------------------------------------------------------------


CLAUDE_PROMPT = (b'{"model":"opus","messages":[{"role":"user","content":[{"type":"text","text":"<system-reminder>x'
                 b'</system-reminder>"},{"type":"text","text":"run echo hi"}]}],"system":[{"type":"text","text":"You are'
                 b' \\"role\\":\\"user\\""}],"tools":[],"stream":true}')
CLAUDE_TOOL_RESULTS = (b'{"model":"opus","messages":[{"role":"user","content":[{"type":"text","text":"run echo hi"}]},'
                       b'{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{}}]},'
                       b'{"role":"user","content":[{"tool_use_id":"toolu_1","type":"tool_result","content":"hi",'
                       b'"is_error":false,"cache_control":{"type":"ephemeral"}}]}],"system":[],"stream":true}')


@pytest.mark.parametrize(("raw", "prompt"), [
    (CLAUDE_PROMPT, True),  # claude 2.1.330's shape (text blocks, a system reminder first)
    (CLAUDE_TOOL_RESULTS, False),  # its tool loop: a tool result starts with its tool_use_id
    (json.dumps(messages_body("opus")).encode(), True),  # spaced JSON, plain string content
    (json.dumps(tool_results_body()).encode(), False),
    (b'{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"AA"}}]}]}',
     True),
    (b'{"model":"m","messages":[{"content":"hi","role":"user"}]}', True),  # another key order: parsed
    (b'{"model":"m","messages":[{"content":[{"text":"hi","type":"text"}],"role":"user"},'
     b'{"role":"assistant","content":"ok"}]}', True),
    (b'{"model":"m","messages":[{"role":"assistant","content":"prefill only"}]}', False),
    (b'{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}', False),
])
def test_a_prompt_is_a_last_user_message_of_text_or_an_image(raw, prompt):
    assert RequestBody(raw).is_prompt() is prompt


def quotas(*entries: dict) -> list:
    return parse_quotas(list(entries))


def test_the_chain_names_the_window_its_use_and_when_it_gives_room():
    meter = Meter(quotas({"window": "5h", "prompts": 600, "reset": "block"}))
    start = 1_800_000_000.0
    meter.extend((start + i, 1, 1, 100) for i in range(600))
    state = meter.check(start + 3600)
    assert quota_module.describe(state, start + 3600) == f"quota: 600/600 prompts per 5h until {clock(start + 5 * 3600, start)}"
    one = Meter(quotas({"window": "5h", "requests": 1, "reset": "block"}))
    one.extend([(start, 1, 1, 100)])
    assert quota_module.describe(one.check(start + 1), start + 1).startswith("quota: 1/1 request per 5h")


def test_a_window_is_measured_again_only_when_its_verdict_may_have_changed(monkeypatch):
    calls = []
    real = quota_module.window_state
    monkeypatch.setattr(quota_module, "window_state", lambda *a: calls.append(a[2]) or real(*a))
    meter = Meter(quotas({"window": "1h", "prompts": 10}))
    t = 1_800_000_000.0
    assert meter.check(t) is None and len(calls) == 1
    for i in range(9):  # room for 10: nine prompts cannot use it up
        meter.add((t + i, 1, 1, 0))
        assert meter.check(t + i) is None
    assert len(calls) == 1
    meter.add((t + 9, 1, 1, 0))  # the tenth may have
    over = meter.check(t + 9)
    assert over is not None and over.used == 10 and len(calls) == 2
    assert meter.check(t + 3599) is over and len(calls) == 2  # held until the oldest prompt leaves
    assert meter.check(t + 3600.5) is None and len(calls) == 3


def test_the_records_own_rows_are_not_counted_twice_and_others_are():
    from ccswitch.gateway.config import GatewayConfig

    cfg = GatewayConfig.from_dict(gateway_config(
        {"kimi": {"base_url": "http://127.0.0.1:9", "auth": "none", "models": {t: "m" for t in TIERS},
                  "quota": {"window": "1h", "requests": 3}}}, TIERS))
    now = time.time()
    book = QuotaBook(cfg.upstreams.values(), clock=lambda: now)
    book._seeded = object()  # following the records (what follow() sets, without a loop)
    row = {"time": now - 1, "session": "s", "path": "/v1/messages", "profile": "kimi", "status": 200, "prompt": 1}
    book.count(row)
    book.count(dict(row, time=now - 0.5))
    assert book.held("kimi") is None
    book.feed([(now - 1, "s", "kimi", 1, 0), (now - 0.5, "s", "kimi", 1, 0)])  # ours, back from the records
    assert book.held("kimi") is None
    book.feed([(now - 0.7, "other", "kimi", 0, 0)])  # another session's
    assert book.held("kimi") == f"quota: 3/3 requests per 1h until {clock(now - 1 + 3600, now)}"


WINDOWS = st.lists(st.tuples(st.sampled_from(["1m", "2m", "5m"]), st.sampled_from(["requests", "prompts", "tokens"]),
                             st.integers(1, 6), st.sampled_from(["rolling", "block", "fixed"])), min_size=1, max_size=3)
# each step: time passes; maybe an answer (asked `age` seconds ago, a prompt or not, its tokens) is counted
STEPS = st.lists(st.tuples(st.floats(0, 90), st.booleans(), st.floats(0, 30), st.integers(0, 1), st.integers(0, 3)),
                 min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(WINDOWS, STEPS)
def test_the_meter_agrees_with_the_windows_arithmetic_at_every_moment(windows, steps):
    """Whatever it keeps from one request to the next, a meter says what `over_quota` says over
    every event so far: the same window used up, as much used, the same reset."""
    def comparable(state):
        return None if state is None else (state.quota, state.used, state.resets_at)  # a rolling start moves with now

    meter = Meter(quotas(*({"window": w, m: n, "reset": r} for w, m, n, r in windows)))
    events, now = [], 1_800_000_000.0
    for advance, add, age, prompt, tokens in steps:
        now += advance
        if add:
            event = (now - age, 1, prompt, tokens)
            meter.add(event)
            events.append(event)
        assert comparable(meter.check(now)) == comparable(over_quota(meter.quotas, sorted(events), now))


def test_a_meter_with_room_left_keeps_only_the_events_that_can_still_count():
    meter = Meter(quotas({"window": "1h", "requests": 10**9}))
    t = 1_800_000_000.0
    for i in range(60000):  # three days of answers, one every 4.32 s, never near the limit
        meter.add((t + i * 4.32, 1, 0, 0))
        meter.check(t + i * 4.32)
    reach = 3600 + 86400  # usage/windows.py's lookback for a one-hour rolling window
    assert len(meter.events) <= 2 * reach / 4.32 and meter.events[-1][0] - meter.events[0][0] >= reach - 5
