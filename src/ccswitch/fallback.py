"""Launch-time fallback: probe a profile's endpoint once and, if it is down for a reason another
provider would not share, move on to the next profile in its `fallback` list.

The probe itself is passed in (the same probe as `ccswitch test`), so this module stays pure and
testable; results are cached briefly on disk so that several terminals started together do not
each wait on a dead endpoint.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from ccswitch.fsutil import atomic_write_text

# Failure categories that belong to one provider's endpoint or account, not to the request itself.
# A fallback whose own token is not set cannot serve either: skip it too, and say why.
FALLBACK_WORTHY = frozenset(
    {"refused", "timeout", "dns", "tls", "server_error", "rate_limited", "auth_rejected", "token_missing"}
)
DEFAULT_CACHE_SECONDS = 30.0


class Health:
    """What a probe said about one profile: ok, or a failure category with words for the user."""

    __slots__ = ("ok", "category", "detail", "cached")

    def __init__(self, ok: bool, category: str, detail: str, cached: bool = False) -> None:
        self.ok = ok
        self.category = category
        self.detail = detail
        self.cached = cached

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "category": self.category, "detail": self.detail}


class ProbeCache:
    """A small JSON file of recent probe results, keyed by endpoint, auth variable and model."""

    def __init__(self, path: str, ttl_seconds: float, now: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl_seconds
        self.now = now

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}  # a cache: anything unreadable is simply a miss
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Health | None:
        if self.ttl <= 0:
            return None
        entry = self._read().get(key)
        if not isinstance(entry, dict) or self.now() - float(entry.get("at", 0)) > self.ttl:
            return None
        return Health(bool(entry.get("ok")), str(entry.get("category", "")), str(entry.get("detail", "")), cached=True)

    def put(self, key: str, health: Health) -> None:
        if self.ttl <= 0:
            return
        data = {k: v for k, v in self._read().items() if isinstance(v, dict) and self.now() - float(v.get("at", 0)) <= self.ttl}
        data[key] = {**health.as_dict(), "at": self.now()}
        try:
            atomic_write_text(self.path, json.dumps(data) + "\n", mode=0o600)
        except OSError:
            pass  # a cache that cannot be written only costs a probe next time


class Decision:
    __slots__ = ("profile", "attempts")

    def __init__(self, profile: str | None, attempts: list[tuple[str, Health]]) -> None:
        self.profile = profile  # the profile to launch, or None when every candidate is down
        self.attempts = attempts  # (profile name, health) in the order tried


def choose_healthy(
    first: str,
    fallbacks: tuple[str, ...] | list[str],
    check: Callable[[str], tuple[str, Callable[[], Health]]],
    cache: ProbeCache | None,
) -> Decision:
    """Try `first`, then each fallback; the first that is healthy (or fails for a reason another
    provider would share) is launched. `check(name)` returns (cache key, probe thunk); a key of
    None means "not an endpoint's health, do not cache" (a missing token, a profile not probed)."""
    attempts: list[tuple[str, Health]] = []
    for name in (first, *[f for f in fallbacks if f != first]):
        key, run_probe = check(name)
        health = cache.get(key) if cache and key else None
        if health is None:
            health = run_probe()
            if cache and key:
                cache.put(key, health)
        attempts.append((name, health))
        if health.ok or health.category not in FALLBACK_WORTHY:
            return Decision(name, attempts)
    return Decision(None, attempts)


def cache_path(cache_dir: str) -> str:
    return os.path.join(cache_dir, "probe-cache.json")
