"""An upstream's key pool: which key a request goes out with, and which keys are cooling down.
Pure; the clock is injected. docs/gateway.md, "Key pools", says why each rule is what it is.

- A request goes with the first key of the pool's order that is not cooling down. A key that
  fails for itself is cooled and moved to the end of the order, so the pool stays on one key until
  that key is refused, then on the next one: least recently cooled first, not round-robin (every
  request to another account would miss the provider's prompt cache, which is per account).
- A key fails for itself (`key_trouble`) when its answer is about the key or its account, not the
  provider or the request: a rate limit, a used-up quota or balance, a refused credential. The same
  request then goes at once to the next key; the pool fails as a whole (the next profile's turn)
  only when no key is left for it.
- A cooled key rests for the upstream's Retry-After when it gave one, else `rate_cooldown` for a
  rate limit and LONG_COOLDOWN for a quota or a refused key (a used-up or revoked key is asked
  again now and then, not on every request).

An upstream with one key has no pool: its 429s and 401s go to its circuit breaker, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ccswitch.gateway.config import Upstream
from ccswitch.gateway.headers import credential_headers

RATE, QUOTA, REFUSED = "rate", "quota", "refused"  # what a key's trouble was
LONG_COOLDOWN = 600.0  # a quota or a refused key: asked again after ten minutes, once
# A 429 that says the provider is busy (Kimi's engine_overloaded_error, GLM's 1305 "访问量过大", i.e.
# "too many visits"): no key of the account would fare better, so it is the upstream's failure.
_OVERLOADED = (b"overload", "访问量过大".encode())
# Words of a 429 that mean the account's money or plan, not its pace: OpenAI's
# insufficient_quota, Kimi's exceeded_current_quota_error, GLM's 1113 "欠费" (in arrears) and
# 1308/1310 "使用上限" (usage cap), DashScope's Arrearage, "余额"/"额度" (balance, allowance).
_QUOTA = (b"quota", b"balance", b"billing", b"credit", b"arrear", b"usage limit", b"spend limit", b"payment",
          "余额".encode(), "欠费".encode(), "额度".encode(), "上限".encode(), "套餐".encode())
# A 400 is the request's fault, except these account errors: Anthropic's "credit balance is too
# low" and "reached your specified API usage limits" (a spend limit), DashScope's Arrearage.
_QUOTA_400 = (b"credit balance", b"usage limits", b"arrearage", b"insufficient balance", b"insufficient_quota")


def key_trouble(status: int, body: bytes) -> str | None:
    """RATE, QUOTA or REFUSED when an error answer is about the key that was sent; None when it is
    the provider's or the request's (docs/gateway.md, "Key pools": what each provider sends)."""
    if status in (401, 403):
        return REFUSED  # revoked, disabled, or its plan expired or used up (Kimi's coding plan: 403)
    if status == 402:
        return QUOTA
    if status == 429:
        text = body.lower()
        if any(word in text for word in _OVERLOADED):
            return None
        return QUOTA if any(word in text for word in _QUOTA) else RATE
    if status == 400:
        text = body.lower()
        return QUOTA if any(word in text for word in _QUOTA_400) else None
    return None


class Key:
    """One key of a pool: its index in the profile's array, what requests go with (`target`: made
    once by the caller from the key's credential headers), and when it may be used again."""

    __slots__ = ("index", "target", "until")

    def __init__(self, index: int, target: object) -> None:
        self.index = index
        self.target = target
        self.until = 0.0  # the clock's time its cooldown ends; 0: never cooled

    def __repr__(self) -> str:  # never the key
        return f"Key(index={self.index}, until={self.until})"


class KeyPool:
    def __init__(self, upstream: Upstream, bind: Callable[[int, list[tuple[str, str]]], object],
                 rate_cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        """`bind(index, credential headers)` makes what a request with that key goes with."""
        self.order: list[Key] = [Key(index, bind(index, credential_headers(upstream, token)))
                                    for index, token in upstream.keys]
        self.rate_cooldown = rate_cooldown
        self.clock = clock

    def pick(self, tried: Iterable[Key] = ()) -> Key | None:
        """The key for the next attempt: the first in order that is not cooling and not `tried` for
        this request. None when none is left; but when every key is cooling and none was tried yet,
        the one back soonest (the upstream is being tried last, as a cooling breaker's is)."""
        tried = tuple(tried)
        now = self.clock()
        for key in self.order:
            if key.until <= now and key not in tried:
                return key
        return None if tried else min(self.order, key=lambda key: key.until)

    def cool(self, key: Key, trouble: str, retry_after: float | None) -> None:
        """`key` failed for itself: it rests (Retry-After, or by the kind of trouble) and goes last."""
        if retry_after is None:
            retry_after = self.rate_cooldown if trouble == RATE else LONG_COOLDOWN
        key.until = max(key.until, self.clock() + retry_after)
        self.order.remove(key)
        self.order.append(key)

    def wait(self) -> float:
        """Seconds until a key may be used again (0 when one may now)."""
        return max(0.0, min(key.until for key in self.order) - self.clock())


def pools_for(upstreams: Iterable[Upstream], bind: Callable[[str, int, list[tuple[str, str]]], object],
              rate_cooldown: float = 30.0) -> dict[str, KeyPool]:
    """A pool for each upstream with more than one key (with one there is nothing to rotate to)."""
    return {upstream.name: KeyPool(upstream, lambda index, headers, name=upstream.name: bind(name, index, headers),
                                   rate_cooldown)
            for upstream in upstreams if len(upstream.keys) > 1}
