"""The usage index: a SQLite file in the state dir that remembers what was already read.

Per transcript: its size, mtime and inode when last read, the offset read up to (the end of the
last complete line) and hashes of the 64 KiB at the start and just before that offset. A file
whose stat is unchanged is not opened; one that grew and still has the same two windows is read
from the offset on; one that shrank or whose windows changed was rewritten, and is read again from
the start (its rows dropped first). Per response: one deduped row, primary key (message id,
request id), holding the most complete usage seen so far and the profile `ccswitch run` recorded
for its session at that time.

The usage of transcripts that claude later deletes (it prunes sessions older than
`cleanupPeriodDays`, 30 by default) stays in the index: history is kept, not recomputed.

The file is 0600 in a 0700 directory, in WAL mode. Its schema is versioned (PRAGMA user_version);
an index written by another version is deleted and rebuilt from the transcripts.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from ccswitch.fsutil import ensure_private_dir
from ccswitch.usage.messages import Message
from ccswitch.usage.scan import FileInfo, FileRead, read_file, window_hashes
from ccswitch.usage.sessions import Launches, profile_at

SCHEMA_VERSION = 1
INDEX_FILENAME = "usage-index.sqlite3"

_SCHEMA = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    tail_hash TEXT NOT NULL,
    gone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
    message_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    session TEXT NOT NULL,
    model TEXT NOT NULL,
    ts REAL NOT NULL,
    cwd TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    sidechain INTEGER NOT NULL,
    fast INTEGER NOT NULL,
    run_profile TEXT,
    UNIQUE (message_id, request_id)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE bucket_cache (key TEXT PRIMARY KEY, generation INTEGER NOT NULL, buckets TEXT NOT NULL);
"""
# A rowid table with a unique key inserts ~30% faster than WITHOUT ROWID here (appends, one index).

# Keep the most complete usage (see Message.better_than): a non-sidechain copy, then the most
# output tokens, then the most input-side tokens.
_UPSERT = """
INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (message_id, request_id) DO UPDATE SET
    file_id = excluded.file_id, session = excluded.session, model = excluded.model, ts = excluded.ts,
    cwd = excluded.cwd, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
    cache_read_tokens = excluded.cache_read_tokens, cache_write_tokens = excluded.cache_write_tokens,
    cache_write_1h_tokens = excluded.cache_write_1h_tokens, sidechain = excluded.sidechain,
    fast = excluded.fast, run_profile = excluded.run_profile
WHERE excluded.sidechain < messages.sidechain OR (excluded.sidechain = messages.sidechain AND (
    excluded.output_tokens > messages.output_tokens OR (excluded.output_tokens = messages.output_tokens AND
    excluded.input_tokens + excluded.cache_read_tokens + excluded.cache_write_tokens >
    messages.input_tokens + messages.cache_read_tokens + messages.cache_write_tokens)))
"""

# A sidechain (`/btw`, subagent) file can replay a parent's response under a new request id: the
# same message id is one response. Keep the parent's copy, or the fullest of the replays.
_DROP_SIDECHAIN_REPLAYS = """
DELETE FROM messages WHERE sidechain = 1 AND EXISTS (
    SELECT 1 FROM messages AS other
    WHERE other.message_id = messages.message_id AND other.request_id != messages.request_id AND (
        other.sidechain = 0 OR other.output_tokens > messages.output_tokens OR
        (other.output_tokens = messages.output_tokens AND other.request_id < messages.request_id)))
"""


@dataclass(frozen=True)
class Job:
    """A file to read: from `start`, as file `file_id`, dropping its rows first if `reset`."""

    info: FileInfo
    file_id: int
    start: int
    reset: bool


def open_index(state_dir: str) -> sqlite3.Connection:
    """The index in `state_dir`, created (0600, dir 0700) or rebuilt when its schema is not ours."""
    ensure_private_dir(state_dir)
    path = os.path.join(state_dir, INDEX_FILENAME)
    for attempt in range(2):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # exists, private, before sqlite opens it
        os.close(fd)
        db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                break
            if version == 0 and not db.execute("SELECT 1 FROM sqlite_master").fetchone():
                db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
                break
        except sqlite3.DatabaseError:
            pass  # not a database (or a damaged one): rebuilt below, it is only a cache
        db.close()
        if attempt:
            raise sqlite3.DatabaseError(f"cannot create the usage index {path}")
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a crash loses at most the last run
    db.execute("PRAGMA cache_size = -16384")  # 16 MiB: a first scan's inserts stay in memory
    return db


