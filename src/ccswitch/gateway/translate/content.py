"""Anthropic content blocks in OpenAI terms, shared by the Chat and Responses request translators.

Only what a model can read crosses: text, images (base64 or URL), PDF documents, tool results.
`cache_control`, `citations` and the like are Anthropic's and are left behind; thinking blocks are
dropped by the callers (docs/translation.md, "Request").
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ccswitch.gateway.translate.tools import ToolNames, upstream_id

# claude's first system block is a billing line for Anthropic (`x-anthropic-billing-header: cc_version=…`),
# not an instruction for a model: it is not sent elsewhere.
BILLING_PREFIX = "x-anthropic-billing-header:"
IMAGE = "image"
TEXT = "text"


def system_text(system: object) -> str:
    """The system prompt as one text, blocks in order, separated by a blank line."""
    if isinstance(system, str):
        return system
    if not isinstance(system, list):
        return ""
    parts = [b.get("text", "") for b in system if isinstance(b, dict) and b.get("type") == TEXT]
    return "\n\n".join(p for p in parts if p and not p.startswith(BILLING_PREFIX))


def block_text(content: object) -> str:
    """The text of a string or of a list of blocks (text blocks only), joined in order."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == TEXT and b.get("text"))


def image_url(block: dict) -> str | None:
    """A data: URL for a base64 image, the URL of a URL image; None for anything else (a Files API id)."""
    source = block.get("source")
    if not isinstance(source, dict):
        return None
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        return f"data:{source.get('media_type') or 'image/png'};base64,{source['data']}"
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return source["url"]
    return None


def document(block: dict) -> tuple[str, str] | None:
    """("text", the text) of a plain-text document, ("pdf", a data: URL) of a base64 PDF, else None."""
    source = block.get("source")
    if not isinstance(source, dict):
        return None
    if source.get("type") == "text" and isinstance(source.get("data"), str):
        return TEXT, source["data"]
    if source.get("type") == "content" and isinstance(source.get("content"), (list, str)):
        return TEXT, block_text(source["content"])
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        return "pdf", f"data:{source.get('media_type') or 'application/pdf'};base64,{source['data']}"
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return TEXT, f"(document: {source['url']})"
    return None


def tool_result(block: dict) -> tuple[str, list[str]]:
    """(text, image URLs) of a tool_result. An error is said so in the text (OpenAI formats have no
    flag for it); a ToolSearch result (`tool_reference` blocks) names the tools it loaded."""
    content = block.get("content")
    images: list[str] = []
    if isinstance(content, str) or content is None:
        text = content or ""
    else:
        parts = []
        for item in content if isinstance(content, list) else ():
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == TEXT and item.get("text"):
                parts.append(item["text"])
            elif kind == IMAGE:
                url = image_url(item)
                if url:
                    images.append(url)
            elif kind == "tool_reference" and item.get("tool_name"):
                parts.append(f"Tool loaded: {item['tool_name']}")
            elif kind == "document":
                found = document(item)
                if found and found[0] == TEXT:
                    parts.append(found[1])
            elif kind not in (IMAGE, TEXT):
                parts.append(json.dumps(item, ensure_ascii=False))
        text = "\n\n".join(parts)
    if block.get("is_error") and not text.lstrip().lower().startswith(("<tool_use_error>", "error")):
        text = "Error: " + text
    return text, images


def blocks(content: object) -> list:
    """A message's content as a list of blocks (a string is one text block)."""
    if isinstance(content, str):
        return [{"type": TEXT, "text": content}]
    return content if isinstance(content, list) else []


def turns(body: dict) -> Iterator[tuple[str, object]]:
    """(role, content) of each message: user, assistant, and the `system` messages claude 2.1.33x
    puts inside the conversation (docs/translation.md, "What claude sends")."""
    for message in body.get("messages") or ():
        if isinstance(message, dict) and message.get("role") in ("user", "assistant", "system"):
            yield message["role"], message.get("content")


def user_items(content: object) -> Iterator[tuple]:
    """A user turn's blocks in order, as neutral items each format shapes its own way:
    ("result", call id, text, image URLs), ("text", text), ("image", URL), ("file", data URL, name)."""
    for block in blocks(content):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "tool_result":
            text, images = tool_result(block)
            yield "result", upstream_id(str(block.get("tool_use_id", "")))[0], text, images
        elif kind == TEXT and block.get("text"):
            yield TEXT, block["text"]
        elif kind == IMAGE:
            url = image_url(block)
            if url:
                yield IMAGE, url
        elif kind == "document":
            found = document(block)
            if found and found[0] == TEXT:
                yield TEXT, found[1]
            elif found:
                yield "file", found[1], block.get("title") or "document.pdf"


def assistant_items(content: object, names: ToolNames) -> Iterator[tuple]:
    """An assistant turn's blocks in order: ("text", text), ("call", call id, thought signature or
    None, wire name, arguments as JSON), ("thinking", the block)."""
    for block in blocks(content):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == TEXT and block.get("text"):
            yield TEXT, block["text"]
        elif kind == "tool_use":
            call_id, signature = upstream_id(str(block.get("id", "")))
            yield ("call", call_id, signature, names.add(str(block.get("name", ""))),
                   json.dumps(block.get("input") or {}, ensure_ascii=False))
        elif kind == "thinking":
            yield "thinking", block
