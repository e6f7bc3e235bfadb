"""Reading what a translator wrote as claude would: the SSE events in order, checked against the
order claude requires, and folded into the final message by the `anthropic` SDK's own accumulator."""

from __future__ import annotations

import json

ORDER_ERRORS = AssertionError


def events(raw: bytes) -> list[tuple[str, dict]]:
    """(event name, data) of each event; every event is `event:` + one `data:` line + a blank line."""
    text = raw.decode("utf-8")
    assert text == "" or text.endswith("\n\n"), "the stream must end at an event boundary"
    out = []
    for block in text.split("\n\n")[:-1]:
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), block
        name, data = lines[0][7:], json.loads(lines[1][6:])
        assert data["type"] == name, block
        out.append((name, data))
    return out


def check_order(evs: list[tuple[str, dict]]) -> None:
    """message_start; per block start -> deltas -> stop (one open at a time, indexes 0, 1, ...; no
    empty text block); message_delta; message_stop. Or an error event, last."""
    names = [n for n, _ in evs]
    if "error" in names:
        assert names.index("error") == len(names) - 1, names
        evs = evs[:-1]
        names = names[:-1]
    if not evs:
        return
    assert names[0] == "message_start", names
    open_index, next_index, has_delta = None, 0, False
    for name, data in evs[1:]:
        if name == "content_block_start":
            assert open_index is None, f"block {data['index']} opened while {open_index} is open"
            assert data["index"] == next_index
            open_index, next_index, has_delta = data["index"], next_index + 1, False
            kind = data["content_block"]["type"]
        elif name == "content_block_delta":
            assert data["index"] == open_index, (data, open_index)
            has_delta = has_delta or bool(data["delta"].get("text") or data["delta"].get("partial_json")
                                          or data["delta"].get("thinking") or data["delta"].get("signature"))
        elif name == "content_block_stop":
            assert data["index"] == open_index
            assert kind != "text" or has_delta, "an empty text block"
            open_index = None
        elif name == "message_delta":
            assert open_index is None, "message_delta with a block open"
        elif name == "message_stop":
            assert names[-2] == "message_delta", names
        elif name != "ping":
            raise AssertionError(f"unexpected event {name}")
    if "message_stop" in names:
        assert names[-1] == "message_stop", names


def fold(raw: bytes) -> dict:
    """The final message as the anthropic SDK builds it from these events (after check_order)."""
    from anthropic.lib.streaming._messages import accumulate_event

    evs = events(raw)
    check_order(evs)
    snapshot, bufs = None, {}
    for _, data in evs:
        if data["type"] == "error":
            continue
        snapshot = accumulate_event(event=data, current_snapshot=snapshot, json_bufs=bufs)
    assert snapshot is not None
    return snapshot.to_dict()
