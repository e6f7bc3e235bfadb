"""`ccswitch statusline --install` / `--uninstall`: claude's `statusLine` setting, changed through the
same transaction as `use` (lock, backup, re-read, atomic write, the file's own style kept).

Scopes are claude's own: `user` (~/.claude/settings.json), `project` (<root>/.claude/settings.json,
shared: the command holds no secret) and `local` (<root>/.claude/settings.local.json). What
`statusLine` held before the install is kept in `state/statusline/<key>.json` (0600), with what
`use` keeps for `off` (transaction.before_first_write: the file's exact text, whether the install
made it and its directories), so that `--uninstall` puts it back byte for byte when nothing else
changed; a value someone else wrote there since is left alone. `off` does not
touch the status line: it undoes `use`, and the status line is useful without a `use`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from ccswitch import paths
from ccswitch.claude import settings as claude_settings
from ccswitch.errors import UsageError
from ccswitch.fsutil import atomic_write_text, ensure_private_dir
from ccswitch.switching.records import SettingsTarget, record_key
from ccswitch.switching.transaction import (
    Change,
    Computed,
    before_first_write,
    change_file,
    give_back,
    holds_secret,
    text_of,
)

KEY = "statusLine"
SCOPES = ("user", "project", "local")
_PROJECT_FILES = {"project": "settings.json", "local": "settings.local.json"}


def target_for(scope: str, user_settings: str, cwd: str) -> SettingsTarget:
    if scope == "user":
        return SettingsTarget("user", user_settings)
    if scope in _PROJECT_FILES:
        root = paths.find_project_root(cwd)
        return SettingsTarget("project", os.path.join(root, ".claude", _PROJECT_FILES[scope]), root)
    raise UsageError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")


def setting(command: str) -> dict[str, object]:
    """The `statusLine` value that runs `command` (padding 0: the line starts at the margin)."""
    return {"type": "command", "command": command, "padding": 0}


def _record_path(state_dir: str, settings_path: str) -> str:
    return os.path.join(state_dir, "statusline", record_key(settings_path) + ".json")


def read_install(state_dir: str, settings_path: str) -> dict | None:
    try:
        with open(_record_path(state_dir, settings_path), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def install(target: SettingsTarget, command: str, state_dir: str, backups_dir: str, *, dry_run: bool = False,
            on_wait: Callable[[str], None] | None = None) -> Change:
    """Point `target`'s statusLine at `command`, keeping what it held for `uninstall`."""
    wanted = setting(command)
    if not dry_run and read_install(state_dir, target.path) is None:
        # What `uninstall` needs to give the file back as it was (its bytes, or no file and no
        # `.claude/`): the same facts `use` keeps for `off`. If the file changes before the write,
        # `give_back` sees that the data differs and keeps the bytes of no one.
        before, _, raw = claude_settings.read_with_bytes(target.path)
        kept = {"settings_path": target.path, "installed": wanted, **before_first_write(target.path, text_of(raw))}
        if holds_secret(before):
            # Not a second copy of a token (one `use` wrote, or the user's own) that would outlive
            # `off`: `uninstall` then writes the file back in its own layout instead of its bytes.
            kept.pop("original_text", None)
        if KEY in before:
            kept["previous"] = before[KEY]
        path = _record_path(state_dir, target.path)
        ensure_private_dir(os.path.dirname(path))
        atomic_write_text(path, json.dumps(kept, indent=2) + "\n", mode=0o600)

    def compute(settings: dict, raw: str | None, record: dict | None) -> Computed:
        return Computed({**settings, KEY: wanted}, record)  # the record of `use` stays as it is

    return change_file(target, state_dir, backups_dir, compute, "statusline --install", dry_run=dry_run, on_wait=on_wait)


def uninstall(target: SettingsTarget, state_dir: str, backups_dir: str, *, dry_run: bool = False,
              on_wait: Callable[[str], None] | None = None) -> tuple[Change | None, bool]:
    """Put back what statusLine held before `install`. (change, kept): None when nothing was
    installed here; `kept` when the setting had been changed since and was left alone."""
    installed = read_install(state_dir, target.path)
    if installed is None:
        return None, False
    kept = [False]

    def compute(settings: dict, raw: str | None, record: dict | None) -> Computed:
        if settings.get(KEY) != installed.get("installed"):
            kept[0] = True
            return Computed(settings, record)
        after = {k: v for k, v in settings.items() if k != KEY}
        if "previous" in installed:
            after[KEY] = installed["previous"]
        if record is not None:  # `use` is active here: the file stays for its `off`
            installed.pop("created_file", None)
        done = give_back(installed, after, record, target.path)
        done.kept = None  # what others changed is theirs to keep; `off` is the one that lists it
        return done

    change = change_file(target, state_dir, backups_dir, compute, "statusline --uninstall", dry_run=dry_run,
                         on_wait=on_wait)
    if not dry_run:
        try:
            os.unlink(_record_path(state_dir, target.path))
        except FileNotFoundError:
            pass
    return change, kept[0]
