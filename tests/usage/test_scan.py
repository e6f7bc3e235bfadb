"""The transcript reader: dedupe of content-block lines and replays, bad input counted."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from support.usage_lines import assistant, user

from ccswitch.usage import scan
from ccswitch.usage.scan import ScanStats, find_transcripts, parse_line, read_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def test_content_block_lines_count_once_with_the_final_usage(write_transcript):
    path = write_transcript("a.jsonl", [
        user(),
        assistant(output=1, content=[{"type": "thinking", "thinking": "hm"}]),
        assistant(output=1, content=[{"type": "text", "text": "x"}]),
        assistant(output=250, content=[{"type": "tool_use", "id": "t", "name": "Edit", "input": {"usage": {"input_tokens": 9}}}]),
        user("tool result", toolUseResult={"usage": {"input_tokens": 7, "output_tokens": 8}}),
    ])
    read = read_file(str(path))
    assert list(read.messages) == [("msg_1", "req_1")]
    kept = read.messages[("msg_1", "req_1")]
    assert (kept.output_tokens, kept.input_tokens, kept.cache_read_tokens, kept.cache_write_tokens) == (250, 5, 100, 20)
    assert read.end == path.stat().st_size and read.stats.malformed_lines == 0


def test_same_id_with_different_usage_keeps_the_most_complete(write_transcript):
    path = write_transcript("a.jsonl", [assistant(output=40), assistant(output=40, cache_read=900), assistant(output=3)])
    (kept,) = read_file(str(path)).messages.values()
    assert (kept.output_tokens, kept.cache_read_tokens) == (40, 900)


def test_other_request_id_is_another_response_and_missing_ids_count_per_line(write_transcript):
    path = write_transcript("a.jsonl", [assistant(request_id="req_a"), assistant(request_id="req_b"),
                                        assistant(request_id=None), assistant(message_id="", request_id=None)])
    keys = sorted(read_file(str(path)).messages)
    assert keys[-3:] == [("msg_1", ""), ("msg_1", "req_a"), ("msg_1", "req_b")] and keys[0][0].startswith("@")


def test_synthetic_responses_and_other_line_types_are_not_usage():
    assert parse_line(assistant(model="<synthetic>").encode()) is None
    assert parse_line(user().encode()) is None
    assert parse_line(b'{"type":"summary","summary":"x"}') is None


def test_fields_usage_speed_and_one_hour_cache_writes():
    line = assistant(speed="fast", cache_creation={"ephemeral_5m_input_tokens": 5, "ephemeral_1h_input_tokens": 15},
                     sidechain=True, ts="2026-11-30T10:00:00.500Z")
    m = parse_line(line.encode())
    assert m.fast and m.sidechain and m.cache_write_1h_tokens == 15 and m.session == "s1" and m.cwd == "/p"
    assert m.ts == pytest.approx(1796032800.5) and m.model == "claude-sonnet-4-5"


def test_stitched_fast_path_agrees_with_full_parse_on_generated_transcripts(tmp_path):
    from transcripts import generate

    corpus = generate(str(tmp_path / "c"), 0.6, seed=3, file_mb=0.05)
    checked = 0
    for info in find_transcripts([corpus.root], ScanStats()):
        for raw in Path(info.path).read_bytes().splitlines():
            if scan.USAGE_MARK not in raw:
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                assert parse_line(raw) is scan._BAD
                continue
            assert parse_line(raw, "k") == scan._message(record, "k")
            checked += 1
    assert checked > 50


def test_unusual_key_order_falls_back_to_a_full_parse():
    line = json.dumps({"type": "assistant", "timestamp": "2026-11-30T10:00:00Z", "requestId": "r",
                       "message": {"content": [{"type": "tool_use", "id": "toolu_x", "input": {}}], "id": "msg_z",
                                   "model": "m", "usage": {"input_tokens": 1, "output_tokens": 2}}})
    m = parse_line(line.encode())
    assert (m.message_id, m.request_id, m.output_tokens) == ("msg_z", "r", 2)


def test_malformed_lines_are_counted_and_the_rest_is_read(write_transcript):
    good = assistant(message_id="msg_2")
    path = write_transcript("a.jsonl", [assistant()[:120], '{"type":"assistant","message":{"usage":{"input_tokens":', good,
                                        assistant(message_id="msg_3").replace('"timestamp":"2026', '"timestamp":"bad')])
    read = read_file(str(path))
    assert list(read.messages) == [("msg_2", "req_1")]
    assert read.stats.malformed_lines == 2  # the cut-short first line has no usage mark left


def test_an_unfinished_last_line_is_not_consumed(write_transcript):
    line = assistant(message_id="msg_2")
    cut = len(line) - 30  # after "usage":{ : the reader sees a usage line, unfinished
    path = write_transcript("a.jsonl", [assistant(), line[:cut]], end="")
    read = read_file(str(path))
    assert read.stats.truncated_lines == 1 and list(read.messages) == [("msg_1", "req_1")]
    assert read.end == len(assistant()) + 1  # the next read starts at the unfinished line
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line[cut:] + "\n")
    again = read_file(str(path), read.end)
    assert list(again.messages) == [("msg_2", "req_1")] and again.end == path.stat().st_size


def test_a_huge_line_keeps_its_usage(write_transcript, monkeypatch):
    monkeypatch.setattr(scan, "MAX_LINE", 4096)
    monkeypatch.setattr(scan, "CHUNK", 1024)
    monkeypatch.setattr(scan, "WINDOW", 1024)
    big = assistant(message_id="msg_big", output=77, content=[{"type": "text", "text": "x" * 50_000}])
    path = write_transcript("a.jsonl", [user("y" * 20_000), big, assistant(message_id="msg_2")])
    read = read_file(str(path))
    assert read.messages[("msg_big", "req_1")].output_tokens == 77 and ("msg_2", "req_1") in read.messages


def test_vanished_file_and_unreadable_dir_are_counted(claude_dir, write_transcript, monkeypatch):
    write_transcript("a.jsonl", [assistant()])
    locked = claude_dir / "projects" / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied")  # tests run as root: chmod cannot lock
        return real_scandir(path)

    monkeypatch.setattr(scan.os, "scandir", scandir)
    stats = ScanStats()
    files = find_transcripts([str(claude_dir)], stats)
    assert len(files) == 1 and stats.unreadable_dirs == 1
    os.unlink(files[0].path)
    read = read_file(files[0].path)
    assert read.gone and read.stats.vanished_files == 1
    assert "1 vanished file" in read.stats.warning() and "1 unreadable directory" in stats.warning()


def test_config_dirs_follow_claude_config_dir():
    assert scan.default_config_dirs({"CLAUDE_CONFIG_DIR": "/a, /b"}, "/h") == ["/a", "/b"]
    assert scan.default_config_dirs({}, "/h") == ["/h/.config/claude", "/h/.claude"]


def test_read_file_keeps_what_a_full_parse_of_every_line_keeps(tmp_path):
    from transcripts import generate

    corpus = generate(str(tmp_path / "c"), 1.0, seed=5, file_mb=0.1)
    for info in find_transcripts([corpus.root], ScanStats()):
        expected: dict = {}
        for offset, raw in _lines_with_offsets(Path(info.path).read_bytes()):
            if scan.USAGE_MARK not in raw:
                continue
            found = parse_line(raw, f"@{info.path}:{offset}")
            if isinstance(found, scan.Message) and (found.key not in expected or found.better_than(expected[found.key])):
                expected[found.key] = found
        got = read_file(info.path).messages
        assert {k: (m.output_tokens, m.total_tokens) for k, m in got.items()} == {
            k: (m.output_tokens, m.total_tokens) for k, m in expected.items()}


def _lines_with_offsets(data: bytes):
    offset = 0
    for raw in data.split(b"\n"):
        yield offset, raw
        offset += len(raw) + 1
