"""`use`, `off` and `restore`: the file work around claude_settings' pure transforms.

Per settings file, ccswitch keeps in its state directory (0700):
- a *record* (`state/records/<key>.json`, 0600): which profile is active, and for every key it set,
  what the key held before the first `use` and a digest of what ccswitch wrote. It is kept outside
  settings.json because claude rewrites, reorders and validates that file. It holds the displaced
  values (which may be a token the user had there), hence 0600.
- a lock (`state/locks/<key>.lock`, filelock): parallel ccswitch processes take turns, so no two
  read the same old file and the second never mistakes the first's values for the user's.
- backups (`backups/<id>.json`, 0600), one before every write, the newest BACKUPS_KEPT per file.

claude does not take our lock, so each write re-reads the file at the last moment and starts over
if it changed since it was read.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import secrets as _random
import shutil
import subprocess
from collections.abc import Mapping

from ccswitch import claude_settings, paths
from ccswitch.claude_settings import Style
from ccswitch.errors import CcswitchError, ConfigError, UsageError
from ccswitch.fsutil import atomic_write_text, ensure_private_dir
from ccswitch.profiles import CREDENTIAL_VARIABLES

SCOPES = ("user", "project")
LOCAL_SETTINGS = os.path.join(".claude", "settings.local.json")
PROJECT_SETTINGS = os.path.join(".claude", "settings.json")
BACKUPS_KEPT = 20
LOCK_TIMEOUT = 30.0
ATTEMPTS = 5


class Target:
    """A settings file ccswitch may change: its scope and path (and the project root for `project`)."""

    __slots__ = ("scope", "path", "root")

    def __init__(self, scope: str, path: str, root: str | None = None) -> None:
        self.scope = scope
        self.path = os.path.abspath(path)
        self.root = root


class Change:
    """What a command did (or, with --dry-run, would do) to one settings file."""

    __slots__ = ("target", "before", "after", "style", "existed", "backup_id", "record", "changed_keys", "text")

    def __init__(self, target: Target, before: dict, after: dict | None, style: Style, existed: bool,
                 record: dict | None, backup_id: str | None = None, changed_keys: list[str] | None = None,
                 text: str | None = None) -> None:
        self.target = target
        self.before = before
        self.after = after  # None: the file is deleted (restoring a backup of "no file")
        self.text = text  # the exact text to write for `after`; None: `after` in the file's style
        self.style = style
        self.existed = existed
        self.record = record
        self.backup_id = backup_id
        self.changed_keys = changed_keys or []

    @property
    def changes_anything(self) -> bool:
        return self.after != self.before or (self.after is None) == self.existed


def target_for(scope: str, user_settings: str, cwd: str) -> Target:
    if scope == "user":
        return Target("user", user_settings)
    if scope == "project":
        root = paths.find_project_root(cwd)
        return Target("project", os.path.join(root, LOCAL_SETTINGS), root)
    raise UsageError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")


def _key(settings_path: str) -> str:
    return hashlib.sha256(os.path.abspath(settings_path).encode("utf-8")).hexdigest()[:20]


def record_path(state_dir: str, settings_path: str) -> str:
    return os.path.join(state_dir, "records", _key(settings_path) + ".json")


def read_record(state_dir: str, settings_path: str) -> dict | None:
    path = record_path(state_dir, settings_path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: ccswitch's record of {settings_path} is unreadable ({exc}); "
                          "`ccswitch restore` can bring back the file, then delete this record") from None
    if not isinstance(data, dict) or data.get("version") != claude_settings.RECORD_VERSION:
        raise ConfigError(f"{path}: not a record this ccswitch understands (written by a newer one?)")
    return data


def _write_record(state_dir: str, settings_path: str, record: dict | None) -> None:
    path = record_path(state_dir, settings_path)
    if record is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    ensure_private_dir(os.path.dirname(path))
    atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n", mode=0o600)


class _Lock:
    """An inter-process lock per settings file (filelock: flock on POSIX, msvcrt on Windows)."""

    def __init__(self, state_dir: str, settings_path: str) -> None:
        import filelock  # only commands that write need it

        directory = os.path.join(state_dir, "locks")
        try:
            ensure_private_dir(os.path.dirname(directory))
            ensure_private_dir(directory)
        except OSError as exc:
            raise CcswitchError(f"{directory}: cannot create ({exc.strerror or exc}); nothing changed") from None
        self._path = settings_path
        # 0600 like everything else of ours (filelock's default is 0644; the file is empty, but it
        # tells other users which settings files ccswitch manages and lets them take the lock).
        self._lock = filelock.FileLock(os.path.join(directory, _key(settings_path) + ".lock"), timeout=LOCK_TIMEOUT,
                                       mode=0o600)
        self._timeout = filelock.Timeout

    def __enter__(self) -> _Lock:
        try:
            self._lock.acquire()
        except self._timeout:
            raise CcswitchError(f"{self._path}: another ccswitch has been changing it for {LOCK_TIMEOUT:.0f} s; "
                                "try again") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


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


def _remove_created_dirs(record: Mapping[str, object] | None) -> None:
    """After `off` deleted the file the first `use` created: the directories that `use` created for
    it, while they are empty (claude or the user may have put something there meanwhile)."""
    for directory in (record or {}).get("created_dirs") or ():  # type: ignore[attr-defined]
        try:
            os.rmdir(directory)
        except OSError:
            return


def _text(raw: bytes | None) -> str | None:
    # claude_settings.read has already refused a file that is not UTF-8.
    return raw.decode("utf-8") if raw is not None else None


def _same_data(a: object, b: object) -> bool:
    # Not `a == b`: Python holds 1 == 1.0 == True, JSON does not. Key order does not count: the
    # original's order is the one to keep.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _holds_secret(settings: Mapping[str, object]) -> bool:
    env = settings.get(claude_settings.ENV_KEY)
    return isinstance(env, dict) and any(env.get(var) for var in CREDENTIAL_VARIABLES)


# ---------------------------------------------------------------------------------------------
# Backups


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def new_backup_id(now: datetime.datetime | None = None) -> str:
    """Sortable by time, unique even within one microsecond (random suffix)."""
    now = now or _now()
    return now.strftime("%Y%m%d-%H%M%S-%f") + "-" + _random.token_hex(3)


def _backup(backups_dir: str, target: Target, raw: bytes | None, record: dict | None, reason: str) -> str:
    ensure_private_dir(backups_dir)
    backup_id = new_backup_id()
    envelope = {
        "version": 1,
        "id": backup_id,
        "created": _now().isoformat(timespec="seconds"),
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
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
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


# ---------------------------------------------------------------------------------------------
# The commands' core


def _transaction(target: Target, state_dir: str, backups_dir: str, compute, reason: str, dry_run: bool) -> Change:
    """Read, compute, back up, re-check, write: inside the lock, retrying if claude wrote meanwhile.

    `compute(settings, raw text or None, record) -> (new settings or None for "no file", new record
    or None, exact text to write or None for "the new settings in the file's style")`.
    """
    if dry_run:
        raw = _read_raw(target.path)
        settings, style, existed = claude_settings.read(target.path)
        record = read_record(state_dir, target.path)
        after, new_record, text = compute(settings, _text(raw), record)
        return Change(target, settings, after, style, existed, new_record, text=text)
    with _Lock(state_dir, target.path):
        for _ in range(ATTEMPTS):
            raw = _read_raw(target.path)
            settings, style, existed = claude_settings.read(target.path)
            record = read_record(state_dir, target.path)
            after, new_record, text = compute(settings, _text(raw), record)
            change = Change(target, settings, after, style, existed, new_record, text=text)
            if not change.changes_anything and new_record == record:
                return change
            try:
                backup_id = _backup(backups_dir, target, raw, record, reason)
            except OSError as exc:
                raise CcswitchError(f"{backups_dir}: cannot write a backup ({exc.strerror or exc}); nothing changed") from None
            if _read_raw(target.path) != raw:
                continue  # claude (or an editor) wrote the file while we worked: start over from its new content
            change.backup_id = backup_id
            _commit(target, state_dir, change, record)
            return change
    raise CcswitchError(f"{target.path}: keeps changing while ccswitch tries to write it; nothing changed, try again")


def _commit(target: Target, state_dir: str, change: Change, old_record: dict | None) -> None:
    """Record first, then the file; if the file cannot be written, the old record goes back."""
    try:
        _write_record(state_dir, target.path, change.record)
    except OSError as exc:
        raise CcswitchError(f"{record_path(state_dir, target.path)}: cannot write ({exc.strerror or exc}); nothing changed") from None
    try:
        if change.after is None:
            if change.existed:
                os.unlink(target.path)
                _remove_created_dirs(old_record)
        else:
            text = change.text if change.text is not None else claude_settings.dump(change.after, change.style)
            atomic_write_text(target.path, text, mode=0o600 if _holds_secret(change.after) else None)
    except OSError as exc:
        try:
            _write_record(state_dir, target.path, old_record)
        except OSError:
            pass
        raise CcswitchError(f"{target.path}: cannot write ({exc.strerror or exc}); the file is unchanged") from None


def use(target: Target, profile: str, profile_env: Mapping[str, str], model: str | None, state_dir: str,
        backups_dir: str, *, dry_run: bool = False) -> Change:
    """Make `profile` the one a plain claude uses through `target`'s settings file."""

    def compute(settings: dict, raw: str | None, record: dict | None):
        after, new_record = claude_settings.apply(settings, profile_env, model, record, profile)
        # Kept from an earlier `use` of the same profile, so repeating a `use` writes nothing.
        same = record is not None and record.get("profile") == profile
        new_record.update(settings_path=target.path, scope=target.scope,
                          applied_at=record.get("applied_at") if same else _now().isoformat(timespec="seconds"),
                          # Whether the first `use` made the file, so that `off` can take it away again.
                          created_file=record.get("created_file", False) if record else raw is None)
        # The directories the first write created (a project's `.claude/`), deepest first, for `off`.
        created_dirs = record.get("created_dirs") if record else (
            _missing_dirs(os.path.dirname(target.path)) if raw is None else None)
        if created_dirs:
            new_record["created_dirs"] = created_dirs
        # The file's exact text before the first `use`, so that `off` can give back the user's own
        # layout (one-line arrays, aligned colons), which no serializer reproduces. Kept here, not
        # looked up in the backups: those are pruned after BACKUPS_KEPT writes, the record lives
        # exactly as long as `off` needs it, and it is already 0600 (it holds displaced values).
        original = record.get("original_text") if record else raw
        if original is not None:
            new_record["original_text"] = original
        return after, new_record, None

    return _transaction(target, state_dir, backups_dir, compute, f"use {profile}", dry_run)


