"""The Anthropic side of a translated answer: the SSE event sequence claude expects, in the order it
expects it, and usage and stop reasons in Anthropic terms.

Order (docs/translation.md, "Streaming answer"): `message_start` once; per content block
`content_block_start` -> its deltas -> `content_block_stop`, one block open at a time and none
empty (an empty text block before a tool call breaks claude's stream); `message_delta` with the
stop reason and the usage; `message_stop`. After `message_stop` or an `error` event nothing more.
Hot paths (text, thinking and argument deltas) write bytes around one json.dumps of the fragment.
"""

from __future__ import annotations

import json
import os

from ccswitch.gateway.apierror import sse_error_event
from ccswitch.gateway.sse import frame

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
                "content_filter": "refusal"}
TEXT, THINKING, TOOL = "text", "thinking", "tool_use"
_DELTA_HEAD = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_DELTA_KEY = {TEXT: b',"delta":{"type":"text_delta","text":', THINKING: b',"delta":{"type":"thinking_delta","thinking":',
              TOOL: b',"delta":{"type":"input_json_delta","partial_json":'}
_DELTA_TAIL = b"}}\n\n"


def anthropic_usage(prompt: int | None, cached: int | None, completion: int | None,
                    written: int | None = None) -> dict[str, int]:
    """OpenAI usage in Anthropic terms. OpenAI's prompt count includes the tokens read from its cache
    (and those written to it, which it now reports too); Anthropic's input_tokens excludes both, so
    they are taken out (counting cached tokens twice is a known bug elsewhere). Output includes
    reasoning tokens."""
    cached, written = cached or 0, written or 0
    return {"input_tokens": max((prompt or 0) - cached - written, 0), "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": written, "output_tokens": completion or 0}


def usage_details(details: object) -> tuple[int | None, int | None]:
    """(cached, written) from `prompt_tokens_details` / `input_tokens_details`."""
    if not isinstance(details, dict):
        return None, None
    return details.get("cached_tokens"), details.get("cache_write_tokens")


def message_id() -> str:
    return "msg_" + os.urandom(12).hex()


class AnthropicStream:
    """Writes the events; every method returns the bytes to send now (b"" when there are none)."""

    __slots__ = ("model", "id", "started", "index", "open", "tool_used", "usage", "ended")

    def __init__(self, model: str) -> None:
        self.model = model
        self.id: str | None = None
        self.started = False
        self.index = -1  # of the last block opened
        self.open: str | None = None  # the kind of the block open now
        self.tool_used = False
        self.usage = anthropic_usage(0, 0, 0)
        self.ended = False

    def start(self, upstream_id: str | None = None, model: str | None = None) -> bytes:
        if self.started:
            return b""
        self.started = True
        self.id = upstream_id if upstream_id and upstream_id.startswith("msg_") else message_id()
        message = {"id": self.id, "type": "message", "role": "assistant", "model": model or self.model, "content": [],
                   "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0}}
        return frame("message_start", {"type": "message_start", "message": message})

    def _open(self, kind: str, block: dict) -> bytes:
        out = self.close_block() if self.open else b""
        if not self.started:
            out = self.start() + out
        self.index += 1
        self.open = kind
        return out + frame("content_block_start", {"type": "content_block_start", "index": self.index, "content_block": block})

    def delta(self, kind: str, fragment: str) -> bytes:
        """A text, thinking or tool-argument fragment; a text or thinking block opens if needed."""
        out = b""
        if self.open != kind:
            if kind == TOOL:
                return b""  # arguments without an open call: the caller holds them until it opens
            out = self._open(kind, {"type": "text", "text": ""} if kind == TEXT else
                             {"type": "thinking", "thinking": "", "signature": ""})
        return out + _DELTA_HEAD + str(self.index).encode() + _DELTA_KEY[kind] + json.dumps(fragment).encode() + _DELTA_TAIL

    def signature(self, signature: str) -> bytes:
        """Ends a thinking block with its signature (one opens, empty, if none is open)."""
        out = b"" if self.open == THINKING else self._open(THINKING, {"type": "thinking", "thinking": "", "signature": ""})
        return out + frame("content_block_delta", {"type": "content_block_delta", "index": self.index,
                                                   "delta": {"type": "signature_delta", "signature": signature}})

    def tool_start(self, tool_id: str, name: str) -> bytes:
        self.tool_used = True
        return self._open(TOOL, {"type": "tool_use", "id": tool_id, "name": name, "input": {}})

    def close_block(self) -> bytes:
        if self.open is None:
            return b""
        self.open = None
        return frame("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def finish(self, stop_reason: str) -> bytes:
        """The end: the open block closed, message_delta (stop reason and usage), message_stop."""
        if self.ended:
            return b""
        out = (b"" if self.started else self.start()) + self.close_block()
        self.ended = True
        if stop_reason == "end_turn" and self.tool_used:
            stop_reason = "tool_use"  # some servers say "stop" after tool calls
        return out + frame("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason,
                                                                                 "stop_sequence": None},
                                             "usage": self.usage}) + frame("message_stop", {"type": "message_stop"})

    def error(self, kind: str, message: str) -> bytes:
        """An `error` event ends the stream; claude retries the request, not streaming (docs/gateway.md,
        "When a stream breaks")."""
        if self.ended:
            return b""
        self.ended = True
        return sse_error_event(kind, message)
