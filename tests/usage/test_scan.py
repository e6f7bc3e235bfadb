"""The transcript reader: dedupe of content-block lines and replays, bad input counted."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from support.usage_lines import assistant, full_parse_reference, user

from ccswitch.usage import scan
from ccswitch.usage.scan import ScanStats, find_transcripts, parse_line, read_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


@pytest.fixture(autouse=True, params=["json", "orjson"])
def decoder(request, monkeypatch):
    """Every reader test with json's decoder of stitched lines and with orjson's (what a first scan's
    reading processes use, scan.fast_json): the two must read the same."""
    monkeypatch.setattr(scan, "_loads", scan._json_loads)
    if request.param == "orjson":
        scan.fast_json()
        assert scan._loads is not scan._json_loads
    return request.param


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


def prompt(text: str = "fix it", **extra) -> str:
    return json.dumps({"parentUuid": None, "isSidechain": extra.pop("sidechain", False), "type": "user",
                       "message": {"role": "user", "content": text}, "uuid": "u", "sessionId": "s1",
                       "timestamp": "2026-11-30T10:00:00.000Z", **extra}, separators=(",", ":"))


def tool_result() -> str:
    return json.dumps({"type": "user", "message": {"role": "user", "content": [
        {"tool_use_id": "t", "type": "tool_result", "content": "ok"}]}, "toolUseResult": {"stdout": "ok"}},
        separators=(",", ":"))


def test_the_first_response_after_a_persons_prompt_starts_a_turn(write_transcript):
    path = write_transcript("a.jsonl", [
        prompt(), assistant("m1", output=1), assistant("m1", output=9), tool_result(), assistant("m2"),
        prompt(isMeta=True), assistant("m3"),                                  # claude's own line: no turn
        prompt([{"type": "text", "text": "look"}, {"type": "image"}]), assistant("m4"),  # text blocks: a turn
        prompt("/model"), prompt("now this"), assistant("m5"),                 # two lines, one turn
        prompt("subagent task", sidechain=True), assistant("m6", sidechain=True),
    ])
    read = read_file(str(path))
    assert {key[0]: m.turn_start for key, m in read.messages.items()} == {
        "m1": True, "m2": False, "m3": False, "m4": True, "m5": True, "m6": False}
    assert read.pending is False


def test_a_turn_split_across_two_reads_is_marked_once(write_transcript):
    path = write_transcript("a.jsonl", [assistant("m0"), prompt()])
    first = read_file(str(path))
    assert first.pending is True and not first.messages[("m0", "req_1")].turn_start
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(assistant("m1") + "\n")
    second = read_file(str(path), first.end, first.pending)
    assert second.messages[("m1", "req_1")].turn_start and second.pending is False


# --- the reader's fast path: lines decided from their head, responses decoded without content ----


def summary(read) -> tuple:
    return ({k: (m.output_tokens, m.total_tokens, m.turn_start, m.cwd, m.model) for k, m in read.messages.items()},
            sorted(read.prompts), read.end, read.pending,
            [getattr(read.stats, name) for name in ("malformed_lines", "truncated_lines", "oversized_lines")])


def test_a_usage_object_inside_the_content_is_never_taken_for_the_responses(write_transcript):
    fake = {"input_tokens": 999999, "output_tokens": 999999}
    path = write_transcript("a.jsonl", [
        prompt(),
        # an earlier block whose tool input holds a bigger "usage": it must not win
        assistant("m1", output=2, content=[{"type": "tool_use", "id": "t1", "name": "Edit", "input": {"usage": fake}}]),
        # the last block: a text with the mark (escaped quotes), non-ASCII, a nested tool input usage
        assistant("m1", output=300, content=[
            {"type": "text", "text": 'see "usage":{"output_tokens":999999} \\" é ✓ 𝄞'},
            {"type": "tool_use", "id": "t2", "name": "X", "input": {"a": [{"usage": fake}], "usage": fake}}]),
        # a message without usage whose content holds one: not a response, not malformed
        assistant("m2", content=[{"type": "tool_use", "id": "t3", "name": "X", "input": {"usage": fake}}]).replace(
            ',"usage":{"input_tokens":5,"cache_creation_input_tokens":20,"cache_read_input_tokens":100,'
            '"output_tokens":10}', ""),
        assistant("m3", output=7, content=[{"type": "text", "text": "x" * 3000 + '"usage":{'}]),
    ])
    read = read_file(str(path))
    assert {k[0]: (m.output_tokens, m.input_tokens, m.turn_start) for k, m in read.messages.items()} == {
        "m1": (300, 5, True), "m3": (7, 5, False)}
    assert read.stats.malformed_lines == 0
    assert {k: (m.output_tokens, m.total_tokens) for k, m in read.messages.items()} == full_parse_reference(
        path.read_bytes(), str(path))


def assistant_2_1_330(message_id: str, block: dict, *, output: int = 40, cache_read: int = 30,
                      ts: str = "2026-12-06T01:11:37.366Z", cwd: str = "/p") -> str:
    """An assistant line in the key order claude 2.1.330 writes (captured from the binary): the
    message first, its id first, every block with the response's final usage, no requestId."""
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 20, "cache_read_input_tokens": cache_read,
             "output_tokens": output, "output_tokens_details": {"thinking_tokens": 0},
             "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}, "service_tier": "standard",
             "cache_creation": {"ephemeral_1h_input_tokens": 15, "ephemeral_5m_input_tokens": 5},
             "inference_geo": "", "iterations": [], "speed": "standard", "fallback_credit": None}
    return json.dumps({
        "parentUuid": "p", "isSidechain": False,
        "message": {"id": message_id, "type": "message", "role": "assistant", "model": "claude-opus-5-5",
                    "content": [block], "stop_reason": "tool_use", "stop_sequence": None, "usage": usage,
                    "stop_details": None},
        "apiBlockIndex": 0, "requestRef": "7458ba12", "requestedModel": "claude-opus-5-5", "type": "assistant",
        "uuid": "u-" + message_id, "timestamp": ts, "userType": "external", "entrypoint": "sdk-cli", "cwd": cwd,
        "sessionId": "s1", "version": "2.1.330", "gitBranch": "HEAD"}, separators=(",", ":"), ensure_ascii=False)


