"""An Anthropic Messages request -> an OpenAI Responses request (docs/translation.md, "Responses API").

Stateless: `store` is false and the whole conversation goes as `input` items each time, as claude
sends it. Reasoning crosses turns inside claude's thinking blocks: the Responses stream hands claude a
thinking block whose signature carries the reasoning item (encrypted by the provider) and the
profile it came from; it goes back as that reasoning item to the same profile only (`reasoning_item`).
"""

from __future__ import annotations

import json

from ccswitch.gateway.translate.chat_request import function_tools
from ccswitch.gateway.translate.content import (
    IMAGE,
    TEXT,
    assistant_items,
    block_text,
    system_text,
    turns,
    user_items,
)
from ccswitch.gateway.translate.params import (
    add_common,
    effort,
    json_schema,
    output_limit,
)
from ccswitch.gateway.translate.tools import Context, ToolNames

SIGNATURE_PREFIX = "ccswitch-responses:"


def signature_for(profile: str, item: dict) -> str:
    """The thinking block's signature that carries a reasoning item back to `profile`."""
    kept = {"encrypted_content": item["encrypted_content"]} if item.get("encrypted_content") else {}
    return SIGNATURE_PREFIX + json.dumps({"profile": profile, **kept}, separators=(",", ":"))


def reasoning_item(block: dict, profile: str) -> dict | None:
    """The reasoning item a thinking block carries, if `profile` made it; None otherwise (a block
    signed by Anthropic or another provider never travels)."""
    signature = block.get("signature")
    if not isinstance(signature, str) or not signature.startswith(SIGNATURE_PREFIX):
        return None
    try:
        carried = json.loads(signature[len(SIGNATURE_PREFIX):])
    except ValueError:
        return None
    if not isinstance(carried, dict) or carried.get("profile") != profile or not carried.get("encrypted_content"):
        return None
    summary = [{"type": "summary_text", "text": block["thinking"]}] if block.get("thinking") else []
    # No `id`: with store false OpenAI would look it up among stored items and refuse the request
    # ("Item with id 'rs_…' not found"); the encrypted content stands on its own, and OpenAI's own
    # Codex client sends it so (docs/translation.md, "Responses API").
    return {"type": "reasoning", "summary": summary, "encrypted_content": carried["encrypted_content"]}


def to_responses(body: dict, model: str, options: dict, profile: str = "") -> tuple[dict, Context]:
    names = ToolNames()
    tools = function_tools(body, names, frozenset(options["drop_schema_keywords"]), nested=False)
    request: dict = {"model": model}
    instructions = system_text(body.get("system"))
    if instructions:
        request["instructions"] = instructions
    request["input"] = input_items(body, names, options["system_role"], profile)
    request["store"] = False
    limit = output_limit(body, options)
    if limit:
        request["max_output_tokens"] = limit
    add_common(request, body, tools, names.add, nested=False)
    level = effort(body, options["reasoning_effort"])
    if level:
        request["reasoning"] = {"effort": level, "summary": "auto"}
        request["include"] = ["reasoning.encrypted_content"]
    schema = json_schema(body)
    if schema:
        request["text"] = {"format": {"type": "json_schema", **schema}}
    stream = body.get("stream") is True
    if stream:
        request["stream"] = True
    return request, Context(model, names, profile, stream)


def input_items(body: dict, names: ToolNames, system_role: str, profile: str) -> list[dict]:
    items: list[dict] = []
    for role, content in turns(body):
        if role == "user":
            _user(content, items)
        elif role == "assistant":
            _assistant(content, items, names, profile)
        else:
            text = block_text(content)
            if text:
                items.append({"role": system_role, "content": text})
    return items


def _image(url: str) -> dict:
    return {"type": "input_image", "image_url": url, "detail": "auto"}


def _user(content: object, items: list[dict]) -> None:
    parts: list[dict] = []
    for item in user_items(content):
        kind = item[0]
        if kind == "result":
            output: object = item[2]
            if item[3]:  # function_call_output takes images itself
                output = ([{"type": "input_text", "text": item[2]}] if item[2] else []) + [_image(u) for u in item[3]]
            items.append({"type": "function_call_output", "call_id": item[1], "output": output})
        elif kind == TEXT:
            parts.append({"type": "input_text", "text": item[1]})
        elif kind == IMAGE:
            parts.append(_image(item[1]))
        else:
            parts.append({"type": "input_file", "file_data": item[1], "filename": item[2]})
    if parts:
        items.append({"type": "message", "role": "user", "content": parts})


def _assistant(content: object, items: list[dict], names: ToolNames, profile: str) -> None:
    """Text as assistant messages, calls as function_call items, in order; a thinking block only when
    this profile's own Responses stream signed it (reasoning_item)."""
    texts: list[str] = []
    for item in assistant_items(content, names):
        if item[0] == TEXT:
            texts.append(item[1])
            continue
        reasoning = reasoning_item(item[1], profile) if item[0] == "thinking" else None
        if item[0] == "thinking" and reasoning is None:
            continue
        if texts:
            items.append({"type": "message", "role": "assistant", "content": "".join(texts)})
            texts.clear()
        if reasoning is not None:
            items.append(reasoning)
        else:
            _, call_id, _, name, arguments = item
            items.append({"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments})
    if texts:
        items.append({"type": "message", "role": "assistant", "content": "".join(texts)})
