"""Other tools' files, written in each tool's own on-disk format, for the import tests.

The layouts follow each tool's own code (docs/import-export.md says which file of which release):
cc-switch's `providers` table as its database/schema.rs creates it (PRAGMA user_version 17) and
its device settings.json; ccs 7.79's config.yaml as its yaml-serializer writes it (version 13)
and the `*.settings.json` files it points at, and its legacy config.json; claude-code-router
2.0's config.json (read as JSON5; `$VAR` interpolated).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

# Canary keys: none may ever appear in profiles.toml, the cache or any output.
GLM_KEY = "sk-glm-canary-0123456789abcdef"
KIMI_KEY = "sk-kimi-canary-fedcba9876543210"
OPENAI_KEY = "sk-openai-canary-a1b2c3d4e5f6"
CODEX_KEY = "sk-codex-canary-77777777777777"
CCR_KEY = "sk-ccr-canary-5555555555555555"
KEYS = (GLM_KEY, KIMI_KEY, OPENAI_KEY, CODEX_KEY, CCR_KEY)

# cc-switch src-tauri/src/database/schema.rs, table 1 (column for column).
CC_SWITCH_PROVIDERS = """
CREATE TABLE IF NOT EXISTS providers (
    id TEXT NOT NULL,
    app_type TEXT NOT NULL,
    name TEXT NOT NULL,
    settings_config TEXT NOT NULL,
    website_url TEXT,
    category TEXT,
    created_at INTEGER,
    sort_index INTEGER,
    notes TEXT,
    icon TEXT,
    icon_color TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    is_current BOOLEAN NOT NULL DEFAULT 0,
    in_failover_queue BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id, app_type)
)"""

CC_SWITCH_ROWS = [
    # (id, app_type, name, settings_config, meta, is_current, sort_index)
    ("claude-official", "claude", "Claude Official", {"env": {}}, {}, 0, 0),
    ("p-glm", "claude", "GLM 5.1 (Zhipu)", {"env": {
        "ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN": GLM_KEY,
        "ANTHROPIC_MODEL": "glm-5.1",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-5.1",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-5.1",
        "API_TIMEOUT_MS": "3000000"}}, {}, 0, 1),
    ("p-kimi", "claude", "Kimi For Coding", {"env": {
        "ANTHROPIC_BASE_URL": "https://api.kimi.com/coding/",
        "ANTHROPIC_API_KEY": KIMI_KEY,
        "ANTHROPIC_MODEL": "kimi-for-coding"}}, {"apiKeyField": "ANTHROPIC_API_KEY"}, 1, 2),
    ("p-gpt", "claude", "OpenAI GPT", {"env": {
        "ANTHROPIC_BASE_URL": "https://api.openai.com",
        "ANTHROPIC_AUTH_TOKEN": OPENAI_KEY,
        "ANTHROPIC_MODEL": "gpt-5.2",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "gpt-5.2",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "gpt-5.2",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "gpt-5-mini"}}, {"apiFormat": "openai_chat"}, 0, 3),
    ("codex-official", "codex", "OpenAI Official", {"auth": {}, "config": ""}, {}, 1, 0),
    ("p-codex", "codex", "Codex relay", {"auth": {"OPENAI_API_KEY": CODEX_KEY}, "config": "model = \"gpt-5\""}, {}, 0, 1),
    ("gemini-official", "gemini", "Google Official", {"env": {}, "config": {}}, {}, 1, 0),
]


def cc_switch_home(root: Path, *, current: str | None = "p-glm", user_version: int = 17) -> Path:
    """~/.cc-switch with cc-switch.db and settings.json; `current` is settings.json's
    currentProviderClaude (the database marks p-kimi with is_current, which settings.json overrides)."""
    directory = root / ".cc-switch"
    directory.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(directory / "cc-switch.db")
    with db:
        db.execute(CC_SWITCH_PROVIDERS)
        for id_, app, name, settings, meta, is_current, order in CC_SWITCH_ROWS:
            db.execute("INSERT INTO providers (id, app_type, name, settings_config, meta, is_current, sort_index, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (id_, app, name, json.dumps(settings), json.dumps(meta), is_current, order, 1700000000 + order))
        db.execute(f"PRAGMA user_version = {user_version}")
    db.close()
    settings = {"showInTray": True, "language": "en"}
    if current:
        settings["currentProviderClaude"] = current
    (directory / "settings.json").write_text(json.dumps(settings, indent=2))
    return directory


# ccs: config.yaml in the layout of generateYamlWithComments (dist/config/loader/yaml-serializer.js).
CCS_CONFIG_YAML = """\
# CCS Unified Configuration
# Docs: https://github.com/kaitranntt/ccs
version: 13
setup_completed: true

