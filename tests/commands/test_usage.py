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
    (["--by", "week"], "--by 'week': choose one of day, profile, model, session"),
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
