"""`ccswitch usage` end to end: transcripts in the private home, launch records, prices from the
profiles; table, --json, --by, --since, warnings and errors."""

from __future__ import annotations

import json
import time

import pytest
from support.usage_lines import assistant, user
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.commands import front_door
from ccswitch.usage.sessions import record_session


def usage(capsys, *args: str):
    status = front_door.main(["usage", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_run_sessions_are_attributed_and_priced_from_the_profiles_preset(write_transcript, state_dir, capsys):
    record_session(str(state_dir), "s-zai", "zai", time.mktime((2026, 11, 29, 0, 0, 0, 0, 0, -1)))
    write_transcript("a.jsonl", [
        user(),
        assistant("m1", "r1", session="s-zai", model="glm-5.1", input=1000, output=100, cache_read=0, cache_write=0),
        assistant("m2", "r2", session="s-other", model="mystery-1", input=10, output=1, cache_read=0, cache_write=0),
    ])
    status, out, err = usage(capsys, "--json")
    assert status == 0 and err == ""
    rows = {row["profile"]: row for row in json.loads(out)["rows"]}
    assert rows["zai"]["model"] == "glm-5.1" and rows["zai"]["requests"] == 1
    assert rows["zai"]["cost"] == pytest.approx((1000 * 1.4 + 100 * 4.4) / 1e6) and rows["zai"]["currency"] == "USD"
    assert rows["unknown"]["cost"] is None
    status, out, _ = usage(capsys)
    assert status == 0 and "zai" in out and "unknown" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_by_day_since_and_an_empty_window(write_transcript, capsys):
    write_transcript("a.jsonl", [assistant("m1", "r1", model="claude-sonnet-4-5", ts="2026-11-30T10:00:00.000Z")])
    _, out, _ = usage(capsys, "--json", "--by", "day")
    (row,) = json.loads(out)["rows"]
    assert row["day"] in ("2026-11-30", "2026-12-01", "2026-11-29")  # local day of a UTC morning
    status, out, _ = usage(capsys, "--since", "2099-01-01")
    assert status == 0 and out.startswith("No usage in this period: 1 transcript file(s) under ")


def test_malformed_lines_are_one_warning_and_the_rest_counts(write_transcript, capsys):
    write_transcript("a.jsonl", [assistant("m1", "r1"), '{"type":"assistant","message":{"usage":{"input_tokens":',
                                        assistant("m2", "r2")])
    status, out, err = usage(capsys, "--json")
    assert status == 0 and json.loads(out)["totals"]["requests"] == 2
    assert err.count("\n") == 1 and "skipped 1 malformed line" in err


@pytest.mark.parametrize("args,message", [
    (["--since", "3x"], "--since '3x': expected Nd"),
    (["--by", "year"], "--by 'year': choose one of day, week, month, project, profile, model, session"),
    (["--since", "2026-02-01", "--until", "2026-01-01"], "--until 2026-01-01 is before --since 2026-02-01"),
])
def test_bad_options_are_one_line_and_exit_2(capsys, args, message):
    status, out, err = usage(capsys, *args)
    assert status == 2 and out == "" and message in err and err.count("\n") == 1


def test_an_unwritable_state_dir_is_one_line(write_transcript, state_dir, capsys):
    write_transcript("a.jsonl", [assistant("m1", "r1")])
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    state_dir.write_text("not a directory")
    status, out, err = usage(capsys)
    assert status == 1 and out == "" and err.startswith("ccswitch: error: usage index in ") and err.count("\n") == 1


def test_typer_gives_the_same_answer(write_transcript, capsys, monkeypatch):
    write_transcript("a.jsonl", [assistant("m1", "r1")])
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = usage(capsys, "--json", "--by=model")
    result = CliRunner().invoke(app, ["usage", "--json", "--by=model"])
    assert (status, out) == (result.exit_code, result.stdout)
    assert "Example: ccswitch usage" in CliRunner().invoke(app, ["usage", "--help"]).stdout


def test_by_week_month_project_and_session(write_transcript, state_dir, capsys, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    record_session(str(state_dir), "11111111-2222-4333-8444-555555555555", "zai", 0)
    record_session(str(state_dir), "99999999-2222-4333-8444-555555555555", "zai", 0)
    early, late = "11111111-2222-4333-8444-555555555555", "99999999-2222-4333-8444-555555555555"
    write_transcript("a.jsonl", [
        assistant("m1", "r1", session=early, model="glm-5.1", ts="2026-11-29T10:00:00.000Z", input=1000, output=100,
                  cache_read=0, cache_write=0),                                 # Sunday of ISO week 48
        assistant("m2", "r2", session=late, model="glm-5.1", ts="2026-11-30T10:00:00.000Z", input=1000, output=100,
                  cache_read=0, cache_write=0).replace('"cwd":"/p"', '"cwd":"/work/b"'),  # Monday, week 49
        assistant("m3", "r3", session=late, model="glm-5.1", ts="2026-12-01T09:00:00.000Z", input=1000, output=100,
                  cache_read=0, cache_write=0).replace('"cwd":"/p"', '"cwd":"/work/b"'),  # December
    ])
    one = (1000 * 1.4 + 100 * 4.4) / 1e6

    def rows(by):
        status, out, _ = usage(capsys, "--json", "--by", by)
        assert status == 0
        return json.loads(out)["rows"]

    assert [(r["week"], r["requests"]) for r in rows("week")] == [("2026-W48", 1), ("2026-W49", 2)]
    assert [(r["month"], r["requests"], r["cost"]) for r in rows("month")] == [
        ("2026-11", 2, pytest.approx(2 * one)), ("2026-12", 1, pytest.approx(one))]
    assert [(r["project"], r["requests"]) for r in rows("project")] == [("/p", 1), ("/work/b", 2)]
    sessions = rows("session")
    assert [r["session"] for r in sessions] == [late, early]  # whole ids, newest first
    assert (sessions[0]["first"], sessions[0]["last"], sessions[0]["project"]) == (
        "2026-11-30 10:00", "2026-12-01 09:00", "/work/b")
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = usage(capsys, "--by", "session")
    assert status == 0 and late in out and early in out and max(map(len, out.splitlines())) <= 80
    assert out.index(late) < out.index(early)


def test_windows_show_each_profiles_use_against_its_quota(write_transcript, state_dir, profiles_file, capsys):
    profiles_file('[profiles.zai]\nextends = "zai"\nplan = "lite"\n'
                  '[profiles.mine]\nbase_url = "http://127.0.0.1:9"\ntoken = "t-0123456789"\n'
                  'models = { opus = "mine-1" }\nquota = [{ window = "5h", requests = 2 }, { window = "1w", requests = 100, '
                  'reset = "fixed" }]\n')
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - 600))
    record_session(str(state_dir), "s-zai", "zai", now - 3600)
    write_transcript("a.jsonl", [
        user("go", sessionId="s-zai"),
        assistant("m1", "r1", session="s-zai", model="glm-5.1", ts=stamp),
        assistant("m2", "r2", session="s-mine", model="mine-1", ts=stamp),
        assistant("m3", "r3", session="s-mine", model="mine-1", ts=stamp),
    ])
    status, out, err = usage(capsys, "--windows", "--json")
    assert status == 0 and err == ""
    data = json.loads(out)
    got = {(w["profile"], w["window"]): (w["used"], w["limit"], w["measure"], w["over"]) for w in data["windows"]}
    assert got == {("zai", "5h"): (1, 120, "prompts", False), ("mine", "5h"): (2, 2, "requests", True),
                   ("mine", "1w"): (2, 100, "requests", False)}
    zai = next(w for w in data["windows"] if w["profile"] == "zai")
    assert zai["reset"] == "block" and zai["source"] == "https://docs.z.ai/devpack/faq" and zai["resets_at"]
    status, out, _ = usage(capsys, "--windows")
    assert status == 0 and "2/2 requests" in out and "1/120 prompts" in out and "5h block (lite)" in out


def test_windows_say_1_request_not_1_requests(write_transcript, state_dir, profiles_file, capsys):
    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9"\ntoken = "t-0123456789"\n'
                  'models = { opus = "mine-1" }\nquota = [{ window = "5h" }, { window = "1w", prompts = 1 }]\n')
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 600))
    write_transcript("a.jsonl", [assistant("m1", "r1", session="s-mine", model="mine-1", ts=stamp)])
    status, out, _ = usage(capsys, "--windows")
    assert status == 0 and " 1 request " in out and "0/1 prompt " in out and "requests" not in out


