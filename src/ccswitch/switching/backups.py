"""A copy of a settings file (and ccswitch's record of it) before every write: `ccswitch restore`.
"""

from __future__ import annotations

import datetime
import json
import os

from ccswitch.errors import ConfigError, UsageError
from ccswitch.fsutil import atomic_write_text, ensure_private_dir, read_json
from ccswitch.switching.records import SettingsTarget

BACKUPS_KEPT = 20


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def new_backup_id(now: datetime.datetime | None = None) -> str:
    """Sortable by time, unique even within one microsecond (random suffix)."""
    now = now or utc_now()
    # secrets.token_hex(3) is os.urandom(3).hex(); importing secrets (random, hmac) cost status ~10 ms.
    return now.strftime("%Y%m%d-%H%M%S-%f") + "-" + os.urandom(3).hex()


def write_backup(backups_dir: str, target: SettingsTarget, raw: bytes | None, record: dict | None, reason: str) -> str:
    ensure_private_dir(backups_dir)
    backup_id = new_backup_id()
    envelope = {
        "version": 1,
        "id": backup_id,
        "created": utc_now().isoformat(timespec="seconds"),
        "settings_path": target.path,
        "scope": target.scope,
        "reason": reason,
        "existed": raw is not None,
        # use/off refuse non-UTF-8 files before this; only `restore` over one gets here
        "text": raw.decode("utf-8", errors="replace") if raw is not None else None,
        "record": record,
    }
    atomic_write_text(os.path.join(backups_dir, backup_id + ".json"), json.dumps(envelope, indent=2, ensure_ascii=False) + "\n", mode=0o600)
    _prune(backups_dir, target.path)
    return backup_id


def list_backups(backups_dir: str, settings_path: str | None = None) -> list[dict]:
    """Backups, newest first (without their contents)."""
    found = []
    try:
        names = os.listdir(backups_dir)
    except FileNotFoundError:
        return []
    except OSError as error:  # CCSWITCH_HOME naming a file, a directory that is not ours
        raise ConfigError(f"{backups_dir}: cannot list the backups: {error.strerror or error}") from None
    for name in names:
        if not name.endswith(".json"):
            continue
        data = _read_backup_file(os.path.join(backups_dir, name))
        if data is None or (settings_path and data.get("settings_path") != os.path.abspath(settings_path)):
            continue
        found.append({k: data.get(k) for k in ("id", "created", "scope", "settings_path", "reason", "existed")})
    found.sort(key=lambda item: str(item["id"]), reverse=True)
    return found


def _read_backup_file(path: str) -> dict | None:
    data = read_json(path)
    return data if isinstance(data, dict) and "id" in data else None


def _prune(backups_dir: str, settings_path: str) -> None:
    for old in list_backups(backups_dir, settings_path)[BACKUPS_KEPT:]:
        try:
            os.unlink(os.path.join(backups_dir, f"{old['id']}.json"))
        except OSError:
            pass


def find_backup(backups_dir: str, backup_id: str | None, settings_path: str) -> dict:
    if backup_id is None:
        candidates = list_backups(backups_dir, settings_path)
        if not candidates:
            raise UsageError(f"no backups of {settings_path} yet (ccswitch takes one before every change it makes)")
        backup_id = str(candidates[0]["id"])
    else:
        matches = [b for b in list_backups(backups_dir) if str(b["id"]).startswith(backup_id)]
        if not matches:
            raise UsageError(f"no backup {backup_id!r}; `ccswitch restore --list` shows them")
        if len(matches) > 1:
            raise UsageError(f"{backup_id!r} matches {len(matches)} backups; give more of the id")
        backup_id = str(matches[0]["id"])
    data = _read_backup_file(os.path.join(backups_dir, backup_id + ".json"))
    if data is None:
        raise ConfigError(f"{os.path.join(backups_dir, backup_id + '.json')}: unreadable backup")
    return data
