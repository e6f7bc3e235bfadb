"""The settings file `run` hands to claude with `--settings`: it holds the token, so it is 0600 in a
0700 directory, named after the profile, a checksum of its content and the process that runs claude
(ccswitch's own pid: claude replaces it with exec), and never rewritten once created.

Deleted on the next `run` once that process has ended (claude reads the file when it starts and
keeps what it read: a file changed or deleted while it runs changes nothing; docs/claude-code.md,
"Resuming a session"), or once unused for PRUNE_AFTER_SECONDS, whichever comes first; ccswitch
cannot delete it itself when claude ends, since claude has replaced it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping

from ccswitch import paths
from ccswitch.errors import CcswitchError
from ccswitch.fsutil import create_private, ensure_private_dir

PRUNE_AFTER_SECONDS = 7 * 24 * 3600
SETTINGS_SUFFIX = ".json"
_OWNER = "-pid"  # NAME-XXXXXXXX-pidN.json: the process that runs the claude reading it


def settings_text(settings: Mapping[str, object]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def settings_file_name(profile_name: str, text: str, attempt: int = 0, owner: int | None = None) -> str:
    # crc32, not hashlib (3-4 ms to import): the name is only a lookup key, and a collision
    # is caught by comparing contents before a file is reused (see store_settings_file). zlib is
    # imported here: a `run` of another program only prunes (0.25 ms).
    import zlib

    checksum = zlib.crc32(text.encode("utf-8"))
    suffix = f"-{attempt}" if attempt else ""
    owned = f"{_OWNER}{os.getpid() if owner is None else owner}"
    return f"{profile_name}-{checksum:08x}{suffix}{owned}{SETTINGS_SUFFIX}"


def _owner_of(name: str) -> int | None:
    """The pid a settings file's name says runs its claude (None: a name without one)."""
    stem = name[: -len(SETTINGS_SUFFIX)]
    _, sep, pid = stem.rpartition(_OWNER)
    return int(pid) if sep and pid.isdigit() else None


def running(pid: int) -> bool:
    """Whether process `pid` exists. Only "no such process" counts as ended: a process of another
    user (EPERM) is running, and where this cannot be asked cheaply (Windows: os.kill would end
    the process) every process counts as running, so only the age rule applies there."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def store_settings_file(settings: Mapping[str, object], path: str, profile_name: str, *, now: float | None = None) -> str:
    """Create (or reuse) the settings file at `path`, prune unused ones; returns the path used.

    A file is never rewritten with different content. Reuse (a file this pid left with the same
    content, from a process that ended) refreshes the mtime. A different file already at `path` (a
    checksum collision) moves the new one to a numbered name beside it.
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
        try:
            create_private(path, text)  # the name carries this pid: no other process writes it
            break
        except FileExistsError:
            pass
        if _read_text(path) == text:  # left by an ended process that had this pid
            os.utime(path)
            break
        path = os.path.join(directory, settings_file_name(profile_name, text, attempt, _owner_of(os.path.basename(path))))
    prune_settings_files(directory, keep=path, now=now)
    return path


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def prune_settings_files(directory: str, *, keep: str, now: float | None = None,
                         is_running: Callable[[int], bool] = running) -> list[str]:
    """Delete settings files (ours: NAME-XXXXXXXX[-pidN].json) whose claude has ended (the pid in
    the name runs no more), or that were not used for PRUNE_AFTER_SECONDS."""
    cutoff = (time.time() if now is None else now) - PRUNE_AFTER_SECONDS
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(SETTINGS_SUFFIX) or entry.path == keep or not entry.is_file(follow_symlinks=False):
            continue
        owner = _owner_of(entry.name)
        try:
            if (owner is not None and not is_running(owner)) or entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass
    return removed
