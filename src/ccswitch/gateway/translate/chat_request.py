"""An Anthropic Messages request -> an OpenAI Chat Completions request (docs/translation.md, "Request").

Built from what is mapped, never by copying the body: every key claude sends that has no place in
Chat (metadata, context_management, safeguards, thinking as such, cache_control, top_k, betas) stays
behind, so an OpenAI endpoint that refuses unknown keys never sees one.
"""

from __future__ import annotations

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
from ccswitch.gateway.translate.tools import (
    Context,
    ToolNames,
    drop_keywords,
    usable_tools,
)

EMPTY_SCHEMA = {"type": "object", "properties": {}}


def to_chat(body: dict, model: str, options: dict, profile: str = "") -> tuple[dict, Context]:
    """(the Chat body for `model`, the Context for the answer). `options`: every option of
    profiles.apis (options_with_defaults)."""
    names = ToolNames()
    tools = function_tools(body, names, frozenset(options["drop_schema_keywords"]), nested=True)
    chat: dict = {"model": model, "messages": chat_messages(body, names, options["system_role"])}
    limit = output_limit(body, options)
    if limit:
        chat[options["max_tokens_field"]] = limit
    if isinstance(body.get("stop_sequences"), list) and body["stop_sequences"]:
        chat["stop"] = [s for s in body["stop_sequences"] if isinstance(s, str)]
    add_common(chat, body, tools, names.add, nested=True)
    level = effort(body, options["reasoning_effort"])
    if level:
        chat["reasoning_effort"] = level
    schema = json_schema(body)
    if schema:
        chat["response_format"] = {"type": "json_schema", "json_schema": schema}
    stream = body.get("stream") is True
    if stream:
        chat["stream"] = True
        if options["stream_options"]:
            chat["stream_options"] = {"include_usage": True}
    return chat, Context(model, names, profile, stream)


def function_tools(body: dict, names: ToolNames, drop: frozenset[str], nested: bool) -> list[dict]:
    """claude's usable tools as functions (Chat nests them under "function", Responses does not)."""
    result = []
    for tool in usable_tools(body.get("tools"), body.get("messages") or []):
        function: dict = {"name": names.add(tool["name"])}
        if tool.get("description"):
            function["description"] = tool["description"]
        function["parameters"] = drop_keywords(tool.get("input_schema") or EMPTY_SCHEMA, drop)
        # Responses requires `strict` (null or a boolean); strict schemas would need every property
        # required, which claude's tools do not do.
        result.append({"type": "function", "function": function} if nested else {"type": "function", **function,
                                                                                   "strict": False})
    return result


def chat_messages(body: dict, names: ToolNames, system_role: str) -> list[dict]:
    out: list[dict] = []
    text = system_text(body.get("system"))
    if text:
        out.append({"role": system_role, "content": text})
    for role, content in turns(body):
        if role == "user":
            _user(content, out)
        elif role == "assistant":
            _assistant(content, out, names)
        else:
            text = block_text(content)
            if text:
                out.append({"role": system_role, "content": text})
    return out


def _image(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def _user(content: object, out: list[dict]) -> None:
    """Tool results first, each a `tool` message (they must follow the assistant's calls), then
    whatever else the turn holds as one user message after them: images from the results, text."""
    parts: list[dict] = []
    result_images: list[dict] = []
    for item in user_items(content):
        kind = item[0]
        if kind == "result":
            out.append({"role": "tool", "tool_call_id": item[1], "content": item[2]})
            result_images.extend(_image(url) for url in item[3])
        elif kind == TEXT:
            parts.append({"type": "text", "text": item[1]})
        elif kind == IMAGE:
            parts.append(_image(item[1]))
        else:
            parts.append({"type": "file", "file": {"file_data": item[1], "filename": item[2]}})
    parts = result_images + parts
    if not parts:
        return
    if len(parts) == 1 and parts[0]["type"] == "text":
        out.append({"role": "user", "content": parts[0]["text"]})
    else:
        out.append({"role": "user", "content": parts})


def _assistant(content: object, out: list[dict], names: ToolNames) -> None:
    """Text and tool calls; thinking blocks stay behind (an OpenAI-format API takes no reasoning back,
    and one signed elsewhere must not travel)."""
    texts, calls = [], []
    for item in assistant_items(content, names):
        if item[0] == TEXT:
            texts.append(item[1])
        elif item[0] == "call":
            _, call_id, signature, name, arguments = item
            call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            if signature is not None:  # Gemini: its thought signature goes back on the call it came with
                call["extra_content"] = {"google": {"thought_signature": signature}}
            calls.append(call)
    if not texts and not calls:
        return
    message: dict = {"role": "assistant"}
    if texts:
        message["content"] = "".join(texts)
    if calls:
        message["tool_calls"] = calls
    out.append(message)
