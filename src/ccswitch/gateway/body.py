"""The request body: read its model, swap the model id, strip thinking blocks; nothing else changes.

Claude Code's body starts with `{"model":"..."`: the model is read and replaced with one regex match
and a slice, without parsing or re-serialising 60-200 KB of JSON (a full round trip costs 0.25-0.85
ms there, and would change the bytes the upstream sees). Any other shape falls back to a full parse,
and is then re-serialised with only `model` changed.
"""

from __future__ import annotations

import json
import re

# A leading, non-empty `"model"` whose value has no escapes (real ids never do); anything else takes the slow path.
_MODEL_AT_START = re.compile(rb'\s*\{\s*"model"\s*:\s*"([^"\\]+)"')
# Quotes inside JSON strings are escaped, so `"stream": true` unescaped is a key of some object; in
# claude's body only the top-level one. A wrong guess only picks the other timeout.
_STREAM_TRUE = re.compile(rb'"stream"\s*:\s*true')
_STREAM_VALUE = re.compile(rb'\s*:\s*(true|false)')
_THINKING_BLOCK = re.compile(rb'"type"\s*:\s*"(?:redacted_)?thinking"')
THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})


class BodyError(ValueError):
    """The body is not a Messages-style JSON object with a string `model`: a 400 for the client."""


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
        if self._obj is None:
            return b"".join((self.raw[: self._start], json.dumps(model).encode(), self.raw[self._end :]))
        return _dump({**self._obj, "model": model})

    def has_thinking_blocks(self) -> bool:
        """A cheap pre-check (a false positive only costs a parse in without_thinking)."""
        return _THINKING_BLOCK.search(self.raw) is not None

    def without_thinking(self) -> RequestBody | None:
        """This body minus `thinking`/`redacted_thinking` blocks of earlier assistant turns (a provider
        rejects signatures made by another), or None when there are none to strip."""
        obj = self._obj if self._obj is not None else _parse(self.raw)
        stripped = strip_thinking(obj)
        return None if stripped is None else RequestBody(_dump(stripped))


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


def strip_thinking(obj: dict) -> dict | None:
    messages = obj.get("messages")
    if not isinstance(messages, list):
        return None
    changed, kept = False, []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list) or message.get("role") != "assistant":
            kept.append(message)
            continue
        blocks = [b for b in content if not (isinstance(b, dict) and b.get("type") in THINKING_TYPES)]
        if len(blocks) == len(content):
            kept.append(message)
            continue
        changed = True
        if blocks:  # an assistant turn that was only thinking is dropped rather than sent empty
            kept.append({**message, "content": blocks})
    return {**obj, "messages": kept} if changed else None


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
