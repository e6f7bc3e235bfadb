"""Attribution, costing and grouping: usage buckets -> the `ccswitch usage --json` shape.

    {"rows": [{"profile", "model", "requests", "input_tokens", "output_tokens",
               "cache_read_tokens", "cache_write_tokens", "cost", "currency"}, ...],
     "totals": {"requests", <the token keys>, "cost", "currency", "costs", "unpriced_requests"}}

`--by day` and `--by session` add a "day" / "session" key to each row; `--by profile` and
`--by model` drop the other one (null). A row never mixes currencies nor priced and unpriced
responses: those are separate rows, so every `cost` is exact or null ("no price known"). The
totals' `cost` is null unless every response was priced in one currency; `costs` has the sum
per currency of what was priced.

Who served a response, in order: the gateway's own record, the launch `ccswitch run` recorded for
the session (both arrive in the bucket as `known_profile`), then the caller's `attribute(session,
model)` (model mappings and `serves` patterns); otherwise "unknown", never guessed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ccswitch.usage.prices import PriceEntry, PriceTable, cost, entries_for, entry_at

UNKNOWN = "unknown"
TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
BY_CHOICES = ("day", "profile", "model", "session")

Attribute = Callable[[str, str], "str | None"]


class Bucket(NamedTuple):
    """Responses that share everything their price depends on (see collect.query_buckets)."""

    known_profile: str | None
    session: str
    model: str
    day: str
    ts: float  # the earliest response in the bucket (picks the price in force)
    hour_of_week: int  # Monday 00h UTC = 0; -1 when no price depends on the hour
    prompt_tokens: int  # the smallest prompt in the bucket (picks the tier)
    fast: bool
    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int


@dataclass
class Report:
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    daily: dict[str, dict[str, Any]] = field(default_factory=dict)  # day -> tokens, costs, profiles

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "totals": self.totals}


def build_report(
    buckets: Iterable[Bucket],
    *,
    prices: Mapping[str, PriceTable],
    attribute: Attribute | None = None,
    by: str | None = None,
) -> Report:
    if by is not None and by not in BY_CHOICES:
        raise ValueError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    attributed: dict[tuple[str, str], str] = {}
    looked_up: dict[tuple[str, str], Sequence[PriceEntry]] = {}
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    daily: dict[str, dict[str, Any]] = {}
    for bucket in buckets:
        profile = bucket.known_profile or _attributed(attributed, attribute, bucket.session, bucket.model)
        key = (profile, bucket.model)
        entries = looked_up.get(key)
        if entries is None:
            entries = looked_up[key] = entries_for(prices.get(profile) or {}, bucket.model)
        priced = _price(bucket, entry_at(entries, bucket.ts))
        currency = priced[1] if priced else None
        amount = priced[0] if priced else None
        row = rows.setdefault(_row_key(by, bucket, profile, currency), _new_row(by, bucket, profile, currency))
        _add(row, bucket, amount)
        _add_daily(daily, bucket, profile, amount, currency)
    ordered = sorted(rows.values(), key=_sort_key)
    return Report(ordered, _totals(ordered), dict(sorted(daily.items())))


def _attributed(cache: dict[tuple[str, str], str], attribute: Attribute | None, session: str, model: str) -> str:
    key = (session, model)
    found = cache.get(key)
    if found is None:
        found = (attribute(session, model) if attribute else None) or UNKNOWN
        cache[key] = found
    return found


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
    extra = bucket.day if by == "day" else bucket.session if by == "session" else None
    return (extra, profile, bucket.model, currency)


def _new_row(by: str | None, bucket: Bucket, profile: str, currency: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if by == "day":
        row["day"] = bucket.day
    elif by == "session":
        row["session"] = bucket.session
    row["profile"] = None if by == "model" else profile
    row["model"] = None if by == "profile" else bucket.model
    row.update({"requests": 0, **{key: 0 for key in TOKEN_KEYS}, "cost": None, "currency": currency})
    return row


def _add(row: dict[str, Any], bucket: Bucket, amount: float | None) -> None:
    row["requests"] += bucket.requests
    for key in TOKEN_KEYS:
        row[key] += getattr(bucket, key)
    if amount is not None:
        row["cost"] = (row["cost"] or 0.0) + amount


def _add_daily(daily: dict[str, dict[str, Any]], bucket: Bucket, profile: str, amount: float | None, currency: str | None) -> None:
    day = daily.setdefault(bucket.day, {"tokens": 0, "costs": {}, "unpriced_requests": 0, "profiles": {}})
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


def _sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    first = row.get("day") or row.get("session") or ""
    return (first, str(row["profile"]), str(row["model"]), -row["requests"])


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {"requests": 0, **{key: 0 for key in TOKEN_KEYS}}
    costs: dict[str, float] = {}
    unpriced = 0
    for row in rows:
        totals["requests"] += row["requests"]
        for key in TOKEN_KEYS:
            totals[key] += row[key]
        if row["cost"] is None:
            unpriced += row["requests"]
        else:
            costs[row["currency"]] = costs.get(row["currency"], 0.0) + row["cost"]
    single = len(costs) == 1 and not unpriced
    totals["cost"] = next(iter(costs.values())) if single else (0.0 if not costs and not unpriced else None)
    totals["currency"] = next(iter(costs)) if single else None
    totals["costs"] = costs
    totals["unpriced_requests"] = unpriced
    return totals


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
        today = time.localtime(now)
        return _local_midnight(today.tm_year, today.tm_mon, today.tm_mday - (days - 1))
    return _date_start(text, "--since")


def parse_until(text: str) -> float:
    """A date `YYYY-MM-DD`/`YYYYMMDD`, included: the first second after it (local time)."""
    start = _date_start(text, "--until")
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


def _date_start(text: str, option: str) -> float:
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text.strip())
    if not match:
        raise ValueError(f"{option} {text!r}: expected Nd (e.g. 7d) or a date YYYY-MM-DD")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(f"{option} {text!r}: not a date")
    return _local_midnight(year, month, day)


def _local_midnight(year: int, month: int, day: int) -> float:
    """mktime normalises an out-of-range day (day 0 = the last of the month before)."""
    return time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
