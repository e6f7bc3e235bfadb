"""Key pools end to end, in a thread of the test process: a key refused for itself (429, quota,
401) cools down and the same request goes at once with the next key of the same upstream; the
upstream fails over only when no key is left; records name the key's index, never the key."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.gateway_kit import (
    Reply,
    error,
    gateway_config,
    messages_body,
    post,
    running_gateway,
    sse_events,
    upstream_config,
)

KEYS = ["pool-key-zero-0123456789", "pool-key-one-0123456789", "pool-key-two-0123456789"]
TIERS = {"opus": "kimi", "sonnet": "kimi", "haiku": "kimi", "fable": "kimi"}
pytestmark = pytest.mark.usefixtures("no_errors_logged")  # and the kimi and glm mocks: support/gateway_fixtures.py


def config(kimi, glm, keys=KEYS[:2], indexes=None, **extra) -> dict:
    pool = upstream_config(kimi, fallback=("glm",))
    del pool["token"]
    pool["tokens"] = [[i, key] for i, key in zip(indexes or range(len(keys)), keys)]
    return gateway_config({"kimi": pool, "glm": upstream_config(glm)}, TIERS, **extra)


def rows(path) -> list[dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]


def test_a_429_on_one_key_goes_at_once_to_the_next_and_the_client_sees_only_the_answer(kimi, glm, tmp_path):
    db = tmp_path / "state" / "records.sqlite3"
    kimi.by_key[KEYS[0]] = error(429, "slow down", **{"retry-after": "30"})
    with running_gateway(config(kimi, glm, indexes=[0, 2], records=str(db))) as gw:
        answer = post(gw.port, messages_body("opus"))
        again = post(gw.port, messages_body("opus"))
    assert answer.status == 200 and answer.body == kimi.sent[0] == b"".join(sse_events("kimi", "kimi-opus", 2))
    assert again.status == 200 and glm.seen == []
    # the same request, byte for byte, with the next key; then the cooling key is left alone
    assert [s.key for s in kimi.seen] == [KEYS[0], KEYS[1], KEYS[1]]
    assert kimi.seen[0].raw == kimi.seen[1].raw
    first, second = rows(db)
    assert (first["profile"], first["key_index"], first["status"], first["outcome"]) == ("kimi", 2, 200, "ok")
    assert json.loads(first["failover"]) == [["kimi", "key 0: HTTP 429"]]
    assert (second["key_index"], second["failover"]) == (2, None)
    everything = b"".join(p.read_bytes() for p in db.parent.iterdir())
    assert not any(key.encode() in everything for key in KEYS)


def test_no_request_is_lost_under_load_while_a_key_is_rate_limited(kimi, glm):
    kimi.by_key[KEYS[0]] = error(429, "slow down")  # no Retry-After: the breaker's cooldown (30 s)
    with running_gateway(config(kimi, glm)) as gw:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: post(gw.port, messages_body("opus"), timeout=30), range(200)))
    assert [a.status for a in answers] == [200] * 200 and glm.seen == []
    assert sum(s.key == KEYS[1] for s in kimi.seen) == 200
    # every request in flight before the first 429 came back tried key 0; none after it did
    assert sum(s.key == KEYS[0] for s in kimi.seen) <= 16


def test_a_cooling_key_does_not_open_the_upstreams_breaker(kimi, glm):
    kimi.by_key[KEYS[0]] = error(429, "slow down")
    with running_gateway(config(kimi, glm, breaker={"failures": 1})) as gw:
        statuses = [post(gw.port, messages_body("opus")).status for _ in range(5)]
    assert statuses == [200] * 5 and glm.seen == []  # kimi kept serving with its other key
    assert [s.key for s in kimi.seen] == [KEYS[0]] + [KEYS[1]] * 5


def test_when_every_key_is_cooling_the_request_fails_over_and_the_pool_is_skipped_until_a_key_is_back(kimi, glm, tmp_path):
    db = tmp_path / "records.sqlite3"
    for key in KEYS[:2]:
        kimi.by_key[key] = error(429, "slow down", **{"retry-after": "1"})
    with running_gateway(config(kimi, glm, records=str(db))) as gw:
        assert b"hello from glm" in post(gw.port, messages_body("opus")).body
        assert b"hello from glm" in post(gw.port, messages_body("opus")).body  # kimi skipped: both keys cool
        assert len(kimi.seen) == 2
        kimi.by_key.clear()
        time.sleep(1.2)  # Retry-After honoured: a key is back
        answer = post(gw.port, messages_body("opus"))
    assert b"hello from kimi" in answer.body and kimi.seen[-1].key == KEYS[0]
    first, second, third = rows(db)
    assert json.loads(first["failover"]) == [["kimi", "key 0: HTTP 429"], ["kimi", "key 1: HTTP 429"]]
    assert (first["profile"], first["key_index"]) == ("glm", None)
    assert json.loads(second["failover"]) == [["kimi", "cooling down"]]
    assert (third["profile"], third["key_index"], third["failover"]) == ("kimi", 0, None)


def test_the_last_upstream_passes_on_the_last_keys_answer(kimi, glm):
    cfg = config(kimi, glm)
    cfg["upstreams"]["kimi"]["fallback"] = []
    kimi.by_key[KEYS[0]] = error(429, "slow down", **{"retry-after": "7"})
    kimi.by_key[KEYS[1]] = error(429, f"key {KEYS[1]} is slowed down", **{"retry-after": "9"})
    with running_gateway(cfg) as gw:
        answer = post(gw.port, messages_body("opus"))
    assert answer.status == 429 and answer.headers["retry-after"] == "9"
    # the answer the client gets never holds a key of the pool, whichever key it quotes
    assert answer.json["error"]["message"] == "key <token hidden by the ccswitch gateway> is slowed down"


@pytest.mark.parametrize("reply", [
    error(401, "invalid api key"),
    error(403, "You've reached your usage limit for this billing cycle"),  # Kimi's coding plan
    Reply(402, body={"error": {"message": "Insufficient Balance", "type": "unknown_error"}}),  # DeepSeek
    Reply(429, body={"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}),  # OpenAI
    error(400, "Your credit balance is too low to access the Anthropic API."),  # Anthropic, a 400
], ids=["401", "403", "402", "insufficient_quota", "credit balance 400"])
def test_a_refused_or_spent_key_is_left_alone_for_long(kimi, glm, reply):
    kimi.by_key[KEYS[0]] = reply
    with running_gateway(config(kimi, glm)) as gw:
        statuses = [post(gw.port, messages_body("opus")).status for _ in range(4)]
    assert statuses == [200] * 4 and glm.seen == []
    assert [s.key for s in kimi.seen] == [KEYS[0]] + [KEYS[1]] * 4  # asked once, not on every request


@pytest.mark.parametrize("reply", [error(500), error(529), error(429, "The engine is currently overloaded")],
                         ids=["500", "529", "429 overloaded"])
def test_the_providers_own_trouble_fails_over_to_the_next_profile_not_the_next_key(kimi, glm, tmp_path, reply):
    db = tmp_path / "records.sqlite3"
    kimi.by_key[KEYS[0]] = reply
    with running_gateway(config(kimi, glm, records=str(db))) as gw:
        answer = post(gw.port, messages_body("opus"))
    assert b"hello from glm" in answer.body and [s.key for s in kimi.seen] == [KEYS[0]]
    assert json.loads(rows(db)[0]["failover"]) == [["kimi", f"key 0: HTTP {reply.status}"]]


def test_a_400_that_is_the_requests_fault_passes_through_from_the_first_key(kimi, glm):
    kimi.by_key[KEYS[0]] = error(400, "messages: field required")
    with running_gateway(config(kimi, glm)) as gw:
        answer = post(gw.port, messages_body("opus"))
    assert answer.status == 400 and len(kimi.seen) == 1 and glm.seen == []


def test_a_key_back_from_cooling_waits_behind_the_key_in_use(kimi, glm):
    kimi.by_key[KEYS[0]] = error(429, "slow down", **{"retry-after": "0.3"})
    with running_gateway(config(kimi, glm, keys=KEYS)) as gw:
        post(gw.port, messages_body("opus"))  # key 0 cools, key 1 serves
        time.sleep(0.5)
        del kimi.by_key[KEYS[0]]
        post(gw.port, messages_body("opus"))  # key 0 is back, but key 1 has not failed: it stays
        kimi.by_key[KEYS[1]] = error(429, "slow down", **{"retry-after": "30"})
        post(gw.port, messages_body("opus"))  # key 1 cools: key 2 (never cooled) before key 0
    assert [s.key for s in kimi.seen] == [KEYS[0], KEYS[1], KEYS[1], KEYS[1], KEYS[2]]


def test_a_single_key_upstream_keeps_its_breaker_and_records_no_index(kimi, glm, tmp_path):
    db = tmp_path / "records.sqlite3"
    cfg = gateway_config({"kimi": upstream_config(kimi, fallback=("glm",)), "glm": upstream_config(glm)}, TIERS,
                         records=str(db))
    kimi.script(error(429, "slow down", **{"retry-after": "30"}))
    with running_gateway(cfg) as gw:
        post(gw.port, messages_body("opus"))
        post(gw.port, messages_body("opus"))
    assert len(kimi.seen) == 1 and len(glm.seen) == 2
    assert [(r["profile"], r["key_index"]) for r in rows(db)] == [("glm", None), ("glm", None)]
    assert json.loads(rows(db)[0]["failover"]) == [["kimi", "HTTP 429"]]
