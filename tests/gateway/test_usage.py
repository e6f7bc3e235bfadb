"""Usage read from SSE streams (however they are chunked) and JSON answers; the records database."""

from __future__ import annotations

import json
import sqlite3
import stat
import time

import pytest

from ccswitch.gateway.records import COLUMNS, SCHEMA_VERSION, RecordWriter, open_db
from ccswitch.gateway.usage import SSEUsage, Usage, read_json_answer

STREAM = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant",'
    b'"content":[],"usage":{"input_tokens":120,"output_tokens":1,"cache_read_input_tokens":900,"cache_creation_input_tokens":30}}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\"message_delta\\""}}\n\n'
    b'event: ping\ndata: {"type": "ping"}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def scan(chunks) -> Usage:
    usage = Usage()
    scanner = SSEUsage(usage)
    for chunk in chunks:
        scanner.feed(chunk)
    scanner.close()
    return usage


def as_tuple(usage: Usage) -> tuple:
    return (usage.message_id, usage.input_tokens, usage.output_tokens, usage.cache_read, usage.cache_write, usage.error_type)


EXPECTED = ("msg_01", 120, 42, 900, 30, None)


def test_usage_from_a_stream_in_one_chunk():
    assert as_tuple(scan([STREAM])) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 7, 64, 333])
def test_usage_whatever_the_chunk_boundaries(size):
    assert as_tuple(scan([STREAM[i : i + size] for i in range(0, len(STREAM), size)])) == EXPECTED


def test_usage_from_crlf_events_and_a_stream_without_the_final_blank_line():
    assert as_tuple(scan([STREAM.replace(b"\n", b"\r\n")[:-2]])) == EXPECTED