# Default profile used when running 'ccs' without arguments
default: "glm"

# ----------------------------------------------------------------------------
# Accounts: Isolated Claude instances (each with separate auth/sessions)
# Manage with: ccs auth add <name>, ccs auth list, ccs auth remove <name>
# ----------------------------------------------------------------------------
accounts:
  work:
    created: "2026-10-01T09:00:00.000Z"
    last_used: null

# ----------------------------------------------------------------------------
# Profiles: API-based providers (GLM, Kimi, custom endpoints)
# Each profile points to a *.settings.json file containing env vars.
# Edit the settings file directly to customize (ANTHROPIC_MAX_TOKENS, etc.)
# ----------------------------------------------------------------------------
profiles:
  glm:
    type: "api"
    settings: "~/.ccs/glm.settings.json"
  km:
    type: "api"
    settings: "~/.ccs/km.settings.json"
  dashscope-openai:
    type: "api"
    settings: "~/.ccs/dashscope-openai.settings.json"
  droid-glm:
    type: "api"
    settings: "~/.ccs/glm.settings.json"
    target: "droid"

# ----------------------------------------------------------------------------
# CLIProxy: OAuth-based providers (gemini, codex, agy, qwen, iflow)
# ----------------------------------------------------------------------------
cliproxy:
  backend: "original"
  oauth_accounts: {}
  providers:
    - "gemini"
    - "codex"
  variants:
    gemini:
      provider: "gemini"
      settings: "~/.ccs/gemini.settings.json"
"""

CCS_SETTINGS = {
    # The shape of ccs's config/base-glm.settings.json, with a key filled in.
    "glm": {"env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic", "ANTHROPIC_AUTH_TOKEN": GLM_KEY,
                    "ANTHROPIC_MODEL": "glm-5", "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-5",
                    "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-5", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-5"}},
    "km": {"env": {"ANTHROPIC_BASE_URL": "https://api.kimi.com/coding/", "ANTHROPIC_API_KEY": KIMI_KEY,
                   "ANTHROPIC_MODEL": "kimi-for-coding"}},
    "dashscope-openai": {"env": {"ANTHROPIC_BASE_URL": "https://dashscope.aliyuncs.com/compatible-mode/v1",
                                 "ANTHROPIC_AUTH_TOKEN": OPENAI_KEY, "ANTHROPIC_MODEL": "qwen3-coder-plus"}},
}


def ccs_home(home: Path, *, legacy: bool = False, version: int = 13) -> Path:
    directory = home / ".ccs"
    directory.mkdir(parents=True, exist_ok=True)
    for name, settings in CCS_SETTINGS.items():
        (directory / f"{name}.settings.json").write_text(json.dumps(settings, indent=2))
    if legacy:
        (directory / "config.json").write_text(json.dumps({"profiles": {
            "glm": "~/.ccs/glm.settings.json", "km": "~/.ccs/km.settings.json",
            "default": "~/.claude/settings.json"}}, indent=2))
    else:
        (directory / "config.yaml").write_text(CCS_CONFIG_YAML.replace("version: 13", f"version: {version}"))
    return directory


# claude-code-router: ~/.claude-code-router/config.json as its README documents it, read as JSON5.
CCR_CONFIG = """\
{
  // ccr reads this file with JSON5: comments and trailing commas are fine
  "LOG": true,
  "APIKEY": "ccr-local-server-key",
  "Providers": [
    {
      "name": "deepseek",
      "api_base_url": "https://api.deepseek.com/chat/completions",
      "api_key": "$DEEPSEEK_API_KEY",
      "models": ["deepseek-chat", "deepseek-reasoner"],
      "transformer": { "use": ["deepseek"] },
    },
    {
      "name": "zai",
      "api_base_url": "https://api.z.ai/api/anthropic/v1/messages",
      "api_key": "%(ccr_key)s",
      "models": ["glm-5.1", "glm-4.5-air"],
      "transformer": { "use": [["Anthropic", { "UseBearer": true }]] },
    },
    {
      "name": "kimi",
      "api_base_url": "https://api.moonshot.ai/anthropic/v1/messages",
      "api_key": "${MOONSHOT_API_KEY}",
      "models": ["kimi-k2.5"],
      "transformer": { "use": ["Anthropic"] },
    },
  ],
  "Router": {
    "default": "zai,glm-5.1",
    "background": "zai,glm-4.5-air",
    "think": "deepseek,deepseek-reasoner",
    "longContext": "kimi,kimi-k2.5",
  },
}
"""


def ccr_home(home: Path) -> Path:
    directory = home / ".claude-code-router"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(CCR_CONFIG % {"ccr_key": CCR_KEY})
    return directory
