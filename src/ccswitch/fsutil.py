"""Files on disk: the only place ccswitch writes them (atomically, privately, without breaking
symlinks), private directories, and the forgiving JSON read of caches and records.

A temp file in the target's directory, fsync, then rename over the target: a reader (or claude,
which rewrites its own settings.json while it runs) sees the old file or the new one, never half.
On the launch path: tempfile is imported only when something is written.
"""

from __future__ import annotations

import json
import os

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def ensure_private_dir(path: str, *, tighten: bool = False) -> None:
    """Create `path` (and parents) as 0700 if missing. An existing directory keeps its mode, unless
    `tighten`: then one of ours that others can read is made 0700 (never a directory of another user)."""
    os.makedirs(path, mode=PRIVATE_DIR, exist_ok=True)
    if not tighten:
        return
    try:
        info = os.stat(path)
        if info.st_mode & 0o077 and (not hasattr(os, "getuid") or info.st_uid == os.getuid()):
            os.chmod(path, PRIVATE_DIR)
    except OSError:
        pass


def read_json(path: str) -> object | None:
    """The JSON in `path`, or None when it is missing, unreadable or not JSON: for caches and
    ccswitch's own records, where anything unreadable is simply absent. Files of the user's or of
    claude's are read strictly, with the line at fault (claude.settings)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> str:
    """Replace `path` with `text` atomically; returns the real path written.

    A symlink is followed so that a dotfile manager's link stays a link and its target changes.
    The new file gets `mode` if given, else the old file's mode, else 0600. On any failure the old
    file is untouched and no temp file is left behind.
    """
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        ensure_private_dir(directory)
    if mode is None:
        try:
            mode = os.stat(target).st_mode & 0o777
        except FileNotFoundError:
            mode = PRIVATE_FILE
    import tempfile  # only when writing: `run` reads far more often than it writes

    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)
    return target


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable; not possible (nor needed) on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
