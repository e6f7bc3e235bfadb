"""The quota windows a profile declares, counted in the gateway: an upstream whose quota is used up
in the current window is held back, like one cooling down, until the window gives room again
(docs/gateway.md, "Quotas").

What counts: each answered (2xx) Messages request of the profile, as the event `(arrival time, 1,
prompt, tokens)` that `usage --windows` counts too (usage/windows.py does the arithmetic for both);
`prompt` is 1 when the request's last user message is text or an image (body.py). The events come
from the records every gateway writes (several sessions share a plan): all of them since the
windows' lookback once at the start, then those written since, by the records' thread (records.py,
`Follower` here); this gateway's own answers count at once, when they complete, and are not
counted again when they come back from the records. Without a records file, only its own count.

The hot path stays cheap: a window is measured again (a pass over its events) only when it may
have changed its verdict: used up, once its reset time has come (an answer added meanwhile only
adds to its count); not used up, once as much has been added since it was measured as it had room
left (time passing only frees room). A profile without a quota costs one dict lookup.

Pure but for the clock (injected) and the loop the follower delivers to.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable, Iterable, Sequence

from ccswitch.gateway.config import Upstream
from ccswitch.gateway.records import MESSAGES_PATH
from ccswitch.profiles.quota import Quota, counted
from ccswitch.usage.windows import (
    FIELD,
    Event,
    WindowState,
    clock,
    lookback,
    window_state,
)

SEED_WAIT = 2.0  # seconds a request waits for the first read of the records before going on without it
TRIM_AT = 4096  # events a meter keeps before it drops those too old to matter (then twice what is left)
OWN_MEMORY = 60.0  # seconds this gateway remembers an answer it counted, to know it again in the records


class Meter:
    """One upstream's windows (those with a limit) and the events that can still matter to them."""

    __slots__ = ("quotas", "events", "fresh", "verdict", "until", "room", "trim_at")

    def __init__(self, quotas: Sequence[Quota]) -> None:
        self.quotas = tuple(quotas)
        self.events: list[Event] = []  # in time order
        self.fresh = False  # verdict and room account for every event: no need to measure again yet
        self.verdict: WindowState | None = None  # the first window used up, when one is
        self.until = 0.0  # ... and when it gives room again
        self.room: list[int] = []  # for each window before it (every window if none), what is left
        self.trim_at = TRIM_AT

    def add(self, event: Event) -> None:
        bisect.insort(self.events, event)
        if len(self.events) > self.trim_at:
            self._trim(self.events[-1][0])
        if not self.fresh:
            return
        room = [left - event[FIELD[quota.measure]] for quota, left in zip(self.quotas, self.room)]
        grown = _grown(self.verdict, event) if self.verdict is not None else None
        if (room and min(room) <= 0) or (self.verdict is not None and grown is None):
            self.fresh = False  # a window may have been used up, or moved: measure again
        else:
            self.room, self.verdict = room, grown

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            bisect.insort(self.events, event)
        if self.events:
            self._trim(self.events[-1][0])
        self.fresh = False

    def _trim(self, now: float) -> None:
        """Drop the events no window can count at `now` or later (a window with room left is not
        measured, and would otherwise keep them all)."""
        del self.events[:bisect.bisect_left(self.events, (lookback(self.quotas, now),))]
        self.trim_at = max(TRIM_AT, 2 * len(self.events))

    def check(self, now: float) -> WindowState | None:
        """The first window used up at `now`, or None."""
        if self.fresh and (self.verdict is None or now < self.until):
            return self.verdict
        return self._measure(now)

    def _measure(self, now: float) -> WindowState | None:
        self._trim(now)
        self.verdict, self.room, self.fresh = None, [], True
        for quota in self.quotas:
            state = window_state(quota, self.events, now)
            if state.over:
                self.verdict = state
                # a used-up window always has its reset; were it missing, measure again next time
                self.until = state.resets_at if state.resets_at is not None else now
                break
            self.room.append(quota.limit - state.used)
        return self.verdict


def _grown(state: WindowState, event: Event) -> WindowState | None:
    """A used-up window with `event` counted in it (sent to anyway: nothing else was left), or None
    when the event could move the window (older than its oldest use, or outside its span)."""
    quota, ts = state.quota, event[0]
    used = state.used + event[FIELD[quota.measure]]
    if quota.reset == "rolling":
        if ts + quota.seconds < state.frees_at:
            return None  # it would leave the window first: the reset moves
        return state._replace(used=used, end=max(state.end, ts + quota.seconds))
    return state._replace(used=used) if state.start <= ts < state.end else None


