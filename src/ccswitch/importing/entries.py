"""What a reader found: `Entry` (one provider, as a profile table plus its secret) and `Found`;
and the one mapping of a Claude `env` block (cc-switch, ccs and claude itself store providers as
one) to a profile table.

Pure: no files are read here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ccswitch.claude.variables import (
    API_KEY,
    AUTH_TOKEN,
    CREDENTIAL_VARIABLES,
    MODEL_VARIABLES,
    NO_TOKEN,
)
from ccswitch.fsutil import utf8_writable
from ccswitch.profiles.apis import OPENAI_CHAT
from ccswitch.profiles.schema import MAX_NAME_LENGTH

BASE_URL = "ANTHROPIC_BASE_URL"
MODEL = "ANTHROPIC_MODEL"
_TIER_OF = {variable: tier for tier, variable in MODEL_VARIABLES.items()}

class Entry:
    """One provider found in a source: the profile table it becomes (without its secret), the secret
    (a literal key as the source stores it, or None), whether the source marks it current."""

    __slots__ = ("label", "name", "table", "secret", "current")

    def __init__(self, label: str, table: dict[str, object], secret: str | None = None, current: bool = False) -> None:
        self.label = label  # the source's own name for it
        self.name = slug(label)
        self.table = table
        self.secret = secret
        self.current = current

    def __repr__(self) -> str:  # never the secret
        return f"Entry({self.label!r}, name={self.name!r}, current={self.current})"


class Unusable(Exception):
    """A provider of the source that cannot become a working profile: reported with the reason, and
    the import exits 1 (the others are imported). Not an entry for another app, which is skipped."""


class Found:
    """Everything a reader found in one source: entries in the source's order, what it skipped
    ((what, reason): counted by reason when printed) and what it refused (Unusable providers).
    `notes`: one line each, e.g. a newer format."""

    def __init__(self, tool: str, path: str) -> None:
        self.tool = tool
        self.path = path
        self.entries: list[Entry] = []
        self.skipped: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def skip(self, what: str, reason: str) -> None:
        self.skipped.append((what, reason))

    def refuse(self, what: str, reason: str) -> None:
        self.refused.append((what, reason))

    def add(self, entry: Entry | None, what: str, reason: str | None) -> None:
        """An entry, or (None) a skip with its reason. An entry no UTF-8 file can hold (json reads
        "\\ud800" without its pair) is refused: writing it failed half way."""
        if entry is None:
            self.skip(what, reason or "nothing to import")
        elif not utf8_writable(json.dumps([entry.label, entry.table, entry.secret], ensure_ascii=False)):
            self.refuse(what, "holds a \\uD800-\\uDFFF escape without its pair, which no profiles file can hold")
        else:
            self.entries.append(entry)


def slug(label: str) -> str:
    """A profile name from a source's label: `GLM 4.6 (Zhipu)` -> `glm-4.6-zhipu`."""
    text = re.sub(r"[^a-z0-9._-]+", "-", label.strip().lower()).strip("-._")
    return text[:MAX_NAME_LENGTH] or "provider"


def description(tool: str, label: str, current: bool) -> str:
    return f"imported from {tool}: {label}" + (f" (the current provider in {tool})" if current else "")


def trim_base_url(url: str, *suffixes: str) -> str:
    """A base URL without the trailing `/` and without the first of `suffixes` it ends with."""
    url = url.strip().rstrip("/")
    for suffix in suffixes:
        if url.lower().endswith(suffix):
            return url[: -len(suffix)].rstrip("/")
    return url


def env_block_table(env: Mapping[str, object], *, auth_variable: str | None = None) -> tuple[dict[str, object], str | None]:
    """(profile table, secret) for a Claude `env` block. `auth_variable`: the variable the source
    says holds the key (cc-switch's apiKeyField), when it says."""
    values = {str(k): v if isinstance(v, str) else _json_text(v) for k, v in env.items()}
    table: dict[str, object] = {}
    base_url = values.get(BASE_URL, "").strip()
    if base_url:
        # claude appends /v1/messages itself: a base ending in /v1 is what cc-switch's proxy forgives.
        table["base_url"] = trim_base_url(base_url, "/v1")
    # ccswitch's own placeholder (a block `use` wrote) is no key: the endpoint takes none.
    credentials = [v for v in (auth_variable, AUTH_TOKEN, API_KEY, *sorted(CREDENTIAL_VARIABLES))
                   if v and values.get(v) and values[v] != NO_TOKEN]
    secret = values[credentials[0]] if credentials else None
    variable = credentials[0] if credentials else auth_variable
    if base_url and values.get(AUTH_TOKEN) == NO_TOKEN and not credentials:
        table["auth"] = "none"
    elif variable == API_KEY:
        table["auth"] = "x-api-key"
    elif variable not in (None, AUTH_TOKEN):
        table["token_var"] = variable
    if values.get(MODEL):
        table["model"] = values[MODEL]
    models = {tier: values[var] for var, tier in _TIER_OF.items() if values.get(var)}
    if models:
        table["models"] = models
    extra = {k: v for k, v in values.items()
             if k not in (BASE_URL, MODEL) and k not in _TIER_OF and k not in CREDENTIAL_VARIABLES and v != ""}
    if extra:
        table["env"] = extra
    return table, secret


def openai_table(base_url: str, models: Mapping[str, str], default_model: str | None,
                 api: str = OPENAI_CHAT) -> dict[str, object]:
    """The profile an OpenAI-format provider becomes: `api`, its OpenAI base URL (requests go to
    base + /chat/completions, or /responses), the model behind each tier."""
    table: dict[str, object] = {"api": api, "base_url": base_url}
    if default_model:
        table["model"] = default_model
    if models:
        table["models"] = dict(models)
    return table


def is_empty(table: Mapping[str, object]) -> bool:
    """Nothing but claude's own login: no endpoint, key or model (cc-switch's "Claude Official")."""
    return not any(key in table for key in ("base_url", "model", "models", "token_var")) and not table.get("env")


def _json_text(value: object) -> str:
    import json

    return "" if value is None else json.dumps(value)
