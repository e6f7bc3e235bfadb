"""When to try the next upstream, and a circuit breaker per upstream. Pure; the clock is injected.

Failover happens only before the first byte of an answer has reached the client. A status the
request itself caused (400, 404, 413, 422, and anything else not listed below) is passed through:
every provider would reject it. One that belongs to the provider or the account (401/403: key
revoked or plan expired; 402: balance used up; 408; 429; any 5xx including Anthropic's 529) moves
on to the next profile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 86400.0  # a day: beyond that a Retry-After is more likely a bug than a plan


def is_failover_status(status: int) -> bool:
    return status in (401, 402, 403, 408, 429) or 500 <= status <= 599


def is_thinking_signature_error(status: int, body: bytes) -> bool:
    """A 400 rejecting a `thinking` block's signature (made by another provider): Anthropic says
    "Invalid `signature` in `thinking` block"; other providers word it differently, all name both."""
    if status != 400:
        return False
    text = body.lower()
    return b"signature" in text and b"thinking" in text


def parse_retry_after(value: str | None, now_wall: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now_wall
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class _Circuit:
    __slots__ = ("failures", "open_until", "cooldown", "trial")

    def __init__(self) -> None:
        self.failures = 0
        self.open_until = 0.0
        self.cooldown = 0.0  # the last cooldown applied; a failed trial doubles it
        self.trial = False  # a half-open trial request is out


class Breakers:
    """Closed: requests go through. Open (after `failures` consecutive failures, a Retry-After, or a
    stream broken mid-way): skipped until the cooldown ends. Then half-open: one trial request goes
    through (others keep skipping it for another cooldown); success closes the circuit, failure
    reopens it for twice as long, up to `max_cooldown`. A Retry-After is honoured as given."""

    def __init__(self, failures: int = 3, cooldown: float = 30.0, max_cooldown: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, int(failures))
        self.base = cooldown
        self.max = max(max_cooldown, cooldown)
        self.clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def _get(self, name: str) -> _Circuit:
        circuit = self._circuits.get(name)
        if circuit is None:
            circuit = self._circuits[name] = _Circuit()
        return circuit

    def available(self, name: str) -> bool:
        """May a request go to `name` now? Granting a half-open trial counts as the trial."""
        circuit = self._circuits.get(name)
        if circuit is None or circuit.open_until == 0.0:
            return True
        now = self.clock()
        if now < circuit.open_until:
            return False
        circuit.trial = True
        # Hold the others off while the trial runs; a trial that never reports (client gone) expires.
        circuit.open_until = now + max(circuit.cooldown, self.base)
        return True

    def is_open(self, name: str) -> bool:
        circuit = self._circuits.get(name)
        return circuit is not None and self.clock() < circuit.open_until

    def success(self, name: str) -> None:
        circuit = self._circuits.get(name)
        if circuit is not None:
            circuit.failures, circuit.open_until, circuit.cooldown, circuit.trial = 0, 0.0, 0.0, False

    def failure(self, name: str, retry_after: float | None = None) -> None:
        circuit = self._get(name)
        circuit.failures += 1
        if retry_after is not None:
            self._open(circuit, retry_after, keep_cooldown=True)
        elif circuit.trial:
            self._open(circuit, min(max(circuit.cooldown, self.base) * 2, self.max))
        elif circuit.failures >= self.threshold:
            self._open(circuit, self.base)
        circuit.trial = False

    def cool_down(self, name: str) -> None:
        """Open now (a stream that broke after bytes reached the client): its retry goes elsewhere."""
        circuit = self._get(name)
        circuit.failures += 1
        self._open(circuit, min(max(circuit.cooldown * 2, self.base), self.max) if circuit.trial else self.base)
        circuit.trial = False

    def _open(self, circuit: _Circuit, seconds: float, keep_cooldown: bool = False) -> None:
        circuit.open_until = self.clock() + seconds
        if not keep_cooldown:
            circuit.cooldown = seconds
