"""Recent probe results, so several terminals started together wait on a dead endpoint once.
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


def cache_path(cache_dir: str) -> str:
    return os.path.join(cache_dir, "probe-cache.json")
