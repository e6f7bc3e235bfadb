"""Attribution, costing and grouping: usage buckets -> the `ccswitch usage --json` shape.

    {"schema": 1,
     "rows": [{<the --by key>, "profile", "model", "requests", "prompts", "input_tokens",
               "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost", "currency"}, ...],
     "totals": {"requests", "prompts", <the token keys>, "cost", "currency", "costs",
                "unpriced_requests"}}

`--by day|week|month|project` add a "day" ("2026-12-05"), "week" ("2026-W49", ISO weeks from
Monday), "month" ("2026-12") or "project" (the working directory) key to each row; `--by session`
adds "session" (the whole id, for `claude --resume`), "first" and "last" (local times of its first
and last response) and "project", newest session first; `--by profile` and `--by model` drop the
other one (null). A row never mixes currencies nor priced and unpriced responses: those are
separate rows, so every `cost` is exact or null ("no price known"). In the totals, `cost` and
`currency` are both set (every response priced, in one currency) or both null; `costs` has the
sum per currency of what was priced. "prompts" counts a person's prompts (docs/usage.md, "Prompts").

Who served a response, in order: the gateway's own record, the launch `ccswitch run` recorded for
the session, the profile `use` had made active there and then (all three arrive in the bucket as
`known_profile`), then the caller's `attribute(model)` (model mappings, `serves` patterns, claude's
own login for a Claude model); otherwise "unknown", never guessed.
"""

from __future__ import annotations

import re
import time
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime

from ccswitch.usage.prices import PriceEntry, PriceTable, cost, entries_for, entry_at

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

UNKNOWN = "unknown"
JSON_SCHEMA = 1
TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
PERIODS = ("day", "week", "month")
BY_CHOICES = (*PERIODS, "project", "profile", "model", "session")

Attribute = Callable[[str], "str | None"]  # model name -> profile


class Bucket(namedtuple("Bucket", [
    "known_profile",          # str | None
    "session",                # str
    "model",                  # str
    "day",                    # str
    "ts",                     # float  # the earliest response in the bucket (picks the price in force)
    "hour_of_week",           # int  # Monday 00h UTC = 0; -1 when no price depends on the hour
    "prompt_tokens",          # int  # the smallest prompt in the bucket (picks the tier)
    "fast",                   # bool
    "requests",               # int
    "input_tokens",           # int
    "output_tokens",          # int
    "cache_read_tokens",      # int
    "cache_write_tokens",     # int
    "cache_write_1h_tokens",  # int
    "cwd",                    # str
    "prompts",                # int
    "last_ts",                # float
], defaults=["", 0, 0.0])):
    """Responses that share everything their price depends on (see collect.query_buckets)."""
    __slots__ = ()


class Report:
    """The rows, their totals, and per day (week, month) the tokens, costs and profiles for the chart."""

    __slots__ = ("rows", "totals", "chart", "unit")

    def __init__(self, rows: list[dict[str, Any]], totals: dict[str, Any],
                 chart: dict[str, dict[str, Any]] | None = None, unit: str = "day") -> None:
        self.rows, self.totals, self.chart, self.unit = rows, totals, chart or {}, unit

    def to_json(self) -> dict[str, Any]:
        return {"schema": JSON_SCHEMA, "rows": self.rows, "totals": self.totals}


def build_report(
    buckets: Iterable[Bucket],
    *,
    prices: Mapping[str, PriceTable],
    attribute: Attribute | None = None,
    by: str | None = None,
) -> Report:
    if by is not None and by not in BY_CHOICES:
        raise ValueError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    attributed: dict[str, str] = {}
    looked_up: dict[tuple[str, str], Sequence[PriceEntry]] = {}
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    chart: dict[str, dict[str, Any]] = {}
    unit = by if by in ("week", "month") else "day"
    for bucket in buckets:
        profile = bucket.known_profile or attributed_profile(attributed, attribute, bucket.model)
        key = (profile, bucket.model)
        entries = looked_up.get(key)
        if entries is None:
            entries = looked_up[key] = entries_for(prices.get(profile) or {}, bucket.model)
        priced = _price(bucket, entry_at(entries, bucket.ts))
        currency = priced[1] if priced else None
        amount = priced[0] if priced else None
        row = rows.get(row_key := _row_key(by, bucket, profile, currency))
        if row is None:
            row = rows[row_key] = _new_row(by, bucket, profile, currency)
        _add(row, bucket, amount)
        _add_chart(chart, period_of(bucket.day, unit), bucket, profile, amount, currency)
    ordered = _ordered(by, rows.values())
    for row in ordered:
        row.pop("_last", None)
    return Report(ordered, _totals(ordered), dict(sorted(chart.items())), unit)


