"""A Chat Completions stream -> the Anthropic SSE stream claude reads, chunk by chunk.

`ChatStream(context).feed(bytes)` returns at once the Anthropic bytes those upstream bytes complete
(nothing is held back but a line whose end has not arrived, and tool calls that interleave);
`close()` at the upstream's end. One call per upstream chunk; no I/O (docs/translation.md,
"Streaming answer").

- thinking (`reasoning_content` / `reasoning`) -> text -> tool calls, in that order within a chunk;
- a tool call opens its block once its name is known (with its id, or at its first argument),
  and its arguments go out as `input_json_delta` fragments as they come; a call that starts while
  another is still receiving arguments waits (blocks cannot interleave) until that one's arguments
  are complete JSON or the choice finishes;
- `finish_reason` closes the blocks; `message_delta` (with usage, which may come in a later chunk
  without choices, or on every chunk) and `message_stop` wait for `[DONE]` or the end of the body;
- an `error` object -> an Anthropic `error` event, and nothing after it; a body that ends before
  any finish_reason is a broken stream and ends the same way.
"""

from __future__ import annotations

import json

from ccswitch.gateway.apierror import anthropic_kind, openai_error_message
from ccswitch.gateway.sse import complete_json
from ccswitch.gateway.translate.events import (
    STOP_REASONS,
    TEXT,
    THINKING,
    TOOL,
    anthropic_usage,
    usage_details,
)
from ccswitch.gateway.translate.stream import CUT_SHORT, StreamTranslator
from ccswitch.gateway.translate.tools import Context, anthropic_id


class _Call:
    __slots__ = ("id", "name", "signature", "args", "state")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.signature: str | None = None
        self.args: list[str] = []
        self.state = 0  # 0 waiting, 1 open, 2 closed


class ChatStream(StreamTranslator):
    __slots__ = ("calls", "current", "finish_reason", "done")

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.calls: dict[int, _Call] = {}
        self.current: _Call | None = None  # the call whose block is open
        self.finish_reason: str | None = None
        self.done = False  # [DONE] seen

    def _done(self) -> bytes:
        self.done = True
        return self._end()

    def _end_of_body(self) -> bytes:
        """A missing [DONE] is fine once a finish_reason came; before one, the stream was cut."""
        if self.finish_reason is None and not self.done:
            return self.out.error("overloaded_error", CUT_SHORT if self.out.started else "the upstream sent no answer")
        return self._end()

    def _object(self, obj: dict) -> bytes:
        if "error" in obj and not obj.get("choices"):
            words, message = openai_error_message(obj)
            code = obj["error"].get("code") if isinstance(obj["error"], dict) else None
            return self.out.error(anthropic_kind(words, code if isinstance(code, int) else None), message)
        out = b"" if self.out.started else self.out.start(obj.get("id"), obj.get("model"))
        usage = obj.get("usage")
        if isinstance(usage, dict):
            cached, written = usage_details(usage.get("prompt_tokens_details"))
            self.out.usage = anthropic_usage(usage.get("prompt_tokens"), cached, usage.get("completion_tokens"), written)
        for choice in obj.get("choices") or ():
            if isinstance(choice, dict) and not choice.get("index"):  # n is 1: only choice 0 exists
                out += self._choice(choice)
        return out

    def _choice(self, choice: dict) -> bytes:
        out = b""
        delta = choice.get("delta")
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                out += self._text(THINKING, reasoning)
            for key in ("content", "refusal"):
                text = delta.get(key)
                if text and isinstance(text, str):
                    out += self._text(TEXT, text)
            calls = delta.get("tool_calls")
            if calls and isinstance(calls, list):
                for position, call in enumerate(calls):
                    if isinstance(call, dict):
                        out += self._tool_call(call, position)
        finish = choice.get("finish_reason")
        if finish and self.finish_reason is None:
            self.finish_reason = finish
            out += self._close_calls()
        return out

    def _text(self, kind: str, text: str) -> bytes:
        if self.current is not None:  # text after a call: that call's block ends here
            self.current.state, self.current = 2, None
        return self.out.delta(kind, text)

    def _tool_call(self, raw: dict, position: int) -> bytes:
        index = raw.get("index")
        if not isinstance(index, int):
            index = position if raw.get("id") or not self.calls else max(self.calls)
        call = self.calls.get(index)
        if call is None:
            call = self.calls[index] = _Call()
        function = raw.get("function") if isinstance(raw.get("function"), dict) else {}
        if raw.get("id") and not call.id:
            call.id = str(raw["id"])
        if function.get("name") and not call.name:
            call.name = str(function["name"])
        extra = raw.get("extra_content")
        if isinstance(extra, dict) and isinstance(extra.get("google"), dict):
            call.signature = extra["google"].get("thought_signature") or call.signature
        args = function.get("arguments")
        if args is not None and not isinstance(args, str):
            args = json.dumps(args)  # a server that sends the arguments as an object
        if args:
            call.args.append(args)  # kept: a call that starts next asks whether they are complete
            if call.state == 1:
                return self.out.delta(TOOL, args)
        elif call.state == 1:
            return b""
        if call.state == 2 or not call.name or not (call.id or call.args):
            return b""
        if self.current is not None:
            # Asked only when a second call starts: are the first one's argument fragments whole yet?
            if not complete_json("".join(self.current.args)):
                return b""  # interleaved: this call waits until the open one is done
            self.current.state, self.current = 2, None
        return self._open(call)

    def _open(self, call: _Call) -> bytes:
        out = self.out.tool_start(anthropic_id(call.id, call.signature), self.context.names.original(call.name or ""))
        call.state, self.current = 1, call
        if call.args:
            out += self.out.delta(TOOL, "".join(call.args))
        return out

    def _close_calls(self) -> bytes:
        """The choice finished: the open call ends, and calls that waited go out whole, in order."""
        out = self.out.close_block()
        if self.current is not None:
            self.current.state, self.current = 2, None
        for index in sorted(self.calls):
            call = self.calls[index]
            if call.state == 0 and call.name:
                out += self._open(call) + self.out.close_block()
                call.state, self.current = 2, None
        return out

    def _end(self) -> bytes:
        out = self._close_calls()
        return out + self.out.finish(STOP_REASONS.get(self.finish_reason or "stop", "end_turn"))
