"""What both stream translators share: upstream bytes in (an SSE `DataReader`), each payload parsed
(glued frames split), Anthropic bytes out through one `AnthropicStream`, and nothing after it ended.
Subclasses say what a parsed object means (`_object`), what `[DONE]` means, and what the end of the
body means when no terminal event came."""

from __future__ import annotations

from ccswitch.gateway.sse import DONE, DataReader, LineTooLong, split_objects
from ccswitch.gateway.translate.events import AnthropicStream
from ccswitch.gateway.translate.tools import Context

CUT_SHORT = "the upstream ended its stream before the answer was complete"


class StreamTranslator:
    __slots__ = ("context", "out", "reader")

    def __init__(self, context: Context) -> None:
        self.context = context
        self.out = AnthropicStream(context.model)
        self.reader = DataReader()

    def feed(self, chunk: bytes) -> bytes:
        """One upstream chunk in; the Anthropic bytes it completes out (b"" when none)."""
        if self.out.ended:
            return b""
        try:
            payloads = self.reader.feed(chunk)
        except LineTooLong:
            return self.out.error("api_error", "the upstream's stream is not server-sent events")
        return self._payloads(payloads) if payloads else b""

    def close(self) -> bytes:
        """The upstream's body ended: whatever that still completes."""
        if self.out.ended:
            return b""
        out = self._payloads(self.reader.close())
        return out if self.out.ended else out + self._end_of_body()

    def _payloads(self, payloads: list[bytes]) -> bytes:
        parts = []
        for payload in payloads:
            if payload == DONE:
                parts.append(self._done())
                break
            try:
                objs = split_objects(payload)  # one value, as a rule; several glued together
            except ValueError:
                parts.append(self.out.error("api_error", "the upstream sent a chunk that is not JSON"))
                break
            for obj in objs:
                if isinstance(obj, dict):
                    parts.append(self._object(obj))
            if self.out.ended:
                break
        return b"".join(parts)

    def _object(self, obj: dict) -> bytes:
        raise NotImplementedError

    def _done(self) -> bytes:
        return b""

    def _end_of_body(self) -> bytes:
        return self.out.error("overloaded_error", CUT_SHORT)
