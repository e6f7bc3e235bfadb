"""Recent probe results, so several terminals started together wait on a dead endpoint once.

The cache is `probe-cache.json` in the user cache directory (0600), keyed by endpoint, credential
variable, model and a checksum of the token; it holds no token.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from ccswitch.fsutil import atomic_write_text, read_json
from ccswitch.health.outcomes import Outcome

DEFAULT_CACHE_SECONDS = 30.0


class Health:
    """What a probe said about one profile: ok, or the outcome, with details for the user."""

    __slots__ = ("ok", "outcome", "detail", "cached")

    def __init__(self, ok: bool, outcome: Outcome, detail: str, cached: bool = False) -> None:
        self.ok = ok
        self.outcome = outcome
        self.detail = detail
        self.cached = cached

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "outcome": self.outcome.value, "detail": self.detail}


class ProbeCache:
    """A small JSON file of recent probe results, keyed by endpoint, auth variable and model."""

    def __init__(self, path: str, ttl_seconds: float, now: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl_seconds
        self.now = now

    def _fresh_entries(self) -> dict[str, dict]:
        data = read_json(self.path)  # a cache: anything unreadable is simply a miss
        if not isinstance(data, dict):
            return {}
        return {key: entry for key, entry in data.items()
                if isinstance(entry, dict) and self.now() - float(entry.get("at", 0)) <= self.ttl}

    def get(self, key: str) -> Health | None:
        if self.ttl <= 0:
            return None
        entry = self._fresh_entries().get(key)
        if entry is None:
            return None
        try:
            outcome = Outcome(entry.get("outcome"))
        except ValueError:
            return None  # written by another version: probe again
        return Health(bool(entry.get("ok")), outcome, str(entry.get("detail", "")), cached=True)

    def put(self, key: str, health: Health) -> None:
        if self.ttl <= 0:
            return
        data = self._fresh_entries()
        data[key] = {**health.as_dict(), "at": self.now()}
        try:
            atomic_write_text(self.path, json.dumps(data) + "\n", mode=0o600)
        except OSError:
            pass  # a cache that cannot be written only costs a probe next time


def cache_path(cache_dir: str) -> str:
    return os.path.join(cache_dir, "probe-cache.json")
