"""Quota windows: where the current window of a quota starts and ends, what was used in it, how
fast, and whether it is used up (docs/usage.md, "Windows and quotas").

Pure functions over a profile's usage events, `(ts, requests, prompts, tokens)` in time order:

    window_state(quota, events, now) -> WindowState      # one window, for `usage --windows`
    over_quota(quotas, events, now) -> WindowState | None # the first used-up window, or None

How each kind of window moves (profiles/quota.py has the format):
- rolling: the `window` before now; a use counts until `window` after it (MiniMax: "usage from
  more than 5 hours ago is released"); `frees_at` is when the oldest use in it leaves.
- block: a block starts with the first use after the previous block ended and lasts `window`
  (Anthropic's 5-hour sessions, GLM's 5-hour cycles); no block runs until the next use.
- fixed: back to back from the anchor, in civil time of the anchor's UTC offset (or local time
  without one, so a day window is 23 or 25 hours long across a DST change); a window in months
  starts on the anchor's day of the month, or on the last day of a shorter month (Alibaba).

Imports only the standard library and `profiles.quota` (re): the gateway may call `over_quota`.
"""

from __future__ import annotations

import bisect
import time
from collections import namedtuple
from collections.abc import Sequence
from datetime import date

from ccswitch.profiles.quota import Quota

Event = tuple[float, int, int, int]  # ts, requests, prompts, tokens
FIELD = {"requests": 1, "prompts": 2, "tokens": 3}  # a quota's measure -> its place in an Event
_DEFAULT_ANCHOR = (2001, 1, 1, 0, 0, 0, None)  # a Monday, local midnight
MIN_ELAPSED = 60.0  # a burn rate over less than a minute says nothing


class WindowState(namedtuple("WindowState", [
    "quota",     # Quota
    "start",     # float | None  # None: a block window with no block running
    "end",       # float | None  # when what is used now is released in full (None: idle block)
    "used",      # int
    "frees_at",  # float | None  # rolling: when the oldest counted use leaves the window
    "rate",      # float | None  # use per hour since the window's first use
    "full_at",   # float | None  # at that rate, when the limit is reached (only if before `end`)
])):
    __slots__ = ()

    @property
    def over(self) -> bool:
        return self.quota.limit is not None and self.used >= self.quota.limit

    @property
    def resets_at(self) -> float | None:
        """When this window gives room again: the oldest use leaving (rolling), else its end."""
        return self.frees_at if self.quota.reset == "rolling" else self.end


def over_quota(quotas: Sequence[Quota], events: Sequence[Event], now: float) -> WindowState | None:
    """The first of `quotas` whose current window is used up at `now`, or None (pure; what the
    gateway asks before it sends a request to a profile with quotas)."""
    for quota in quotas:
        if quota.limit is not None:
            state = window_state(quota, events, now)
            if state.over:
                return state
    return None


def lookback(quotas: Sequence[Quota], now: float) -> float:
    """The earliest time whose events can matter to these windows at `now`."""
    longest = 0.0
    for quota in quotas:
        length = quota.seconds or quota.months * 31 * 86400
        # a block can have started up to a window ago, and knowing where it started needs the
        # gap before it: two windows back is enough unless use never paused
        longest = max(longest, length * (3 if quota.reset == "block" else 1) + 86400)
    return now - longest


def clock(ts: float, now: float) -> str:
    """When `ts` is, in local time: "17:40" on the day of `now`, "12-08 00:00" on another."""
    when = time.localtime(ts)
    return time.strftime("%H:%M" if time.localtime(now)[:3] == when[:3] else "%m-%d %H:%M", when)