def test_claude_2_1_330_lines_one_response_per_message_id(write_transcript):
    path = write_transcript("a.jsonl", [
        prompt(),
        assistant_2_1_330("msg_1", {"type": "thinking", "thinking": 'hm "usage":{', "signature": "sig"}),
        assistant_2_1_330("msg_1", {"type": "text", "text": "é ü ✓"}, ts="2026-12-06T01:11:37.367Z"),
        assistant_2_1_330("msg_1", {"type": "tool_use", "id": "t", "name": "Bash",
                                    "input": {"command": "true", "usage": {"output_tokens": 999999}}}),
        assistant_2_1_330("msg_2", {"type": "text", "text": "a"}, cache_read=30, cwd="/home/ü/proj"),
        assistant_2_1_330("msg_2", {"type": "text", "text": "b"}, cache_read=900, cwd="/home/ü/proj"),  # ties on output, more input: wins
        assistant_2_1_330("msg_2", {"type": "text", "text": "c"}, cache_read=30, cwd="/home/ü/proj"),
    ])
    read = read_file(str(path))
    assert {k: (m.output_tokens, m.cache_read_tokens, m.cache_write_1h_tokens, m.turn_start, m.cwd)
            for k, m in read.messages.items()} == {
        ("msg_1", ""): (40, 30, 15, True, "/p"), ("msg_2", ""): (40, 900, 15, False, "/home/ü/proj")}
    assert {k: (m.output_tokens, m.total_tokens) for k, m in read.messages.items()} == full_parse_reference(
        path.read_bytes(), str(path))


def test_any_buffer_size_reads_the_same_as_a_full_parse(tmp_path, monkeypatch):
    """Lines cut at every place by small buffers, lines longer than the buffer (kept whole, or as
    head and tail windows past MAX_LINE), tool results read through: the same as reading whole."""
    from transcripts import generate

    corpus = generate(str(tmp_path / "c"), 0.8, seed=13, file_mb=0.1)
    infos = find_transcripts([corpus.root], ScanStats())
    expected = {info.path: summary(read_file(info.path)) for info in infos}
    for info in infos:
        reference = full_parse_reference(Path(info.path).read_bytes(), info.path)
        assert {k: v[:2] for k, v in expected[info.path][0].items()} == reference
    for chunk in (211, 4096, 65536):
        monkeypatch.setattr(scan, "CHUNK", chunk)
        monkeypatch.setattr(scan, "MAX_LINE", 4 * chunk)
        monkeypatch.setattr(scan, "WINDOW", chunk)
        for info in infos:
            got = summary(read_file(info.path))
            if chunk < 1500:  # lines past MAX_LINE are read from head and tail windows only
                assert got[1:3] == expected[info.path][1:3]
            else:
                assert got == expected[info.path], (chunk, info.path)


