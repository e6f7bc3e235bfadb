"""Quota windows: rolling, block and fixed windows, across midnight and DST; burn rate; over_quota."""

from __future__ import annotations

import calendar
import os
import time

import pytest

from ccswitch.profiles.quota import Quota, QuotaError, parse_quotas
from ccswitch.usage.render import window_use
from ccswitch.usage.windows import fixed_window, lookback, over_quota, window_state

H = 3600.0
T0 = float(calendar.timegm((2026, 12, 5, 12, 0, 0)))  # a Saturday, noon UTC


def quota(window: str = "5h", limit: int | None = 10, measure: str = "prompts", **extra) -> Quota:
    entry = {"window": window, **({measure: limit} if limit is not None else {}), **extra}
    return parse_quotas(entry)[0]


def events(*offsets_hours: float, prompt: int = 1) -> list[tuple[float, int, int, int]]:
    return [(T0 + h * H, 1, prompt, 100) for h in sorted(offsets_hours)]


@pytest.fixture
def berlin():
    """Local time is Europe/Berlin (DST ends 2026-10-25 03:00 -> 02:00) for the test."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_a_rolling_window_counts_the_last_five_hours_and_frees_as_the_oldest_leaves():
    q = quota("5h", 3)
    seen = events(-6, -4.5, -1, -0.5)  # the first is out of the window
    state = window_state(q, seen, T0)
    assert state.used == 3 and state.over and state.start == T0 - 5 * H
    assert state.frees_at == T0 + 0.5 * H  # the use 4.5 h ago leaves in half an hour
    assert state.end == T0 + 4.5 * H and state.resets_at == state.frees_at
    assert over_quota([q], seen, T0) == state
    assert over_quota([q], seen, T0 + 0.5 * H + 1) is None  # one fewer: room again


def test_a_rolling_window_crossing_midnight_counts_yesterdays_use():
    midnight = float(calendar.timegm((2026, 12, 6, 0, 0, 0)))
    seen = [(midnight - 2 * H, 1, 1, 5), (midnight - 0.1 * H, 1, 1, 5), (midnight + 1 * H, 1, 0, 5)]
    state = window_state(quota("5h", 5), seen, midnight + 2 * H)
    assert state.used == 2  # prompts: two before midnight, the response after it was no prompt
    assert window_state(quota("5h", 5, "requests"), seen, midnight + 2 * H).used == 3
    assert window_state(quota("5h", 1000, "tokens"), seen, midnight + 2 * H).used == 15


def test_a_block_starts_at_the_first_use_after_the_previous_one_ended():
    q = quota("5h", 100, reset="block")
    seen = events(-12, -9, -6.5, -6, -3, -0.5)  # blocks: -12..-7, -6.5..-1.5, -0.5..4.5
    state = window_state(q, seen, T0)
    assert (state.start, state.end, state.used) == (T0 - 0.5 * H, T0 + 4.5 * H, 1)
    earlier = window_state(q, seen, T0 - 2 * H)
    assert (earlier.start, earlier.used) == (T0 - 6.5 * H, 3)
    idle = window_state(q, seen, T0 - 1 * H)  # between blocks: none runs until the next use
    assert idle.start is None and idle.used == 0 and not idle.over


def test_a_fixed_weekly_window_from_an_anchor_with_an_offset():
    q = quota("1w", 9000, "requests", reset="fixed", anchor="2026-01-05T00:00:00+08:00")  # Mondays, UTC+8
    start, end = fixed_window(q, T0)
    assert start == calendar.timegm((2026, 11, 30, 0, 0, 0)) - 8 * H and end == start + 7 * 24 * H
    state = window_state(q, [(start - 1, 1, 0, 0), (start, 1, 0, 0), (T0, 1, 0, 0)], T0)
    assert state.used == 2 and state.resets_at == end


def test_a_fixed_day_window_is_23_hours_long_when_dst_ends_and_a_month_starts_on_a_shorter_months_last_day(berlin):
    day = quota("1d", 10, reset="fixed")
    during = time.mktime((2026, 10, 25, 12, 0, 0, 0, 0, -1))
    start, end = fixed_window(day, during)
    assert end - start == 25 * H  # 2026-10-25 in Berlin: clocks go back, the day has 25 hours
    assert time.localtime(start)[:4] == (2026, 10, 25, 0) and time.localtime(end)[:4] == (2026, 10, 26, 0)
    spring = fixed_window(day, time.mktime((2026, 3, 29, 12, 0, 0, 0, 0, -1)))
    assert spring[1] - spring[0] == 23 * H
    month = quota("1mo", 10, reset="fixed", anchor="2026-01-31")
    feb = fixed_window(month, time.mktime((2026, 2, 15, 0, 0, 0, 0, 0, -1)))
    assert time.localtime(feb[0])[:3] == (2026, 1, 31) and time.localtime(feb[1])[:3] == (2026, 2, 28)
    march = fixed_window(month, time.mktime((2026, 3, 5, 0, 0, 0, 0, 0, -1)))
    assert time.localtime(march[0])[:3] == (2026, 2, 28) and time.localtime(march[1])[:3] == (2026, 3, 31)


def test_a_rolling_window_is_five_real_hours_across_dst(berlin):
    change = time.mktime((2026, 10, 25, 3, 30, 0, 0, 0, -1))  # an hour after the clocks went back
    seen = [(change - 5.5 * H, 1, 1, 0), (change - 4.5 * H, 1, 1, 0)]  # in time order
    assert window_state(quota("5h", 5), seen, change).used == 1


def test_burn_rate_and_when_the_limit_is_reached_at_that_rate():
    q = quota("5h", 10)
    state = window_state(q, events(-2, -1.5, -1, -0.5), T0)
    assert state.rate == pytest.approx(2.0)  # 4 prompts in the 2 hours since the first
    assert state.full_at == pytest.approx(T0 + 3 * H)  # 6 more at 2 an hour; before the window frees
    slow = window_state(quota("5h", 100), events(-2, -1), T0)
    assert slow.full_at is None  # not before the window moves on
    unlimited = window_state(quota("5h", None, reset="block"), events(-1), T0)
    assert unlimited.used == 1 and not unlimited.over and unlimited.full_at is None


def test_lookback_covers_every_window():
    quotas = [quota("5h", 1, reset="block"), quota("1mo", 1, reset="fixed")]
    assert lookback(quotas, T0) <= T0 - 31 * 86400


@pytest.mark.parametrize("entry,message", [
    ({"window": "5x", "prompts": 1}, "'5x' is not a duration"),
    ({"prompts": 1}, "missing `window`"),
    ({"window": "5h", "prompts": 1, "requests": 2}, "one measure per window"),
    ({"window": "5h", "prompts": -1}, "whole number above 0"),
    ({"window": "5h", "reset": "weekly"}, "'weekly' is not one of rolling, block, fixed"),
    ({"window": "5h", "anchor": "2026-01-01"}, "only a fixed window has an anchor"),
    ({"window": "1mo", "prompts": 1}, "a window in months resets on a date"),
    ({"window": "1w", "reset": "fixed", "anchor": "monday"}, "'monday' is not a date"),
])
def test_bad_quota_entries_say_what_is_wrong(entry, message):
    with pytest.raises(QuotaError, match=message):
        parse_quotas(entry)


@pytest.mark.parametrize(("measure", "limit", "used", "text"), [
    ("requests", None, 1, "1 request"), ("prompts", None, 1, "1 prompt"), ("tokens", None, 1, "1 token"),
    ("requests", None, 0, "0 requests"), ("tokens", None, 1200, "1,200 tokens"),
    ("prompts", 600, 1, "1/600 prompts"), ("requests", 1, 1, "1/1 request"), ("requests", 1, 0, "0/1 request"),
])
def test_a_windows_use_has_its_noun_in_the_number_it_goes_with(measure, limit, used, text) -> None:
    tracked = quota(limit=limit, measure=measure)._replace(measure=measure)  # a tracked-only window is of requests
    state = window_state(tracked, [], T0)._replace(used=used)
    assert window_use(state) == text