def off(target: Target, state_dir: str, backups_dir: str, *, dry_run: bool = False) -> Change | None:
    """Put back what ccswitch displaced in `target`; None when no profile is active there."""
    if read_record(state_dir, target.path) is None:
        return None

    def compute(settings: dict, raw: str | None, record: dict | None):
        if record is None:
            return settings, None, None
        change_keys = claude_settings.changed_since(settings, record)
        compute.changed = change_keys  # type: ignore[attr-defined]
        restored = claude_settings.remove(settings, record)
        if record.get("created_file") and restored == {}:
            return None, None, None  # there was no file before the first `use`, and nothing else is in it now
        original = record.get("original_text")
        if isinstance(original, str) and _same_data(claude_settings.parse(original, target.path), restored):
            return restored, None, original  # nothing but ccswitch's keys changed: the user's own bytes go back
        return restored, None, None

    compute.changed = []  # type: ignore[attr-defined]
    change = _transaction(target, state_dir, backups_dir, compute, "off", dry_run)
    change.changed_keys = compute.changed  # type: ignore[attr-defined]
    return change


def restore(backup: Mapping[str, object], state_dir: str, backups_dir: str, *, dry_run: bool = False) -> Change:
    """Bring back a backup: the settings file as it was, and ccswitch's record of it."""
    target = Target(str(backup.get("scope") or "user"), str(backup["settings_path"]))
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
    with _Lock(state_dir, target.path):
        raw = _read_raw(target.path)
        try:
            record = read_record(state_dir, target.path)
        except ConfigError:
            record = None  # a corrupt record is replaced by the backup's
        try:
            change.backup_id = _backup(backups_dir, target, raw, record, f"restore {backup['id']}")
        except OSError as exc:
            raise CcswitchError(f"{backups_dir}: cannot write a backup ({exc.strerror or exc}); nothing changed") from None
        change.existed = raw is not None
        change.text = str(text) if text is not None else None  # the backup's exact bytes, not a re-serialisation
        _commit(target, state_dir, change, record)
    return change


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


