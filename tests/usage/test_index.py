"""The index: incremental reads, rewritten files, privacy, versioning, run records, gateway merge."""

from __future__ import annotations

import os
import sqlite3
import stat

from support.usage_lines import assistant

from ccswitch.usage import index as usage_index
from ccswitch.usage.collect import update_index, usage_report
from ccswitch.usage.prices import ANTHROPIC
from ccswitch.usage.sessions import record_session

PRICES = {"anthropic": ANTHROPIC}
T0 = 1796032800.0  # 2026-11-30T10:00:00Z


def rows(state_dir):
    db = sqlite3.connect(os.path.join(state_dir, usage_index.INDEX_FILENAME))
    try:
        return sorted(db.execute("SELECT message_id, request_id, output_tokens, session, run_profile FROM messages"))
    finally:
        db.close()


def test_second_run_reads_nothing_and_appended_lines_are_read_from_the_offset(claude_dir, write_transcript, state_dir):
    path = write_transcript("a.jsonl", [assistant(output=1), assistant(output=9)])
    first = update_index(str(state_dir), [str(claude_dir)])
    assert first.files_read == 1 and rows(state_dir) == [("msg_1", "req_1", 9, "s1", None)]
    assert update_index(str(state_dir), [str(claude_dir)]).files_read == 0
    size = path.stat().st_size
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(assistant(message_id="msg_2", output=4) + "\n")
    again = update_index(str(state_dir), [str(claude_dir)])
    assert again.files_read == 1 and again.bytes_read == path.stat().st_size - size
    assert [r[0] for r in rows(state_dir)] == ["msg_1", "msg_2"]


def test_rewritten_and_truncated_files_are_read_again(claude_dir, write_transcript, state_dir):
    path = write_transcript("a.jsonl", [assistant(output=9), assistant(message_id="msg_2")])
    update_index(str(state_dir), [str(claude_dir)])
    write_transcript("a.jsonl", [assistant(message_id="msg_9", output=9), assistant(message_id="msg_8"),
                                 assistant(message_id="msg_7")])  # longer, different start
    update_index(str(state_dir), [str(claude_dir)])
    assert [r[0] for r in rows(state_dir)] == ["msg_7", "msg_8", "msg_9"]
    write_transcript("a.jsonl", [assistant(message_id="msg_5")])  # shorter: truncated
    update_index(str(state_dir), [str(claude_dir)])
    assert [r[0] for r in rows(state_dir)] == ["msg_5"]
    assert path.exists()


def test_a_rewritten_file_does_not_lose_a_response_that_another_file_also_holds(claude_dir, write_transcript, state_dir):
    write_transcript("a.jsonl", [assistant(output=9)])
    write_transcript("b.jsonl", [assistant(output=9, session="s2")])  # a resumed session's replay
    update_index(str(state_dir), [str(claude_dir)])
    write_transcript("a.jsonl", [assistant(message_id="msg_other", output=1), assistant(message_id="msg_x")])
    update_index(str(state_dir), [str(claude_dir)])
    assert {r[0] for r in rows(state_dir)} == {"msg_1", "msg_other", "msg_x"}


def test_replays_across_files_and_sidechain_copies_count_once(claude_dir, write_transcript, state_dir):
    write_transcript("a.jsonl", [assistant(output=1), assistant(output=30)])
    write_transcript("b.jsonl", [assistant(output=30, session="s2"), assistant(message_id="msg_2")])
    write_transcript("a/subagents/agent-1.jsonl", [assistant(request_id="req_side", sidechain=True, output=30),
                                                   assistant(message_id="msg_side", request_id="req_s", sidechain=True)])
    update_index(str(state_dir), [str(claude_dir)])
    assert [(r[0], r[1], r[2]) for r in rows(state_dir)] == [
        ("msg_1", "req_1", 30), ("msg_2", "req_1", 10), ("msg_side", "req_s", 10)]


def test_deleted_transcripts_keep_their_usage(claude_dir, write_transcript, state_dir):
    path = write_transcript("a.jsonl", [assistant()])
    update_index(str(state_dir), [str(claude_dir)])
    path.unlink()
    update_index(str(state_dir), [str(claude_dir)])
    assert len(rows(state_dir)) == 1


