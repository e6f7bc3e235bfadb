"""Server-sent events, both ways: `frame` writes one event as Anthropic sends them, `DataReader`
reads the `data:` payloads of a stream fed in arbitrary pieces.

Reading works on bytes and splits at b"\\n" only: a multi-byte UTF-8 character never contains that
byte, so a character split across two reads is whole again before any line is decoded, and a line
split across reads waits for its end. Stdlib only (the translators and `apierror` share it).
"""

from __future__ import annotations

import json

DONE = b"[DONE]"  # OpenAI's end-of-stream sentinel
MAX_LINE = 16 << 20  # a line this long without its end is not an event anyone sends


def frame(event: str, data: object) -> bytes:
    """One SSE event, `event: NAME` then its JSON on one `data:` line, as the Anthropic API sends it."""
    return b"event: " + event.encode() + b"\ndata: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


class LineTooLong(ValueError):
    """A line grew past MAX_LINE without ending: the stream is not SSE."""


class DataReader:
    """Feed it the stream's bytes as they come; each call returns the `data:` payloads completed by
    them (bytes, the field's value without its leading space), in order.

    Per line, as upstreams really send them: every `data:` line is one payload (an event whose data
    spans several lines is joined with "\\n" per the SSE spec only when its first line is not a
    complete JSON value on its own — see `feed`); `event:`, `id:`, `retry:` and comment lines are
    ignored; CRLF and CR-less endings alike."""

    __slots__ = ("_pending", "_partial")

    def __init__(self) -> None:
        self._pending = b""  # the start of a line whose end has not arrived
        self._partial: list[bytes] = []  # data lines of one event that do not parse alone yet

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._pending + chunk if self._pending else chunk
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) > MAX_LINE:
                raise LineTooLong("an SSE line has no end")
            self._pending = data
            return []
        self._pending = data[end + 1:]
        out: list[bytes] = []
        for line in data[:end].split(b"\n"):
            self._line(line, out)
        return out

    def close(self) -> list[bytes]:
        """The end of the stream: a last line without its newline still counts."""
        out: list[bytes] = []
        if self._pending:
            pending, self._pending = self._pending, b""
            self._line(pending, out)
        if self._partial:
            out.append(b"\n".join(self._partial))
            self._partial = []
        return out

    def _line(self, line: bytes, out: list[bytes]) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.startswith(b"data:"):
            if not line and self._partial:  # the blank line that ends a multi-line event
                out.append(b"\n".join(self._partial))
                self._partial = []
            return
        value = line[6:] if line[5:6] == b" " else line[5:]
        if self._partial:
            self._partial.append(value)
            joined = b"\n".join(self._partial)
            if complete_json(joined):
                out.append(joined)
                self._partial = []
        elif value[:1] == b"{" and not value.rstrip().endswith(b"}"):
            self._partial.append(value)  # an event's data continued on the next line
        else:
            out.append(value)


def complete_json(value: bytes | str) -> bool:
    """Is this a whole JSON value yet?"""
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def split_objects(payload: bytes) -> list[object]:
    """The JSON values of one payload: usually one; several when a server glued frames together
    (`{...}data: {...}` or `{...}{...}` on one line). Raises ValueError when it is not JSON."""
    try:
        return [json.loads(payload)]
    except ValueError:
        pass
    text = payload.decode("utf-8")
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if text.startswith("data:", at):
            at += 5
            continue
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    if not values:
        raise ValueError("no JSON in an SSE data payload")
    return values