# ---------------------------------------------------------------------------------------------
# Project scope: the local settings file must never be committed


def ensure_git_ignored(root: str, settings_path: str, git: str | None = None) -> str | None:
    """Make sure git ignores the local settings file (adding it to .git/info/exclude, which is never
    committed); refuse if the file is already tracked. Returns a note for the user, or None."""
    git = git or shutil.which("git")
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    relative = os.path.relpath(settings_path, root).replace(os.sep, "/")
    if git is None:
        return f"git is not on PATH: cannot check that {relative} is git-ignored; make sure it is (it holds a token)"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([git, "-C", root, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)

    if run("ls-files", "--error-unmatch", "--", relative).returncode == 0:
        raise UsageError(f"{settings_path} is tracked by git; ccswitch would put a token in the repository. "
                         f"Run `git rm --cached {relative}` first")
    if run("check-ignore", "-q", "--", relative).returncode == 0:
        return None
    found = run("rev-parse", "--git-path", "info/exclude")
    if found.returncode != 0:
        return f"cannot check that {relative} is git-ignored ({found.stderr.strip()}); make sure it is"
    exclude = found.stdout.strip()
    if not os.path.isabs(exclude):
        exclude = os.path.join(root, exclude)
    try:
        with open(exclude, encoding="utf-8") as handle:
            old = handle.read()
    except FileNotFoundError:
        old = ""
    prefix = "" if not old or old.endswith("\n") else "\n"
    os.makedirs(os.path.dirname(exclude), exist_ok=True)
    atomic_write_text(exclude, f"{old}{prefix}# added by ccswitch: holds a token\n/{relative}\n")
    return f"added /{relative} to {exclude} so git never commits it"
