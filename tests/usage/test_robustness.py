"""Issue 19, item 7, each case reproduced: a damaged, junk, truncated or foreign index; symlink
loops; a second `usage` during a long first scan; the dates and config dirs people get wrong; the
chart and table at 80 and 60 columns; the JSON shape."""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from support.usage_lines import T0, assistant, make_gateway

from ccswitch.commands import front_door
from ccswitch.usage import index as usage_index
from ccswitch.usage.collect import collect_and_report, update_index
from ccswitch.usage.prices import ANTHROPIC

PRICES = {"anthropic": ANTHROPIC}


def many(count: int, start: int = 0, session: str = "s1") -> list[str]:
    return [assistant(f"msg_{i}", f"req_{i}", session=session) for i in range(start, start + count)]


def index_file(state_dir: Path) -> Path:
    return state_dir / usage_index.INDEX_FILENAME


def checkpoint(state_dir: Path) -> None:
    db = sqlite3.connect(index_file(state_dir))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def report(claude_dir: Path, state_dir: Path):
    return collect_and_report(str(state_dir), [str(claude_dir)], prices=PRICES, attribute=lambda *_: "anthropic")


def test_a_damaged_index_is_rebuilt_and_said_so_in_one_line(claude_dir, write_transcript, state_dir):
    write_transcript("a.jsonl", many(3000))
    report(claude_dir, state_dir)
    checkpoint(state_dir)
    size = index_file(state_dir).stat().st_size
    with open(index_file(state_dir), "r+b") as handle:  # pages overwritten: every table's root among them
        handle.seek(4096)
        handle.write(b"\xff" * (size // 2))
    result, _, warnings = report(claude_dir, state_dir)
    assert result.totals["requests"] == 3000
    assert len(warnings) == 1 and "database disk image is malformed" in warnings[0]
    assert "rebuilt from the transcripts" in warnings[0] and (state_dir / "usage-index.sqlite3.old").exists()
    assert report(claude_dir, state_dir)[2] == []  # the new index is fine


@pytest.mark.parametrize("damage", ["junk", "truncated", "version"])
def test_a_junk_truncated_or_foreign_index_is_rebuilt_and_says_what_history_was_lost(
        claude_dir, write_transcript, state_dir, damage):
    kept = write_transcript("a.jsonl", many(40))
    deleted = write_transcript("b.jsonl", many(5, start=100, session="s2"))
    report(claude_dir, state_dir)
    deleted.unlink()  # claude prunes old sessions: only the index remembers these 5
    assert report(claude_dir, state_dir)[0].totals["requests"] == 45
    checkpoint(state_dir)
    path = index_file(state_dir)
    if damage == "junk":
        path.write_bytes(b"this is not a database at all " * 500)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: 4096 * 2])
    else:
        db = sqlite3.connect(path)
        db.execute("PRAGMA user_version = 77")
        db.commit()
        db.close()
    result, _, warnings = report(claude_dir, state_dir)
    assert result.totals["requests"] == 40 and kept.exists()
    assert len(warnings) == 1 and "rebuilt from the transcripts" in warnings[0], warnings
    if damage == "version":
        assert "lost: 5 requests of 1 transcript claude has deleted since" in warnings[0]
    else:
        assert "could not be counted" in warnings[0] or "lost:" in warnings[0]


def test_an_index_of_the_previous_version_is_upgraded_and_keeps_deleted_history(claude_dir, write_transcript, state_dir):
    write_transcript("a.jsonl", [*many(3), '{"type":"user","message":{"role":"user","content":"go"}}', *many(1, 50)])
    deleted = write_transcript("b.jsonl", many(2, start=100, session="s2"))
    update_index(str(state_dir), [str(claude_dir)])
    deleted.unlink()
    db = sqlite3.connect(index_file(state_dir))  # what schema 1 had: no turns, no use stamps
    db.executescript("""
        CREATE TABLE old AS SELECT message_id, request_id, file_id, session, model, ts, cwd, input_tokens,
            output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, sidechain, fast, run_profile
            FROM messages;
        DROP TABLE messages;
        CREATE TABLE messages (message_id TEXT NOT NULL, request_id TEXT NOT NULL, file_id INTEGER NOT NULL,
            session TEXT NOT NULL, model TEXT NOT NULL, ts REAL NOT NULL, cwd TEXT NOT NULL,
            input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL, cache_write_1h_tokens INTEGER NOT NULL, sidechain INTEGER NOT NULL,
            fast INTEGER NOT NULL, run_profile TEXT, UNIQUE (message_id, request_id));
        INSERT INTO messages SELECT * FROM old;
        DROP TABLE old;
        CREATE TABLE files_old AS SELECT id, path, size, mtime_ns, inode, end_offset, head_hash, tail_hash, gone FROM files;
        DROP TABLE files;
        CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, end_offset INTEGER NOT NULL, head_hash TEXT NOT NULL,
            tail_hash TEXT NOT NULL, gone INTEGER NOT NULL DEFAULT 0);
        INSERT INTO files SELECT * FROM files_old;
        DROP TABLE files_old;
        DROP INDEX IF EXISTS messages_session;
        DROP INDEX IF EXISTS messages_ts;
        PRAGMA user_version = 1;
    """)
    db.close()
    result, _, warnings = report(claude_dir, state_dir)
    assert warnings == [] and result.totals["requests"] == 6  # 4 read again, 2 kept from the deleted file
    assert result.totals["prompts"] == 1  # the files still there were read again, prompts included