def describe(state: WindowState, now: float) -> str:
    """The failover chain's words: "quota: 600/600 prompts per 5h until 14:00"."""
    quota = state.quota
    until = f" until {clock(state.resets_at, now)}" if state.resets_at is not None else ""
    return f"quota: {state.used:,}/{counted(quota.limit, quota.measure)} per {quota.window}{until}"


def answered_messages_request(row: dict) -> bool:
    """Whether a finished request's record counts against a quota: an answered (2xx) Messages request."""
    status = row.get("status")
    return row.get("path") == MESSAGES_PATH and status is not None and 200 <= status < 300


def event_of(row: dict) -> Event | None:
    """A finished request's record as a quota event, or None when it does not count."""
    if not answered_messages_request(row):
        return None
    tokens = sum(row.get(name) or 0 for name in ("input_tokens", "output_tokens", "cache_read_tokens",
                                                  "cache_write_tokens"))
    return (row["time"], 1, row.get("prompt") or 0, tokens)


class QuotaBook:
    """The meters of the upstreams with a quota. `held(name)` on the request path; `count(row)` when
    a request is done; `follow(loop)` makes the `Follower` the records' thread reads for."""

    def __init__(self, upstreams: Iterable[Upstream], clock: Callable[[], float] = time.time) -> None:
        limited = ((upstream.name, [quota for quota in upstream.quotas if quota.limit is not None])
                   for upstream in upstreams)
        self.meters = {name: Meter(quotas) for name, quotas in limited if quotas}
        self.clock = clock
        self.ready = True  # the records have been read once (or there are none to read)
        self._seeded: asyncio.Event | None = None
        # (time, session, profile) of this gateway's answers counted but not yet seen in the records
        self._own: dict[tuple[float, str, str], float] = {}

    @classmethod
    def of(cls, upstreams: Iterable[Upstream]) -> QuotaBook | None:
        book = cls(upstreams)
        return book if book.meters else None

    def held(self, name: str) -> str | None:
        """Why upstream `name` waits (its used-up window, in words), or None."""
        meter = self.meters.get(name)
        if meter is None:
            return None
        now = self.clock()
        state = meter.check(now)
        return None if state is None else describe(state, now)

    def count(self, row: dict) -> None:
        """A request this gateway finished: its answer counts now (and not again from the records)."""
        meter = self.meters.get(row.get("profile"))
        event = event_of(row) if meter is not None else None
        if event is None:
            return
        meter.add(event)
        if self._seeded is not None:
            if len(self._own) > 4096:
                self._forget(time.monotonic())
            self._own[(row["time"], row.get("session"), row["profile"])] = time.monotonic()

    def feed(self, rows: Sequence[tuple]) -> None:
        """Answers read from the records, (time, session, profile, prompt, tokens): every gateway's,
        this one's skipped (counted already)."""
        fresh: dict[str, list[Event]] = {}
        for ts, session, profile, prompt, tokens in rows:
            if self._own.pop((ts, session, profile), None) is None and profile in self.meters:
                fresh.setdefault(profile, []).append((ts, 1, prompt, tokens))
        for profile, events in fresh.items():
            if len(events) == 1:
                self.meters[profile].add(events[0])
            else:
                self.meters[profile].extend(events)
        self._forget(time.monotonic())
        if not self.ready:
            self.ready = True
            self._seeded.set()

    def _forget(self, now: float) -> None:
        """Own answers the records never showed (a batch the writer could not write)."""
        for key in [key for key, at in self._own.items() if now - at > OWN_MEMORY]:
            del self._own[key]

    async def wait_ready(self) -> None:
        """Until the records have been read once; at most SEED_WAIT (then without them)."""
        try:
            await asyncio.wait_for(self._seeded.wait(), SEED_WAIT)
        except asyncio.TimeoutError:
            self.ready = True

    def follow(self, loop: asyncio.AbstractEventLoop) -> Follower:
        """What the records' thread reads for this book (RecordWriter's `follower`): from now on
        requests wait for its first read."""
        self.ready, self._seeded = False, asyncio.Event()
        return Follower(self, loop)


class Follower:
    """The records' thread side of a QuotaBook: which profiles, since when, and delivery into the
    event loop (the only thread that touches the meters)."""

    def __init__(self, book: QuotaBook, loop: asyncio.AbstractEventLoop) -> None:
        self.profiles = tuple(book.meters)
        self.quotas = [quota for meter in book.meters.values() for quota in meter.quotas]
        self.book, self.loop = book, loop

    def since(self, now: float) -> float:
        return lookback(self.quotas, now)

    def deliver(self, rows: list[tuple]) -> None:
        try:
            self.loop.call_soon_threadsafe(self.book.feed, rows)
        except RuntimeError:  # the loop is closed: the gateway is stopping
            pass