def test_a_plan_no_quota_offers_is_an_error_naming_the_line(profiles_file, capsys):
    profiles_file('[profiles.zai]\nextends = "zai"\nplan = "ultra"\n')
    status, out, err = usage(capsys, "--windows")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "profiles.toml:3: [profiles.zai] plan = 'ultra': its quota names the plans lite, max, pro" in err


def test_malformed_launch_and_history_lines_are_one_warning_each(write_transcript, state_dir, capsys):
    write_transcript("a.jsonl", [assistant("m1", "r1")])
    record_session(str(state_dir), "s1", "zai", 0)
    with open(state_dir / "sessions.jsonl", "a", encoding="utf-8") as handle:
        handle.write("{broken\n")
    status, out, err = usage(capsys, "--json")
    assert status == 0 and json.loads(out)["totals"]["requests"] == 1
    assert err.count("\n") == 1 and err.strip().endswith("sessions.jsonl: skipped 1 malformed line")


def test_a_routes_profiles_launch_bills_the_profiles_it_routes_to(write_transcript, state_dir, profiles_file, capsys):
    profiles_file('[profiles.a]\nbase_url = "http://127.0.0.1:9"\ntoken = "a-0123456789"\nmodels = { opus = "a-opus" }\n'
                  '[profiles.b]\nbase_url = "http://127.0.0.1:8"\ntoken = "b-0123456789"\nmodels = { sonnet = "b-sonnet" }\n'
                  '[profiles.mix]\nroutes = { opus = "a", sonnet = "b" }\n')
    record_session(str(state_dir), "s-mix", "mix", 0)  # `run mix`: the gateway's records (none here) say who served
    write_transcript("a.jsonl", [assistant("m1", "r1", session="s-mix", model="b-sonnet"),
                                 assistant("m2", "r2", session="s-mix", model="a-opus")])
    status, out, _ = usage(capsys, "--json", "--by", "profile")
    assert status == 0 and {r["profile"]: r["requests"] for r in json.loads(out)["rows"]} == {"a": 1, "b": 1}
