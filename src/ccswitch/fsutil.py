"""Files on disk: the only place ccswitch writes them (atomically, privately, without breaking
symlinks), private directories, and the forgiving JSON read of caches and records.

A temp file in the target's directory, fsync, then rename over the target: a reader (or claude,
which rewrites its own settings.json while it runs) sees the old file or the new one, never half.
On the launch path: tempfile is imported only when something is written.
"""

from __future__ import annotations

import errno
import json
import os
import stat

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
        return json.loads(read_regular(path))
    except (OSError, ValueError, RecursionError):
        return None


def utf8_writable(text: str) -> bool:
    """Whether a file (or SQLite) can hold `text` as UTF-8: not when json read a `\\ud800` escape
    without its pair into it, which no UTF-8 can say."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class NotARegularFile(OSError):
    """The path to write is a FIFO, a device, a directory or a socket: renaming a new file over it
    would replace it (as root, /dev/null or /dev/full itself), so nothing is written. Also what
    read_regular and append_private say of such a path."""


# Opening a FIFO waits for the other end for ever (a reader for a writer, a writer for a reader);
# O_NONBLOCK makes that an answer at once, and does nothing to a regular file.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def read_regular(path: str) -> bytes:
    """A regular file's bytes; NotARegularFile (found without blocking) for a FIFO, a device or a
    socket in its place: ccswitch's own records and caches."""
    fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    try:
        _must_be_regular(fd, path)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def append_private(path: str, data: bytes) -> None:
    """`data` at the end of `path` (created 0600) in one write: lines of concurrent writers never
    interleave (POSIX appends of this size are atomic on local filesystems). NotARegularFile, found
    without blocking, for a FIFO or a device in its place."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NONBLOCK, PRIVATE_FILE)
    except OSError as error:
        if error.errno == errno.ENXIO:  # a FIFO that nobody reads
            raise NotARegularFile(errno.ENXIO, "not a regular file (a FIFO)", path) from None
        raise
    try:
        _must_be_regular(fd, path)
        os.write(fd, data)
    finally:
        os.close(fd)


def _must_be_regular(fd: int, path: str) -> None:
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFile(errno.EINVAL, f"not a regular file ({file_kind(mode)})", path)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> str:
    """Replace `path` with `text` atomically; returns the real path written.

    A symlink is followed so that a dotfile manager's link stays a link and its target changes.
    The new file gets `mode` if given, else the old file's mode, else 0600. On any failure the old
    file is untouched and no temp file is left behind. A target that is there but is not a regular
    file is NotARegularFile (an OSError), and stays as it is.
    """
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        ensure_private_dir(directory)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise NotARegularFile(errno.EEXIST, f"not a regular file ({file_kind(info.st_mode)}), left as it is",
                              target)
    if mode is None:
        mode = info.st_mode & 0o777 if info is not None else PRIVATE_FILE
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


def create_private(path: str, text: str) -> None:
    """Create `path` (0600) holding `text`; FileExistsError if anything is there (a symlink
    included). For a file whose name no other process uses (it carries this process's pid), read
    only after this returns: no rename is needed to be seen whole, nor fsync for a file that lives
    as long as one process (`run`'s settings file); and no tempfile import on the launch path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


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


def use_wal(db, timeout: float = 5.0) -> None:
    """Put a SQLite file in WAL mode (readers never wait for the writer). The switch wants the file to
    itself and SQLite reports a concurrent one "database is locked" at once, without the busy timeout:
    several gateways (or `usage` runs) opening the same new or old file at once retry for `timeout`."""
    import sqlite3
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