def test_index_is_private_and_rebuilt_when_its_schema_differs(claude_dir, write_transcript, state_dir):
    write_transcript("a.jsonl", [assistant()])
    update_index(str(state_dir), [str(claude_dir)])
    index_path = state_dir / usage_index.INDEX_FILENAME
    assert stat.S_IMODE(index_path.stat().st_mode) == 0o600 and stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    db = sqlite3.connect(index_path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    assert update_index(str(state_dir), [str(claude_dir)]).files_read == 1  # rebuilt, read again
    index_path.write_bytes(b"not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(index_path) + suffix):
            os.unlink(str(index_path) + suffix)
    assert update_index(str(state_dir), [str(claude_dir)]).files_read == 1
    assert len(rows(state_dir)) == 1


def test_run_records_attribute_each_part_of_a_resumed_session(claude_dir, write_transcript, state_dir):
    record_session(str(state_dir), "s1", "glm", T0 - 60)
    record_session(str(state_dir), "s1", "kimi", T0 + 3600)  # resumed an hour later on another profile
    write_transcript("a.jsonl", [assistant(ts="2026-11-30T10:00:00.000Z"),
                                 assistant(message_id="msg_2", ts="2026-11-30T11:30:00.000Z"),
                                 assistant(message_id="msg_3", session="other")])
    update_index(str(state_dir), [str(claude_dir)])
    assert [(r[0], r[4]) for r in rows(state_dir)] == [("msg_1", "glm"), ("msg_2", "kimi"), ("msg_3", None)]
    report, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda s, m: None)
    assert {(r["profile"], r["requests"]) for r in report.rows} == {("glm", 1), ("kimi", 1), ("unknown", 1)}


def make_gateway(path, rows):
    """Records written with the gateway's own schema (gateway/records.py): the reader must follow it."""
    from ccswitch.gateway.records import COLUMNS, open_db

    db = open_db(path)
    names = ("time", "session", "profile", "model_requested", "model_sent", "status", "input_tokens",
             "output_tokens", "cache_read_tokens", "cache_write_tokens", "message_id", "request_id")
    full = [dict(zip(names, row), path="/v1/messages", outcome="ok") for row in rows]
    db.executemany(f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                   [tuple(row.get(column) for column in COLUMNS) for row in full])
    db.close()


def test_gateway_records_merge_without_double_counting(claude_dir, write_transcript, state_dir, tmp_path):
    write_transcript("a.jsonl", [assistant(message_id="msg_a", request_id="req_a"),
                                 assistant(message_id="msg_b", request_id="req_b"),
                                 assistant(message_id="msg_c", request_id="req_c")])
    update_index(str(state_dir), [str(claude_dir)])
    gateway = str(tmp_path / "gateway.sqlite3")
    make_gateway(gateway, [
        (T0, "s1", "glm", "sonnet", "glm-5.1", 200, 5, 10, 100, 20, "msg_a", "req_a"),  # same response
        (T0, "s1", "glm", "sonnet", "glm-5.1", 200, 5, 10, 100, 20, "msg_a", "req_a"),  # recorded twice
        (T0, "s1", "kimi", "sonnet", "kimi-k2.5", 200, 5, 10, 100, 20, None, "req_b"),  # matched by request id
        (T0, "s9", "glm", "opus", "glm-5.1", 200, 1, 2, 0, 0, "msg_gw", "req_gw"),  # no transcript (another tool)
        (T0, "s9", "glm", "opus", "glm-5.1", 529, 0, 0, 0, 0, None, "req_fail"),  # not answered
    ])
    report, warnings = usage_report(str(state_dir), prices=PRICES, gateway_db=gateway, attribute=lambda s, m: None)
    assert warnings == [] and report.totals["requests"] == 4
    got = {(r["profile"], r["model"], r["requests"]) for r in report.rows}
    assert got == {("glm", "claude-sonnet-4-5", 1), ("kimi", "claude-sonnet-4-5", 1),
                   ("unknown", "claude-sonnet-4-5", 1), ("glm", "glm-5.1", 1)}
    missing, _ = usage_report(str(state_dir), prices=PRICES, gateway_db=str(tmp_path / "absent.sqlite3"))
    assert missing.totals["requests"] == 3


def test_repeat_report_is_served_from_the_cache_until_the_index_changes(claude_dir, write_transcript, state_dir):
    path = write_transcript("a.jsonl", [assistant()])
    update_index(str(state_dir), [str(claude_dir)])
    first, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda s, m: "anthropic")
    db = sqlite3.connect(state_dir / usage_index.INDEX_FILENAME)
    assert db.execute("SELECT count(*) FROM bucket_cache").fetchone()[0] == 1
    db.close()
    again, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda s, m: "anthropic")
    assert again.to_json() == first.to_json()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(assistant(message_id="msg_2") + "\n")
    update_index(str(state_dir), [str(claude_dir)])
    third, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda s, m: "anthropic")
    assert third.totals["requests"] == 2


def test_parallel_first_scan_matches_a_serial_one(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    from ccswitch.usage import collect

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from transcripts import generate

    corpus = generate(str(tmp_path / "claude"), 1.5, seed=11, file_mb=0.1)
    monkeypatch.setattr(collect, "PARALLEL_MIN_BYTES", 0)
    serial = collect.update_index(str(tmp_path / "s1"), [corpus.root], workers=1)
    parallel = collect.update_index(str(tmp_path / "s2"), [corpus.root], workers=2)
    assert serial.files_read == parallel.files_read > 5
    assert serial.malformed_lines == parallel.malformed_lines
    assert rows(tmp_path / "s1") == rows(tmp_path / "s2")
    assert {(r[0], r[1]) for r in rows(tmp_path / "s1")} == corpus.messages


def test_collect_and_report_warns_once_about_what_it_skipped(claude_dir, write_transcript, state_dir):
    from ccswitch.usage.collect import collect_and_report

    write_transcript("a.jsonl", [assistant(), '{"type":"assistant","message":{"usage":{"input_tokens":'])
    report, stats, warnings = collect_and_report(str(state_dir), [str(claude_dir)], prices=PRICES,
                                                 attribute=lambda s, m: "anthropic")
    assert warnings == ["skipped 1 malformed line"] and stats.files == 1
    assert report.rows[0]["profile"] == "anthropic" and report.rows[0]["cost"] is not None
