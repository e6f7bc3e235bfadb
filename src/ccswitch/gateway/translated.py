"""An upstream that speaks an OpenAI format (`openai-chat`, `openai-responses`): what the request
handler does differently for it, behind one small interface (`Translation`, one per upstream).

forward.py stays the one request path (routing, failover, timeouts, the non-streaming probe, the
relay loop, records); for a translated upstream it asks this module, per attempt, for the URL, the
headers, the body and the probe to send, and for what to do with the answer: a stream translator
fed each upstream chunk as it arrives, a whole JSON answer, an error body. The translation itself
is the sans-IO `translate/` package (docs/translation.md).

Headers (docs/translation.md, "Headers"): an allowlist. claude's headers describe the Anthropic
API and claude itself (anthropic-version, anthropic-beta, the Anthropic SDK's x-stainless-*,
x-app, x-claude-code-session-id); an OpenAI endpoint has no use for them and a session id is not
the provider's to have. Only claude's User-Agent goes along, then the upstream's credential and
the profile's own headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from yarl import URL

from ccswitch.gateway.apierror import from_openai_error
from ccswitch.gateway.body import BodyError
from ccswitch.gateway.config import Upstream
from ccswitch.gateway.translate.chat_answer import from_chat
from ccswitch.gateway.translate.chat_request import to_chat
from ccswitch.gateway.translate.chat_stream import ChatStream
from ccswitch.gateway.translate.count_tokens import answer as count_answer
from ccswitch.gateway.translate.events import TEXT, THINKING, TOOL, AnthropicStream
from ccswitch.gateway.translate.params import encode
from ccswitch.gateway.translate.responses_answer import from_responses
from ccswitch.gateway.translate.responses_request import to_responses
from ccswitch.gateway.translate.responses_stream import ResponsesStream
from ccswitch.gateway.translate.stream import StreamTranslator
from ccswitch.gateway.translate.tools import Context
from ccswitch.profiles.apis import OPENAI_CHAT, PATHS

JSON = "application/json"
SSE = "text/event-stream"
FORWARDED = frozenset({"user-agent"})  # of claude's request headers (module docstring)
# Of the provider's error answer: how long to wait (claude honours it), and the provider's request id.
ERROR_HEADERS = frozenset({"retry-after", "x-request-id", "request-id"})
# The probe of a late whole answer (forward._working), as claude would ask it; 16 output tokens, the
# least the Responses API accepts (it refuses a smaller max_output_tokens).
PROBE = {"model": "", "max_tokens": 16, "stream": True, "messages": [{"role": "user", "content": "ping"}]}


class Translation:
    """What differs for one OpenAI-format upstream, computed once."""

    __slots__ = ("name", "api", "url", "options", "_translate", "_stream", "_answer")

    def __init__(self, upstream: Upstream) -> None:
        self.name = upstream.name
        self.api = upstream.api
        # base_url + the format's path, without claude's query (`?beta=true` is Anthropic's).
        self.url = URL(upstream.base_url + PATHS[upstream.api], encoded=True)
        self.options = upstream.openai
        chat = upstream.api == OPENAI_CHAT
        self._translate = to_chat if chat else to_responses
        self._stream = ChatStream if chat else ResponsesStream
        self._answer = from_chat if chat else from_responses

    def request(self, body: dict, model: str) -> tuple[bytes, Context]:
        """The upstream's body for claude's `body` (parsed), and the Context its answer needs.
        A body the translators cannot read is the client's fault (BodyError: a 400)."""
        try:
            translated, context = self._translate(body, model, self.options, profile=self.name)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise BodyError(f"the request could not be translated for {self.api} ({type(exc).__name__})") from None
        return encode(translated), context

    def probe(self, model: str) -> bytes:
        """The smallest streaming request in this format (forward's probe of a late non-streaming
        answer), translated like any other."""
        return self.request({**PROBE, "model": model}, model)[0]

    def headers(self, client: Iterable[tuple[str, str]], credentials: list[tuple[str, str]],
                stream: bool) -> list[tuple[str, str]]:
        out = [(name, value) for name, value in client if name.lower() in FORWARDED]
        out += [("Content-Type", JSON), ("Accept", SSE if stream else JSON)]
        return out + credentials

    def stream(self, context: Context) -> StreamTranslator:
        return self._stream(context)

    def answer(self, data: bytes, context: Context) -> dict | None:
        """A whole 2xx answer -> the Anthropic message; None for an error object in a 2xx, or an
        answer that is not JSON (the caller fails over, and `error` words it if nothing else is left)."""
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(parsed, dict) or ("error" in parsed and not (parsed.get("choices") or parsed.get("output"))):
            return None
        return self._answer(parsed, context)

    def error(self, status: int, body: bytes) -> bytes:
        return from_openai_error(status, body)


def translations(upstreams: Mapping[str, Upstream]) -> dict[str, Translation]:
    """upstream name -> its Translation, for the upstreams that need one."""
    return {name: Translation(upstream) for name, upstream in upstreams.items() if upstream.api in PATHS}


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def error_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in upstream if name.lower() in ERROR_HEADERS]


def answer_headers(request_id: str | None, stream: bool) -> list[tuple[str, str]]:
    """For claude: the content type, and the provider's request id as `request-id` (what claude
    keeps in its transcript beside the message id)."""
    out = [("Content-Type", SSE if stream else JSON)]
    if stream:
        out.append(("Cache-Control", "no-cache"))
    if request_id:
        out.append(("request-id", request_id))
    return out


def count_tokens(body: dict) -> bytes:
    """The local answer to count_tokens: OpenAI formats have no such endpoint (docs/translation.md)."""
    return json.dumps(count_answer(body)).encode()


def message_events(message: dict) -> tuple[bytes, str | None]:
    """A whole Anthropic message as the SSE stream claude asked for (a provider that answered a
    streaming request with one JSON body), and the message id claude is given in it."""
    out = AnthropicStream(str(message.get("model") or ""))
    out.usage = message.get("usage") or out.usage
    events = [out.start(message.get("id"), message.get("model"))]
    for block in message.get("content") or ():
        kind = block.get("type")
        if kind == TEXT:
            events.append(out.delta(TEXT, block["text"]))
        elif kind == THINKING and (block.get("thinking") or block.get("signature")):
            events.append(out.delta(THINKING, block.get("thinking") or ""))
            if block.get("signature"):
                events.append(out.signature(block["signature"]))
        elif kind == "tool_use":
            events.append(out.tool_start(block["id"], block["name"]))
            events.append(out.delta(TOOL, json.dumps(block.get("input") or {}, ensure_ascii=False)))
    events.append(out.finish(str(message.get("stop_reason") or "end_turn")))
    return b"".join(events), out.id
