"""Tools across the formats: names, call ids, parameter schemas.

- Names: OpenAI-format APIs take function names of at most 64 characters from [A-Za-z0-9_-]; claude's
  MCP tools (`mcp__server__tool`) can be longer. Such a name is cut and given a checksum suffix, the
  same way every time (so a name in the history matches the one in `tools`), and mapped back in the
  answer.
- Call ids: claude echoes a tool_use id back unchanged on the next turn, so it is where anything the
  provider needs back travels: Gemini's thought signature (its OpenAI endpoint returns one on a tool
  call and refuses the next turn without it), and ids that Anthropic's pattern would refuse after a
  failover (`functions.Read:0`). Such an id becomes `ccsw<N>_<base64url id><base64url signature>`;
  every other id passes unchanged. (docs/translation.md, "Tool names and call ids")
"""

from __future__ import annotations

import base64
import os
import re
import zlib
from collections.abc import Iterable

NAME_MAX = 64
_NAME_OK = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_ID_OK = re.compile(r"[A-Za-z0-9_-]{1,200}\Z")  # the pattern Anthropic's API holds tool_use ids to
CARRIER = "ccsw"
_CARRIER_RE = re.compile(r"ccsw(\d+)_")


def wire_name(name: str) -> str:
    """The function name sent upstream for claude's tool `name`."""
    if _NAME_OK.match(name):
        return name
    suffix = f"_{zlib.crc32(name.encode()):08x}"
    return _NAME_BAD_CHARS.sub("_", name)[: NAME_MAX - len(suffix)] + suffix


class ToolNames:
    """wire name -> claude's name, for the names of one request (its tools and its history)."""

    __slots__ = ("_back",)

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._back: dict[str, str] = {}
        for name in names:
            self.add(name)

    def add(self, name: str) -> str:
        wire = wire_name(name)
        if wire != name:
            self._back[wire] = name
        return wire

    def original(self, wire: str) -> str:
        return self._back.get(wire, wire) if self._back else wire


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def anthropic_id(call_id: str | None, signature: str | None = None) -> str:
    """The tool_use id claude gets for the provider's call id (and thought signature, if any)."""
    if not call_id:
        call_id = "call_" + os.urandom(12).hex()  # some servers send none; claude needs one to answer
    if signature is None and _ID_OK.match(call_id) and not call_id.startswith(CARRIER):
        return call_id
    encoded = _b64(call_id)
    return f"{CARRIER}{len(encoded)}_{encoded}{_b64(signature) if signature else ''}"


def upstream_id(tool_use_id: str) -> tuple[str, str | None]:
    """(the provider's call id, its thought signature or None) back from a tool_use id."""
    match = _CARRIER_RE.match(tool_use_id)
    if not match:
        return tool_use_id, None
    start, length = match.end(), int(match.group(1))
    try:
        call_id = _unb64(tool_use_id[start:start + length])
        rest = tool_use_id[start + length:]
        return call_id, (_unb64(rest) if rest else None)
    except ValueError:  # not one of ours after all (binascii.Error and UnicodeDecodeError are ValueErrors)
        return tool_use_id, None


# Places in a JSON schema that hold schemas (a keyword removed there would be a property *name*
# elsewhere: `properties` maps names to schemas, so only its values are walked).
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONES = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")


def drop_keywords(schema: object, keywords: frozenset[str]) -> object:
    """`schema` without `keywords` anywhere a schema is (a copy where something changed)."""
    if not keywords or not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in keywords:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {name: drop_keywords(sub, keywords) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            value = [drop_keywords(sub, keywords) for sub in value]
        elif key in _SCHEMA_ONES:
            value = drop_keywords(value, keywords)
        out[key] = value
    return out


def deferred_in_use(messages: list) -> set[str]:
    """Deferred tools that claude's ToolSearch has loaded: the `tool_reference` blocks of its results.

    claude 2.1.33x sends tools that are not loaded yet with `defer_loading: true` (and a placeholder
    tool that must never be called); ToolSearch answers with `tool_reference` blocks, and Anthropic's
    API then shows the referenced tool to the model. An OpenAI-format API has no such thing: a deferred
    tool is sent as an ordinary function once referenced, never before (docs/translation.md,
    "Deferred tools and ToolSearch")."""
    loaded: set[str] = set()
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list) or message.get("role") != "user":
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                loaded.update(b.get("tool_name") for b in block["content"]
                              if isinstance(b, dict) and b.get("type") == "tool_reference")
    return loaded


def usable_tools(tools: object, messages: list) -> list[dict]:
    """claude's tools an OpenAI-format API can be given: client tools with a schema; a deferred one
    only once ToolSearch has loaded it; no Anthropic server tools (web search, code execution: they
    run at Anthropic, which is not here)."""
    if not isinstance(tools, list):
        return []
    loaded = None
    result = []
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or "input_schema" not in tool:
            continue
        if tool.get("defer_loading"):
            if loaded is None:
                loaded = deferred_in_use(messages)
            if tool["name"] not in loaded:
                continue
        result.append(tool)
    return result


class Context:
    """What the answer's translators need to know of the request: the model sent, the tool names to
    map back, the profile (it signs the reasoning it hands claude), and whether claude streams."""

    __slots__ = ("model", "names", "profile", "stream")

    def __init__(self, model: str, names: ToolNames, profile: str = "", stream: bool = True) -> None:
        self.model = model
        self.names = names
        self.profile = profile
        self.stream = stream
