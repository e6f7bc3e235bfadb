"""Token usage and the message id, read from an answer as it passes through.

A stream's `message_start` carries the message id and the input/cache usage, its final
`message_delta` the output tokens (cumulative; a later value wins); a non-streaming answer has both
in its JSON. Only these small events are parsed: text deltas are skipped with a substring test.
Nothing of the answer's text is kept.
"""

from __future__ import annotations

import json
import re

_USAGE_FIELDS = (
    ("input_tokens", "input_tokens"),
    ("output_tokens", "output_tokens"),
    ("cache_read_input_tokens", "cache_read"),
    ("cache_creation_input_tokens", "cache_write"),
)
_MAX_PENDING = 1 << 20  # a line this long without its end is not one we need
_MARKERS = (b'"message_start"', b'"message_delta"', b'"error"')
_MESSAGE_ID = re.compile(rb'"id"\s*:\s*"([^"\\]+)"')  # message_start's first "id" is the message's
_USAGE_NUMBER = re.compile(rb'"(input_tokens|output_tokens|cache_read_input_tokens|cache_creation_input_tokens)"\s*:\s*(\d+)')
_ERROR_TYPE = re.compile(rb'"error"\s*:\s*\{\s*"type"\s*:\s*"([^"\\]+)"')
_FIELD = {b"input_tokens": "input_tokens", b"output_tokens": "output_tokens",
          b"cache_read_input_tokens": "cache_read", b"cache_creation_input_tokens": "cache_write"}


class Usage:
    __slots__ = ("message_id", "input_tokens", "output_tokens", "cache_read", "cache_write", "error_type")

    def __init__(self) -> None:
        self.message_id: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None
        self.error_type: str | None = None  # an `error` event inside a 200 stream

    def apply(self, usage: object) -> None:
        if not isinstance(usage, dict):
            return
        for key, slot in _USAGE_FIELDS:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, slot, value)

    def apply_numbers(self, pairs: list[tuple[bytes, bytes]]) -> None:
        for key, value in pairs:
            setattr(self, _FIELD[key], int(value))

    def read_message(self, message: object) -> None:
        if isinstance(message, dict):
            if isinstance(message.get("id"), str):
                self.message_id = message["id"]
            self.apply(message.get("usage"))


class SSEUsage:
    """Feed it the stream's chunks as they are relayed; `usage` fills in as the events pass.

    Works on complete lines: a `data:` line holds an event's JSON (Anthropic and the compatible
    providers send it on one line). Only the lines holding a marker are looked at, found with
    `bytes.find`, so a text delta costs three substring searches."""

    __slots__ = ("usage", "_pending")

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        data = self._pending + chunk if self._pending else chunk
        end = data.rfind(b"\n")
        if end < 0:
            self._pending = data if len(data) < _MAX_PENDING else b""
            return
        self._pending = data[end + 1 :]
        for marker in _MARKERS:
            at = data.find(marker, 0, end)
            while at >= 0:
                start = data.rfind(b"\n", 0, at) + 1
                stop = data.find(b"\n", at, end + 1)
                self._line(data[start:stop])
                at = data.find(marker, stop, end)

    def close(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, b""
            self.feed(pending + b"\n")

    def _line(self, line: bytes) -> None:
        """One `data:` line. Read with regexes, not json.loads: building the event's dicts cost
        ~0.1 ms a request in bench/gateway.py. Safe on these lines: they carry no text (quotes
        inside JSON strings are escaped, so a quoted key cannot appear in one), and the usage keys
        are matched with their opening quote (`"input_tokens"` is not `"ephemeral_5m_input_tokens"`)."""
        if not line.startswith(b"data:"):
            return
        if b'"message_start"' in line:
            found = _MESSAGE_ID.search(line)
            if found:
                self.usage.message_id = found.group(1).decode("utf-8", "replace")
            self.usage.apply_numbers(_USAGE_NUMBER.findall(line))
        elif b'"message_delta"' in line:
            self.usage.apply_numbers(_USAGE_NUMBER.findall(line))
        else:
            found = _ERROR_TYPE.search(line)
            if found:
                self.usage.error_type = found.group(1).decode("utf-8", "replace")


def read_json_answer(body: bytes, usage: Usage) -> None:
    """A non-streaming answer: a `message` object (id + usage) or an error object."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return
    if not isinstance(data, dict):
        return
    if data.get("type") == "error" and isinstance(data.get("error"), dict):
        usage.error_type = str(data["error"].get("type"))
    else:
        usage.read_message(data)
