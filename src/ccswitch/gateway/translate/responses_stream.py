"""A Responses API event stream -> the Anthropic SSE stream claude reads, chunk by chunk.

Same contract as chat_stream.ChatStream: `feed(bytes) -> bytes` at once, `close()` at the end.
Output items arrive one after another, so each maps to one block as it comes: a reasoning item to
a thinking block (its summary as thinking deltas; its encrypted content in the signature, so it can
go back next turn), a message to a text block, a function_call to a tool_use block whose arguments
stream as `input_json_delta`. `response.completed` / `response.incomplete` end the message with its
usage; `response.failed` and `error` become an Anthropic `error` event (docs/translation.md,
"Responses API").
"""

from __future__ import annotations

from ccswitch.gateway.apierror import anthropic_kind, openai_error_message
from ccswitch.gateway.translate.events import (
    TEXT,
    THINKING,
    TOOL,
    anthropic_usage,
    usage_details,
)
from ccswitch.gateway.translate.responses_request import signature_for
from ccswitch.gateway.translate.stream import StreamTranslator
from ccswitch.gateway.translate.tools import Context, anthropic_id

INCOMPLETE = {"max_output_tokens": "max_tokens", "content_filter": "refusal"}


def usage_of(response: object) -> dict[str, int] | None:
    usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return None
    cached, written = usage_details(usage.get("input_tokens_details"))
    return anthropic_usage(usage.get("input_tokens"), cached, usage.get("output_tokens"), written)


def stop_reason(response: dict) -> str:
    if response.get("status") == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return INCOMPLETE.get(str(reason), "max_tokens")
    return "end_turn"


class ResponsesStream(StreamTranslator):
    __slots__ = ("open_item", "args_sent", "summary_index")

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.open_item: str | None = None  # the function_call item whose block is open
        self.args_sent = False
        self.summary_index = 0

    def _object(self, event: dict) -> bytes:
        kind = event.get("type")
        if kind == "response.output_text.delta" or kind == "response.refusal.delta":
            return self._text(TEXT, event.get("delta"))
        if kind == "response.function_call_arguments.delta":
            if self.open_item is not None and event.get("item_id") in (self.open_item, None, "") and event.get("delta"):
                self.args_sent = True
                return self.out.delta(TOOL, event["delta"])
            return b""
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            index = event.get("summary_index") or 0
            separator = "\n\n" if index != self.summary_index and self.out.open == THINKING else ""
            self.summary_index = index
            return self._text(THINKING, separator + (event.get("delta") or ""))
        if kind == "response.output_item.added":
            return self._item_added(event.get("item"))
        if kind == "response.output_item.done":
            return self._item_done(event.get("item"))
        if kind == "response.created" or kind == "response.in_progress":
            response = event.get("response") if isinstance(event.get("response"), dict) else {}
            return self.out.start(None, response.get("model"))
        if kind in ("response.completed", "response.incomplete"):
            response = event.get("response") if isinstance(event.get("response"), dict) else {}
            usage = usage_of(response)
            if usage is not None:
                self.out.usage = usage
            return self.out.finish(stop_reason(response))
        if kind == "response.failed" or kind == "error":
            source = event.get("response", {}).get("error") if kind == "response.failed" else event
            words, message = openai_error_message({"error": source if isinstance(source, dict) else {}})
            return self.out.error(anthropic_kind(words, None), message)
        return b""

    def _text(self, kind: str, text: object) -> bytes:
        if not text or not isinstance(text, str):
            return b""
        self.open_item = None
        return self.out.delta(kind, text)

    def _item_added(self, item: object) -> bytes:
        if not isinstance(item, dict) or item.get("type") != "function_call":
            return b""
        self.summary_index = 0
        return self._open_call(item)

    def _open_call(self, item: dict) -> bytes:
        name = self.context.names.original(str(item.get("name") or ""))
        out = self.out.tool_start(anthropic_id(item.get("call_id") or item.get("id")), name)
        self.open_item, self.args_sent = item.get("id") or "", False
        return out

    def _item_done(self, item: object) -> bytes:
        if not isinstance(item, dict):
            return b""
        kind = item.get("type")
        out = b""
        if kind == "function_call":
            if self.open_item is None or self.open_item != (item.get("id") or ""):
                out += self._open_call(item)  # a server that sent the call only when done
            if not self.args_sent and item.get("arguments"):
                out += self.out.delta(TOOL, item["arguments"])
            self.open_item = None
            return out + self.out.close_block()
        if kind == "reasoning":
            if item.get("encrypted_content"):
                out += self.out.signature(signature_for(self.context.profile, item))
            self.summary_index = 0
            return out + (self.out.close_block() if self.out.open == THINKING else b"")
        if kind == "message" and self.out.open == TEXT:
            return self.out.close_block()
        return b""