def test_symlink_loops_under_projects_are_walked_once(claude_dir, write_transcript):
    from ccswitch.usage.scan import ScanStats, find_transcripts

    write_transcript("a.jsonl", many(1))
    projects = claude_dir / "projects"
    os.symlink("..", projects / "-p" / "up")
    os.symlink("..", projects / "loop")
    os.symlink(str(projects), projects / "-p" / "again")
    started = time.monotonic()
    found = find_transcripts([str(claude_dir)], ScanStats())
    assert [Path(f.path).name for f in found] == ["a.jsonl"] and time.monotonic() - started < 5


def test_a_second_usage_waits_for_the_first_scan_with_a_message(claude_dir, write_transcript, state_dir):
    write_transcript("a.jsonl", many(10))
    update_index(str(state_dir), [str(claude_dir)])
    write_transcript("b.jsonl", many(3, start=500))  # something to write: the second run needs the lock
    holder = sqlite3.connect(index_file(state_dir), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the first `usage`, mid-scan
    heard: list[str] = []
    threading.Timer(1.0, lambda: holder.execute("COMMIT")).start()
    stats = update_index(str(state_dir), [str(claude_dir)], on_wait=heard.append)
    holder.close()
    assert stats.files_read == 1 and len(heard) == 1 and "another `ccswitch usage`" in heard[0]


def usage(capsys, *args: str):
    status = front_door.main(["usage", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("args,message", [
    (["--since", "99999999999d"], "--since '99999999999d': at most 36525d"),
    (["--since", "2026-02-30"], "--since '2026-02-30': no such date"),
    (["--until", "2026-02-29"], "--until '2026-02-29': no such date"),
    (["--until", "7d"], "--until '7d': expected a date YYYY-MM-DD (the last day included; Nd is for --since)"),
    (["--since", ""], "--since '': expected Nd (e.g. 7d) or a date YYYY-MM-DD"),  # an unset shell variable
    (["--until", ""], "--until '': expected a date YYYY-MM-DD (the last day included; Nd is for --since)"),
])
def test_dates_people_get_wrong_are_one_clear_line(capsys, args, message):
    status, out, err = usage(capsys, *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err, err


def test_claude_config_dir_naming_the_projects_folder_is_read_and_said(claude_dir, write_transcript, capsys,
                                                                      monkeypatch):
    write_transcript("a.jsonl", many(2))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_dir / "projects"))
    status, out, err = usage(capsys, "--json")
    assert status == 0 and json.loads(out)["totals"]["requests"] == 2
    assert err.count("\n") == 1 and "is claude's transcripts folder itself" in err
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_dir / "nothing-here"))
    status, out, err = usage(capsys, "--json")  # the index still remembers what it read
    assert status == 0 and json.loads(out)["totals"]["requests"] == 2
    assert err.count("\n") == 1 and "no transcripts under" in err and "no projects/ folder" in err


def test_an_empty_history_has_no_cost_and_no_currency(capsys):
    status, out, _ = usage(capsys, "--json")
    data = json.loads(out)
    assert data["schema"] == 1 and data["rows"] == []
    assert (data["totals"]["cost"], data["totals"]["currency"], data["totals"]["costs"]) == (None, None, {})


def two_profiles_a_day(write_transcript, state_dir):
    from ccswitch.usage.sessions import record_session

    record_session(str(state_dir), "s-a", "anthropic", 0)
    record_session(str(state_dir), "s-b", "anthropic-api", 0)
    lines = []
    for day in range(1, 8):
        for session, scale in (("s-a", 3), ("s-b", 1)):
            lines.append(assistant(f"m{day}{session}", f"r{day}{session}", session=session, model="claude-opus-4-6",
                                   ts=f"2026-11-{day:02d}T12:00:00.000Z", input=1_000_000 * scale, output=10_000 * day))
    write_transcript("a.jsonl", lines)


