"""A profile's declared quota windows: the format, checked (profiles/schema.py calls `parse_quotas`).

Coding plans sell a number of prompts or requests per window (GLM: prompts per 5 hours; Alibaba:
requests per 5 hours, per week and per month). A profile declares one window as a table, several
as an array of tables (docs/usage.md, "Windows and quotas"):

    quota = { window = "5h", prompts = 600 }

    [[profiles.qwen-coding.quota]]
    window = "5h"                # a duration: 30m, 5h, 1d, 7d, 1w, 1mo
    requests = 6000              # the limit, in one measure: prompts, requests or tokens (none: only tracked)
    reset = "rolling"            # rolling (default): the last `window` before now;
                                 # block: starts at the first use after the previous block ended;
                                 # fixed: back to back from `anchor`
    anchor = "2026-01-05T00:00:00+08:00"   # fixed windows only: a start of one of them (an offset,
                                           # or local time without one); default: local midnight of
                                           # Monday 2001-01-01 (days, weeks), the 1st (months)
    plan = "pro"                 # this entry applies to the profile whose `plan` says "pro"
    source = "https://..."       # where the numbers come from (presets), and when they were read:
    checked = "2026-12-05"

Pure and light (it is imported by the launch path's schema check): re only; dates are parsed with
datetime only when a quota has an anchor.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Mapping

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

MEASURES = ("prompts", "requests", "tokens")
RESETS = ("rolling", "block", "fixed")
KEYS = ("window", *MEASURES, "reset", "anchor", "plan", "source", "checked", "note")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)\s*(mo|m|h|d|w)")


class QuotaError(ValueError):
    """One wrong quota entry: `key` is the key at fault (None: the entry itself), `index` the entry."""

    def __init__(self, index: int | None, key: str | None, message: str) -> None:
        super().__init__(message)
        self.index, self.key = index, key


class Quota(namedtuple("Quota", [
    "window",   # str  # as written: "5h"
    "seconds",  # int  # the window's length for m/h/d/w; 0 for months
    "months",   # int  # the window's length in months ("1mo"); 0 otherwise
    "measure",  # str  # prompts | requests | tokens
    "limit",    # int | None  # None: tracked, never "used up"
    "reset",    # str  # rolling | block | fixed
    "anchor",   # tuple[int, int, int, int, int, int, int | None] | None  # y, m, d, H, M, S, UTC offset s (None: local)
    "plan",     # str | None
    "source",   # str
    "checked",  # str
    "note",     # str
], defaults=["", "", ""])):
    __slots__ = ()


def parse_quotas(raw: Any) -> list[Quota]:
    """The `quota` value of a profile (a table or an array of tables) as Quota entries."""
    entries = raw if isinstance(raw, list) else [raw]
    if not entries:
        raise QuotaError(None, None, "quota: an empty array (leave `quota` out for no quota)")
    index = None if not isinstance(raw, list) else 0
    quotas = []
    for position, entry in enumerate(entries):
        here = position if index is not None else None
        quotas.append(_parse_entry(entry, here))
    return quotas


def _parse_entry(entry: Any, index: int | None) -> Quota:
    where = "quota" if index is None else f"quota[{index}]"
    if not isinstance(entry, Mapping):
        raise QuotaError(index, None, f"{where}: must be a table such as {{ window = \"5h\", prompts = 600 }}")
    for key in entry:
        if key not in KEYS:
            raise QuotaError(index, key, f"{where}: unknown key {key!r} (known: {', '.join(KEYS)})")
    window = entry.get("window")
    if window is None:
        raise QuotaError(index, None, f"{where}: missing `window` (a duration: 5h, 7d, 1mo)")
    seconds, months = parse_duration(window, f"{where}.window", index)
    limits = [key for key in MEASURES if key in entry]
    if len(limits) > 1:
        raise QuotaError(index, limits[1], f"{where}: one measure per window ({' or '.join(limits)}); "
                                           "give each its own entry")
    measure = limits[0] if limits else "requests"
    limit = entry.get(measure)
    if limits and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise QuotaError(index, measure, f"{where}.{measure}: must be a whole number above 0, not {limit!r}")
    reset = entry.get("reset", "rolling")
    if reset not in RESETS:
        raise QuotaError(index, "reset", f"{where}.reset: {reset!r} is not one of {', '.join(RESETS)}")
    anchor = entry.get("anchor")
    if anchor is not None and reset != "fixed":
        raise QuotaError(index, "anchor", f"{where}.anchor: only a fixed window has an anchor (reset = \"fixed\")")
    if months and reset != "fixed":
        raise QuotaError(index, "window", f"{where}.window: a window in months resets on a date: "
                                          "give it reset = \"fixed\" (and its anchor)")
    for key in ("plan", "source", "checked", "note"):
        if key in entry and not isinstance(entry[key], str):
            raise QuotaError(index, key, f"{where}.{key}: must be a string")
    return Quota(str(window), seconds, months, measure, limit if limits else None, str(reset),
                 parse_anchor(anchor, f"{where}.anchor", index) if anchor is not None else None,
                 entry.get("plan"), str(entry.get("source", "")), str(entry.get("checked", "")),
                 str(entry.get("note", "")))


def parse_duration(text: Any, where: str, index: int | None = None) -> tuple[int, int]:
    """(seconds, months) of "30m", "5h", "7d", "1w", "1mo"."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or int(match[1]) < 1:
        raise QuotaError(index, "window", f"{where}: {text!r} is not a duration (30m, 5h, 7d, 1w, 1mo)")
    number, unit = int(match[1]), match[2]
    if unit == "mo":
        if number > 120:
            raise QuotaError(index, "window", f"{where}: {text!r} is longer than ten years")
        return 0, number
    if number * _UNITS[unit] > 3660 * 86400:
        raise QuotaError(index, "window", f"{where}: {text!r} is longer than ten years")
    return number * _UNITS[unit], 0


