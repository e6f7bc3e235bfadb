"""Find Claude Code transcripts and pull the usage of assistant responses out of their bytes.

A transcript (`<config dir>/projects/<project>/<session>.jsonl`, subagents under
`<session>/subagents/`) is JSONL: one line per event. Only `"type":"assistant"` lines carry a
`message.usage`, and claude writes one such line per content block of a response (same message id
and request id; the early ones with the usage of `message_start`), and replays old lines when a
session is resumed. So: dedupe by (message id, request id), keep the most complete usage.

Speed: most bytes are user lines (tool results: file contents, command output) that cannot hold
usage. The reader searches each 4 MiB block for `"usage":{` with bytes.find (C speed, no per-line
Python work) and only then looks at the line around a hit. A hit is decoded without touching the
message content: the line is stitched from the part before `"content":` and the part from
`"usage":{` on, and only that (~1 KB) is parsed; when the shape is unusual it falls back to
parsing the whole line. Lines longer than MAX_LINE keep only a head and a tail window (usage and
ids live at the ends), so memory stays bounded whatever is inside a transcript.

Bad input is counted, never raised: a malformed or truncated line, a file that vanishes or cannot
be read, a directory that cannot be listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ccswitch.usage.messages import Message

USAGE_MARK = b'"usage":{'
MESSAGE_MARK = b'"message":{'
CONTENT_MARK = b'"content":'
CHUNK = 1 << 20  # 1 MiB stays in the CPU caches: reading 4 MiB blocks is 3-4x slower
MAX_LINE = 1 << 22
WINDOW = 1 << 16  # the head/tail kept of a huge line, and the span hashed to recognise a file

_DECODE = json.JSONDecoder().decode
_BAD = object()  # a line that should have been a usage record but is not valid


@dataclass
class ScanStats:
    """What was skipped, for the one-line warning the caller prints."""

    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    messages: int = 0
    malformed_lines: int = 0
    truncated_lines: int = 0
    oversized_lines: int = 0
    vanished_files: int = 0
    unreadable_files: int = 0
    unreadable_dirs: int = 0
    bad_run_records: int = 0

    def add(self, other: ScanStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def warning(self) -> str | None:
        """'skipped 3 malformed lines, 1 vanished file' or None when nothing was skipped."""
        parts = [
            f"{count} {singular if count == 1 else plural}"
            for count, singular, plural in (
                (self.malformed_lines, "malformed line", "malformed lines"),
                (self.truncated_lines, "truncated line", "truncated lines"),
                (self.oversized_lines, "oversized line", "oversized lines"),
                (self.vanished_files, "vanished file", "vanished files"),
                (self.unreadable_files, "unreadable file", "unreadable files"),
                (self.unreadable_dirs, "unreadable directory", "unreadable directories"),
                (self.bad_run_records, "malformed run record", "malformed run records"),
            )
            if count
        ]
        return "skipped " + ", ".join(parts) if parts else None


# --- where transcripts are ---------------------------------------------------------------------


def default_config_dirs(env: Mapping[str, str], home: str) -> list[str]:
    """Claude's config dirs, as ccusage finds them: $CLAUDE_CONFIG_DIR (comma-separated) if set,
    else ~/.config/claude (newer claude) and ~/.claude. Missing ones are dropped later."""
    configured = [p.strip() for p in env.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
    if configured:
        return configured
    xdg = env.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home, ".config")
    return [os.path.join(xdg, "claude"), os.path.join(home, ".claude")]


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    mtime_ns: int
    inode: int


def find_transcripts(config_dirs: Iterable[str], stats: ScanStats) -> list[FileInfo]:
    """Every `projects/**/*.jsonl` under the config dirs, each file once (a dir may be a symlink
    to another)."""
    found: dict[tuple[int, int], FileInfo] = {}
    for config in config_dirs:
        projects = os.path.join(config, "projects")
        if os.path.isdir(projects):
            _walk(projects, found, stats)
    stats.files += len(found)
    return sorted(found.values(), key=lambda f: f.path)


def _walk(directory: str, found: dict[tuple[int, int], FileInfo], stats: ScanStats) -> None:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    except OSError:
        stats.unreadable_dirs += 1
        return
    for entry in entries:
        try:
            if entry.is_dir():
                _walk(entry.path, found, stats)
            elif entry.name.endswith(".jsonl") and entry.is_file():
                st = entry.stat()
                found.setdefault((st.st_dev, st.st_ino), FileInfo(entry.path, st.st_size, st.st_mtime_ns, st.st_ino))
        except FileNotFoundError:
            stats.vanished_files += 1
        except OSError:
            stats.unreadable_files += 1


# --- one line -> one Message -------------------------------------------------------------------


def parse_line(line: bytes, synthetic_key: str = "", shape: tuple[int, int, int] | None = None) -> Message | None | object:
    """The usage record on a transcript line: a Message, None (not a usage line), or _BAD.

    `synthetic_key` names a response that has no message id (counted once per line, as ccusage);
    `shape` is _shape(line) when the caller has it already.
    """
    shape = shape or _shape(line)
    record = None
    if shape is not None:
        start, content, usage = shape
        try:  # the line without the message content: ~1 KB to parse instead of the whole line
            record = _DECODE((line[:content] + line[usage:]).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            record = None
    if record is None:
        try:
            record = _DECODE(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return _BAD
    return _message(record, synthetic_key)


def _shape(line: bytes) -> tuple[int, int, int] | None:
    """Where `"message":{`, its `"content":` and the last `"usage":{` are, when the line can be cut
    there; None when its shape is not the usual one (then it is parsed whole).

    Cutting is only safe where the cut starts at the message's own level: nothing nested opens
    between `"message":{` and `"content":` (ids, model, type, role are plain strings).
    """
    start = line.find(MESSAGE_MARK)
    usage = line.rfind(USAGE_MARK)
    if start < 0 or usage < start:
        return None
    body = start + len(MESSAGE_MARK)
    content = line.find(CONTENT_MARK, body, usage)
    if content < 0:
        content = usage
    if line.find(b"{", body, content) >= 0 or line.find(b"[", body, content) >= 0:
        return None
    return start, content, usage


def _message(record: Any, synthetic_key: str) -> Message | None | object:
    if not isinstance(record, dict) or record.get("type") != "assistant":
        return None
    message = record.get("message")
    if not isinstance(message, dict):
        return _BAD
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None
    model = message.get("model")
    if model == "<synthetic>":  # claude's own placeholder (API errors, interruptions): no request
        return None
    tokens = [usage.get(k, 0) for k in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")]
    if any(type(t) is not int or t < 0 for t in tokens) or "input_tokens" not in usage or "output_tokens" not in usage:
        return _BAD
    ts = _timestamp(record.get("timestamp"))
    if ts is None:
        return _BAD
    creation = usage.get("cache_creation")
    one_hour = creation.get("ephemeral_1h_input_tokens", 0) if isinstance(creation, dict) else 0
    message_id = message.get("id")
    request_id = record.get("requestId")
    return Message(
        message_id=message_id if isinstance(message_id, str) and message_id else synthetic_key,
        request_id=request_id if isinstance(request_id, str) else "",
        session=_text(record.get("sessionId")),
        model=model if isinstance(model, str) else "",
        ts=ts,
        cwd=_text(record.get("cwd")),
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cache_read_tokens=tokens[2],
        cache_write_tokens=tokens[3],
        cache_write_1h_tokens=one_hour if type(one_hour) is int and one_hour >= 0 else 0,
        sidechain=record.get("isSidechain") is True,
        fast=usage.get("speed") == "fast",
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


# --- one file ----------------------------------------------------------------------------------


@dataclass
class FileRead:
    """What reading a file from `start` gave: its responses (deduped within the file) and how far
    it is safe to resume next time (the end of the last complete line)."""

    path: str
    start: int
    end: int = 0
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    stats: ScanStats = field(default_factory=ScanStats)
    head_hash: str = ""
    tail_hash: str = ""
    gone: bool = False


def read_file(path: str, start: int = 0) -> FileRead:
    """Read `path` from byte `start` on; never raises for I/O trouble (it is counted)."""
    result = FileRead(path, start, end=start)
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            for offset, line, whole in _usage_lines(handle, start, result):
                _take(result, line, offset, whole)
            result.head_hash, result.tail_hash = window_hashes(handle, result.end)
    except FileNotFoundError:
        result.gone = True
        result.stats.vanished_files += 1
    except OSError:
        result.gone = True
        result.stats.unreadable_files += 1
    result.stats.files_read += 1
    result.stats.bytes_read += max(0, result.end - start)
    result.stats.messages += len(result.messages)
    return result


def _take(result: FileRead, line: bytes, offset: int, whole: bool) -> None:
    shape = _shape(line)
    if shape is not None:
        if line.startswith(b'"role":"user"', shape[0] + len(MESSAGE_MARK)):
            return  # a user line whose tool result carries a "usage" (a subagent's): not a response
        quick = _quick_key(line, shape)
        if quick is not None:
            kept = result.messages.get(quick[0])
            if kept is not None and quick[1] < kept.output_tokens and not kept.sidechain:
                return  # an earlier content block of a response already read: it cannot win
    found = parse_line(line, f"@{result.path}:{offset}", shape)
    if found is None:
        return
    if found is _BAD:
        if whole:
            result.stats.malformed_lines += 1
        else:
            result.stats.oversized_lines += 1
        return
    assert isinstance(found, Message)
    kept = result.messages.get(found.key)
    if kept is None or found.better_than(kept):
        result.messages[found.key] = found


_QUICK_ID = re.compile(rb'"id":"([^"\\]+)"')
_QUICK_REQUEST = re.compile(rb'"requestId":"([^"\\]*)"')
_QUICK_OUTPUT = re.compile(rb'"output_tokens":(\d+)')


def _quick_key(line: bytes, shape: tuple[int, int, int]) -> tuple[tuple[str, str], int] | None:
    """(message id, request id) and output tokens from a few searches, for lines that cannot beat
    the response already kept; None when that is not plain to see (then the line is parsed)."""
    start, content, usage = shape
    message_id = _QUICK_ID.search(line, start, content)
    output = _QUICK_OUTPUT.search(line, usage)
    if message_id is None or output is None:
        return None
    between = line[usage + len(USAGE_MARK) : output.start()]
    if between.count(b"{") != between.count(b"}"):
        return None  # that output_tokens is inside something nested in usage, not usage's own
    request = _QUICK_REQUEST.search(line, usage) or _QUICK_REQUEST.search(line, 0, start)
    return (message_id[1].decode(), request[1].decode() if request else ""), int(output[1])


def _usage_lines(handle: Any, start: int, result: FileRead) -> Iterator[tuple[int, bytes, bool]]:
    """(offset, line, whole) of every complete line holding the usage mark; `whole` is False for a
    huge line given as head + tail windows. Sets result.end past the last complete line."""
    carry = b""  # the unfinished line so far (below MAX_LINE)
    head: bytes | None = None  # the first WINDOW bytes of an unfinished huge line
    tail = b""
    line_start = base = start
    while chunk := handle.read(CHUNK):
        first = chunk.find(b"\n")
        if first < 0:  # the unfinished line goes on
            if head is None:
                carry += chunk
                if len(carry) > MAX_LINE:
                    head, tail, carry = carry[:WINDOW], carry[-WINDOW:], b""
            else:
                tail = (tail + chunk)[-WINDOW:]
            base += len(chunk)
            continue
        if head is not None:
            tail = (tail + chunk[:first])[-WINDOW:]
            if USAGE_MARK in tail:
                yield line_start, head + tail, False
            head = None
        else:
            line = carry + chunk[:first] if carry else chunk[:first]
            if USAGE_MARK in line:
                yield line_start, line, True
        last = chunk.rfind(b"\n")
        yield from _lines_in(chunk, first + 1, last, base)
        carry, line_start = chunk[last + 1 :], base + last + 1
        base += len(chunk)
        result.end = line_start
    if carry or head is not None:
        _unfinished(result, carry, head, line_start)


def _lines_in(chunk: bytes, i: int, end: int, base: int) -> Iterator[tuple[int, bytes, bool]]:
    """The mark-holding lines among the complete lines chunk[i:end] (end is a newline), last
    first: claude writes a response's final content block last, so reading backwards meets the
    complete usage first and the earlier blocks are dismissed by _quick_key without a parse."""
    find, rfind = chunk.find, chunk.rfind
    stop = end
    while (hit := rfind(USAGE_MARK, i, stop)) >= 0:
        newline = rfind(b"\n", i, hit)
        line_start = newline + 1 if newline >= 0 else i
        yield base + line_start, chunk[line_start : find(b"\n", hit, end + 1)], True
        stop = line_start


def _unfinished(result: FileRead, carry: bytes, head: bytes | None, offset: int) -> None:
    """The last line has no newline yet: claude may be writing it. It is not consumed (the next
    read starts at it again), but a line that is already complete JSON is counted now (upserts
    make the second reading harmless); one that is not is counted as truncated."""
    if head is not None:
        result.stats.oversized_lines += 1
        return
    if USAGE_MARK not in carry:
        return
    found = parse_line(carry, f"@{result.path}:{offset}")
    if found is _BAD:
        result.stats.truncated_lines += 1
    elif isinstance(found, Message):
        kept = result.messages.get(found.key)
        if kept is None or found.better_than(kept):
            result.messages[found.key] = found


def window_hashes(handle: Any, end: int) -> tuple[str, str]:
    """Hashes of the first and the last WINDOW bytes before `end` of an open binary file: cheap to
    recompute, and enough to tell a file that grew (both match) from one rewritten in place."""
    handle.seek(0)
    head = handle.read(min(WINDOW, end))
    handle.seek(max(0, end - WINDOW))
    tail = handle.read(min(WINDOW, end))
    return hashlib.sha1(head).hexdigest(), hashlib.sha1(tail).hexdigest()
