"""Where ccswitch's and Claude Code's files live.

Every function takes the environment as an argument so the core never reads global state.
platformdirs is not imported here: it costs ~20 ms per start, and `ccswitch run` is on the path of
every claude launch. `user_config_dir` mirrors platformdirs' answer (a test holds it to that) and
defers to platformdirs itself on Windows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

APP_NAME = "ccswitch"
PROFILES_FILENAME = "profiles.toml"

ENV_HOME = "CCSWITCH_HOME"
ENV_CLAUDE_SETTINGS = "CCSWITCH_CLAUDE_SETTINGS"
ENV_MANAGED_SETTINGS = "CCSWITCH_MANAGED_SETTINGS"  # tests point it into a temp dir
ENV_CLAUDE_PROGRAM = "CCSWITCH_CLAUDE"


def home_dir(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def user_config_dir(env: Mapping[str, str]) -> str:
    """The platformdirs user config dir for ccswitch (honouring XDG_CONFIG_HOME on Linux)."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import platformdirs  # Windows only: ~20 ms that `run` elsewhere does not pay

        return platformdirs.user_config_dir(APP_NAME, appauthor=False)
    if sys.platform == "darwin":
        return os.path.join(home_dir(env), "Library", "Application Support", APP_NAME)
    base = env.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home_dir(env), ".config")
    return os.path.join(base, APP_NAME)


def user_cache_dir(env: Mapping[str, str]) -> str:
    if sys.platform == "win32":  # pragma: no cover
        import platformdirs  # Windows only

        return platformdirs.user_cache_dir(APP_NAME, appauthor=False)
    if sys.platform == "darwin":
        return os.path.join(home_dir(env), "Library", "Caches", APP_NAME)
    base = env.get("XDG_CACHE_HOME", "").strip() or os.path.join(home_dir(env), ".cache")
    return os.path.join(base, APP_NAME)


def config_dir(env: Mapping[str, str]) -> str:
    """$CCSWITCH_HOME if set, else the platform's user config dir."""
    return env.get(ENV_HOME) or user_config_dir(env)


def profiles_file(env: Mapping[str, str]) -> str:
    return os.path.join(config_dir(env), PROFILES_FILENAME)


def claude_config_dir(env: Mapping[str, str]) -> str:
    """Where claude keeps settings.json: $CLAUDE_CONFIG_DIR if set, else ~/.claude."""
    return env.get("CLAUDE_CONFIG_DIR") or os.path.join(home_dir(env), ".claude")


def claude_user_settings(env: Mapping[str, str]) -> str:
    return env.get(ENV_CLAUDE_SETTINGS) or os.path.join(claude_config_dir(env), "settings.json")


def claude_state_file(env: Mapping[str, str]) -> str:
    """claude's own `.claude.json` (onboarding, trust): in $CLAUDE_CONFIG_DIR if set, else ~/.claude.json."""
    if env.get("CLAUDE_CONFIG_DIR"):
        return os.path.join(env["CLAUDE_CONFIG_DIR"], ".claude.json")
    return os.path.join(home_dir(env), ".claude.json")


def state_dir(env: Mapping[str, str]) -> str:
    """What ccswitch remembers about files it changed (records of `use`, locks): 0700."""
    return os.path.join(config_dir(env), "state")


def backups_dir(env: Mapping[str, str]) -> str:
    """Copies of settings files taken before every write (`ccswitch restore`): 0700."""
    return os.path.join(config_dir(env), "backups")


def managed_settings_file(env: Mapping[str, str] | None = None) -> str:
    if env and env.get(ENV_MANAGED_SETTINGS):
        return env[ENV_MANAGED_SETTINGS]
    if sys.platform == "darwin":
        return "/Library/Application Support/ClaudeCode/managed-settings.json"
    if sys.platform == "win32":  # pragma: no cover
        return r"C:\Program Files\ClaudeCode\managed-settings.json"
    return "/etc/claude-code/managed-settings.json"


def user_state_dir(env: Mapping[str, str]) -> str:
    if sys.platform == "win32":  # pragma: no cover
        import platformdirs  # Windows only

        return platformdirs.user_state_dir(APP_NAME, appauthor=False)
    if sys.platform == "darwin":
        return os.path.join(home_dir(env), "Library", "Application Support", APP_NAME)
    base = env.get("XDG_STATE_HOME", "").strip() or os.path.join(home_dir(env), ".local", "state")
    return os.path.join(base, APP_NAME)


def run_settings_dir(env: Mapping[str, str]) -> str:
    """Where `ccswitch run` keeps the settings files it hands to claude (they hold the token).

    The runtime dir first: it is private to the user and emptied at logout, so copies cannot pile up
    across sessions. Without one (macOS, containers), the state dir, pruned on every run.
    """
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and sys.platform != "win32" and _is_own_directory(runtime):
        return os.path.join(runtime, APP_NAME)
    return os.path.join(user_state_dir(env), "run")


def _is_own_directory(path: str) -> bool:
    """A runtime dir left over from another user (`su`, ssh, containers) is not ours to write in."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return os.path.isdir(path) and st.st_uid == os.getuid()


def gateway_records_file(env: Mapping[str, str]) -> str:
    """The gateway's request records (SQLite, 0600): what `ccswitch usage` reads beside the transcripts."""
    return os.path.join(user_state_dir(env), "gateway.sqlite3")


def gateway_key_file(env: Mapping[str, str]) -> str:
    """The key of the foreground gateway (`ccswitch gateway`), 0600: kept so IDE settings stay valid."""
    return os.path.join(user_state_dir(env), "gateway.key")


def profiles_cache_file(env: Mapping[str, str]) -> str:
    """profiles.toml and the presets as JSON, so a warm `ccswitch run` never imports tomllib."""
    return os.path.join(user_cache_dir(env), "profiles.json")


def find_project_root(start: str) -> str:
    """The git work tree containing `start`, else `start`: where claude (2.1.211 and later) reads
    .claude/settings.local.json from, even in a subfolder (docs/claude-code.md)."""
    current = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return os.path.abspath(start)
        current = parent


def claude_project_settings(project_dir: str) -> str:
    return os.path.join(project_dir, ".claude", "settings.json")


def claude_project_local_settings(project_dir: str) -> str:
    return os.path.join(project_dir, ".claude", "settings.local.json")


def claude_program(env: Mapping[str, str]) -> str:
    """The claude to run: $CCSWITCH_CLAUDE (a name or a path) if set, else `claude` from PATH."""
    return env.get(ENV_CLAUDE_PROGRAM) or "claude"