def generation(db: sqlite3.Connection) -> int:
    """A counter bumped by every run that changed the index: what cached reports are keyed on."""
    row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def bump_generation(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO meta VALUES ('generation', '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def unchanged(db: sqlite3.Connection, infos: list[FileInfo]) -> bool:
    """True when every transcript has the stat it had when last read, and no other is indexed."""
    known = {
        path: (size, mtime_ns, inode)
        for path, size, mtime_ns, inode in db.execute("SELECT path, size, mtime_ns, inode FROM files WHERE gone = 0")
    }
    return len(known) == len(infos) and all(known.get(i.path) == (i.size, i.mtime_ns, i.inode) for i in infos)


def plan(db: sqlite3.Connection, infos: Iterable[FileInfo]) -> list[Job]:
    """What must be read of each transcript found; unchanged files give no job."""
    known = {row[1]: row for row in db.execute(
        "SELECT id, path, size, mtime_ns, inode, end_offset, head_hash, tail_hash FROM files")}
    jobs: list[Job] = []
    for info in infos:
        row = known.get(info.path)
        if row is None:
            # Registered now so that readers can stamp rows with its id; size -1 until it is read,
            # so a file that could not be read is planned again next time.
            file_id = db.execute(
                "INSERT INTO files (path, size, mtime_ns, inode, end_offset, head_hash, tail_hash) "
                "VALUES (?, -1, 0, 0, 0, '', '')", (info.path,)).lastrowid
            jobs.append(Job(info, int(file_id or 0), 0, False))
            continue
        file_id, _, size, mtime_ns, inode, end, head_hash, tail_hash = row
        if (size, mtime_ns, inode) == (info.size, info.mtime_ns, info.inode):
            continue
        if info.size >= end and _same_prefix(info.path, end, head_hash, tail_hash):
            jobs.append(Job(info, file_id, end, False))  # grew (or was only touched): read the rest
        else:
            jobs.append(Job(info, file_id, 0, True))
    return jobs


def _same_prefix(path: str, end: int, head_hash: str, tail_hash: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return window_hashes(handle, end) == (head_hash, tail_hash)
    except OSError:
        return False


def read_rows(job: Job, launches: Launches) -> tuple[FileRead, list[tuple[object, ...]]]:
    """Read a job's file and turn its responses into index rows (runs in the reading processes,
    so the writer only has to insert)."""
    read = read_file(job.info.path, job.start)
    rows = [_row(m, job.file_id, launches) for m in read.messages.values()]
    read.messages = {}
    return read, rows


def store(db: sqlite3.Connection, job: Job, read: FileRead, rows: list[tuple[object, ...]]) -> None:
    """Record what reading one file gave (inside the caller's transaction)."""
    if read.gone:
        return
    info = job.info
    if job.reset:
        db.execute("DELETE FROM messages WHERE file_id = ?", (job.file_id,))
    db.execute(
        "UPDATE files SET size = ?, mtime_ns = ?, inode = ?, end_offset = ?, head_hash = ?, tail_hash = ?, gone = 0 WHERE id = ?",
        (info.size, info.mtime_ns, info.inode, read.end, read.head_hash, read.tail_hash, job.file_id),
    )
    db.executemany(_UPSERT, rows)


def _row(m: Message, file_id: int, launches: Launches) -> tuple[object, ...]:
    return (
        m.message_id, m.request_id, file_id, m.session, m.model, m.ts, m.cwd,
        m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens, m.cache_write_1h_tokens,
        int(m.sidechain), int(m.fast), profile_at(launches, m.session, m.ts) if launches else None,
    )


SIDECHAIN_COLUMN = 12


def reread_neighbours(db: sqlite3.Connection, jobs: list[Job]) -> list[Job]:
    """Jobs that also read again every other file of the projects whose transcripts were rewritten.

    A response kept from the rewritten file may also sit in another file of its project (a resumed
    session's replay, a subagent's); dropping the rewritten file's rows must not lose it, so those
    files are read again from the start (the upsert makes that harmless).
    """
    rewritten = {_project_of(job.info.path) for job in jobs if job.reset}
    if not rewritten:
        return jobs
    planned = {job.info.path for job in jobs}
    extra = [
        Job(FileInfo(path, size, mtime_ns, inode), file_id, 0, False)
        for file_id, path, size, mtime_ns, inode in db.execute(
            "SELECT id, path, size, mtime_ns, inode FROM files WHERE gone = 0")
        if path not in planned and _project_of(path) in rewritten
    ]
    return jobs + extra


def _project_of(path: str) -> str:
    """`.../projects/<project>` for any transcript below it (subagent files included)."""
    directory = os.path.dirname(path)
    while True:
        parent = os.path.dirname(directory)
        if os.path.basename(parent) == "projects" or parent == directory:
            return directory
        directory = parent


def finish(db: sqlite3.Connection, infos: Iterable[FileInfo], changed: bool, sidechain_seen: bool) -> None:
    """Mark files no longer found as gone (their rows stay), drop sidechain replays, and move the
    generation on when anything changed (so cached reports are not reused)."""
    present = {info.path for info in infos}
    gone = [(file_id,) for file_id, path in db.execute("SELECT id, path FROM files WHERE gone = 0") if path not in present]
    db.executemany("UPDATE files SET gone = 1 WHERE id = ?", gone)
    if sidechain_seen:
        db.execute(_DROP_SIDECHAIN_REPLAYS)
    if changed or gone:
        bump_generation(db)
