"""claude-code-router: `~/.claude-code-router/config.json` (read by ccr as JSON5: comments and
trailing commas allowed; `$VAR` and `${VAR}` in any string taken from the environment). Providers
carry the full endpoint URL in `api_base_url`; one whose transformer uses `Anthropic` speaks the
Messages API (x-api-key, or Bearer with `UseBearer`), every other one speaks OpenAI's chat
completions. `Router.default` ("provider,model") is the current provider. docs/import-export.md
says how this was confirmed from ccr's own code.
"""

from __future__ import annotations

import json
import os
import re

from ccswitch.errors import CcswitchError
from ccswitch.importing.entries import (
    Entry,
    Found,
    Unusable,
    description,
    openai_table,
    trim_base_url,
)
from ccswitch.profiles.apis import OPENAI_CHAT, OPENAI_RESPONSES

TOOL = "claude-code-router"
_WHOLE_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}\Z|\$([A-Z_][A-Z0-9_]*)\Z")
_ANY_VARIABLE = re.compile(r"\$\{[^}]+\}|\$[A-Z_][A-Z0-9_]*")
# ccr transformers that turn its requests into a provider's own API, neither OpenAI's nor Anthropic's
# Messages: such a provider has no endpoint ccswitch speaks (docs/import-export.md).
_NATIVE_APIS = {
    "gemini": "uses ccr's gemini transformer (Gemini's own API); Gemini's OpenAI endpoint is the `gemini` "
              "preset: `ccswitch add NAME --extends gemini`",
    "vertex-gemini": "uses ccr's vertex-gemini transformer (Vertex AI's Gemini API), which ccswitch does not speak",
    "vertex-claude": "uses ccr's vertex-claude transformer (Claude on Vertex AI): the `vertex` preset covers it",
}


def default_path(home: str) -> str:
    return os.path.join(home, ".claude-code-router", "config.json")


def read(path: str) -> Found:
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    found = Found(TOOL, path)
    data = _load(path)
    providers = data.get("Providers", data.get("providers")) or []
    router = data.get("Router", data.get("router")) or {}
    routes = {key: _split(value) for key, value in router.items()} if isinstance(router, dict) else {}
    current = routes.get("default", (None, None))[0]
    for provider in providers if isinstance(providers, list) else []:
        if not isinstance(provider, dict) or not isinstance(provider.get("name"), str):
            found.skip("a provider without a name", "no name")
            continue
        try:
            entry = _entry(provider, routes, provider["name"] == current)
        except Unusable as error:
            found.refuse(f"provider {provider['name']}", str(error))
        else:
            found.add(entry, f"provider {provider['name']}", None)
    return found


def _split(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or "," not in value:
        return None, None
    provider, model = value.split(",", 1)
    return provider.strip(), model.strip()


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise CcswitchError(f"{path}: no claude-code-router config here (ccr keeps ~/.claude-code-router/config.json)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CcswitchError(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})") from None
    try:
        data = json.loads(_plain_json(text))
    except (ValueError, RecursionError) as error:
        raise CcswitchError(f"{path}: not JSON ccswitch can read (JSON with comments and trailing commas is fine): "
                            f"{error}") from None
    if not isinstance(data, dict):
        raise CcswitchError(f"{path}: not a claude-code-router config (a JSON object)")
    return data


def _plain_json(text: str) -> str:
    """JSON5's comments and trailing commas taken out (strings left alone), so json can read it."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            chunk = text[i:j + 1]
            out.append(chunk if c == '"' else json.dumps(chunk[1:-1]))
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _entry(provider: dict, routes: dict, current: bool) -> Entry:
    name = provider["name"]
    url = str(provider.get("api_base_url") or "").strip()
    if not url:
        raise Unusable("no api_base_url")
    listed = provider.get("models")
    models = [m for m in listed if isinstance(m, str)] if isinstance(listed, list) else []
    tiers = _tiers(name, models, routes)
    default_model = routes.get("default", (None, None))[1] if current else (models[0] if models else None)
    use = _transformers(provider.get("transformer"))
    native = sorted(set(use) & set(_NATIVE_APIS))
    if native:
        raise Unusable(_NATIVE_APIS[native[0]])
    if "anthropic" not in use and not models:
        raise Unusable("no models: claude would send its own model names to an OpenAI-format endpoint")
    if "anthropic" in use:
        table: dict[str, object] = {"base_url": trim_base_url(url, "/v1/messages")}
        if not use["anthropic"].get("UseBearer"):
            table["auth"] = "x-api-key"
        if default_model:
            table["model"] = default_model
        if tiers:
            table["models"] = tiers
    elif url.rstrip("/").endswith("/responses"):
        table = openai_table(trim_base_url(url, "/responses"), tiers, default_model, OPENAI_RESPONSES)
    else:
        table = openai_table(trim_base_url(url, "/chat/completions"), tiers, default_model, OPENAI_CHAT)
    secret = None
    key = provider.get("api_key")
    if isinstance(key, str) and key.strip():
        whole = _WHOLE_VARIABLE.match(key.strip())
        if whole:
            table["token"] = "env:" + (whole.group(1) or whole.group(2))
        elif _ANY_VARIABLE.search(key):
            raise Unusable("its api_key mixes text and variables; add it by hand (`ccswitch add`)")
        else:
            secret = key
    table["description"] = description(TOOL, name, current)
    return Entry(name, table, secret, current)


def _transformers(config: object) -> dict[str, dict]:
    """The provider-wide transformers by lower-case name, with their options."""
    found: dict[str, dict] = {}
    uses = config.get("use") if isinstance(config, dict) else None
    for item in uses if isinstance(uses, list) else []:
        if isinstance(item, str):
            found[item.lower()] = {}
        elif isinstance(item, list) and item and isinstance(item[0], str):
            found[item[0].lower()] = item[1] if len(item) > 1 and isinstance(item[1], dict) else {}
    return found


def _tiers(name: str, models: list[str], routes: dict) -> dict[str, str]:
    """Which of this provider's models serves each tier: Router.think for opus, default for sonnet,
    background for haiku, when they name this provider; otherwise what ccr itself would use for a
    request no route of this provider takes: the default route's model when the default route names
    this provider, else its first model."""
    chosen = {tier: routes.get(key, (None, None)) for tier, key in (("opus", "think"), ("sonnet", "default"),
                                                                     ("haiku", "background"))}
    fallback = routes.get("default", (None, None))[1] if routes.get("default", (None,))[0] == name else None
    fallback = fallback or (models[0] if models else None)
    return {tier: (model if provider == name and model else fallback) for tier, (provider, model) in chosen.items()
            if (model if provider == name and model else fallback)}
