"""ccs (Claude Code Switch, npm @kaitranntt/ccs): `config.yaml` (the unified config, `version` 2..13
as checked) or the legacy `config.json` in the ccs directory ($CCS_DIR, else $CCS_HOME/.ccs, else
~/.ccs). Each API profile points at a `*.settings.json` holding a Claude `env` block.
docs/import-export.md says how this was confirmed from ccs's own code.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ccswitch.errors import CcswitchError
from ccswitch.importing.entries import (
    Entry,
    Found,
    description,
    env_block_table,
    is_empty,
    openai_table,
    trim_base_url,
)

TOOL = "ccs"
KNOWN_VERSION = 13  # the newest config.yaml version this was checked against
_OPENAI_PROVIDERS = ("openai", "generic-chat-completion-api")


def default_dir(env: Mapping[str, str], home: str) -> str:
    if env.get("CCS_DIR"):
        return os.path.abspath(env["CCS_DIR"])
    if env.get("CCS_HOME"):
        return os.path.join(os.path.abspath(env["CCS_HOME"]), ".ccs")
    return os.path.join(home, ".ccs")


def read(path: str, env: Mapping[str, str], home: str) -> Found:
    if os.path.isdir(path):
        yaml_path, json_path = os.path.join(path, "config.yaml"), os.path.join(path, "config.json")
        path = yaml_path if os.path.exists(yaml_path) else json_path
    found = Found(TOOL, path)
    if path.endswith(".yaml") or path.endswith(".yml"):
        _read_unified(found, _load_yaml(path), env, home)
    else:
        _read_legacy(found, _load_json(path), env, home)
    return found


def _load_yaml(path: str) -> dict:
    import yaml  # import only (PyYAML, a dependency for import and export)

    text = _text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise CcswitchError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise CcswitchError(f"{path}: not a ccs config.yaml (no `version`)")
    return data


def _load_json(path: str) -> dict:
    try:
        data = json.loads(_text(path))
    except (ValueError, RecursionError) as error:
        raise CcswitchError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise CcswitchError(f"{path}: not a ccs config (a JSON object)")
    return data


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except FileNotFoundError:
        raise CcswitchError(f"{path}: no ccs config here (ccs keeps config.yaml in ~/.ccs)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CcswitchError(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})") from None


def _read_unified(found: Found, data: dict, env: Mapping[str, str], home: str) -> None:
    version = data["version"]
    if version > KNOWN_VERSION:
        found.notes.append(f"{found.path}: config version {version} is newer than the {KNOWN_VERSION} ccswitch was "
                           "checked against; its profiles were read as version 13 describes them")
    default = data.get("default") if isinstance(data.get("default"), str) else None
    profiles = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
    for name, config in profiles.items():
        what = f"profile {name}"
        if not isinstance(config, dict) or not isinstance(config.get("settings"), str):
            found.skip(what, "no settings file named")
            continue
        target = config.get("target") or "claude"
        if target != "claude":
            found.skip(what, f"an entry for another app ({target})")
            continue
        entry, reason = _entry(str(name), config["settings"], name == default, env, home)
        found.add(entry, what, reason)
    cliproxy = data.get("cliproxy")
    for name in _names(cliproxy.get("variants") if isinstance(cliproxy, dict) else None):
        found.skip(f"cliproxy {name}", "an OAuth account through ccs's CLIProxy, no endpoint and key to import")
    for name in _names(data.get("accounts")):
        found.skip(f"account {name}", "a separate claude login, no endpoint and key to import")


def _names(value: object) -> list[str]:
    """The names of a mapping's entries; nothing for a value of another shape (an edited file)."""
    return [str(name) for name in value] if isinstance(value, dict) else []


def _read_legacy(found: Found, data: dict, env: Mapping[str, str], home: str) -> None:
    profiles = data.get("profiles") if isinstance(data.get("profiles"), dict) else {}
    for name, settings in profiles.items():
        what = f"profile {name}"
        if not isinstance(settings, str):
            found.skip(what, "no settings file named")
            continue
        if name == "default" and _expand(settings, env, home) == os.path.join(home, ".claude", "settings.json"):
            found.skip(what, "claude's own settings.json (`ccswitch import claude` reads it)")
            continue
        entry, reason = _entry(str(name), settings, False, env, home)
        found.add(entry, what, reason)


def _expand(path: str, env: Mapping[str, str], home: str) -> str:
    """As ccs expands a settings path: `~`, then ${VAR} and $VAR from the environment."""
    path = path.replace("\\", "/")
    if path == "~" or path.startswith("~/"):
        path = home + path[1:]
    path = re.sub(r"\$\{([^}]+)\}", lambda m: env.get(m.group(1), ""), path)
    path = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", lambda m: env.get(m.group(1), ""), path)
    return os.path.normpath(path)


def _entry(name: str, settings_path: str, current: bool, env: Mapping[str, str], home: str) -> tuple[Entry | None, str | None]:
    path = _expand(settings_path, env, home)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            settings = json.load(handle)
    except FileNotFoundError:
        return None, f"its settings file {path} does not exist"
    except (OSError, ValueError, RecursionError) as error:
        return None, f"its settings file {path} cannot be read ({getattr(error, 'strerror', None) or error})"
    block = settings.get("env") if isinstance(settings, dict) else None
    if not isinstance(block, Mapping):
        return None, f"{path} holds no env block"
    table, secret = env_block_table(block)
    if is_empty(table) and not secret:
        return None, "uses claude's own login (the built-in `anthropic` preset covers it)"
    base = str(block.get("ANTHROPIC_BASE_URL") or "").strip()  # as written: an OpenAI base keeps its /v1
    if _openai_format(base, block):
        # ccs's OpenAI-compatible proxy posts to the base URL's chat completions endpoint.
        extra = {k: v for k, v in dict(table.get("env", {})).items() if not k.startswith("CCS_")}  # type: ignore[call-overload]
        table = {**openai_table(trim_base_url(base, "/chat/completions"), dict(table.get("models", {})),  # type: ignore[call-overload]
                                table.get("model")), **({"env": extra} if extra else {})}  # type: ignore[arg-type]
    table["description"] = description(TOOL, name, current)
    return Entry(name, table, secret, current), None


def _openai_format(base_url: str, block: Mapping[str, object]) -> bool:
    """ccs's own test (profile-router / droid-provider): CCS_DROID_PROVIDER, else the URL."""
    explicit = str(block.get("CCS_DROID_PROVIDER") or "").strip().lower()
    if explicit:
        return explicit in _OPENAI_PROVIDERS
    parts = urlsplit(base_url)
    host, path = parts.netloc.lower(), parts.path.lower()
    if "api.openai.com" in host or ".openai.azure.com" in host or ".services.ai.azure.com" in host:
        return True
    return any(marker in path for marker in ("/compatible-mode", "/openai", "/chat/completions"))
