"""The SSE reader survives how upstreams really deliver streams: lines split across reads, UTF-8
characters split mid-way, several frames in one read, glued frames, CRLF, no newline at the end."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccswitch.gateway.sse import DataReader, LineTooLong, frame, split_objects

STREAM = ('data: {"a":"h\u00e9llo \u6f22\u5b57 \U0001f600"}\n\n'
          ': keep-alive comment\n\n'
          'event: message\r\ndata: {"b":2}\r\n\r\n'
          'data: [DONE]\n\n').encode()
PAYLOADS = ['{"a":"h\u00e9llo \u6f22\u5b57 \U0001f600"}'.encode(), b'{"b":2}', b"[DONE]"]


def read(pieces: list[bytes]) -> list[bytes]:
    reader = DataReader()
    out = []
    for piece in pieces:
        out += reader.feed(piece)
    return out + reader.close()


def test_whole_and_byte_by_byte_give_the_same_payloads():
    assert read([STREAM]) == PAYLOADS
    assert read([STREAM[i:i + 1] for i in range(len(STREAM))]) == PAYLOADS


def test_a_character_split_mid_way_is_whole_again():
    at = STREAM.index("\u6f22".encode()) + 1  # inside the 3-byte character
    assert read([STREAM[:at], STREAM[at:]]) == PAYLOADS
    assert json.loads(read([STREAM[:at], STREAM[at:]])[0])["a"].startswith("h\u00e9llo \u6f22")


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_payloads(cuts):
    cuts = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)])]
    assert read(pieces) == PAYLOADS


def test_several_frames_in_one_read_come_out_in_order():
    reader = DataReader()
    assert reader.feed(b'data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\n') == [b'{"n":1}', b'{"n":2}', b'{"n":3}']


def test_a_last_line_without_newline_counts_at_close():
    reader = DataReader()
    assert reader.feed(b'data: {"n":1}\n\ndata: {"n":2}') == [b'{"n":1}']
    assert reader.close() == [b'{"n":2}']


def test_an_event_whose_data_spans_lines_is_joined():
    assert read([b'data: {"a":\ndata: 1}\n\n']) == [b'{"a":\n1}']


def test_glued_frames_on_one_line_are_split():
    assert split_objects(b'{"n":1}data: {"n":2}') == [{"n": 1}, {"n": 2}]
    assert split_objects(b'{"n":1}{"n":2}') == [{"n": 1}, {"n": 2}]
    with pytest.raises(ValueError):
        split_objects(b"not json")


def test_a_line_without_end_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr("ccswitch.gateway.sse.MAX_LINE", 10)
    with pytest.raises(LineTooLong):
        DataReader().feed(b"data: " + b"x" * 20)


def test_frame_is_what_anthropic_writes():
    assert frame("ping", {"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
