"""The key pool on its own (an injected clock): which key a request goes with, what cools a key and
for how long, and which answers are a key's trouble at all."""

from __future__ import annotations

import pytest

from ccswitch.gateway.config import Upstream
from ccswitch.gateway.keys import (
    LONG_COOLDOWN,
    QUOTA,
    RATE,
    REFUSED,
    KeyPool,
    key_trouble,
    pools_for,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def upstream(n: int = 3, auth: str = "bearer", name: str = "kimi") -> Upstream:
    keys = tuple((i * 2, f"sk-key-{i}-0123456789") for i in range(n))
    return Upstream(name=name, base_url="http://127.0.0.1:9", auth=auth, token=keys[0][1] if keys else None, headers={},
                    models={}, serves=(), fallback=(), supports_1m=False, keys=keys)


def pool(n: int = 3, clock: Clock | None = None) -> KeyPool:
    return KeyPool(upstream(n), lambda index, headers: (index, headers), rate_cooldown=30.0, clock=clock or Clock())


def indexes(pool: KeyPool) -> list[int]:
    return [key.index for key in pool.order]


@pytest.mark.parametrize("status, body, trouble", [
    # Anthropic: a rate limit; a workspace spend limit (a 400); no credit left (a 400); billing (402)
    (429, b'{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}', RATE),
    (400, b'{"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified API usage limits. You will regain access on 2026-09-01"}}', QUOTA),
    (400, b'{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}', QUOTA),
    (402, b'{"type":"error","error":{"type":"billing_error","message":"billing"}}', QUOTA),
    # OpenAI: the same 429 status for a pace and for money
    (429, b'{"error":{"message":"Rate limit reached for gpt-4.1 in organization org-x on requests per min (RPM)","type":"requests","code":"rate_limit_exceeded"}}', RATE),
    (429, b'{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}', QUOTA),
    # DeepSeek: 402 Insufficient Balance, 429 Rate Limit Reached
    (402, b'{"error":{"message":"Insufficient Balance","type":"unknown_error"}}', QUOTA),
    (429, b'{"error":{"message":"Rate Limit Reached"}}', RATE),
    # Kimi: a pace, a used-up balance, the provider overloaded (no key would help), a coding plan spent (403)
    (429, b'{"error":{"message":"We\'re receiving too many requests","type":"rate_limit_reached_error"}}', RATE),
    (429, b'{"error":{"message":"Your account is suspended, please check your plan and billing details","type":"exceeded_current_quota_error"}}', QUOTA),
    (429, b'{"error":{"message":"The engine is currently overloaded, please try again later","type":"engine_overloaded_error"}}', None),
    (403, b'{"error":{"message":"You\'ve reached your usage limit for this billing cycle","type":"permission_denied_error"}}', REFUSED),
    # GLM: 1302 a pace, 1113 in arrears, 1308 the plan's 5-hour cap, 1305 the model overloaded
    (429, '{"error":{"code":"1302","message":"您的账户已达到速率限制，请您控制请求频率"}}'.encode(), RATE),
    (429, '{"error":{"code":"1113","message":"您的账户已欠费，请充值后重试"}}'.encode(), QUOTA),
    (429, '{"error":{"code":"1308","message":"已达到 5 小时的使用上限。您的限额将在 2026-09-01 10:00:00 重置"}}'.encode(), QUOTA),
    (429, '{"error":{"code":"1305","message":"该模型当前访问量过大，请您稍后再试"}}'.encode(), None),
    # DashScope: in arrears
    (400, b'{"error":{"code":"Arrearage","message":"Access denied, please make sure your account is in good standing.","type":"Arrearage"}}', QUOTA),
    # a key revoked; the request's own faults; the provider's own trouble
    (401, b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}', REFUSED),
    (400, b'{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be at most 64000"}}', None),
    (404, b'{"type":"error","error":{"type":"not_found_error","message":"model: kimi-k9"}}', None),
    (500, b'{"type":"error","error":{"type":"api_error","message":"Internal server error"}}', None),
    (529, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', None),
])
def test_which_answers_are_the_keys_trouble(status, body, trouble):
    assert key_trouble(status, body) == trouble


def test_the_pool_stays_on_one_key_until_it_is_refused():
    keys = pool()
    assert [keys.pick().index for _ in range(5)] == [0] * 5
    first = keys.pick()
    assert first.target == (0, [("Authorization", "Bearer sk-key-0-0123456789")])  # bound once, with its own credential
    keys.cool(first, RATE, None)
    assert keys.pick().index == 2 and indexes(keys) == [2, 4, 0]


def test_a_cooled_key_rests_for_its_retry_after_else_by_its_trouble():
    clock = Clock()
    keys = pool(clock=clock)
    key0, key2, key4 = keys.order
    keys.cool(key0, RATE, 5.0)
    keys.cool(key2, RATE, None)
    keys.cool(key4, QUOTA, None)
    assert (key0.until, key2.until, key4.until) == (1005.0, 1030.0, 1000.0 + LONG_COOLDOWN)
    assert keys.wait() == 5.0
    clock.now = 1005.0
    assert keys.pick().index == 0 and keys.wait() == 0.0
    keys.cool(key0, REFUSED, None)
    assert key0.until == 1005.0 + LONG_COOLDOWN
    keys.cool(key0, RATE, 1.0)  # a later, shorter cooldown does not shorten a longer one
    assert key0.until == 1005.0 + LONG_COOLDOWN


def test_least_recently_cooled_first():
    clock = Clock()
    keys = pool(clock=clock)
    key0, key2, key4 = keys.order
    keys.cool(key0, RATE, 1.0)
    keys.cool(key2, RATE, 1.0)
    clock.now += 2  # both back: key 4 has not been cooled at all, then key 0 (cooled before key 2)
    assert indexes(keys) == [4, 0, 2] and keys.pick().index == 4


def test_a_request_tries_each_key_once_and_a_cooling_pool_is_tried_with_the_key_back_soonest():
    clock = Clock()
    keys = pool(clock=clock)
    key0, key2, key4 = keys.order
    keys.cool(key0, RATE, 0.0)  # Retry-After: 0 -- back at once, but this request has tried it
    assert keys.pick([key0]).index == 2
    assert keys.pick([key0, key2, key4]) is None
    for key, seconds in ((key0, 50.0), (key2, 20.0), (key4, 90.0)):
        keys.cool(key, QUOTA, seconds)
    assert keys.pick() is key2 and keys.wait() == 20.0  # every key cooling: the upstream's last resort
    assert keys.pick([key2]) is None


def test_only_an_upstream_with_several_keys_has_a_pool():
    pools = pools_for([upstream(2, name="kimi"), upstream(1, name="glm"), upstream(0, auth="none", name="local")],
                      lambda name, index, headers: (name, index))
    assert list(pools) == ["kimi"] and [key.target for key in pools["kimi"].order] == [("kimi", 0), ("kimi", 2)]
    assert "sk-key" not in repr(pools["kimi"].order)