def test_an_error_event_is_noted():
    usage = scan([STREAM.split(b"\n\n")[0] + b"\n\n", b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\n\n'])
    assert usage.error_type == "overloaded_error" and usage.message_id == "msg_01"


def test_usage_from_a_json_answer():
    usage = Usage()
    read_json_answer(json.dumps({"id": "msg_2", "type": "message", "usage": {"input_tokens": 5, "output_tokens": 6}}).encode(), usage)
    assert as_tuple(usage) == ("msg_2", 5, 6, None, None, None)
    read_json_answer(b"not json", Usage())


def test_records_are_private_versioned_and_written_in_batches(tmp_path):
    path = tmp_path / "state" / "records" / "usage.sqlite3"
    warnings: list[str] = []
    writer = RecordWriter(str(path), warnings.append)
    for i in range(1200):
        writer.put({"time": time.time(), "session": "s", "path": "/v1/messages", "outcome": "ok", "input_tokens": i,
                    "message_id": f"msg_{i}"})
    writer.close()
    assert warnings == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [r[1] for r in db.execute("PRAGMA table_info(requests)")] == ["id", *COLUMNS]
    assert db.execute("SELECT count(*), sum(input_tokens) FROM requests").fetchone() == (1200, sum(range(1200)))


def test_a_newer_schema_disables_records_with_a_warning(tmp_path):
    path = tmp_path / "usage.sqlite3"
    open_db(str(path)).close()
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    warnings: list[str] = []
    writer = RecordWriter(str(path), warnings.append)
    writer.put({"time": 1.0, "session": "s", "path": "/", "outcome": "ok"})
    writer.close()
    assert len(warnings) == 1 and "newer than this gateway's" in warnings[0]
    assert sqlite3.connect(path).execute("SELECT count(*) FROM requests").fetchone() == (0,)


def test_usage_from_anthropics_current_event_shapes():
    start = (b'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929",'
             b'"id":"msg_01XFD","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,'
             b'"usage":{"input_tokens":3,"cache_creation_input_tokens":1200,"cache_read_input_tokens":40000,'
             b'"cache_creation":{"ephemeral_5m_input_tokens":1200,"ephemeral_1h_input_tokens":0},"output_tokens":2,'
             b'"service_tier":"standard"}}}\n\n')
    delta = (b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
             b'"usage":{"input_tokens":3,"cache_creation_input_tokens":1200,"cache_read_input_tokens":40000,'
             b'"output_tokens":310,"server_tool_use":{"web_search_requests":0}}}\n\n')
    text = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"id\\": \\"x\\", \\"output_tokens\\": 9, \\"error\\": {\\"type\\": \\"no\\"}"}}\n\n'
    assert as_tuple(scan([start, text, delta])) == ("msg_01XFD", 3, 310, 40000, 1200, None)


# The records file as version 1 of the gateway wrote it (before key pools): its table, verbatim.
VERSION_1 = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, time REAL NOT NULL, session TEXT NOT NULL, path TEXT NOT NULL, profile TEXT,
    upstream_host TEXT, model_requested TEXT, model_sent TEXT, stream INTEGER, status INTEGER, outcome TEXT NOT NULL,
    error TEXT, failover TEXT, ttfb_ms REAL, total_ms REAL, input_tokens INTEGER, output_tokens INTEGER,
    cache_read_tokens INTEGER, cache_write_tokens INTEGER, message_id TEXT, request_id TEXT
);
CREATE INDEX IF NOT EXISTS requests_time ON requests (time);
CREATE INDEX IF NOT EXISTS requests_message_id ON requests (message_id);
PRAGMA user_version = 1;
"""


def version_1_file(path) -> None:
    db = sqlite3.connect(path)
    db.executescript(VERSION_1)
    db.execute("INSERT INTO requests (time, session, path, profile, model_sent, status, outcome, input_tokens, "
               "output_tokens, message_id) VALUES (1796032800.0, 's', '/v1/messages', 'glm', 'glm-5.1', 200, 'ok', 7, 3, 'msg_old')")
    db.commit()
    db.close()


def version_2_file(path) -> None:
    """Version 2 (key pools): version 1 and `key_index`."""
    version_1_file(path)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE requests ADD COLUMN key_index INTEGER")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_file_gains_the_columns_since_in_place_and_usage_reads_old_and_new_rows(tmp_path, version):
    from ccswitch.usage.gateway import load_requests

    path = tmp_path / "usage.sqlite3"
    (version_1_file if version == 1 else version_2_file)(path)
    assert [r.message_id for r in load_requests(str(path))[0]] == ["msg_old"]  # usage reads a file not yet upgraded
    warnings: list[str] = []
    writer = RecordWriter(str(path), warnings.append)
    writer.put({"time": 1796032801.0, "session": "s", "path": "/v1/messages", "profile": "kimi", "model_sent": "k2", "status": 200,
                "outcome": "ok", "input_tokens": 5, "output_tokens": 1, "message_id": "msg_new", "key_index": 3,
                "prompt": 1})
    writer.close()
    assert warnings == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert [r[1] for r in db.execute("PRAGMA table_info(requests)")] == ["id", *COLUMNS]
    assert db.execute("SELECT message_id, key_index, prompt FROM requests ORDER BY id").fetchall() == [
        ("msg_old", None, None), ("msg_new", 3, 1)]
    requests, warning = load_requests(str(path))
    assert warning is None and [(r.profile, r.message_id, r.input_tokens, r.prompt) for r in requests] == [
        ("glm", "msg_old", 7, 0), ("kimi", "msg_new", 5, 1)]


def test_gateways_opening_an_old_file_together_upgrade_it_once(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    # Rounds, because the race is in the switch to WAL ("database is locked" at once, no busy wait):
    # it lost about one round in twenty before open_db retried it.
    for round in range(20):
        path = tmp_path / f"usage-{round}.sqlite3"
        version_1_file(path)
        with ThreadPoolExecutor(8) as pool:
            connections = list(pool.map(lambda _: open_db(str(path)), range(8)))  # no "duplicate column" for the later ones
        for db in connections:
            db.close()
        columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(requests)")]
        assert columns == ["id", *COLUMNS]
