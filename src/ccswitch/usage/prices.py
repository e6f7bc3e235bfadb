"""Price entries per model, Anthropic's list prices, and what one response costs.

A price table maps model names to price entries. Presets and profiles carry theirs in TOML, in
price units per million tokens (the unit every provider publishes):

    [profiles.zai.prices."glm-5.1"]
    input = 1.4                 # required
    output = 4.4                # required
    cache_read = 0.26           # optional; a response that read the cache has no cost without it
    cache_write = 0.0           # optional, the same; providers that bill a cache miss as ordinary
                                # input write `cache_write = <input>`: nothing is assumed
    cache_write_1h = 2.8        # optional; Anthropic's 1-hour cache writes (default: cache_write)
    currency = "USD"            # required: USD, CNY, ...
    source = "https://docs.z.ai/guides/overview/pricing"
    checked = "2026-12-02"      # when someone last compared the numbers with `source`
    # optional, all of them:
    tiers = [{ above = 32000, input = 6, output = 24, cache_read = 1.2, cache_write = 6 }]
                                # rates of a request whose prompt (input + cache read + cache write
                                # tokens) is above `above`; the whole request, output included, is
                                # billed at its tier (Anthropic's long context, DashScope's ladders)
    off_peak = { factor = 0.5, peak_utc = ["01-04", "06-10"], weekdays_only = true }
                                # outside the peak hours (UTC, whole hours) everything costs `factor`
    fast_multiplier = 6         # claude's fast mode (usage.speed = "fast"); without it: no cost
    effective_from = "2026-10-07"   # a price change: give the model an array of tables
                                    # ([[profiles.x.prices."m"]]), each with its start date (UTC)

A model missing from a table, or a token kind the entry has no rate for, gives cost None: unknown,
shown as such, never 0. The presets' tables (profiles/<preset>.toml) follow the conventions of
docs/usage.md, "Prices": nothing assumed silently.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Mapping, Sequence
from datetime import date

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

PER = 1_000_000.0


class PriceError(ValueError):
    """A price table that cannot be used; the message names the table, model and key."""


class Rates(namedtuple("Rates", [
    "input",           # float
    "output",          # float
    "cache_read",      # float | None
    "cache_write",     # float | None
    "cache_write_1h",  # float | None
], defaults=[None, None, None])):
    __slots__ = ()


class Tier(namedtuple("Tier", [
    "above",  # int
    "rates",  # Rates
])):
    __slots__ = ()


class PriceEntry(namedtuple("PriceEntry", [
    "rates",            # Rates
    "currency",         # str
    "tiers",            # tuple[Tier, ...]
    "peak_hours",       # frozenset[int] | None  # hours of the week (Monday 00h UTC = 0) billed in full
    "off_peak_factor",  # float
    "fast_multiplier",  # float | None
    "effective_from",   # float  # epoch seconds
    "source",           # str
    "checked",          # str
], defaults=[(), None, 1.0, None, 0.0, "", ""])):
    __slots__ = ()

    def rates_for(self, prompt_tokens: int) -> Rates:
        chosen = self.rates
        for tier in self.tiers:  # sorted by `above`
            if prompt_tokens > tier.above:
                chosen = tier.rates
        return chosen

    def factor_at(self, hour_of_week: int, fast: bool) -> float | None:
        factor = 1.0
        if self.peak_hours is not None and hour_of_week not in self.peak_hours:
            factor = self.off_peak_factor
        if fast:
            if self.fast_multiplier is None:
                return None
            factor *= self.fast_multiplier
        return factor


PriceTable = Mapping[str, Sequence[PriceEntry]]  # model -> entries, oldest effective_from first


def cost(
    entry: PriceEntry,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    prompt_tokens: int | None = None,
    fast: bool = False,
    hour_of_week: int = 0,
) -> float | None:
    """The cost of one response (or of a group of responses that share tier, hour and mode).

    `prompt_tokens` picks the tier; by default it is this usage's own input + cache tokens. None
    when a token kind present here has no rate, or fast mode has no known multiplier.
    """
    if prompt_tokens is None:
        prompt_tokens = input_tokens + cache_read_tokens + cache_write_tokens
    rates = entry.rates_for(prompt_tokens)
    factor = entry.factor_at(hour_of_week, fast)
    if factor is None:
        return None
    total = input_tokens * rates.input + output_tokens * rates.output
    if cache_read_tokens:
        if rates.cache_read is None:
            return None
        total += cache_read_tokens * rates.cache_read
    if cache_write_tokens:
        if rates.cache_write is None:
            return None
        one_hour = min(cache_write_1h_tokens, cache_write_tokens)
        rate_1h = rates.cache_write_1h if rates.cache_write_1h is not None else rates.cache_write
        total += (cache_write_tokens - one_hour) * rates.cache_write + one_hour * rate_1h
    return total * factor / PER


# --- finding the entry for a model -------------------------------------------------------------

_CLAUDE_DATE = re.compile(r"-(?:\d{8}|latest)$")
_CLAUDE_VERSION_DOT = re.compile(r"(?<=\d)\.(?=\d)")


def canonical_model(model: str) -> str:
    """The name a Claude model has in Anthropic's own table, whatever door it came through.

    `claude-sonnet-4-5-20250929`, `us.anthropic.claude-sonnet-4-5-20250929-v1:0` (Bedrock),
    `claude-sonnet-4-5@20250929` (Vertex), `anthropic/claude-sonnet-4.5` (OpenRouter) and
    `claude-sonnet-4-5[1m]` all become `claude-sonnet-4-5`. Other names only lose a `[...]` suffix.
    """
    name = model.strip()
    if name.endswith("]") and "[" in name:
        name = name[: name.rindex("[")]
    lowered = name.lower()
    if "claude" not in lowered:
        return name
    name = lowered.rsplit("/", 1)[-1]
    if "anthropic." in name:
        name = name.split("anthropic.", 1)[1]
    name = name.split("@", 1)[0]
    name = re.sub(r"-v\d+(?::\d+)?$", "", name)
    name = _CLAUDE_DATE.sub("", name)
    return _CLAUDE_VERSION_DOT.sub("-", name)


def find_entry(table: PriceTable, model: str, ts: float) -> PriceEntry | None:
    """The entry in force at `ts` for `model`: an exact name first, then the canonical Claude name."""
    return entry_at(entries_for(table, model), ts)


def entries_for(table: PriceTable, model: str) -> Sequence[PriceEntry]:
    """Every dated entry of `model` in `table` (exact name, else canonical Claude name), or ()."""
    entries = table.get(model)
    if entries is None:
        wanted = canonical_model(model)
        entries = table.get(wanted)
        if entries is None:
            for name, candidates in table.items():
                if canonical_model(name) == wanted:
                    return candidates
    return entries or ()


def entry_at(entries: Sequence[PriceEntry], ts: float) -> PriceEntry | None:
    chosen = None
    for entry in entries:  # oldest effective_from first
        if entry.effective_from <= ts:
            chosen = entry
    return chosen


# --- the TOML format ---------------------------------------------------------------------------

_RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
_ENTRY_KEYS = frozenset(
    {*_RATE_KEYS, "currency", "source", "checked", "tiers", "off_peak", "fast_multiplier", "effective_from"}
)


def parse_table(data: Mapping[str, Any], where: str) -> dict[str, tuple[PriceEntry, ...]]:
    """A `{model: entry-table or [entry-tables]}` mapping (a `prices` table read from TOML)."""
    if not isinstance(data, Mapping):
        raise PriceError(f"{where}: prices must be a table of models")
    table: dict[str, tuple[PriceEntry, ...]] = {}
    for model, value in data.items():
        here = f'{where}."{model}"'
        raw = value if isinstance(value, list) else [value]
        entries = [parse_entry(item, f"{here}[{i}]" if isinstance(value, list) else here) for i, item in enumerate(raw)]
        if not entries:
            raise PriceError(f"{here}: no price entry")
        if len({e.effective_from for e in entries}) < len(entries):
            raise PriceError(f"{here}: each entry of a price change needs its own effective_from date")
        entries.sort(key=lambda e: e.effective_from)
        table[model] = tuple(entries)
    return table


def parse_entry(data: Any, where: str) -> PriceEntry:
    if not isinstance(data, Mapping):
        raise PriceError(f"{where}: must be a table with input, output and currency")
    unknown = sorted(set(data) - _ENTRY_KEYS)
    if unknown:
        raise PriceError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_ENTRY_KEYS))})")
    currency = data.get("currency")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise PriceError(f"{where}: currency must be a three-letter code such as USD or CNY")
    peak, factor = _parse_off_peak(data.get("off_peak"), where)
    return PriceEntry(
        rates=_parse_rates(data, where),
        currency=currency,
        tiers=_parse_tiers(data.get("tiers", []), where),
        peak_hours=peak,
        off_peak_factor=factor,
        fast_multiplier=_number(data, "fast_multiplier", where, required=False),
        effective_from=_parse_date(data.get("effective_from"), where),
        source=str(data.get("source", "")),
        checked=str(data.get("checked", "")),
    )


def _number(data: Mapping[str, Any], key: str, where: str, *, required: bool) -> float | None:
    value = data.get(key)
    if value is None:
        if required:
            raise PriceError(f"{where}: missing {key!r} (price per million tokens)")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PriceError(f"{where}: {key} must be a number >= 0, not {value!r}")
    return float(value)


def _parse_rates(data: Mapping[str, Any], where: str) -> Rates:
    rates = {key: _number(data, key, where, required=key in ("input", "output")) for key in _RATE_KEYS}
    return Rates(**rates)  # type: ignore[arg-type]


def _parse_tiers(raw: Any, where: str) -> tuple[Tier, ...]:
    if not isinstance(raw, list):
        raise PriceError(f"{where}: tiers must be an array of tables")
    tiers = []
    for i, item in enumerate(raw):
        here = f"{where}.tiers[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"above", *_RATE_KEYS}:
            raise PriceError(f"{here}: a tier has `above` and the rate keys only")
        above = item.get("above")
        if isinstance(above, bool) or not isinstance(above, int) or above < 0:
            raise PriceError(f"{here}: above must be a whole number of tokens")
        tiers.append(Tier(above, _parse_rates(item, here)))
    return tuple(sorted(tiers, key=lambda t: t.above))


def _parse_off_peak(raw: Any, where: str) -> tuple[frozenset[int] | None, float]:
    if raw is None:
        return None, 1.0
    here = f"{where}.off_peak"
    if not isinstance(raw, Mapping) or set(raw) - {"factor", "peak_utc", "weekdays_only"}:
        raise PriceError(f"{here}: needs factor and peak_utc (and optionally weekdays_only)")
    factor = _number(raw, "factor", here, required=True)
    windows = raw.get("peak_utc")
    if not isinstance(windows, list) or not windows:
        raise PriceError(f'{here}: peak_utc is a list of whole-hour windows such as "01-04"')
    days = range(5) if raw.get("weekdays_only", False) else range(7)
    hours: set[int] = set()
    for window in windows:
        match = re.fullmatch(r"(\d{1,2})(?::00)?-(\d{1,2})(?::00)?", str(window))
        if not match or not 0 <= int(match[1]) < int(match[2]) <= 24:
            raise PriceError(f'{here}: bad window {window!r} (whole hours, e.g. "01-04")')
        hours.update(day * 24 + hour for day in days for hour in range(int(match[1]), int(match[2])))
    return frozenset(hours), float(factor or 0.0)


def _parse_date(raw: Any, where: str) -> float:
    if raw is None:
        return 0.0
    text = str(raw)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not match:
        raise PriceError(f"{where}: effective_from must be a date, YYYY-MM-DD")
    return utc_midnight(int(match[1]), int(match[2]), int(match[3]))


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def utc_midnight(year: int, month: int, day: int) -> float:
    """Seconds since the epoch at 00:00 UTC of that day (calendar.timegm without its import)."""
    return float((date(year, month, day).toordinal() - _EPOCH_DAY) * 86400)


# --- Anthropic's list prices -------------------------------------------------------------------

ANTHROPIC_SOURCE = "https://platform.claude.com/docs/en/about-claude/pricing"
ANTHROPIC_CHECKED = "2026-12-02"


def _claude(
    input: float, output: float, read: float, write: float, write_1h: float, **extra: Any
) -> PriceEntry:
    return PriceEntry(
        rates=Rates(input, output, read, write, write_1h),
        currency="USD",
        source=extra.pop("source", ANTHROPIC_SOURCE),
        checked=ANTHROPIC_CHECKED,
        **extra,
    )


def _long_context(above: int, input: float, output: float, read: float, write: float, write_1h: float) -> Tier:
    return Tier(above, Rates(input, output, read, write, write_1h))


_SONNET_4 = _claude(3, 15, 0.30, 3.75, 6, tiers=(_long_context(200_000, 6, 22.5, 0.60, 7.5, 12),))
_OPUS_45 = _claude(5, 25, 0.50, 6.25, 10)
_GA_1M = utc_midnight(2026, 3, 13)  # 1M context GA for Opus/Sonnet 4.6: no premium since

ANTHROPIC: dict[str, tuple[PriceEntry, ...]] = {
    "claude-fable-5-1": (_claude(10, 50, 0.25, 12.5, 20),),
    "claude-mythos-5-1": (_claude(10, 50, 0.25, 12.5, 20),),
    "claude-fable-5": (_claude(10, 50, 1.0, 12.5, 20),),
    "claude-mythos-5": (_claude(10, 50, 1.0, 12.5, 20),),
    "claude-opus-5-5": (_claude(4, 20, 0.20, 5, 8, fast_multiplier=2.0,
                                source="https://platform.claude.com/docs/en/models/opus-5-5/overview"),),
    "claude-opus-5": (_OPUS_45,),
    "claude-opus-4-8": (_claude(5, 25, 0.50, 6.25, 10, fast_multiplier=2.0),),
    "claude-opus-4-7": (_claude(5, 25, 0.50, 6.25, 10, fast_multiplier=6.0),),
    "claude-opus-4-6": (
        _claude(5, 25, 0.50, 6.25, 10, fast_multiplier=6.0,
                tiers=(_long_context(200_000, 10, 37.5, 1.0, 12.5, 20),)),
        _claude(5, 25, 0.50, 6.25, 10, fast_multiplier=6.0, effective_from=float(_GA_1M)),
    ),
    "claude-opus-4-5": (_OPUS_45,),
    "claude-opus-4-1": (_claude(15, 75, 1.50, 18.75, 30),),
    "claude-opus-4": (_claude(15, 75, 1.50, 18.75, 30),),
    "claude-3-opus": (_claude(15, 75, 1.50, 18.75, 30),),
    "claude-sonnet-5-5": (
        _claude(2, 10, 0.20, 2.5, 4, source="https://platform.claude.com/docs/en/models/sonnet-5-5/overview"),
        _claude(2, 10, 0.10, 2.5, 4, effective_from=utc_midnight(2026, 10, 7)),
    ),
    "claude-sonnet-5": (_claude(2, 10, 0.20, 2.5, 4),),
    "claude-sonnet-4-6": (_SONNET_4, _claude(3, 15, 0.30, 3.75, 6, effective_from=float(_GA_1M))),
    "claude-sonnet-4-5": (_SONNET_4,),
    "claude-sonnet-4": (_SONNET_4,),
    "claude-3-7-sonnet": (_claude(3, 15, 0.30, 3.75, 6),),
    "claude-3-5-sonnet": (_claude(3, 15, 0.30, 3.75, 6),),
    "claude-haiku-5-5": (
        _claude(0.10, 0.50, 0.01, 0.125, 0.20, tiers=(_long_context(100_000, 0.50, 2.50, 0.05, 0.625, 1.0),)),
    ),
    "claude-haiku-4-5": (_claude(1, 5, 0.10, 1.25, 2),),
    "claude-3-5-haiku": (_claude(0.80, 4, 0.08, 1, 1.6),),
    "claude-3-haiku": (_claude(0.25, 1.25, 0.03, 0.30, 0.50),),
}
"""Anthropic's list prices (USD per million tokens) for the Claude API, also what Bedrock, Vertex
and Foundry charge for the same model at their global endpoints. Sonnet 4/4.5 (and Opus/Sonnet
4.6 before 1M context went GA on 2026-03-13) bill a request whose prompt is above 200k tokens at
the long-context rates, output included; Haiku 5.5 does the same above 100k. Sonnet 5.5's cache
reads went from $0.20 to $0.10 on 2026-10-07."""
