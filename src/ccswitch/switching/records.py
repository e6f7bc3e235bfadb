"""What ccswitch remembers per settings file it changed: which profile `use` made active there and
what every key it set held before. Kept outside settings.json (claude rewrites, reorders and
validates that file), 0600 in the state directory.
"""

from __future__ import annotations

import json
import os

from ccswitch import paths
from ccswitch.claude import settings as claude_settings
from ccswitch.errors import CcswitchError, ConfigError, UsageError
from ccswitch.fsutil import atomic_write_text, ensure_private_dir

SCOPES = ("user", "project")
LOCAL_SETTINGS = os.path.join(".claude", "settings.local.json")


class SettingsTarget:
    """A settings file ccswitch may change: its scope and path (and the project root for `project`)."""

    __slots__ = ("scope", "path", "root")

    def __init__(self, scope: str, path: str, root: str | None = None) -> None:
        self.scope = scope
        self.path = os.path.abspath(path)
        self.root = root


def target_for(scope: str, user_settings: str, cwd: str) -> SettingsTarget:
    if scope == "user":
        return SettingsTarget("user", user_settings)
    if scope == "project":
        root = paths.find_project_root(cwd)
        return SettingsTarget("project", os.path.join(root, LOCAL_SETTINGS), root)
    raise UsageError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")


def outside_git_note(target: SettingsTarget) -> str | None:
    """For project scope outside any git work tree: where the file goes, and why there."""
    if target.scope != "project" or not target.root or os.path.exists(os.path.join(target.root, ".git")):
        return None
    return (f"{target.root} is not inside a git work tree, so the project is this directory: the settings go to "
            f"{target.path}, which claude reads when started here (in a git repository they would go to its root, "
            f"git-ignored)")


def record_key(settings_path: str) -> str:
    import hashlib  # only where a record is looked up: `usage` and the status line only list them

    return hashlib.sha256(os.path.abspath(settings_path).encode("utf-8")).hexdigest()[:20]


def record_path(state_dir: str, settings_path: str) -> str:
    return os.path.join(state_dir, "records", record_key(settings_path) + ".json")


def read_record(state_dir: str, settings_path: str) -> dict | None:
    path = record_path(state_dir, settings_path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{path}: ccswitch's record of {settings_path} is unreadable ({exc}); "
                          "`ccswitch restore` can bring back the file, then delete this record") from None
    if not isinstance(data, dict) or data.get("version") != claude_settings.RECORD_VERSION:
        raise ConfigError(f"{path}: not a record this ccswitch understands (written by a newer one?)")
    return data


def write_record(state_dir: str, settings_path: str, record: dict | None) -> None:
    path = record_path(state_dir, settings_path)
    if record is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    ensure_private_dir(os.path.dirname(path))
    atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n", mode=0o600)


def active_profile(state_dir: str, settings_path: str) -> dict | None:
    """The record of the profile `use` made active in this file, or None."""
    try:
        return read_record(state_dir, settings_path)
    except CcswitchError:
        return None


def active_records(state_dir: str, user_settings: str, cwd: str) -> dict[str, dict | None]:
    """Scope -> the record of the profile `use` made active there (None: none). The one place that
    knows where `use` keeps them; `status`, `list` and `remove` all ask here."""
    return {scope: active_profile(state_dir, target_for(scope, user_settings, cwd).path) for scope in SCOPES}


def all_records(state_dir: str) -> list[dict]:
    """Every record `use` keeps (the files it made a profile active in); unreadable ones skipped."""
    directory = os.path.join(state_dir, "records")
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    found = []
    for name in names:
        if name.endswith(".json"):
            try:
                with open(os.path.join(directory, name), encoding="utf-8") as handle:
                    data = json.load(handle)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                found.append(data)
    return found