def test_the_chart_fits_80_columns_with_two_profiles_a_day_and_their_bars_differ_in_a_pipe(
        write_transcript, state_dir, capsys, monkeypatch):
    two_profiles_a_day(write_transcript, state_dir)
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = usage(capsys, "--by", "day")
    lines = out.splitlines()
    assert status == 0 and max(len(line) for line in lines) <= 80
    chart = lines[lines.index("Daily cost (USD)") + 1 :]
    day_lines = [line for line in chart if line.startswith("2026-11-")]
    assert len(day_lines) == 7  # one line a day: nothing wrapped
    assert all("█" in line and "▓" in line for line in day_lines)  # each profile its own bar
    assert chart[-1] == "█ anthropic  ▓ anthropic-api"


def test_at_60_columns_the_cost_column_stays_whole(write_transcript, state_dir, capsys, monkeypatch):
    two_profiles_a_day(write_transcript, state_dir)
    monkeypatch.setenv("COLUMNS", "60")
    status, out, _ = usage(capsys)
    lines = out.splitlines()
    assert status == 0 and max(len(line) for line in lines) <= 60
    header = lines[0].split()
    assert header[0] == "Profile" and header[-1] == "Cost"
    costs = [line.split()[-1] for line in lines[1:4] if line.strip()]
    assert all(cost.startswith("$") and cost[1:].replace(",", "").replace(".", "").isdigit() for cost in costs), lines


def test_token_counts_no_response_has_are_malformed_not_a_traceback(claude_dir, write_transcript, state_dir,
                                                                    tmp_path):
    """10**20 does not fit SQLite's integers (the upsert raised OverflowError), and two 2**62 add up past
    them (SQLite's sum raised "integer overflow"): such lines are counted as malformed, such gateway
    records count no tokens."""
    write_transcript("a.jsonl", [assistant("msg_1", "req_1", input=10**20), assistant("msg_2", "req_2", input=2**62),
                                 assistant("msg_3", "req_3", input=2**62), assistant("msg_4", "req_4", input=7)])
    gateway = str(tmp_path / "gateway.sqlite3")
    make_gateway(gateway, [(T0, "s9", "glm", "opus", "glm-5.1", 200, 2**62, 1, 0, 0, f"msg_g{i}", f"req_g{i}")
                           for i in range(2)])
    result, _, warnings = collect_and_report(str(state_dir), [str(claude_dir)], prices=PRICES, gateway_db=gateway,
                                             attribute=lambda *_: "anthropic")
    assert warnings == ["skipped 3 malformed lines"]
    assert result.totals["requests"] == 3 and result.totals["input_tokens"] == 7


def test_a_lone_surrogate_in_a_line_makes_it_malformed_not_a_traceback(claude_dir, write_transcript, state_dir):
    """json reads "\\ud800" into a str SQLite cannot store (UnicodeEncodeError stopped every run)."""
    bad = assistant("msg_1", "req_1").replace('"cwd":"/p"', '"cwd":"/p\\ud800"')
    write_transcript("a.jsonl", [assistant("msg_0", "req_0"), bad, assistant("msg_2", "req_2")])
    result, _, warnings = report(claude_dir, state_dir)
    assert warnings == ["skipped 1 malformed line"] and result.totals["requests"] == 2


def test_impossible_rows_an_older_ccswitch_kept_are_dropped_once_with_a_line(claude_dir, write_transcript, state_dir):
    """Before MAX_TOKENS and MIN_TS/MAX_TS the index kept any count and time: two responses of 2**62
    made every report fail with "integer overflow", one of the year 10000 with a TypeError (its
    date is NULL), and the unchanged transcripts are not read again to mend it."""
    write_transcript("a.jsonl", many(4))
    report(claude_dir, state_dir)
    db = sqlite3.connect(index_file(state_dir))
    db.execute("UPDATE messages SET input_tokens = ? WHERE message_id IN ('msg_1', 'msg_2')", (2**62,))
    db.execute("UPDATE messages SET ts = 253402304399.0 WHERE message_id = 'msg_3'")  # 9999-12-31T23:59:59-01:00
    db.execute("DELETE FROM meta WHERE key = 'bounded'")  # as an older ccswitch left it
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")  # no cached report
    db.commit()
    db.close()
    result, _, warnings = report(claude_dir, state_dir)
    assert warnings == ["usage index: dropped 3 responses an older ccswitch kept with token counts or times no "
                        "response has"]
    assert result.totals["requests"] == 1
    assert report(claude_dir, state_dir)[2] == []


