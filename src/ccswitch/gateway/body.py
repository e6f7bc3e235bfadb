"""The request body: read it once, read its model, swap the model id, strip thinking blocks; nothing
else changes.

Claude Code's body starts with `{"model":"..."`: the model is read and replaced with one regex match
and a slice, without parsing or re-serialising 60-200 KB of JSON (a full round trip costs 0.25-0.85
ms there, and would change the bytes the upstream sees). Any other shape falls back to a full parse,
and is then re-serialised with only `model` changed.

Memory: the body is held once. It is read into one buffer sized by Content-Length (aiohttp's
`request.read()` holds a bytearray and then its bytes copy), and `parts()` gives the body with
another model as views of that buffer around the new id (`with_model()` joins them: a copy, which
is what a small body wants); docs/gateway.md, "Memory".
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

# A leading, non-empty `"model"` whose value has no escapes (real ids never do); anything else takes the slow path.
_MODEL_AT_START = re.compile(rb'\s*\{\s*"model"\s*:\s*"([^"\\]+)"')
# Quotes inside JSON strings are escaped, so `"stream": true` unescaped is a key of some object; in
# claude's body only the top-level one. A wrong guess only picks the other timeout.
_STREAM_TRUE = re.compile(rb'"stream"\s*:\s*true')
_STREAM_VALUE = re.compile(rb'\s*:\s*(true|false)')
_THINKING_BLOCK = re.compile(rb'"type"\s*:\s*"(?:redacted_)?thinking"')
THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})
# The last user message as claude writes it: compact JSON, `role` before `content`, and a content
# block's `type` within its first keys (a tool result starts with its `tool_use_id`). Quotes inside
# JSON strings are escaped, so these unescaped forms are keys and values of the body's own objects.
_USER_ROLES = (b'"role":"user"', b'"role": "user"')
_CONTENT = re.compile(rb'\s*,\s*"content"\s*:\s*(["\[])')
_BLOCK_TYPE = re.compile(rb'"type"\s*:\s*"([a-z_]*)"')
PROMPT_BLOCKS = frozenset({"text", "image"})  # a person's prompt, as usage/scan.py counts one in transcripts


LARGE = 1 << 20  # bytes: a body this large is not copied to change its model (docs/gateway.md, "Memory")


class BodyError(ValueError):
    """The body is not a Messages-style JSON object with a string `model`: a 400 for the client."""


class BodyTooLarge(BodyError):
    """Over the gateway's limit: a 413 for the client."""


async def read_body(content, length: int | None, limit: int) -> bytearray:  # content: aiohttp's StreamReader
    """The whole body from `content` (anything with `readany()`), in one buffer: sized at once when
    its (decoded) `length` is known, grown otherwise. More than `limit` bytes: BodyTooLarge."""
    if length is not None and length > limit:
        raise BodyTooLarge(f"the request body is too large ({length} bytes; the limit is {limit})")
    if length is None:
        body = bytearray()
        while chunk := await content.readany():
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(f"the request body is too large (over {limit} bytes)")
        return body
    body, at = bytearray(length), 0
    with memoryview(body) as view:
        while at < length and (chunk := await content.readany()):
            if len(chunk) > length - at:  # aiohttp ends the body at Content-Length; never trust it blindly
                raise BodyError("the request body is longer than its Content-Length")
            view[at : at + len(chunk)] = chunk
            at += len(chunk)
    if at < length:  # the client sent less than it announced (and aiohttp let it end)
        del body[at:]
    return body


