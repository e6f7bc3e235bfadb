"""Find Claude Code transcripts and pull the usage of assistant responses out of their bytes.

A transcript (`<config dir>/projects/<project>/<session>.jsonl`, subagents under
`<session>/subagents/`) is JSONL: one line per event. Only `"type":"assistant"` lines carry a
`message.usage`, and claude writes one such line per content block of a response (same message id
and request id; the early ones with the usage of `message_start`), and replays old lines when a
session is resumed. So: dedupe by (message id, request id), keep the most complete usage.

Speed (a first scan reads every byte; docs/usage.md, "Speed"): the reader reads into one
reused 1 MiB buffer and walks its complete lines last first, deciding most of them from their
head. In claude's lines the first nested value is the top-level `message` (the keys before it are
plain values, _top_message): a user's message is a prompt or nothing, so a tool result's body,
most of the bytes, is never looked at; another message is a response when it holds `"usage":{`.
A response is decoded without its content: the line is stitched from the part before
`"content":` and the part from the last `"usage":{` on, and only that (~1 KB) is parsed; a usage
mark inside the content makes the stitched text invalid (too many closing brackets after it), and
then, as for any unusual shape, the whole line is parsed. Reading backwards meets a response's
last content block first; its earlier blocks (same message header) are dismissed from their
request id and output tokens. Lines of any other shape are searched for the marks and taken whole.
Lines longer than MAX_LINE keep only a head and a tail window (usage and ids live at the ends), so
memory stays bounded whatever is inside a transcript.

Prompts: the same pass finds the lines where a person's prompt starts a turn (a user line whose
message is text or an image, not tool results, and not a subagent's, meta or compaction line).
The first response after such a line is marked `turn_start`; counting those counts prompts. A
prompt at the end of what was read and not yet answered is remembered (`FileRead.pending`), so a
turn split across two reads is still marked once.

Bad input is counted, never raised: a malformed or truncated line, a file that vanishes or cannot
be read, a directory that cannot be listed.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zlib
from bisect import bisect_left
from collections import namedtuple
from collections.abc import Iterable, Mapping
from datetime import datetime

from ccswitch.usage.messages import MAX_TOKENS, MAX_TS, MIN_TS, Message

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

USAGE_MARK = b'"usage":{'
MESSAGE_MARK = b'"message":{'
CONTENT_MARK = b'"content":'
PROMPT_MARK = b'"message":{"role":"user","content":'
# Both marks in one pass, for the lines _top_message cannot decide from their head.
_MARKS = re.compile(rb'"(?:usage":\{|message":\{"role":"user","content":)')
_USAGE = re.compile(rb'"usage":\{')  # twice as fast as bytes.find of the same
CHUNK = 1 << 20  # the reused read buffer: 1 MiB stays in the CPU caches
MAX_LINE = 1 << 22
WINDOW = 1 << 16  # the head/tail kept of a huge line, and the span hashed to recognise a file

_DECODE = json.JSONDecoder().decode
_RAW_DECODE = json.JSONDecoder().raw_decode
_SCAN = json.JSONDecoder().scan_once  # the C scanner itself: decode() adds two regex calls per line
_BAD = object()  # a line that should have been a usage record but is not valid
_new_message = tuple.__new__  # Message(...) without the Python-level __new__ of a namedtuple
# What decoding a line may raise: not JSON, not UTF-8, or nested deeper than the decoder recurses.
_UNREADABLE = (ValueError, UnicodeDecodeError, RecursionError)


_COUNTS = ("files", "files_read", "bytes_read", "messages", "malformed_lines", "truncated_lines", "oversized_lines",
           "vanished_files", "unreadable_files", "unreadable_dirs")


class ScanStats:
    """What was skipped, for the one-line warning the caller prints; `notes` about the config dirs
    themselves. (Plain classes here, not dataclasses: the status line imports this module.)"""

    __slots__ = (*_COUNTS, "notes")

    def __init__(self, **counts: int) -> None:
        for name in _COUNTS:
            setattr(self, name, counts.pop(name, 0))
        if counts:
            raise TypeError(f"unknown counts: {sorted(counts)}")
        self.notes: list[str] = []

    def __getstate__(self) -> tuple[object, ...]:  # sent back from the reading processes
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(self.__slots__, state):
            setattr(self, name, value)

    def add(self, other: ScanStats) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes += other.notes

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


class FileInfo(namedtuple("FileInfo", [
    "path",      # str
    "size",      # int
    "mtime_ns",  # int
    "inode",     # int
])):
    __slots__ = ()


def file_info(path: str, st: os.stat_result) -> FileInfo:
    """A file's stat as the index keeps it: mtime and inode folded into SQLite's signed 64-bit
    integers (an mtime before 1678 or after 2262 in nanoseconds, an inode number of some network
    filesystems, is past them), the same file always giving the same values."""
    return FileInfo(path, st.st_size, _int64(st.st_mtime_ns), _int64(st.st_ino))


def _int64(value: int) -> int:
    return (value + (1 << 63)) % (1 << 64) - (1 << 63)


def find_transcripts(config_dirs: Iterable[str], stats: ScanStats) -> list[FileInfo]:
    """Every `projects/**/*.jsonl` under the config dirs, each file once and each real directory
    walked once (a dir may be a symlink to another, or to one of its parents)."""
    found: dict[tuple[int, int], FileInfo] = {}
    walked: set[tuple[int, int]] = set()
    for config in config_dirs:
        projects = os.path.join(config, "projects")
        if os.path.isdir(projects):
            _walk(projects, found, stats, walked)
        elif os.path.basename(os.path.normpath(config)) == "projects" and os.path.isdir(config):
            stats.notes.append(f"{config} is claude's transcripts folder itself, read as such "
                               "(CLAUDE_CONFIG_DIR names the folder that holds projects/)")
            _walk(config, found, stats, walked)
    stats.files += len(found)
    return sorted(found.values(), key=lambda f: f.path)


def _walk(directory: str, found: dict[tuple[int, int], FileInfo], stats: ScanStats,
          walked: set[tuple[int, int]]) -> None:
    try:
        st = os.stat(directory)
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    except OSError:
        stats.unreadable_dirs += 1
        return
    if (st.st_dev, st.st_ino) in walked:
        return  # a symlink loop, or a folder reached twice: its files are found already
    walked.add((st.st_dev, st.st_ino))
    for entry in entries:
        try:
            if entry.is_dir():
                _walk(entry.path, found, stats, walked)
            elif entry.name.endswith(".jsonl") and entry.is_file():
                st = entry.stat()
                found.setdefault((st.st_dev, st.st_ino), file_info(entry.path, st))
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
        except _UNREADABLE:
            record = None
    if record is None:
        try:
            record = _DECODE(line.decode("utf-8"))
        except _UNREADABLE:
            return _BAD
    return _message(record, synthetic_key)


def _shape(line: bytes) -> tuple[int, int, int] | None:
    """Where the top-level `"message":{`, its `"content":` and the last `"usage":{` are, when the
    line can be cut there (_cut); None when its shape is not the usual one (then it is parsed whole)."""
    opens = _top_message(line, 0, len(line))
    usage = line.rfind(USAGE_MARK)
    if opens < 0 or usage < opens:
        return None
    content = _cut(line, opens, usage)
    if content < 0 or _another_usage(line, content, usage):
        return None
    return opens + 1 - len(MESSAGE_MARK), content, usage


def _cut(data: bytes | bytearray, opens: int, hit: int) -> int:
    """Where the content of the top-level message whose `{` is at `opens` starts, when the line can
    be decoded without it, from there to its last usage mark at `hit`; -1 when it cannot. Before
    decoding, the caller checks that no other usage mark lies between the two (_USAGE).

    The stitched text is the line's head, the message's plain keys before `"content":`, and
    everything from `"usage":{` on. It decodes to the line without the content only when the mark
    at `hit` is the message's own key. A mark inside the content (a tool's input may hold a
    "usage" object; a text holds it with escaped quotes, which is no mark) is followed by the
    closing brackets of the objects and the content array around it, more than the stitched text
    has opened: the decoder stops before the end of the text, and the line is parsed whole. So is
    a line whose message holds another usage mark after its content, or whose keys at the cuts are
    not plain (a key is plain when its quote follows a comma or a brace: docs/usage.md, "Speed").
    What remains is a `usage` key of another top-level object after the message when the message
    itself has none: claude's assistant lines have none (tests/e2e/test_usage_scan_real_claude.py).
    """
    body = opens + 1
    content = data.find(CONTENT_MARK, body, hit)
    if content < 0:
        content = hit
    if data.find(b"{", body, content) >= 0 or data.find(b"[", body, content) >= 0 \
            or data[content - 1] not in b",{" or data[hit - 1] not in b",{":
        return -1
    return content


def _another_usage(data: bytes | bytearray, content: int, hit: int) -> bool:
    """Whether a usage mark lies in data[content:hit] (the message content and what follows it).
    A mark ends in `{`, which one memchr rules out for most text-only contents."""
    return data.find(b"{", content + len(CONTENT_MARK) + len(USAGE_MARK) - 1, hit) >= 0 \
        and _USAGE.search(data, content, hit) is not None


def _message(record: Any, synthetic_key: str) -> Message | None | object:
    # The hottest function of a first scan: exact types, positional fields, few lookups.
    if type(record) is not dict or record.get("type") != "assistant":
        return None
    message = record.get("message")
    if type(message) is not dict:
        return _BAD
    usage = message.get("usage")
    if type(usage) is not dict:
        return None
    model = message.get("model")
    if model == "<synthetic>":  # claude's own placeholder (API errors, interruptions): no request
        return None
    if "input_tokens" not in usage or "output_tokens" not in usage:
        return _BAD
    tokens = (usage["input_tokens"], usage["output_tokens"], usage.get("cache_read_input_tokens", 0),
              usage.get("cache_creation_input_tokens", 0))
    if type(tokens[0]) is not int or type(tokens[1]) is not int or type(tokens[2]) is not int \
            or type(tokens[3]) is not int or not 0 <= (tokens[0] | tokens[1] | tokens[2] | tokens[3]) <= MAX_TOKENS:
        return _BAD
    ts = _timestamp(record.get("timestamp"))
    if ts is None or not MIN_TS <= ts < MAX_TS:
        return _BAD
    creation = usage.get("cache_creation")
    one_hour = creation.get("ephemeral_1h_input_tokens", 0) if type(creation) is dict else 0
    message_id = message.get("id")
    request_id = record.get("requestId")
    session, cwd = record.get("sessionId"), record.get("cwd")
    return _new_message(Message, (
        message_id if type(message_id) is str and message_id else synthetic_key,
        request_id if type(request_id) is str else "",
        session if type(session) is str else "",
        model if type(model) is str else "",
        ts,
        cwd if type(cwd) is str else "",
        *tokens,
        one_hour if type(one_hour) is int and 0 <= one_hour <= MAX_TOKENS else 0,
        record.get("isSidechain") is True,
        usage.get("speed") == "fast",
        False,
    ))


def _timestamp(value: Any) -> float | None:
    """Seconds since the epoch of an ISO time with a zone. claude's own `2026-12-05T10:00:00.123Z`
    (one per response in a first scan) goes to datetime's C parser: as it is on Python 3.11+, which
    reads the `Z` (four times faster than slicing the text by hand), with `+00:00` for it on 3.10."""
    if type(value) is not str:
        return None
    try:
        if len(value) == 24 and value[23] == "Z":
            return _FROM_ISO(value if _READS_Z else value[:23] + "+00:00").timestamp()
        parsed = _FROM_ISO(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


_FROM_ISO = datetime.fromisoformat
_READS_Z = sys.version_info >= (3, 11)


# --- one file ----------------------------------------------------------------------------------


class FileRead:
    """What reading a file from `start` gave: its responses (deduped within the file) and how far
    it is safe to resume next time (the end of the last complete line)."""

    __slots__ = ("path", "start", "end", "messages", "stats", "head_hash", "tail_hash", "gone", "pending", "prompts",
                 "first_seen")

    def __init__(self, path: str, start: int, end: int = 0) -> None:
        self.path, self.start, self.end = path, start, end
        self.messages: dict[tuple[str, str], Message] = {}
        self.stats = ScanStats()
        self.head_hash = self.tail_hash = ""
        self.gone = False
        self.pending = False  # a prompt was read that no response has followed yet
        self.prompts: list[int] = []  # offsets of prompt lines
        self.first_seen: dict[tuple[str, str], int] = {}  # key -> offset of the line kept (for _mark_turns)

    def __getstate__(self) -> tuple[object, ...]:  # sent back from the reading processes
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(self.__slots__, state):
            setattr(self, name, value)


def read_file(path: str, start: int = 0, pending: bool = False) -> FileRead:
    """Read `path` from byte `start` on; never raises for I/O trouble (it is counted). `pending`:
    the previous read ended on a prompt that no response had followed yet."""
    result = FileRead(path, start, end=start)
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            if os.fstat(handle.fileno()).st_size > start:  # /proc's files say 0 and some never end
                _read_blocks(handle, start, result)
            result.head_hash, result.tail_hash = window_hashes(handle, result.end)
        _mark_turns(result, pending)
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


def _mark_turns(result: FileRead, pending: bool) -> None:
    """Mark the first response after each prompt (in file order) as a turn's start, and remember
    whether the read ended on an unanswered prompt. A prompt or response at or past `end` (an
    unfinished last line) is left for the next read."""
    prompts, seen, messages, end = sorted(result.prompts), result.first_seen, result.messages, result.end
    done = 0  # prompts[:done] are before the responses handled so far
    for key in sorted(seen, key=seen.__getitem__):
        offset = seen[key]
        if offset >= end:
            break
        if done < len(prompts) and prompts[done] < offset:
            pending, done = True, bisect_left(prompts, offset, done)
        if pending and not messages[key].sidechain:
            messages[key] = _new_message(Message, (*messages[key][:-1], True))  # _replace(turn_start=True)
            pending = False
    result.pending = pending or (done < len(prompts) and prompts[done] < end)


def _take(result: FileRead, line: bytes, offset: int, whole: bool, shape: tuple[int, int, int] | None = None,
          quick_done: bool = False) -> None:
    """One line holding the usage mark: kept when it is a response better than the copy kept so
    far. `shape` and `quick_done`: what the caller found out already."""
    if not quick_done:
        shape = _shape(line)
        if shape is not None:
            if line.startswith(b'"role":"user"', shape[0] + len(MESSAGE_MARK)):
                return  # a user line whose tool result carries a "usage" (a subagent's): not a response
            quick = _quick_key(line, *shape, 0, len(line))
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
    _keep(result, found, offset)


def _keep(result: FileRead, found: Message, offset: int) -> None:
    kept = result.messages.get(found.key)
    if kept is None or found.better_than(kept):
        result.messages[found.key] = found
        # Where the response is, for _mark_turns: any of its lines is after its prompt and before the next.
        result.first_seen[found.key] = offset


_QUICK_ID = re.compile(rb'"id":"([^"\\]+)"')
_QUICK_REQUEST = re.compile(rb'"requestId":"([^"\\]*)"')
_QUICK_OUTPUT = re.compile(rb'"output_tokens":(\d+)')
_TOKEN_DIGITS = len(str(MAX_TOKENS))  # a longer count is parsed whole (and is malformed); int() of 5,000 digits raises


def _quick_key(data: bytes, start: int, content: int, usage: int, line_start: int,
               line_end: int) -> tuple[tuple[str, str], int] | None:
    """(message id, request id) and output tokens from a few searches in data[line_start:line_end]
    (a line, or a line within a block: positions are data's), for lines that cannot beat the
    response already kept; None when that is not plain to see (then the line is parsed)."""
    message_id = _QUICK_ID.search(data, start, content)
    output = _QUICK_OUTPUT.search(data, usage, line_end)
    if message_id is None or output is None or len(output[1]) > _TOKEN_DIGITS \
            or not _own_output(data, usage, output.start()):
        return None
    return (message_id[1].decode(), _request_id(data, usage, line_end, line_start, start)), int(output[1])


def _request_id(data: bytes, usage: int, line_end: int, line_start: int, start: int) -> str:
    request = _QUICK_REQUEST.search(data, usage, line_end) or _QUICK_REQUEST.search(data, line_start, start)
    return request[1].decode() if request else ""


def _own_output(data: bytes, usage: int, output: int) -> bool:
    """Whether the output_tokens at `output` is usage's own, not inside something nested in it."""
    return data.count(b"{", usage + len(USAGE_MARK), output) == data.count(b"}", usage + len(USAGE_MARK), output)


def _read_blocks(handle: Any, start: int, result: FileRead) -> None:
    """Every complete line from `start` on, read into one reused buffer: its lines to _lines, a
    line longer than the buffer to _long_line. Sets result.end past the last complete line."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    filled, base = 0, start  # buf[:filled] holds the file from offset `base` on
    try:
        while got := handle.readinto(view[filled:]):
            filled += got
            while (last := buf.rfind(b"\n", 0, filled)) < 0 and filled == len(buf):  # one line fills the buffer
                after = _long_line(handle, result, buf, base)
                if after is None:
                    return
                filled, base = after
            if last >= 0:
                _lines(result, buf, last, base)
                filled -= last + 1
                buf[:filled] = buf[last + 1 : last + 1 + filled]  # the unfinished line to the front (copied: no overlap)
                base += last + 1
                result.end = base
    finally:
        view.release()
    if filled:
        _unfinished(result, bytes(buf[:filled]), None, base)


def _long_line(handle: Any, result: FileRead, buf: bytearray, offset: int) -> tuple[int, int] | None:
    """A line that does not fit in `buf` (full, from file offset `offset`): read on to its end,
    keeping it whole up to MAX_LINE and only head and tail windows beyond (usage and ids live at
    the ends). A user's message that is not a prompt (a big tool result: most long lines) is known
    from its head and read through `buf` without keeping anything. Leaves what follows the line at
    the front of `buf`; returns its length and offset, or None at the end of the file."""
    opens = _top_message(buf, 0, len(buf))
    if opens >= 0 and buf.startswith(_USER_ROLE, opens + 1) and not _is_user_prompt(buf, 0, opens, len(buf)):
        size = len(buf)
        while got := handle.readinto(buf):
            newline = buf.find(b"\n", 0, got)
            if newline >= 0:
                rest = got - newline - 1
                buf[:rest] = buf[newline + 1 : got]
                result.end = offset + size + newline + 1
                return rest, result.end
            size += got
        handle.seek(offset)  # cut short: as any unfinished last line (oversized past MAX_LINE)
        _unfinished(result, handle.read(size) if size <= MAX_LINE else b"", None if size <= MAX_LINE else b"", offset)
        return None
    parts, size, head, tail = [bytes(buf)], len(buf), None, b""
    while chunk := handle.read(CHUNK):
        newline = chunk.find(b"\n")
        piece = chunk if newline < 0 else chunk[:newline]
        size += len(piece)
        if head is None:
            parts.append(piece)
            if size > MAX_LINE:
                whole = b"".join(parts)
                head, tail, parts = whole[:WINDOW], whole[-WINDOW:], []
        else:
            tail = (tail + piece)[-WINDOW:]
        if newline >= 0:
            _one_line(result, b"".join(parts) if head is None else head + tail, offset, head is None)
            rest = chunk[newline + 1 :]
            buf[: len(rest)] = rest
            result.end = offset + size + 1
            return len(rest), result.end
    _unfinished(result, b"".join(parts), head, offset)
    return None


def _one_line(result: FileRead, line: bytes, offset: int, whole: bool) -> None:
    """A line taken on its own (long, or of a shape _lines does not know): a prompt, or a response."""
    if _is_prompt(line, line.find(PROMPT_MARK)):
        result.prompts.append(offset)
    elif USAGE_MARK in line:
        _take(result, line, offset, whole)


_MESSAGE_KEY = b'"message":'
_USER_ROLE = b'"role":"user"'
_NOT_A_PROMPT_RE = re.compile(rb'"is(?:Sidechain|Meta|CompactSummary)":true')


def _top_message(data: bytes | bytearray, start: int, stop: int) -> int:
    """Where the `{` of the top-level message of the line data[start:stop] is, when it is the
    line's first nested value; -1 when it is not (then the line is read as a whole).

    Why that can be trusted: inside a JSON string every quote is escaped, so the bytes
    `,"message":{` or `{"message":{` (a quote after a comma or brace, then a colon after the
    closing quote) are always a key of an object; when no `{` or `[` comes between the line's
    opening brace and that key, the object is the line itself.
    """
    if data[start] != 123:  # not a JSON object ("{")
        return -1
    opens = data.find(b"{", start + 1, stop)
    if opens - 11 >= start and data.startswith(_MESSAGE_KEY, opens - 10) and data[opens - 11] in b",{" \
            and data.find(b"[", start, opens) < 0:
        return opens
    return -1


def _is_user_prompt(data: bytes | bytearray, start: int, opens: int, stop: int) -> bool:
    """Whether the line data[start:stop], whose top-level message (at `opens`) is a user's, is a
    person's prompt: text or an image, and not a subagent's, meta or compaction line."""
    return (data.startswith(PROMPT_MARK, opens - len(MESSAGE_MARK) + 1)
            and _prompt_content(data, opens - len(MESSAGE_MARK) + 1 + len(PROMPT_MARK))
            and _NOT_A_PROMPT_RE.search(data, start, stop) is None)


def _prompt_content(data: bytes | bytearray, content: int) -> bool:
    """Whether the message content starting at `content` is a person's: text, or text and image blocks."""
    return data.startswith(b'"', content) or data.startswith(b'[{"type":"text"', content) \
        or data.startswith(b'[{"type":"image"', content)


def _lines(result: FileRead, buf: bytearray, end: int, base: int) -> None:
    """The complete lines of buf[:end] (buf[end] is a newline), last first: claude writes a
    response's final content block last, so reading backwards meets the complete usage first, and
    the earlier blocks are dismissed from their id and output tokens (no copy, no parse). A line
    whose first nested value is its message is decided from that head (_top_message): a user's
    message is a prompt or nothing, and a tool result's body (most of the bytes) is never read.
    A first scan spends its time here."""
    rfind, startswith, prompts = buf.rfind, buf.startswith, result.prompts
    last = [b"", None]  # the message header of the response read last, and its message id
    stop = end
    while True:
        start = rfind(b"\n", 0, stop) + 1
        if stop > start:
            opens = _top_message(buf, start, stop)
            if opens < 0:
                if _MARKS.search(buf, start, stop) is not None:
                    _one_line(result, bytes(buf[start:stop]), base + start, True)
            elif startswith(_USER_ROLE, opens + 1):
                if _is_user_prompt(buf, start, opens, stop):
                    prompts.append(base + start)
            else:
                _response(result, buf, start, opens, stop, base, last)
        if start == 0:
            return
        stop = start - 1


def _response(result: FileRead, buf: bytearray, start: int, opens: int, stop: int, base: int,
              last: list[Any]) -> None:
    """A line whose top-level message (at `opens`) is not a user's: a response when it carries
    usage. Its message header (id, model: the flat part before the content) is compared with that
    of the response read last (`last`: its bytes and message id, the next line in the file): the
    same bytes are the same message id, so the line is an earlier content block of that response,
    dismissed from its request id and output tokens when it cannot win; otherwise it is a response
    not seen yet, parsed at once."""
    hit = buf.rfind(USAGE_MARK, opens, stop)
    if hit < 0:
        return
    header, message_id = last
    content = opens - 10 + len(header)  # where the content starts if the header is the same (_cut checked it)
    if message_id is not None and content < hit and buf.startswith(header, opens - 10) \
            and buf.startswith(CONTENT_MARK, content) and buf[hit - 1] in b",{":
        output = _QUICK_OUTPUT.search(buf, hit, stop)
        if output is not None and len(output[1]) <= _TOKEN_DIGITS and _own_output(buf, hit, output.start()):
            kept = result.messages.get((message_id, _request_id(buf, hit, stop, start, opens - 10)))
            tokens = int(output[1])
            if kept is not None and not kept.sidechain and (
                    tokens < kept.output_tokens
                    or tokens == kept.output_tokens and not _more_input(buf, hit, stop, kept)):
                return  # an earlier content block of a response already read: it cannot win
    else:
        content = _cut(buf, opens, hit)
        if content < 0:
            _take(result, bytes(buf[start:stop]), base + start, True, None, quick_done=True)  # parsed whole
            return
        last[0], last[1] = bytes(buf[opens - 10 : content]), None
    if _another_usage(buf, content, hit):  # the message's own may be that one
        _take(result, bytes(buf[start:stop]), base + start, True, None, quick_done=True)
        return
    found = _stitched(buf, start, content, hit, stop, "")
    if found is _BAD:
        result.stats.malformed_lines += 1
    elif found is not None:
        if found.message_id:  # type: ignore[attr-defined]
            last[1] = found.message_id  # type: ignore[attr-defined]
        else:  # no message id: the line's own key (built only here, a first scan makes 150,000 responses)
            found = found._replace(message_id=f"@{result.path}:{base + start}")  # type: ignore[attr-defined]
        _keep(result, found, base + start)  # type: ignore[arg-type]


def _stitched(buf: bytearray, start: int, content: int, hit: int, stop: int, synthetic_key: str) -> object:
    """parse_line for the line buf[start:stop] of the usual shape: only the line without its
    message content is decoded (~1 KB instead of the whole line), falling back to the whole line
    when that is not valid JSON (a usage mark inside the content is: docs/usage.md, "Speed")."""
    try:
        record = _loads(buf[start:content] + buf[hit:stop])
    except (*_UNREADABLE, StopIteration):
        pass
    else:
        return _message(record, synthetic_key)
    try:
        return _message(_DECODE(buf[start:stop].decode("utf-8")), synthetic_key)
    except _UNREADABLE:
        return _BAD


def _json_loads(data: bytes | bytearray) -> Any:
    """The JSON value that is the whole of `data`, by json's C scanner itself (decode() adds two
    regex calls per line); ValueError or StopIteration when it is not one."""
    text = data.decode("utf-8")
    record, end = _SCAN(text, 0)
    if end != len(text):
        raise ValueError("extra data after the value")
    return record


_loads = _json_loads  # what decodes a stitched line: json's, or orjson's after fast_json()


def fast_json() -> None:
    """Decode stitched lines with orjson from now on, in this process (a first scan's reading
    processes: 1.3 us a line against json's 3.1 us). Not at import: importing orjson costs ~15 ms,
    more than the status line's whole read. A text orjson refuses goes to json, so the two paths
    count the same: orjson refuses NaN, 1e400, a lone surrogate or a deep nesting that json reads,
    and where both read a text they keep the same (an integer past 64 bits is a float to orjson and
    an int to json: both past MAX_TOKENS)."""
    global _loads
    try:
        from orjson import loads as orjson_loads
    except ImportError:  # a dependency, but reading is only slower without it
        return

    def loads(data: bytes | bytearray) -> Any:
        try:
            return orjson_loads(data)
        except ValueError:
            return _json_loads(data)

    _loads = loads


def _more_input(buf: bytearray, hit: int, stop: int, kept: Message) -> bool:
    """Whether the usage at `hit` has more input-side tokens than `kept` (its output tokens are the
    same): true when that is not plain to see. claude 2.1.330 writes the final usage on every
    content block line of a response, so the earlier blocks tie with the last one."""
    try:
        usage, _ = _RAW_DECODE(buf[hit + len(USAGE_MARK) - 1 : stop].decode("utf-8"))
    except _UNREADABLE:
        return True
    if type(usage) is not dict:
        return True
    total = 0
    for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        value = usage.get(name, 0)
        if type(value) is not int or value < 0:
            return True
        total += value
    return total > kept.input_tokens + kept.cache_read_tokens + kept.cache_write_tokens


def _is_prompt(line: bytes, at: int) -> bool:
    """Whether the user message whose PROMPT_MARK is at `at` is a person's prompt: the line's own
    message (its first), with text or an image, and not a subagent's, meta or compaction line."""
    if at < 0 or line.find(MESSAGE_MARK) != at:
        return False
    return _prompt_content(line, at + len(PROMPT_MARK)) and _NOT_A_PROMPT_RE.search(line) is None


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
        _keep(result, found, offset)


def window_hashes(handle: Any, end: int) -> tuple[str, str]:
    """Checksums (CRC-32) of the first and the last WINDOW bytes before `end` of an open binary
    file: cheap to recompute (4 GB/s; sha1 took a tenth of a first scan), and enough to tell a file
    that grew (both match) from one rewritten in place."""
    handle.seek(0)
    head = handle.read(min(WINDOW, end))
    handle.seek(max(0, end - WINDOW))
    tail = handle.read(min(WINDOW, end))
    return f"{zlib.crc32(head):08x}", f"{zlib.crc32(tail):08x}"
