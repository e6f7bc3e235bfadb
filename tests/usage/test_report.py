"""Prices, costing, --since/--until/--by, and the rendering at 80 columns."""

from __future__ import annotations

import calendar
import os
import re
import time

import pytest

from ccswitch.usage import prices as p
from ccswitch.usage.render import chart_lines, render
from ccswitch.usage.report import Bucket, build_report, parse_since, parse_until

UTC_NOON = calendar.timegm((2026, 11, 30, 12, 0, 0))


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def preset_prices():
    """The presets' price tables, as `ccswitch usage` builds them (profiles/<preset>.toml)."""
    import os

    from ccswitch.profiles.cache import load_profiles
    from ccswitch.usage.providers import price_tables

    return price_tables(load_profiles(os.environ))


def entry(**extra):
    return p.parse_entry({"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "currency": "USD", **extra}, "t")


def test_cost_per_million_and_unknown_rates_give_none():
    e = entry()
    assert p.cost(e, input_tokens=1_000_000, output_tokens=1_000_000) == pytest.approx(18.0)
    bare = p.parse_entry({"input": 1, "output": 2, "currency": "CNY"}, "t")
    assert p.cost(bare, input_tokens=10, output_tokens=10, cache_read_tokens=5) is None
    assert p.cost(bare, input_tokens=10, output_tokens=10, cache_write_tokens=5) is None
    assert p.cost(e, input_tokens=1, output_tokens=1, fast=True) is None  # fast mode, no multiplier known


def test_long_context_rate_bills_the_whole_request_above_200k():
    sonnet = p.find_entry(p.ANTHROPIC, "claude-sonnet-4-5-20250929", UTC_NOON)
    below = p.cost(sonnet, input_tokens=10_000, output_tokens=1000, cache_read_tokens=190_000)
    above = p.cost(sonnet, input_tokens=10_001, output_tokens=1000, cache_read_tokens=190_000)
    assert below == pytest.approx((10_000 * 3 + 1000 * 15 + 190_000 * 0.3) / 1e6)
    assert above == pytest.approx((10_001 * 6 + 1000 * 22.5 + 190_000 * 0.6) / 1e6)
    haiku = p.find_entry(p.ANTHROPIC, "claude-haiku-5-5", UTC_NOON)
    assert p.cost(haiku, input_tokens=100_001, output_tokens=0) == pytest.approx(100_001 * 0.5 / 1e6)


def test_one_hour_cache_writes_fast_mode_and_price_dates():
    opus = p.find_entry(p.ANTHROPIC, "claude-opus-4-6", UTC_NOON)
    assert p.cost(opus, input_tokens=0, output_tokens=0, cache_write_tokens=10, cache_write_1h_tokens=4) == pytest.approx(
        (6 * 6.25 + 4 * 10) / 1e6)
    assert p.cost(opus, input_tokens=0, output_tokens=1_000_000, fast=True) == pytest.approx(150.0)
    before = p.find_entry(p.ANTHROPIC, "claude-sonnet-5-5", calendar.timegm((2026, 10, 6, 0, 0, 0)))
    after = p.find_entry(p.ANTHROPIC, "claude-sonnet-5-5", calendar.timegm((2026, 10, 7, 0, 0, 0)))
    assert (before.rates.cache_read, after.rates.cache_read) == (0.20, 0.10)


def test_off_peak_hours_and_canonical_names():
    deepseek = preset_prices()["deepseek"]
    e = p.find_entry(deepseek, "deepseek-v4-pro", UTC_NOON)
    monday_2am = 0 * 24 + 2
    assert p.cost(e, input_tokens=1_000_000, output_tokens=0, hour_of_week=monday_2am) == pytest.approx(1.32)
    assert p.cost(e, input_tokens=1_000_000, output_tokens=0, hour_of_week=5 * 24 + 2) == pytest.approx(0.66)  # Saturday
    assert p.find_entry(deepseek, "deepseek-v4-pro", calendar.timegm((2026, 1, 1, 0, 0, 0))) is None  # before the scheme
    for name in ("us.anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5@20251101", "anthropic/claude-opus-4.5"):
        assert p.find_entry(p.ANTHROPIC, name, UTC_NOON) is p.ANTHROPIC["claude-opus-4-5"][0]
    assert p.find_entry(p.ANTHROPIC, "glm-5.1", UTC_NOON) is None


def test_price_table_errors_name_the_place():
    with pytest.raises(p.PriceError, match=r'profiles.glm.prices."glm-5.1": missing \'output\''):
        p.parse_table({"glm-5.1": {"input": 1, "currency": "CNY"}}, "profiles.glm.prices")
    with pytest.raises(p.PriceError, match="unknown key 'inptu'"):
        p.parse_table({"m": {"inptu": 1, "output": 1, "currency": "USD"}}, "x")
    with pytest.raises(p.PriceError, match="currency"):
        p.parse_table({"m": {"input": 1, "output": 1}}, "x")
    with pytest.raises(p.PriceError, match="bad window"):
        p.parse_table({"m": {"input": 1, "output": 1, "currency": "USD", "off_peak": {"factor": 0.5, "peak_utc": ["9-3"]}}}, "x")


def test_preset_prices_carry_sources_and_dates():
    tables = preset_prices()
    assert {"zai", "kimi-intl", "deepseek", "minimax-intl", "qwen", "qwen-intl"} <= set(tables)
    for table in tables.values():
        for entries in table.values():
            for e in entries:
                assert e.source.startswith("https://") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", e.checked)
    qwen = p.find_entry(tables["qwen"], "qwen3-coder-plus", UTC_NOON)
    assert qwen.currency == "CNY" and p.cost(qwen, input_tokens=40_000, output_tokens=0) == pytest.approx(0.24)
    intl = p.find_entry(tables["qwen-intl"], "qwen3-coder-plus", UTC_NOON)  # the same model, billed in USD abroad
    assert intl.currency == "USD" and p.cost(intl, input_tokens=40_000, output_tokens=1000) == pytest.approx(
        (40_000 * 1.8 + 1000 * 9.0) / 1e6)  # above 32k: the whole request at the second tier


def bucket(profile, model, day="2026-11-30", *, session="s1", requests=1, tokens=(1000, 100, 0, 0), ts=UTC_NOON, fast=False):
    return Bucket(profile, session, model, day, ts, -1, tokens[0] + tokens[2] + tokens[3], fast, requests, *tokens, 0)


def test_report_rows_attribution_and_totals():
    buckets = [bucket("zai", "glm-5.1"), bucket(None, "claude-sonnet-4-5", session="s2", requests=2),
               bucket(None, "mystery", session="s3"), bucket("zai", "glm-5.1", "2026-11-29")]
    seen = []

    def attribute(model):
        seen.append(model)
        return "anthropic" if model.startswith("claude") else None

    prices = {"zai": preset_prices()["zai"], "anthropic": p.ANTHROPIC}
    report = build_report(buckets, prices=prices, attribute=attribute)
    got = {(r["profile"], r["model"]): (r["requests"], r["cost"], r["currency"]) for r in report.rows}
    assert got[("zai", "glm-5.1")] == (2, pytest.approx(2 * (1000 * 1.4 + 100 * 4.4) / 1e6), "USD")
    assert got[("unknown", "mystery")] == (1, None, None)
    assert sorted(seen) == ["claude-sonnet-4-5", "mystery"]  # once per model; gateway/run profiles are not re-attributed
    totals = report.totals
    assert totals["requests"] == 5 and totals["cost"] is None and totals["unpriced_requests"] == 1
    assert set(totals["costs"]) == {"USD"} and set(report.to_json()) == {"schema", "rows", "totals"}
    by_day = build_report(buckets, prices=prices, attribute=attribute, by="day")
    assert [(r["day"], r["profile"]) for r in by_day.rows][:1] == [("2026-11-29", "zai")]
    by_profile = build_report(buckets, prices=prices, attribute=attribute, by="profile")
    assert {(r["profile"], r["model"], r["requests"]) for r in by_profile.rows} == {
        ("zai", None, 2), ("anthropic", None, 2), ("unknown", None, 1)}
    by_model = build_report(buckets, prices=prices, by="model")
    assert all(r["profile"] is None for r in by_model.rows)
    with pytest.raises(ValueError, match="--by"):
        build_report(buckets, prices=prices, by="year")


def test_since_and_until_are_local_days():
    now = calendar.timegm((2026, 11, 30, 15, 0, 0))
    assert parse_since("1d", now) == calendar.timegm((2026, 11, 30, 0, 0, 0))
    assert parse_since("7d", now) == calendar.timegm((2026, 11, 24, 0, 0, 0))
    assert parse_since("2026-11-01") == parse_since("20261101") == calendar.timegm((2026, 11, 1, 0, 0, 0))
    assert parse_until("2026-11-30") == calendar.timegm((2026, 12, 1, 0, 0, 0))
    for bad in ("yesterday", "0d", "2026-13-01"):
        with pytest.raises(ValueError):
            parse_since(bad, now)


def test_render_fits_80_columns_without_trailing_spaces():
    buckets = [bucket(f"profile-with-long-name-{i}", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                      f"2026-11-{10 + i}", tokens=(123_456_789, 98_765_432, 1_234_567_890, 55_555_555), requests=123_456)
               for i in range(5)] + [bucket("x", "mystery")]
    prices = {f"profile-with-long-name-{i}": p.ANTHROPIC for i in range(5)}
    for by in (None, "day", "week", "month", "project", "session", "profile", "model"):
        report = build_report(buckets, prices=prices, by=by)
        text = render(report, by)
        assert max(len(line) for line in text.splitlines()) <= 80
        assert all(line == line.rstrip() for line in text.splitlines())
        assert "unknown" in text
    chart = "\n".join(chart_lines(build_report(buckets, prices=prices)))
    assert "Daily tokens (not every cost is known)" in chart and "2026-11-14" in chart
    priced = "\n".join(chart_lines(build_report(buckets[:2], prices=prices)))
    assert "Daily cost (USD)" in priced and "$" in priced
    assert chart_lines(build_report([], prices={})) == ["No usage in this period."]


def test_record_session_is_append_only_and_private(tmp_path):
    from ccswitch.usage.sessions import load_sessions, profile_at, record_session

    state = tmp_path / "state"
    record_session(str(state), "s", "glm", 100.0)
    record_session(str(state), "s", "kimi", 200.0)
    with open(state / "sessions.jsonl", "a") as handle:
        handle.write("{broken\n")
    launches, _, bad = load_sessions(str(state))
    assert bad == 1 and launches == {"s": [(100.0, "glm"), (200.0, "kimi")]}
    assert (profile_at(launches, "s", 150), profile_at(launches, "s", 250), profile_at(launches, "s", 10)) == ("glm", "kimi", None)
    assert oct(os.stat(state / "sessions.jsonl").st_mode & 0o777) == "0o600"
    assert oct(os.stat(state).st_mode & 0o777) == "0o700"


def test_the_launch_path_module_imports_json_and_os_only():
    import subprocess
    import sys

    code = ("import sys; import ccswitch.usage.sessions; "
            "print(sorted(m for m in ('sqlite3', 'rich', 'tomllib', 'ccswitch.usage.scan') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