def parse_anchor(value: Any, where: str, index: int | None = None) -> tuple[int, int, int, int, int, int, int | None]:
    """A date or date and time, with a UTC offset or (local time) without: the fields and the
    offset in seconds."""
    from datetime import date, datetime

    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise QuotaError(index, "anchor", f"{where}: {value!r} is not a date or time such as "
                                          "\"2026-01-05\" or \"2026-01-05T00:00:00+08:00\"") from None
    offset = parsed.utcoffset()
    return (parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
            int(offset.total_seconds()) if offset is not None else None)


def as_table(quota: Quota) -> dict[str, object]:
    """`quota` as a table that `parse_quotas` reads back (the gateway's config carries these): its
    window, measure and limit, reset and anchor; not its plan or where its numbers come from."""
    table: dict[str, object] = {"window": quota.window, "reset": quota.reset}
    if quota.limit is not None:
        table[quota.measure] = quota.limit
    if quota.anchor is not None:
        year, month, day, hour, minute, second, offset = quota.anchor
        anchor = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        if offset is not None:
            hours, rest = divmod(abs(offset), 3600)
            anchor += f"{'-' if offset < 0 else '+'}{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")
        table["anchor"] = anchor
    return table


def in_force(quotas: list[Quota], plan: str | None) -> list[Quota]:
    """The entries that apply to a profile on `plan`: those of no plan, and those of its plan."""
    return [quota for quota in quotas if quota.plan is None or quota.plan == plan]


def plans(quotas: list[Quota]) -> list[str]:
    return sorted({quota.plan for quota in quotas if quota.plan is not None})


def counted(count: int, plural: str) -> str:
    """"1 request", "1,200 requests": `plural` is the noun's plural ending in s (a quota's measure).
    Here, with the measures, so the gateway's words and `usage`'s agree."""
    return f"{count:,} {plural[:-1] if count == 1 else plural}"