def test_a_long_tool_result_being_written_is_read_once_it_is_finished(write_transcript, monkeypatch):
    monkeypatch.setattr(scan, "CHUNK", 1024)
    result = json.dumps({"parentUuid": None, "isSidechain": False, "type": "user", "message": {
        "role": "user", "content": [{"tool_use_id": "t", "type": "tool_result", "content": "z" * 5000}]},
        "toolUseResult": {"stdout": "ok", "usage": {"input_tokens": 1, "output_tokens": 1}}}, separators=(",", ":"))
    cut = 3000
    path = write_transcript("a.jsonl", [prompt(), assistant("m1"), result[:cut]], end="")
    first = read_file(str(path))  # the tool result is longer than the buffer: read through, not kept
    assert first.end == len(prompt()) + len(assistant("m1")) + 2 and first.pending is False
    assert first.stats.truncated_lines == 0 and list(first.messages) == [("m1", "req_1")]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(result[cut:] + "\n" + prompt("next") + "\n" + assistant("m2") + "\n")
    second = read_file(str(path), first.end, first.pending)
    assert second.end == path.stat().st_size and second.stats.truncated_lines == 0
    assert {k[0]: m.turn_start for k, m in second.messages.items()} == {"m2": True}


def test_a_line_nested_deeper_than_the_decoder_goes_is_a_malformed_line(write_transcript):
    deep = "[" * 100_000 + '{"usage":{"output_tokens":1}}' + "]" * 100_000
    line = ('{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","input":' + deep
            + '}]},"timestamp":"2026-11-30T10:00:00.000Z"}')
    path = write_transcript("a.jsonl", [line, assistant("m2")])
    read = read_file(str(path))
    assert read.stats.malformed_lines == 1 and list(read.messages) == [("m2", "req_1")]


def test_an_output_count_of_thousands_of_digits_is_a_malformed_line_not_a_traceback(write_transcript):
    """The quick path took int() of the digits it found: past Python's 4,300 it raised ValueError on
    every run (an earlier content block of a response, and the same line past the buffer)."""
    big = assistant("msg_1", "req_1", output=7).replace('"output_tokens":7', '"output_tokens":' + "9" * 5000)
    long_big = big.replace('"hello"', '"' + "x" * (scan.CHUNK * 2) + '"')
    for lines in ([big, assistant("msg_1", "req_1", output=10)], [long_big, assistant("msg_1", "req_1", output=10)]):
        read = read_file(str(write_transcript("a.jsonl", lines)))
        assert read.stats.malformed_lines + read.stats.oversized_lines == 1
        assert {k: m.output_tokens for k, m in read.messages.items()} == {("msg_1", "req_1"): 10}


@pytest.mark.parametrize("refused", ['"gitBranch":"\\ud800"', '"gitBranch":NaN', '"gitBranch":1e400'])
def test_what_orjson_refuses_in_the_stitched_text_is_read_as_json_reads_it(write_transcript, refused):
    """The content is cut short, so the whole line is no JSON: only the stitched text can be read,
    and a first scan (orjson) must count what a small read (json) counts."""
    line = assistant("msg_1", "req_1", output=42).replace('"gitBranch":"main"', refused).replace('"text":"hello"',
                                                                                                 '"text":"hel')
    read = read_file(str(write_transcript("a.jsonl", [line])))
    assert [m.output_tokens for m in read.messages.values()] == [42] and read.stats.malformed_lines == 0


@pytest.mark.skipif(not os.path.exists("/proc/self/pagemap"), reason="Linux's /proc")
def test_a_transcript_linked_to_a_file_that_never_ends_is_not_read(claude_dir, write_transcript):
    """/proc/self/pagemap is a regular file of size 0 whose reading goes on for hundreds of GB: a
    symlink to it under projects/ hung every run. A file is read only when its size says so."""
    import subprocess

    link = claude_dir / "projects" / "-p" / "x.jsonl"
    link.symlink_to("/proc/self/pagemap")
    write_transcript("a.jsonl", [assistant()])
    code = ("import sys; from ccswitch.usage.scan import ScanStats, find_transcripts, read_file; "
            "print(sorted(len(read_file(i.path).messages) for i in find_transcripts([sys.argv[1]], ScanStats())))")
    done = subprocess.run([sys.executable, "-c", code, str(claude_dir)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[0, 1]", done.stderr
