"""The index: incremental reads, rewritten files, privacy, versioning, run records, gateway merge."""

from __future__ import annotations

import os
import sqlite3
import stat

from support.usage_lines import T0, assistant, make_gateway

from ccswitch.usage import index as usage_index
from ccswitch.usage.collect import update_index, usage_report
from ccswitch.usage.prices import ANTHROPIC
from ccswitch.usage.sessions import record_session

PRICES = {"anthropic": ANTHROPIC}


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
    report, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda m: None)
    assert {(r["profile"], r["requests"]) for r in report.rows} == {("glm", 1), ("kimi", 1), ("unknown", 1)}


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
    report, warnings = usage_report(str(state_dir), prices=PRICES, gateway_db=gateway, attribute=lambda m: None)
    assert warnings == [] and report.totals["requests"] == 4
    got = {(r["profile"], r["model"], r["requests"]) for r in report.rows}
    assert got == {("glm", "claude-sonnet-4-5", 1), ("kimi", "claude-sonnet-4-5", 1),
                   ("unknown", "claude-sonnet-4-5", 1), ("glm", "glm-5.1", 1)}
    missing, _ = usage_report(str(state_dir), prices=PRICES, gateway_db=str(tmp_path / "absent.sqlite3"))
    assert missing.totals["requests"] == 3


def test_count_tokens_records_are_no_requests(state_dir, tmp_path):
    """claude's /context sends dozens of count_tokens requests (answered by the gateway itself for an
    OpenAI-format upstream): they answer no prompt and cost nothing, so they add no request."""
    gateway = str(tmp_path / "gateway.sqlite3")
    make_gateway(gateway, [(T0, "s9", "gpt", "opus", "gpt-5.5", 200, 176, 57, 1024, 0, "msg_gw", "req_gw")])
    make_gateway(gateway, [(T0, "s9", "gpt", "opus", "gpt-5.5", 200, None, None, None, None, None, None)] * 25,
                 request_path="/v1/messages/count_tokens")
    report, warnings = usage_report(str(state_dir), prices=PRICES, gateway_db=gateway, attribute=lambda m: None)
    assert warnings == [] and report.totals["requests"] == 1
    assert [(r["profile"], r["requests"], r["input_tokens"]) for r in report.rows] == [("gpt", 1, 176)]


def test_a_response_only_the_gateway_recorded_counts_as_a_prompt_as_the_gateway_says(claude_dir, write_transcript,
                                                                                    state_dir, tmp_path):
    from ccswitch.usage.collect import usage_events

    write_transcript("a.jsonl", [assistant(message_id="msg_a", request_id="req_a")])
    update_index(str(state_dir), [str(claude_dir)])
    gateway = str(tmp_path / "gateway.sqlite3")
    make_gateway(gateway, [
        (T0, "s1", "glm", "sonnet", "glm-5.1", 200, 5, 10, 100, 20, "msg_a", "req_a", 1),  # the transcript's says
        (T0 + 1, "s9", "glm", "opus", "glm-5.1", 200, 1, 2, 0, 0, "msg_p", "req_p", 1),  # a person's prompt
        (T0 + 2, "s9", "glm", "opus", "glm-5.1", 200, 1, 2, 0, 0, "msg_t", "req_t", 0),  # tool results
        (T0 + 3, "s9", "glm", "opus", "glm-5.1", 200, 1, 2, 0, 0, "msg_o", "req_o"),  # an older gateway's row
    ])
    events, warnings = usage_events(str(state_dir), since=0, gateway_db=gateway)
    assert warnings == [] and events["glm"][1:] == [(T0 + 1, 1, 1, 3), (T0 + 2, 1, 0, 3), (T0 + 3, 1, 0, 3)]
    report, _ = usage_report(str(state_dir), prices=PRICES, gateway_db=gateway, attribute=lambda m: None)
    assert {r["model"]: r["prompts"] for r in report.rows if r["profile"] == "glm"}["glm-5.1"] == 1


def test_repeat_report_is_served_from_the_cache_until_the_index_changes(claude_dir, write_transcript, state_dir):
    path = write_transcript("a.jsonl", [assistant()])
    update_index(str(state_dir), [str(claude_dir)])
    first, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda m: "anthropic")
    db = sqlite3.connect(state_dir / usage_index.INDEX_FILENAME)
    assert db.execute("SELECT count(*) FROM bucket_cache").fetchone()[0] == 1
    db.close()
    again, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda m: "anthropic")
    assert again.to_json() == first.to_json()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(assistant(message_id="msg_2") + "\n")
    update_index(str(state_dir), [str(claude_dir)])
    third, _ = usage_report(str(state_dir), prices=PRICES, attribute=lambda m: "anthropic")
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
                                                 attribute=lambda m: "anthropic")
    assert warnings == ["skipped 1 malformed line"] and stats.files == 1
    assert report.rows[0]["profile"] == "anthropic" and report.rows[0]["cost"] is not None