def attributed_profile(cache: dict[str, str], attribute: Attribute | None, model: str) -> str:
    """Who served `model` when nothing stamped it (asked once per model name, kept in `cache`)."""
    found = cache.get(model)
    if found is None:
        found = cache[model] = (attribute(model) if attribute else None) or UNKNOWN
    return found


def period_of(day: str, unit: str) -> str:
    """"2026-12-05" as its day, ISO week ("2026-W49") or month ("2026-12")."""
    if unit == "month":
        return day[:7]
    if unit == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year}-W{week:02d}"
    return day


def _price(bucket: Bucket, entry: PriceEntry | None) -> tuple[float, str] | None:
    if entry is None:
        return None
    amount = cost(
        entry,
        input_tokens=bucket.input_tokens,
        output_tokens=bucket.output_tokens,
        cache_read_tokens=bucket.cache_read_tokens,
        cache_write_tokens=bucket.cache_write_tokens,
        cache_write_1h_tokens=bucket.cache_write_1h_tokens,
        prompt_tokens=bucket.prompt_tokens,
        fast=bucket.fast,
        hour_of_week=max(bucket.hour_of_week, 0),
    )
    return None if amount is None else (amount, entry.currency)


def _row_key(by: str | None, bucket: Bucket, profile: str, currency: str | None) -> tuple[Any, ...]:
    if by == "profile":
        return (profile, currency)
    if by == "model":
        return (bucket.model, currency)
    return (_first(by, bucket), profile, bucket.model, currency)


def _first(by: str | None, bucket: Bucket) -> str | None:
    """The value of the --by column a bucket goes under."""
    if by in PERIODS:
        return period_of(bucket.day, by)  # type: ignore[arg-type]
    if by == "project":
        return bucket.cwd
    if by == "session":
        return bucket.session
    return None