@pytest.mark.parametrize("by", ["day", "week", "month", "session"])
def test_times_no_local_calendar_holds_are_malformed_lines_and_unread_records(write_transcript, state_dir, capsys,
                                                                           monkeypatch, by):
    """9999-12-31T23:59:59-01:00 is in the year 10000 (SQLite's date() gave NULL: the chart, the
    weeks and the off-peak hours raised TypeError), 0001-01-01T00:00:00+01:00 in the year 0, and a
    gateway record may hold any number; in Tokyo 9999-12-31T23:59:59Z is past 9999 too."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        write_transcript("a.jsonl", [assistant("msg_1", ts="9999-12-31T23:59:59.000-01:00"),
                                     assistant("msg_2", ts="0001-01-01T00:00:00.000+01:00"),
                                     assistant("msg_3", ts="9999-12-31T23:59:59.000Z"),
                                     assistant("msg_4", model="deepseek-v4-pro")])
        make_gateway(str(state_dir / "gateway.sqlite3"), [
            (t, "s9", "glm", "opus", "deepseek-v4-pro", 200, 1, 1, 0, 0, f"msg_g{i}", f"req_g{i}")
            for i, t in enumerate([float("inf"), -1e12, 1e20, 2.0**63, T0])])
        status, out, err = usage(capsys, "--by", by, "--json")
        assert status == 0 and err == "ccswitch: warning: skipped 3 malformed lines\n"
        assert json.loads(out)["totals"]["requests"] == 2
        status, out, err = usage(capsys, "--by", by)
        assert status == 0 and "Traceback" not in out + err
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("when", ["2300-01-01", "1600-01-01"])
def test_a_transcript_dated_past_what_nanoseconds_fit_in_64_bits_is_read(claude_dir, write_transcript, state_dir, when):
    """ext4 keeps such a time (`touch -d 2300-01-01`): its mtime in nanoseconds stopped every run with
    OverflowError when the index stored it."""
    path = write_transcript("a.jsonl", many(2))
    seconds = (datetime.date.fromisoformat(when) - datetime.date(1970, 1, 1)).days * 86400
    try:
        os.utime(path, ns=(seconds * 10**9, seconds * 10**9))
    except (OSError, OverflowError):
        pytest.skip(f"this filesystem cannot date a file {when}")
    assert report(claude_dir, state_dir)[0].totals["requests"] == 2
    db = usage_index.open_index(str(state_dir))
    try:  # a second run finds it unchanged: the folded values compare equal
        assert usage_index.unchanged(db, collect_file_infos(claude_dir))
    finally:
        db.close()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(assistant("msg_new") + "\n")
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))
    assert report(claude_dir, state_dir)[0].totals["requests"] == 3


def collect_file_infos(claude_dir: Path):
    from ccswitch.usage.scan import ScanStats, find_transcripts

    return find_transcripts([str(claude_dir)], ScanStats())


def test_names_from_transcripts_show_as_they_are_and_never_drive_the_terminal(write_transcript, capsys):
    """A session id was printed as markup (`[bold]x[/]` showed as `x`), and a model name, which a
    provider answers, reached the terminal with its escape sequences."""
    write_transcript("a.jsonl", [assistant(session="[bold]x[/]", model="g\x1b[2J\x07\x9b")])
    status, out, err = usage(capsys, "--by", "session")
    assert status == 0 and err == ""
    assert "[bold]x[/]" in out and "g?[2J??" in out
    assert not any(ord(c) < 0x20 and c not in "\n" or 0x7F <= ord(c) < 0xA0 for c in out)


def test_the_one_time_drop_that_cannot_write_waits_for_a_later_open(claude_dir, write_transcript, state_dir):
    """A full disk while dropping an older index's impossible rows: the open goes on (a report of an
    unchanged history needs no write), nothing is half done, and the next open tries again."""
    write_transcript("a.jsonl", many(2))
    report(claude_dir, state_dir)
    db = usage_index.open_index(str(state_dir))
    db.execute("DELETE FROM meta WHERE key = 'bounded'")

    class FullDisk:
        def execute(self, sql, *args):
            if sql.startswith("DELETE FROM messages"):
                raise sqlite3.OperationalError("database or disk is full")
            return db.execute(sql, *args)

    try:
        usage_index._drop_impossible_rows(FullDisk(), notes := [])
        assert notes == [] and not db.in_transaction
        assert db.execute("SELECT 1 FROM meta WHERE key = 'bounded'").fetchone() is None
        usage_index._drop_impossible_rows(db, notes)
        assert db.execute("SELECT 1 FROM meta WHERE key = 'bounded'").fetchone() == (1,)
    finally:
        db.close()
