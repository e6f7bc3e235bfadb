"""`use`, `off` and `restore`: the file work around claude_settings' pure transforms.

Per settings file, ccswitch keeps in its state directory (0700):
- a *record* (`state/records/<key>.json`, 0600): which profile is active, and for every key it set,
  what the key held before the first `use` and a digest of what ccswitch wrote. It is kept outside
  settings.json because claude rewrites, reorders and validates that file. It holds the displaced
  values (which may be a token the user had there), hence 0600.
- a lock (`state/locks/<key>.lock`, filelock): parallel ccswitch processes take turns, so no two
  read the same old file and the second never mistakes the first's values for the user's.
- backups (`backups/<id>.json`, 0600), one before every write, the newest BACKUPS_KEPT per file.
- a history (`state/use-history.jsonl`, switching.history): one line each time the active profile
  of a file changes, so that `ccswitch usage` knows which profile a plain claude ran on.

claude does not take our lock, so each write re-reads the file at the last moment and starts over
if it changed since it was read.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping

from ccswitch.claude import settings as claude_settings
from ccswitch.claude.settings import Style
from ccswitch.claude.variables import CREDENTIAL_VARIABLES, NO_TOKEN
from ccswitch.errors import CcswitchError, ConfigError
from ccswitch.fsutil import atomic_write_text
from ccswitch.switching.backups import utc_now, write_backup
from ccswitch.switching.history import append_event
from ccswitch.switching.lock import SettingsLock
from ccswitch.switching.records import (
    SettingsTarget,
    read_record,
    record_path,
    write_record,
)

ATTEMPTS = 5


class Computed:
    """What a command's pure step decided for one settings file."""

    __slots__ = ("after", "record", "text", "mode", "kept", "remove_dirs")

    def __init__(self, after: dict | None, record: dict | None, text: str | None = None, mode: int | None = None,
                 kept: list[str] | None = None, remove_dirs: list[str] | None = None) -> None:
        self.after = after  # the new settings, or None for "no file"
        self.record = record  # ccswitch's new record, or None for "no record"
        self.text = text  # the exact text to write, or None for "the new settings in the file's style"
        self.mode = mode
        self.kept = kept
        self.remove_dirs = remove_dirs  # with no file: directories to remove while they are empty


class Change:
    """What a command did (or, with --dry-run, would do) to one settings file."""

    __slots__ = ("target", "before", "after", "style", "existed", "backup_id", "record", "changed_keys", "text",
                 "mode", "kept", "remove_dirs")

    def __init__(self, target: SettingsTarget, before: dict, after: dict | None, style: Style, existed: bool,
                 record: dict | None, backup_id: str | None = None, changed_keys: list[str] | None = None,
                 text: str | None = None, mode: int | None = None, kept: list[str] | None = None,
                 remove_dirs: list[str] | None = None) -> None:
        self.target = target
        self.before = before
        self.after = after  # None: the file is deleted (restoring a backup of "no file")
        self.text = text  # the exact text to write for `after`; None: `after` in the file's style
        self.style = style
        self.existed = existed
        self.record = record
        self.backup_id = backup_id
        self.changed_keys = changed_keys or []
        self.mode = mode  # permission bits for a file that holds no token; None: keep the file's own
        self.kept = kept or []  # `off`: what others changed since `use`, kept as it is now
        self.remove_dirs = remove_dirs or []  # after deleting the file: the ones its first write created

    @property
    def changes_anything(self) -> bool:
        return self.after != self.before or (self.after is None) == self.existed