def test_a_picker_resume_is_matched_to_the_session_of_its_project_written_to_next(claude_dir, write_transcript,
                                                                                    state_dir):
    record_session(str(state_dir), "s1", "glm", T0 - 60)
    write_transcript("a.jsonl", [assistant("m1", ts="2026-11-30T10:00:00.000Z")])
    write_transcript("b.jsonl", [assistant("m0", session="s0", ts="2026-11-30T09:00:00.000Z")])
    update_index(str(state_dir), [str(claude_dir)])
    # `run kimi -- claude --resume` at 11:00, the user picks s1 in the picker
    record_session(str(state_dir), None, "kimi", T0 + 3600, picked_in=str(claude_dir / "projects" / "-p"))
    write_transcript("c.jsonl", [assistant("m9", session="s-new", ts="2026-11-30T11:00:30.000Z")])  # new: not it
    with open(claude_dir / "projects" / "-p" / "a.jsonl", "a", encoding="utf-8") as handle:
        handle.write(assistant("m2", ts="2026-11-30T11:01:00.000Z") + "\n")
    update_index(str(state_dir), [str(claude_dir)])
    assert {r[0]: r[4] for r in rows(state_dir)} == {"m0": None, "m1": "glm", "m2": "kimi", "m9": None}
    with open(claude_dir / "projects" / "-p" / "a.jsonl", "a", encoding="utf-8") as handle:
        handle.write(assistant("m3", ts="2026-11-30T11:30:00.000Z") + "\n")
    update_index(str(state_dir), [str(claude_dir)])  # read later: stamped from the match kept in the index
    assert {r[0]: r[4] for r in rows(state_dir)}["m3"] == "kimi"


def lookup_indexes(state_dir) -> set[str]:
    db = sqlite3.connect(os.path.join(state_dir, usage_index.INDEX_FILENAME))
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
                if name in usage_index.LOOKUPS}
    finally:
        db.close()


def test_a_first_scans_lookup_indexes_are_built_beside_its_report_and_the_report_is_cached(
        claude_dir, write_transcript, state_dir):
    from ccswitch.usage.collect import collect_and_report

    write_transcript("a.jsonl", [assistant(), assistant("msg_2", session="s2")])
    report, _, warnings = collect_and_report(str(state_dir), [str(claude_dir)], prices=PRICES,
                                             attribute=lambda m: "anthropic")
    assert report.totals["requests"] == 2 and warnings == []
    assert lookup_indexes(state_dir) == set(usage_index.LOOKUPS)
    db = sqlite3.connect(os.path.join(state_dir, usage_index.INDEX_FILENAME))
    try:  # the report's buckets were cached although the lookups' transaction ran beside it
        assert db.execute("SELECT count(*) FROM bucket_cache").fetchone()[0] == 1
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_lookup_indexes_a_first_scan_did_not_get_to_build_are_built_by_the_next_update(
        claude_dir, write_transcript, state_dir, monkeypatch):
    from ccswitch.usage import collect

    path = write_transcript("a.jsonl", [assistant()])
    monkeypatch.setattr(collect.Lookups, "start", lambda self: None)  # the process is stopped before it runs
    later: list = []
    update_index(str(state_dir), [str(claude_dir)], later=later)
    later[0].db.close()
    assert lookup_indexes(state_dir) == set() and [r[0] for r in rows(state_dir)] == ["msg_1"]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(assistant("msg_2") + "\n")
    update_index(str(state_dir), [str(claude_dir)])
    assert lookup_indexes(state_dir) == set(usage_index.LOOKUPS)


def test_a_parallel_first_scan_keeps_the_same_copy_whichever_process_is_faster(
        claude_dir, write_transcript, state_dir, monkeypatch):
    """A fork's copy of a response has the same usage under another session: the copy stored first
    is kept, so results are stored in the order the files were handed out, not as they arrive."""
    import time

    from ccswitch.usage import collect

    filler = ['{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"' + "x" * 5000 + '"}]}}']
    write_transcript("a.jsonl", [assistant(session="s-first"), *filler * 20])  # the biggest: handed out first
    write_transcript("b.jsonl", [assistant(session="s-fork")])
    read_rows = usage_index.read_rows

    def slow_for_a(job, stamper):
        if job.info.path.endswith("a.jsonl"):
            time.sleep(0.5)  # b's result arrives first
        return read_rows(job, stamper)

    monkeypatch.setattr(collect, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(collect.usage_index, "read_rows", slow_for_a)
    update_index(str(state_dir), [str(claude_dir)], workers=2)
    assert [(r[0], r[3]) for r in rows(state_dir)] == [("msg_1", "s-first")]
