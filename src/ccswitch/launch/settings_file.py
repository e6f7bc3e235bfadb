"""The settings file `run` hands to claude with `--settings`: it holds the token, so it is 0600 in a
0700 directory, named after the profile and a checksum of its content, never rewritten once created
(a running claude re-reads its --settings file when it changes), reused by every run with the same
content, and deleted once unused for PRUNE_AFTER_SECONDS.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Mapping

from ccswitch import paths
from ccswitch.errors import CcswitchError
from ccswitch.fsutil import atomic_write_text, ensure_private_dir

PRUNE_AFTER_SECONDS = 7 * 24 * 3600
SETTINGS_SUFFIX = ".json"


def settings_text(settings: Mapping[str, object]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def settings_file_name(profile_name: str, text: str, attempt: int = 0) -> str:
    # crc32, not hashlib (3-4 ms to import): the name is only a lookup key, and a collision
    # is caught by comparing contents before a file is reused (see store_settings_file).
    checksum = zlib.crc32(text.encode("utf-8"))
    suffix = f"-{attempt}" if attempt else ""
    return f"{profile_name}-{checksum:08x}{suffix}{SETTINGS_SUFFIX}"


def store_settings_file(settings: Mapping[str, object], path: str, profile_name: str, *, now: float | None = None) -> str:
    """Create (or reuse) the settings file at `path`, prune unused ones; returns the path used.

    A file is never rewritten with different content: a running claude re-reads its --settings file
    when it changes. Reuse refreshes the mtime, which is what pruning goes by. A different file
    already at `path` (a checksum collision) moves the new one to a numbered name beside it.
    """
    directory = os.path.dirname(path)
    try:
        return _store(settings_text(settings), path, profile_name, directory, now)
    except OSError as error:
        raise CcswitchError(
            f"{directory}: cannot write the settings file for claude ({error.strerror or error}); "
            "check XDG_RUNTIME_DIR / XDG_STATE_HOME"
        ) from None


def _store(text: str, path: str, profile_name: str, directory: str, now: float | None) -> str:
    # Only a directory named as ours is tightened: never chmod one the user made for other things.
    ensure_private_dir(directory, tighten=os.path.basename(directory) in (paths.APP_NAME, "run"))
    for attempt in range(1, 100):
        existing = _read_text(path)
        if existing is None:
            atomic_write_text(path, text, mode=0o600)
            break
        if existing == text:
            os.utime(path)
            break
        path = os.path.join(directory, settings_file_name(profile_name, text, attempt))
    prune_settings_files(directory, keep=path, now=now)
    return path


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def prune_settings_files(directory: str, *, keep: str, now: float | None = None) -> list[str]:
    """Delete settings files (ours: NAME-XXXXXXXX.json) not used for PRUNE_AFTER_SECONDS."""
    cutoff = (time.time() if now is None else now) - PRUNE_AFTER_SECONDS
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(SETTINGS_SUFFIX) or entry.path == keep or not entry.is_file(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass
    return removed