def _read_raw(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise claude_settings.SettingsFileError(path, f"cannot read: {exc.strerror or exc}") from None


def _missing_dirs(directory: str) -> list[str]:
    missing = []
    while not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return missing


def _remove_created_dirs(directories: object) -> None:
    """After `off` (or `statusline --uninstall`) deleted the file its first write created: the
    directories created for it, deepest first, while they are empty (claude or the user may have
    put something there meanwhile)."""
    for directory in directories or ():  # type: ignore[attr-defined]
        try:
            os.rmdir(directory)
        except OSError:
            return


FIRST_WRITE_KEYS = ("created_file", "created_dirs", "original_mode", "original_text")


def before_first_write(path: str, raw: str | None) -> dict[str, object]:
    """What a command that changes `path` for the first time keeps so that undoing it gives back
    exactly what was there (`give_back`): whether the file and which directories it creates, the
    file's permission bits, and its exact text (the user's layout: one-line arrays, aligned
    colons, which no serializer reproduces)."""
    facts: dict[str, object] = {"created_file": raw is None}
    # The directories the first write creates (a project's `.claude/`, a dotfiles link's target
    # directory), deepest first.
    created_dirs = _missing_dirs(os.path.dirname(os.path.realpath(path))) if raw is None else None
    if created_dirs:
        facts["created_dirs"] = created_dirs
    mode = _mode_of(path)
    if mode is not None:
        facts["original_mode"] = mode
    if raw is not None:
        facts["original_text"] = raw
    return facts


def give_back(first: Mapping[str, object], restored: dict, record: dict | None, path: str) -> Computed:
    """`restored` (the settings with a command's own keys undone) as the file before that command's
    first write (`first`, from before_first_write): no file when it made the file and nothing else
    is in it now, the user's own bytes when nothing else changed, else `restored` in the file's
    style (`kept`: what others changed meanwhile)."""
    if first.get("created_file") and restored == {}:
        return Computed(None, record, remove_dirs=first.get("created_dirs"))  # type: ignore[arg-type]
    mode = first.get("original_mode")
    original = first.get("original_text")
    before = claude_settings.parse(original, path) if isinstance(original, str) else {}
    if isinstance(original, str) and _same_data(before, restored):
        return Computed(restored, record, original, mode)  # type: ignore[arg-type]
    return Computed(restored, record, None, mode, kept=_differences(before, restored))  # type: ignore[arg-type]


def text_of(raw: bytes | None) -> str | None:
    """The text of bytes claude_settings.read_with_bytes accepted (it refuses what is not UTF-8)."""
    return raw.decode("utf-8") if raw is not None else None


def _same_data(a: object, b: object) -> bool:
    # Not `a == b`: Python holds 1 == 1.0 == True, JSON does not. Key order does not count: the
    # original's order is the one to keep.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _mode_of(path: str) -> int | None:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return None


def _differences(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """The top-level keys (and `env.` entries) that differ: what someone else changed meanwhile."""
    names = []
    for key in dict.fromkeys([*before, *after]):
        if key == claude_settings.ENV_KEY and isinstance(before.get(key, {}), dict) and isinstance(after.get(key, {}), dict):
            env_before, env_after = before.get(key, {}), after.get(key, {})
            names += [f"env.{k}" for k in dict.fromkeys([*env_before, *env_after])  # type: ignore[list-item]
                      if not _same_data(env_before.get(k), env_after.get(k))]  # type: ignore[union-attr]
        elif not _same_data(before.get(key), after.get(key)):
            names.append(key)
    return names


def holds_secret(settings: Mapping[str, object]) -> bool:
    """Whether a settings file's `env` holds a credential (one `use` wrote, or the user's own)."""
    env = settings.get(claude_settings.ENV_KEY)
    return isinstance(env, dict) and any(env.get(var) not in (None, "", NO_TOKEN) for var in CREDENTIAL_VARIABLES)


def _transaction(target: SettingsTarget, state_dir: str, backups_dir: str, compute, reason: str, dry_run: bool,
                 on_wait: Callable[[str], None] | None = None) -> Change:
    """Read, compute, back up, re-check, write: inside the lock, retrying if claude wrote meanwhile.

    `compute(settings, raw text or None, record) -> Computed`.
    """

    def read_and_compute() -> tuple[bytes | None, dict | None, Change]:
        settings, style, raw = claude_settings.read_with_bytes(target.path)
        record = read_record(state_dir, target.path)
        done = compute(settings, text_of(raw), record)
        return raw, record, Change(target, settings, done.after, style, raw is not None, done.record, text=done.text,
                                   mode=done.mode, kept=done.kept, remove_dirs=done.remove_dirs)

    if dry_run:
        return read_and_compute()[2]
    with SettingsLock(state_dir, target.path, on_wait):
        for _ in range(ATTEMPTS):
            raw, record, change = read_and_compute()
            if not change.changes_anything and change.record == record:
                return change
            try:
                backup_id = write_backup(backups_dir, target, raw, record, reason)
            except OSError as exc:
                raise CcswitchError(f"{backups_dir}: cannot write a backup ({exc.strerror or exc}); nothing changed") from None
            if _read_raw(target.path) != raw:
                continue  # claude (or an editor) wrote the file while we worked: start over from its new content
            change.backup_id = backup_id
            _commit(target, state_dir, change, record)
            return change
    raise CcswitchError(f"{target.path}: keeps changing while ccswitch tries to write it; nothing changed, try again")


def change_file(target: SettingsTarget, state_dir: str, backups_dir: str, compute, reason: str, *,
                dry_run: bool = False, on_wait: Callable[[str], None] | None = None) -> Change:
    """Another command's change to a settings file (the status line), through the same transaction:
    `compute(settings, raw text or None, record of use) -> Computed`, the record kept as it is."""
    return _transaction(target, state_dir, backups_dir, compute, reason, dry_run, on_wait)


def _commit(target: SettingsTarget, state_dir: str, change: Change, old_record: dict | None) -> None:
    """Record first, then the file; if the file cannot be written, the old record goes back. Then
    the history line, when the profile in force there changed."""
    try:
        write_record(state_dir, target.path, change.record)
    except OSError as exc:
        raise CcswitchError(f"{record_path(state_dir, target.path)}: cannot write ({exc.strerror or exc}); nothing changed") from None
    try:
        if change.after is None:
            if change.existed:
                # The file, not a symlink to it: a dotfiles link that dangled before `use` dangles again.
                os.unlink(os.path.realpath(target.path))
                _remove_created_dirs(change.remove_dirs or (old_record or {}).get("created_dirs"))
        else:
            text = change.text if change.text is not None else claude_settings.dump(change.after, change.style)
            atomic_write_text(target.path, text, mode=0o600 if holds_secret(change.after) else change.mode)
    except OSError as exc:
        try:
            write_record(state_dir, target.path, old_record)
        except OSError:
            pass
        raise CcswitchError(f"{target.path}: cannot write ({exc.strerror or exc}); the file is unchanged") from None
    old_profile, new_profile = ((r or {}).get("profile") for r in (old_record, change.record))
    if new_profile != old_profile:
        try:  # for `ccswitch usage`: which profile a plain claude ran on, and when (switching.history)
            append_event(state_dir, target.path, target.scope, new_profile, time.time())
        except OSError:
            pass  # the record was just written in the same dir; a lost line only misattributes usage


def use(target: SettingsTarget, profile: str, profile_env: Mapping[str, str], model: str | None, state_dir: str,
        backups_dir: str, *, dry_run: bool = False, on_wait: Callable[[str], None] | None = None) -> Change:
    """Make `profile` the one a plain claude uses through `target`'s settings file. `on_wait` hears
    that another ccswitch holds the file's lock."""

    def compute(settings: dict, raw: str | None, record: dict | None):
        after, new_record = claude_settings.apply(settings, profile_env, model, record, profile)
        # Kept from an earlier `use` of the same profile, so repeating a `use` writes nothing.
        same = record is not None and record.get("profile") == profile
        new_record.update(settings_path=target.path, scope=target.scope,
                          applied_at=record.get("applied_at") if same else utc_now().isoformat(timespec="seconds"))
        # The file before the first `use`, for `off` (use makes it 0600). Kept here, not looked up in
        # the backups: those are pruned after BACKUPS_KEPT writes, the record lives exactly as long
        # as `off` needs it, and it is already 0600 (it holds displaced values).
        first = ({"created_file": False, **{k: record[k] for k in FIRST_WRITE_KEYS if k in record}} if record
                 else before_first_write(target.path, raw))
        new_record.update(first)
        return Computed(after, new_record)

    return _transaction(target, state_dir, backups_dir, compute, f"use {profile}", dry_run, on_wait)


def off(target: SettingsTarget, state_dir: str, backups_dir: str, *, dry_run: bool = False,
        on_wait: Callable[[str], None] | None = None) -> Change | None:
    """Put back what ccswitch displaced in `target`; None when no profile is active there."""
    if read_record(state_dir, target.path) is None:
        return None

    def compute(settings: dict, raw: str | None, record: dict | None) -> Computed:
        if record is None:
            return Computed(settings, None)
        compute.changed = claude_settings.changed_since(settings, record)  # type: ignore[attr-defined]
        return give_back(record, claude_settings.remove(settings, record), None, target.path)

    compute.changed = []  # type: ignore[attr-defined]
    change = _transaction(target, state_dir, backups_dir, compute, "off", dry_run, on_wait)
    change.changed_keys = compute.changed  # type: ignore[attr-defined]
    return change


def restore(backup: Mapping[str, object], state_dir: str, backups_dir: str, *, dry_run: bool = False,
            on_wait: Callable[[str], None] | None = None) -> Change:
    """Bring back a backup: the settings file as it was, and ccswitch's record of it."""
    target = SettingsTarget(str(backup.get("scope") or "user"), str(backup["settings_path"]))
    text = backup.get("text")
    restored = claude_settings.parse(str(text), f"backup {backup['id']}") if text is not None else {}
    # Restoring is how a broken file gets fixed, so the current file need not parse.
    try:
        current, style, existed = claude_settings.read(target.path)
    except claude_settings.SettingsFileError:
        current, style, existed = {}, Style(), os.path.exists(target.path)
    change = Change(target, current, restored if text is not None else None, style, existed,
                    backup.get("record"))  # type: ignore[arg-type]
    if dry_run:
        return change
    with SettingsLock(state_dir, target.path, on_wait):
        raw = _read_raw(target.path)
        try:
            record = read_record(state_dir, target.path)
        except ConfigError:
            record = None  # a corrupt record is replaced by the backup's
        try:
            change.backup_id = write_backup(backups_dir, target, raw, record, f"restore {backup['id']}")
        except OSError as exc:
            raise CcswitchError(f"{backups_dir}: cannot write a backup ({exc.strerror or exc}); nothing changed") from None
        change.existed = raw is not None
        change.text = str(text) if text is not None else None  # the backup's exact bytes, not a re-serialisation
        _commit(target, state_dir, change, record)
    return change