def window_state(quota: Quota, events: Sequence[Event], now: float) -> WindowState:
    times = [event[0] for event in events]
    index = FIELD[quota.measure]
    if quota.reset == "fixed":
        start, end = fixed_window(quota, now)
        used, first = _used(events, times, start, now, index, inclusive_start=True)
        return _state(quota, start, end, used, None, first, now)
    if quota.reset == "block":
        start = _block_start(times, quota.seconds, now)
        if start is None:
            return WindowState(quota, None, None, 0, None, None, None)
        used, first = _used(events, times, start, now, index, inclusive_start=True)
        return _state(quota, start, start + quota.seconds, used, None, first, now)
    start = now - quota.seconds
    used, first = _used(events, times, start, now, index, inclusive_start=False)
    if first is None:
        return WindowState(quota, start, now, 0, None, None, None)
    last = times[bisect.bisect_right(times, now) - 1]
    return _state(quota, start, last + quota.seconds, used, first + quota.seconds, first, now)


def _used(events: Sequence[Event], times: list[float], start: float, now: float, index: int,
          inclusive_start: bool) -> tuple[int, float | None]:
    """The measure summed over events in [start, now] ((start, now] when not inclusive), and the
    time of the first of them."""
    low = bisect.bisect_left(times, start) if inclusive_start else bisect.bisect_right(times, start)
    high = bisect.bisect_right(times, now)
    if low >= high:
        return 0, None
    return sum(events[i][index] for i in range(low, high)), times[low]


def _state(quota: Quota, start: float, end: float, used: int, frees_at: float | None, first: float | None,
           now: float) -> WindowState:
    rate = full_at = None
    if first is not None and used:
        rate = used / max(now - first, MIN_ELAPSED) * 3600.0
        if quota.limit is not None and used < quota.limit:
            at = now + (quota.limit - used) / rate * 3600.0
            full_at = at if at < end else None
    return WindowState(quota, start, end, used, frees_at, rate, full_at)


def _block_start(times: list[float], length: int, now: float) -> float | None:
    """The start of the block running at `now`: blocks chain from the first event after a pause
    of at least `length` (then no earlier block can reach into it)."""
    high = bisect.bisect_right(times, now)
    if high == 0:
        return None
    first = 0
    for i in range(high - 1, 0, -1):
        if times[i] - times[i - 1] >= length:
            first = i
            break
    start = times[first]
    for i in range(first, high):
        if times[i] >= start + length:
            start = times[i]
    return start if now < start + length else None


def fixed_window(quota: Quota, now: float) -> tuple[float, float]:
    """[start, end) of the fixed window holding `now`."""
    anchor = quota.anchor or _DEFAULT_ANCHOR
    origin = _civil(anchor, 0, 0)
    step = quota.seconds if quota.months == 0 and quota.seconds % 86400 else 0
    if step:  # minutes and hours: plain seconds from the anchor
        k = int((now - origin) // step)
        return origin + k * step, origin + (k + 1) * step
    approximate = quota.months * 30.44 * 86400 if quota.months else quota.seconds
    k = int((now - origin) // approximate)
    while _boundary(quota, anchor, k) > now:
        k -= 1
    while _boundary(quota, anchor, k + 1) <= now:
        k += 1
    return _boundary(quota, anchor, k), _boundary(quota, anchor, k + 1)


def _boundary(quota: Quota, anchor: tuple[int, int, int, int, int, int, int | None], k: int) -> float:
    """The start of window k: k days (weeks) or months of civil time after the anchor."""
    if quota.months:
        return _civil(anchor, 0, k * quota.months)
    return _civil(anchor, k * (quota.seconds // 86400), 0)


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _civil(anchor: tuple[int, int, int, int, int, int, int | None], days: int, months: int) -> float:
    year, month, day, hour, minute, second, offset = anchor
    if months:
        total = year * 12 + (month - 1) + months
        year, month = divmod(total, 12)
        month += 1
        following = date(year + month // 12, month % 12 + 1, 1)
        day = min(day, (following - date(year, month, 1)).days)  # the month's last day at most
    if offset is None:
        return time.mktime((year, month, day + days, hour, minute, second, 0, 0, -1))
    ordinal = date(year, month, 1).toordinal() + day - 1 + days
    return float((ordinal - _EPOCH_DAY) * 86400 + hour * 3600 + minute * 60 + second - offset)
