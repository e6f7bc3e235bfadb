"""A Chat Completions JSON answer -> an Anthropic message (claude asks for one after a broken
stream; docs/gateway.md, "When a stream breaks"). Same mapping as the stream: thinking, text, tool
calls in that order, usage and stop reason in Anthropic terms."""

from __future__ import annotations

import json

from ccswitch.gateway.translate.events import (
    STOP_REASONS,
    anthropic_usage,
    message_id,
    usage_details,
)
from ccswitch.gateway.translate.tools import Context, anthropic_id


def message(model: str, content: list[dict], stop_reason: str, usage: dict[str, int]) -> dict:
    if stop_reason == "end_turn" and any(block["type"] == "tool_use" for block in content):
        stop_reason = "tool_use"
    return {"id": message_id(), "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}


def tool_input(arguments: object) -> dict:
    """A call's arguments as claude's `input` object ({} for none; kept as a string when they are not
    JSON, so claude reports the tool error instead of running it with nothing)."""
    if isinstance(arguments, dict):
        return arguments
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {"_raw_arguments": str(arguments)}
    return value if isinstance(value, dict) else {"_value": value}


def from_chat(answer: dict, context: Context) -> dict:
    choices = answer.get("choices") if isinstance(answer.get("choices"), list) else []
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    raw = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content: list[dict] = []
    reasoning = raw.get("reasoning_content") or raw.get("reasoning")
    if reasoning and isinstance(reasoning, str):
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    for key in ("content", "refusal"):
        if raw.get(key) and isinstance(raw[key], str):
            content.append({"type": "text", "text": raw[key]})
    for call in raw.get("tool_calls") or ():
        if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
            continue
        extra = call.get("extra_content")
        signature = extra.get("google", {}).get("thought_signature") if isinstance(extra, dict) else None
        content.append({"type": "tool_use", "id": anthropic_id(call.get("id"), signature),
                        "name": context.names.original(str(call["function"].get("name") or "")),
                        "input": tool_input(call["function"].get("arguments"))})
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    cached, written = usage_details(usage.get("prompt_tokens_details"))
    stop = STOP_REASONS.get(str(choice.get("finish_reason")), "end_turn")
    return message(answer.get("model") or context.model, content, stop,
                   anthropic_usage(usage.get("prompt_tokens"), cached, usage.get("completion_tokens"), written))
