"""A Responses JSON answer -> an Anthropic message: its output items in order (reasoning -> thinking
with the item carried in the signature, message -> text, function_call -> tool_use)."""

from __future__ import annotations

from ccswitch.gateway.translate.chat_answer import message, tool_input
from ccswitch.gateway.translate.events import anthropic_usage
from ccswitch.gateway.translate.responses_request import signature_for
from ccswitch.gateway.translate.responses_stream import stop_reason, usage_of
from ccswitch.gateway.translate.tools import Context, anthropic_id


def from_responses(answer: dict, context: Context) -> dict:
    content: list[dict] = []
    for item in answer.get("output") or ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "reasoning":
            text = "\n\n".join(part.get("text", "") for part in item.get("summary") or () if isinstance(part, dict))
            signature = signature_for(context.profile, item) if item.get("encrypted_content") else ""
            if text or signature:
                content.append({"type": "thinking", "thinking": text, "signature": signature})
        elif kind == "message":
            for part in item.get("content") or ():
                if isinstance(part, dict) and part.get("type") in ("output_text", "refusal"):
                    text = part.get("text") or part.get("refusal")
                    if text:
                        content.append({"type": "text", "text": text})
        elif kind == "function_call":
            content.append({"type": "tool_use", "id": anthropic_id(item.get("call_id") or item.get("id")),
                            "name": context.names.original(str(item.get("name") or "")),
                            "input": tool_input(item.get("arguments"))})
    usage = usage_of(answer) or anthropic_usage(0, 0, 0)
    return message(answer.get("model") or context.model, content, stop_reason(answer), usage)
