"""cc-switch (a Tauri app): providers in the SQLite database `~/.cc-switch/cc-switch.db`, table
`providers` (id, app_type, name, settings_config JSON, meta JSON, is_current, sort_index, ...); the
current provider per app in `~/.cc-switch/settings.json` (`currentProviderClaude`), falling back
to `is_current`. docs/import-export.md says how this was confirmed from cc-switch's source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ccswitch.errors import CcswitchError
from ccswitch.fsutil import read_json
from ccswitch.importing.entries import (
    Entry,
    Found,
    description,
    env_block_table,
    is_empty,
    openai_table,
    trim_base_url,
)
from ccswitch.profiles.apis import OPENAI_CHAT, OPENAI_RESPONSES

TOOL = "cc-switch"
DB_NAME = "cc-switch.db"
# The newest database layout (PRAGMA user_version) these queries were checked against.
KNOWN_SCHEMA = 17
CLAUDE_APP = "claude"
_API_FORMATS = {"openai_chat": OPENAI_CHAT, "openai_responses": OPENAI_RESPONSES}


def default_path(home: str) -> str:
    return os.path.join(home, ".cc-switch", DB_NAME)


def read(path: str) -> Found:
    if os.path.isdir(path):
        path = os.path.join(path, DB_NAME)
    found = Found(TOOL, path)
    rows = _rows(path)
    current = _current_from_settings(os.path.join(os.path.dirname(path), "settings.json"))
    if current is None:
        current = next((row["id"] for row in rows if row["app_type"] == CLAUDE_APP and row["is_current"]), None)
    for row in rows:
        what = f"{row['name']} ({row['app_type']})"
        if row["app_type"] != CLAUDE_APP:
            found.skip(what, f"an entry for another app ({row['app_type']})")
            continue
        entry, reason = _entry(row, row["id"] == current)
        found.add(entry, what, reason)
    return found


def _rows(path: str) -> list[dict]:
    import sqlite3  # import only

    if not os.path.exists(path):
        raise CcswitchError(f"{path}: no cc-switch database here (cc-switch keeps it in ~/.cc-switch/{DB_NAME})")
    try:
        uri = "file:" + path.replace("%", "%25").replace("?", "%3F").replace("#", "%23") + "?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=2.0)
    except sqlite3.Error as error:
        raise CcswitchError(f"{path}: cannot open the cc-switch database ({error})") from None
    try:
        connection.row_factory = sqlite3.Row
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > KNOWN_SCHEMA:
            raise CcswitchError(f"{path}: cc-switch database schema {version} is newer than the {KNOWN_SCHEMA} this "
                                "ccswitch reads; nothing imported (update ccswitch)")
        rows = connection.execute(
            "SELECT id, app_type, name, settings_config, meta, is_current FROM providers "
            "ORDER BY app_type, COALESCE(sort_index, 999999), created_at, id").fetchall()
    except sqlite3.OperationalError as error:
        text = str(error)
        if "locked" in text or "busy" in text:
            raise CcswitchError(f"{path}: the database is locked by another program (cc-switch writing to it?); "
                                "close cc-switch and try again") from None
        if "no such table" in text or "no such column" in text or "not a database" in text:
            raise CcswitchError(f"{path}: not a cc-switch database this ccswitch can read ({text})") from None
        raise CcswitchError(f"{path}: cannot read the cc-switch database ({text})") from None
    except sqlite3.DatabaseError as error:
        raise CcswitchError(f"{path}: not a cc-switch database this ccswitch can read ({error})") from None
    finally:
        connection.close()
    return [dict(row) for row in rows]


def _current_from_settings(path: str) -> str | None:
    """The device's current Claude provider: settings.json's `currentProviderClaude`, if readable."""
    data = read_json(path)
    value = data.get("currentProviderClaude") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _json(text: object) -> dict:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _entry(row: Mapping[str, object], current: bool) -> tuple[Entry | None, str | None]:
    settings, meta = _json(row["settings_config"]), _json(row["meta"])
    label = str(row["name"])
    if meta.get("providerType"):
        return None, f"a signed-in account ({meta['providerType']}), no endpoint and key to import"
    env = settings.get("env")
    if not isinstance(env, Mapping):
        return None, "its settings hold no env block"
    table, secret = env_block_table(env, auth_variable=meta.get("apiKeyField") if isinstance(meta.get("apiKeyField"), str) else None)
    if is_empty(table) and not secret:
        return None, "uses claude's own login (the built-in `anthropic` preset covers it)"
    api_format = meta.get("apiFormat") or settings.get("api_format")
    if isinstance(api_format, str) and api_format in _API_FORMATS:
        table = _openai(table, str(api_format), bool(meta.get("isFullUrl")))
    table["description"] = description(TOOL, label, current)
    return Entry(label, table, secret, current), None


def _openai(table: dict[str, object], api_format: str, full_url: bool) -> dict[str, object]:
    """cc-switch sends an OpenAI-format provider's requests to base + /v1/chat/completions (or
    /v1/responses), one /v1 folded if the base has it; with isFullUrl the base is the endpoint."""
    base = str(table.get("base_url", ""))
    endpoint = "/responses" if api_format == "openai_responses" else "/chat/completions"
    base = trim_base_url(base, endpoint) if full_url else base.rstrip("/") + "/v1"
    models = dict(table.get("models", {}))  # type: ignore[call-overload]
    result = openai_table(base, models, table.get("model"), _API_FORMATS[api_format])  # type: ignore[arg-type]
    for key in ("auth", "token_var", "env"):
        if key in table:
            result[key] = table[key]
    return result