class RequestBody:
    __slots__ = ("raw", "model", "stream", "_start", "_end", "_obj")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._obj: dict | None = None
        match = _MODEL_AT_START.match(raw)
        if match:
            try:
                self.model = match.group(1).decode("utf-8")
            except UnicodeDecodeError:
                raise BodyError("the request body is not UTF-8 JSON") from None
            self._start, self._end = match.start(1) - 1, match.end(1) + 1  # the string with its quotes
            self.stream = _streaming(raw)
            return
        self._obj = _parse(raw)
        self._start = self._end = -1
        self.model = self._obj["model"]
        self.stream = self._obj.get("stream") is True

    def with_model(self, model: str) -> bytes:
        """The body to send upstream with `model` as its model id."""
        if model == self.model:
            return self.raw
        if self._start >= 0:  # the fast path: a slice replaced (joined from views: one copy, not three)
            view = memoryview(self.raw)
            return b"".join((view[: self._start], json.dumps(model).encode(), view[self._end :]))
        return _dump({**self._obj, "model": model})

    def parts(self, model: str) -> tuple[bytes | bytearray | memoryview, ...]:
        """with_model(model) as parts to send one after the other: a large body as views of it around
        the new id (no copy), a small one joined (one copy costs less than three views)."""
        if self._start < 0 or model == self.model or len(self.raw) <= LARGE:
            return (self.with_model(model),)
        view = memoryview(self.raw)
        return (view[: self._start], json.dumps(model).encode(), view[self._end :])

    def parsed(self) -> dict:
        """The body as JSON, parsed once and kept (a translated upstream's request is built from it,
        on every attempt). BodyError when it is not a JSON object."""
        return self._parsed()

    def is_prompt(self) -> bool:
        """Is the last user message a person's prompt (text or an image), not tool results? What a
        quota counts as a prompt (gateway/quota.py). Read backwards from the end of the bytes in
        claude's shape (the tools and system prompt after the messages cost microseconds); any other
        shape is parsed."""
        raw = self.raw
        for role in _USER_ROLES:
            at = raw.rfind(role)
            if at < 0:
                continue
            content = _CONTENT.match(raw, at + len(role))
            if content is not None and content.group(1) == b'"':
                return True  # plain text
            kind = _BLOCK_TYPE.search(raw, content.end(), content.end() + 4096) if content is not None else None
            if kind is not None:
                return kind.group(1).decode() in PROMPT_BLOCKS
            break
        try:
            return _is_prompt(self._parsed())
        except BodyError:
            return False

    def has_thinking_blocks(self) -> bool:
        """A cheap pre-check (a false positive only costs a parse in without_thinking)."""
        return _THINKING_BLOCK.search(self.raw) is not None

    def without_thinking(self, refused: Collection[str] | None = None) -> RequestBody | None:
        """This body minus the `thinking`/`redacted_thinking` blocks of earlier assistant turns (a
        provider rejects signatures made by another), or only those whose signature is in `refused`;
        None when there are none to strip."""
        stripped = strip_thinking(self._parsed(), refused)
        return None if stripped is None else RequestBody(_dump(stripped))

    def thinking_signatures(self) -> set[str]:
        """The signatures of the thinking blocks of assistant turns (a redacted block's `data`)."""
        messages = self._parsed().get("messages")
        return {signature for message in (messages if isinstance(messages, list) else ())
                for block in _assistant_content(message) or () if _is_thinking(block) and (signature := _signature(block))}

    def _parsed(self) -> dict:
        if self._obj is None:
            self._obj = _parse(self.raw)
        return self._obj


def _streaming(raw: bytes) -> bool:
    """`"stream": true`? claude sends it as the body's last key, so look there first rather than
    scan 60-200 KB; if the last "stream" is not a boolean (a nested object), scan."""
    at = raw.rfind(b'"stream"')
    if at < 0:
        return False
    value = _STREAM_VALUE.match(raw, at + 8)
    if value is not None:
        return value.group(1) == b"true"
    return _STREAM_TRUE.search(raw) is not None


def strip_thinking(obj: dict, refused: Collection[str] | None = None) -> dict | None:
    """`obj` without the thinking blocks of its assistant turns (only those whose signature is in
    `refused`, when given), or None when it has none to strip."""
    messages = obj.get("messages")
    if not isinstance(messages, list):
        return None
    changed, kept = False, []
    for message in messages:
        content = _assistant_content(message)
        if content is None:
            kept.append(message)
            continue
        blocks = [b for b in content if not _is_thinking(b) or (refused is not None and _signature(b) not in refused)]
        if len(blocks) == len(content):
            kept.append(message)
            continue
        changed = True
        if blocks:  # an assistant turn that was only thinking is dropped rather than sent empty
            kept.append({**message, "content": blocks})
    return {**obj, "messages": kept} if changed else None


def _is_prompt(obj: dict) -> bool:
    messages = obj.get("messages")
    for message in reversed(messages if isinstance(messages, list) else ()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return True
            first = content[0] if isinstance(content, list) and content else None
            return isinstance(first, dict) and first.get("type") in PROMPT_BLOCKS
    return False


def _assistant_content(message: object) -> list | None:
    if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), list):
        return message["content"]
    return None


def _is_thinking(block: object) -> bool:
    return isinstance(block, dict) and block.get("type") in THINKING_TYPES


def _signature(block: dict) -> str | None:
    """What identifies a thinking block: its signature (a redacted one: its encrypted `data`)."""
    value = block.get("signature" if block.get("type") == "thinking" else "data")
    return value if isinstance(value, str) and value else None


def _parse(raw: bytes) -> dict:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BodyError("the request body is not valid JSON") from None
    if not isinstance(obj, dict):
        raise BodyError("the request body must be a JSON object")
    if not isinstance(obj.get("model"), str) or not obj["model"]:
        raise BodyError("model: a model name is required")
    return obj


def _dump(obj: dict) -> bytes:
    # Compact and unescaped, as the Anthropic SDKs send it; key order is kept ("model" stays first).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
