"""An estimate of a request's input tokens, for `/v1/messages/count_tokens` when the upstream has no
such endpoint (OpenAI formats have none; claude's /context sends dozens: docs/translation.md,
"count_tokens").

About four bytes of UTF-8 per token for text, JSON and code in the tokenizers in use (CJK text comes
closer to one token per character, which its three-byte encoding gives too), plus a little per
message and tool, and a flat amount per image. An estimate: claude uses it to draw /context and to
decide when to compact, where being off by a tenth does no harm.
"""

from __future__ import annotations

BYTES_PER_TOKEN = 4
PER_MESSAGE = 4
PER_TOOL = 8
PER_IMAGE = 1600  # what a ~1.15-megapixel image costs on Anthropic's own scale


def estimate(body: dict) -> int:
    total = _size(body.get("system")) + len(body.get("messages") or ()) * PER_MESSAGE
    total += _size(body.get("messages"))
    tools = body.get("tools")
    if isinstance(tools, list):
        total += len(tools) * PER_TOOL + _size([t for t in tools if isinstance(t, dict)])  # _size skips cache_control
    return max(1, total)


def _size(value: object) -> int:
    """Tokens of every string (and number) inside `value`; images at a flat rate."""
    if isinstance(value, str):
        return -(-len(value.encode("utf-8", "replace")) // BYTES_PER_TOKEN)
    if isinstance(value, dict):
        if value.get("type") == "image":
            return PER_IMAGE
        return sum(_size(k) + _size(v) for k, v in value.items() if k not in ("cache_control", "type", "signature"))
    if isinstance(value, list):
        return sum(_size(v) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 1
    return 0


def answer(body: dict) -> dict:
    """The count_tokens answer claude reads."""
    return {"input_tokens": estimate(body)}