def _new_row(by: str | None, bucket: Bucket, profile: str, currency: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if by in (*PERIODS, "project", "session"):
        row[by] = _first(by, bucket)  # type: ignore[index]
    if by == "session":
        row.update(first=None, last=None, project=bucket.cwd, _last=0.0)
    row["profile"] = None if by == "model" else profile
    row["model"] = None if by == "profile" else bucket.model
    row.update({"requests": 0, "prompts": 0, **{key: 0 for key in TOKEN_KEYS}, "cost": None, "currency": currency})
    return row


def _add(row: dict[str, Any], bucket: Bucket, amount: float | None) -> None:
    row["requests"] += bucket.requests
    row["prompts"] += bucket.prompts
    for key in TOKEN_KEYS:
        row[key] += getattr(bucket, key)
    if amount is not None:
        row["cost"] = (row["cost"] or 0.0) + amount
    if "_last" in row:
        first, last = bucket.ts, max(bucket.last_ts, bucket.ts)
        if row["first"] is None or first < row["_first"]:
            row["first"], row["_first"] = _local(first), first
        if last > row["_last"]:
            row["last"], row["_last"] = _local(last), last
        row["project"] = row["project"] or bucket.cwd


def _local(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _add_chart(chart: dict[str, dict[str, Any]], period: str, bucket: Bucket, profile: str, amount: float | None,
               currency: str | None) -> None:
    day = chart.setdefault(period, {"tokens": 0, "costs": {}, "unpriced_requests": 0, "profiles": {}})
    tokens = sum(getattr(bucket, key) for key in TOKEN_KEYS)
    day["tokens"] += tokens
    per_profile = day["profiles"].setdefault(profile, {"tokens": 0, "costs": {}})
    per_profile["tokens"] += tokens
    if amount is None:
        day["unpriced_requests"] += bucket.requests
    else:
        assert currency is not None
        day["costs"][currency] = day["costs"].get(currency, 0.0) + amount
        per_profile["costs"][currency] = per_profile["costs"].get(currency, 0.0) + amount


def _ordered(by: str | None, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Periods and projects in order, sessions newest first, then profile, model, most requests."""
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (str(row.get(by) or "") if by not in (None, "session", "profile", "model") else "",
                -row.get("_last", 0.0), str(row["profile"]), str(row["model"]), -row["requests"])

    ordered = sorted(rows, key=key)
    for row in ordered:
        row.pop("_first", None)
    return ordered


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {"requests": 0, "prompts": 0, **{key: 0 for key in TOKEN_KEYS}}
    costs: dict[str, float] = {}
    unpriced = 0
    for row in rows:
        totals["requests"] += row["requests"]
        totals["prompts"] += row["prompts"]
        for key in TOKEN_KEYS:
            totals[key] += row[key]
        if row["cost"] is None:
            unpriced += row["requests"]
        else:
            costs[row["currency"]] = costs.get(row["currency"], 0.0) + row["cost"]
    single = len(costs) == 1 and not unpriced
    totals["cost"] = next(iter(costs.values())) if single else None
    totals["currency"] = next(iter(costs)) if single else None
    totals["costs"] = costs
    totals["unpriced_requests"] = unpriced
    return totals


# --- --windows --json ---------------------------------------------------------------------------


def windows_json(states: list[tuple[str, Any]], now: float, unchosen: dict[str, list[str]]) -> dict[str, Any]:
    """The `ccswitch usage --windows --json` shape: per profile and window, the use against the
    limit, the window's bounds and when it gives room again (ISO times, local offset), the burn
    rate per hour and, at that rate, when the limit is reached; `plans_to_choose` lists profiles
    whose quota depends on a plan they have not chosen."""

    def iso(ts: float | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")

    windows = []
    for profile, state in states:
        quota = state.quota
        windows.append({
            "profile": profile, "plan": quota.plan, "window": quota.window, "reset": quota.reset,
            "measure": quota.measure, "limit": quota.limit, "used": state.used, "over": state.over,
            "start": iso(state.start), "end": iso(state.end), "resets_at": iso(state.resets_at),
            "burn_per_hour": None if state.rate is None else round(state.rate, 2), "full_at": iso(state.full_at),
            "source": quota.source or None, "checked": quota.checked or None,
        })
    return {"schema": JSON_SCHEMA, "now": iso(now), "windows": windows, "plans_to_choose": unchosen}


# --- --since / --until -------------------------------------------------------------------------


def parse_since(text: str, now: float | None = None) -> float:
    """`7d` (today and the 6 days before, from local midnight) or a date `YYYY-MM-DD`/`YYYYMMDD`
    (from its local midnight): the first second included."""
    now = time.time() if now is None else now
    match = re.fullmatch(r"(\d+)d", text.strip())
    if match:
        days = int(match[1])
        if days < 1:
            raise ValueError(f"--since {text!r}: give at least 1d")
        if days > MAX_DAYS:
            raise ValueError(f"--since {text!r}: at most {MAX_DAYS}d (a century); leave --since out for everything")
        today = time.localtime(now)
        return _local_midnight(today.tm_year, today.tm_mon, today.tm_mday - (days - 1))
    return _date_start(text, "--since", "Nd (e.g. 7d) or a date YYYY-MM-DD")


MAX_DAYS = 36_525


def parse_until(text: str) -> float:
    """A date `YYYY-MM-DD`/`YYYYMMDD`, included: the first second after it (local time)."""
    start = _date_start(text, "--until", "a date YYYY-MM-DD (the last day included; Nd is for --since)")
    day = time.localtime(start + 43200)  # noon of that day, safe across DST changes
    return _local_midnight(day.tm_year, day.tm_mon, day.tm_mday + 1)


def time_window(column: str, since: float | None, until: float | None) -> tuple[str, list[float]]:
    """The SQL condition (and its arguments) for `column` in [since, until); "1" when unbounded."""
    clauses, args = ["1"], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        args.append(since)
    if until is not None:
        clauses.append(f"{column} < ?")
        args.append(until)
    return " AND ".join(clauses), args


def _date_start(text: str, option: str, expected: str) -> float:
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text.strip())
    if not match:
        raise ValueError(f"{option} {text!r}: expected {expected}")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    try:
        date(year, month, day)
    except ValueError:
        raise ValueError(f"{option} {text!r}: no such date") from None
    return _local_midnight(year, month, day)


def _local_midnight(year: int, month: int, day: int) -> float:
    """mktime normalises an out-of-range day (day 0 = the last of the month before)."""
    try:
        return time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
    except (OverflowError, ValueError):
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is out of the range this system's clock handles") from None
