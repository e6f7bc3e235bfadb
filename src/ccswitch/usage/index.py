"""The usage index: a SQLite file in the state dir that remembers what was already read.

Per transcript: its size, mtime and inode when last read, the offset read up to (the end of the
last complete line) and checksums of the 64 KiB at the start and just before that offset. A file
whose stat is unchanged is not opened; one that grew and still has the same two windows is read
from the offset on; one that shrank or whose windows changed was rewritten, and is read again from
the start (its rows dropped first). Per response: one deduped row, primary key (message id,
request id), holding the most complete usage seen so far and the profile `ccswitch run` recorded
for its session at that time.

The usage of transcripts that claude later deletes (it prunes sessions older than
`cleanupPeriodDays`, 30 by default) stays in the index: history is kept, not recomputed.

The file is 0600 in a 0700 directory, in WAL mode. Its schema is versioned (PRAGMA user_version).
An index of the previous version is upgraded in place (its files are read again, the history of
deleted transcripts kept). One that is damaged, not a database, or of a version this code does not
know is set aside (`.old`) and rebuilt from the transcripts, and the caller is told in one line,
with what could not be rebuilt: the responses of transcripts claude has deleted since.
"""

from __future__ import annotations

import os
import sqlite3
from collections import namedtuple
from collections.abc import Iterable
from sys import intern

from ccswitch.fsutil import ensure_private_dir, use_wal, utf8_writable
from ccswitch.usage.attribution import Stamper
from ccswitch.usage.messages import MAX_TOKENS, MAX_TS, MIN_TS, Message
from ccswitch.usage.scan import FileInfo, FileRead, read_file, window_hashes
from ccswitch.usage.sessions import CLOCK_SLACK

SCHEMA_VERSION = 2
BUSY_SECONDS = 10.0  # how long a connection to the index waits for another one's write lock
INDEX_FILENAME = "usage-index.sqlite3"
# The status line's lookups: one session's rows, today's rows. Built after a first scan's inserts
# (one sort) rather than kept up to date through them.
LOOKUPS = {"messages_session": "session", "messages_ts": "ts"}

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
    gone INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0
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
    turn_start INTEGER NOT NULL DEFAULT 0,
    use_profile TEXT,
    UNIQUE (message_id, request_id)
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('bounded', '1');
CREATE TABLE bucket_cache (key TEXT PRIMARY KEY, generation INTEGER NOT NULL, buckets TEXT NOT NULL);
""" + "".join(f"CREATE INDEX {name} ON messages ({column});\n" for name, column in LOOKUPS.items())
# A rowid table with a unique key inserts ~30% faster than WITHOUT ROWID here (appends, one index).

# Keep the most complete usage (see Message.better_than): a non-sidechain copy, then the most
# output tokens, then the most input-side tokens. Whichever copy is kept, a turn's start stays
# marked and a stamp one copy lacks comes from the other (a fork's copy of an earlier response).
_BETTER = """(excluded.sidechain < messages.sidechain OR (excluded.sidechain = messages.sidechain AND (
    excluded.output_tokens > messages.output_tokens OR (excluded.output_tokens = messages.output_tokens AND
    excluded.input_tokens + excluded.cache_read_tokens + excluded.cache_write_tokens >
    messages.input_tokens + messages.cache_read_tokens + messages.cache_write_tokens))))"""
_REPLACED = ("file_id", "session", "model", "ts", "cwd", "input_tokens", "output_tokens", "cache_read_tokens",
             "cache_write_tokens", "cache_write_1h_tokens", "sidechain", "fast")
_UPSERT = (
    "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (message_id, request_id) DO UPDATE SET "
    + ", ".join(f"{c} = CASE WHEN {_BETTER} THEN excluded.{c} ELSE messages.{c} END" for c in _REPLACED)
    + ", run_profile = coalesce(messages.run_profile, excluded.run_profile)"
    + ", use_profile = coalesce(messages.use_profile, excluded.use_profile)"
    + ", turn_start = max(messages.turn_start, excluded.turn_start)"
)

# A sidechain (`/btw`, subagent) file can replay a parent's response under a new request id: the
# same message id is one response. Keep the parent's copy, or the fullest of the replays.
_DROP_SIDECHAIN_REPLAYS = """
DELETE FROM messages WHERE sidechain = 1 AND EXISTS (
    SELECT 1 FROM messages AS other
    WHERE other.message_id = messages.message_id AND other.request_id != messages.request_id AND (
        other.sidechain = 0 OR other.output_tokens > messages.output_tokens OR
        (other.output_tokens = messages.output_tokens AND other.request_id < messages.request_id)))
"""


class Job(namedtuple("Job", [
    "info",     # FileInfo
    "file_id",  # int
    "start",    # int
    "reset",    # bool
    "pending",  # bool
], defaults=[False])):
    """A file to read: from `start`, as file `file_id`, dropping its rows first if `reset`;
    `pending`: the last read ended on a prompt not answered yet."""
    __slots__ = ()


class IndexDamaged(Exception):
    """The index cannot be used (damaged pages, not a database): `rebuild` it."""


def open_index(state_dir: str, notes: list[str] | None = None) -> sqlite3.Connection:
    """The index in `state_dir`, created (0600, dir 0700), upgraded from the previous version, or
    set aside and rebuilt when it cannot be read; a rebuild adds one line to `notes`."""
    ensure_private_dir(state_dir)
    path = os.path.join(state_dir, INDEX_FILENAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # exists, private, before sqlite opens it
    os.close(fd)
    db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            _upgrade_from_1(db)
        elif version == 0 and not db.execute("SELECT 1 FROM sqlite_master").fetchone():
            db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
        elif version != SCHEMA_VERSION:
            db.close()
            return _rebuilt(state_dir, f"written by another version of ccswitch (schema {version})", notes)
        _tune(db)
        _drop_impossible_rows(db, notes)
    except sqlite3.OperationalError:
        db.close()
        raise  # locked or unwritable: not a damaged index
    except sqlite3.DatabaseError as error:
        db.close()
        return _rebuilt(state_dir, str(error), notes)
    return db


def _tune(db: sqlite3.Connection) -> None:
    use_wal(db)
    db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a crash loses at most the last run
    db.execute("PRAGMA cache_size = -16384")  # 16 MiB: a first scan's inserts stay in memory


_EMPTY_HASH = "00000000"  # the checksum of nothing: the windows of an empty prefix (scan.window_hashes)


def _upgrade_from_1(db: sqlite3.Connection) -> None:
    """Schema 1 had no turns, no `use` stamps and no pending prompts: add them, and read every file
    still there again (its rows are replaced); rows of deleted transcripts are kept as they are."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE files ADD COLUMN pending INTEGER NOT NULL DEFAULT 0")
        db.execute("ALTER TABLE messages ADD COLUMN turn_start INTEGER NOT NULL DEFAULT 0")
        db.execute("ALTER TABLE messages ADD COLUMN use_profile TEXT")
        for name, column in LOOKUPS.items():
            db.execute(f"CREATE INDEX {name} ON messages ({column})")
        # A file still there is read again from the start, as if it had grown from nothing (its
        # rows dropped here at once); one claude deleted keeps its rows, marked gone.
        gone = [(file_id,) for file_id, path in db.execute("SELECT id, path FROM files WHERE gone = 0").fetchall()
                if not os.path.exists(path)]
        db.executemany("UPDATE files SET gone = 1 WHERE id = ?", gone)
        db.execute("DELETE FROM messages WHERE file_id IN (SELECT id FROM files WHERE gone = 0)")  # one pass
        db.execute("UPDATE files SET size = -1, end_offset = 0, head_hash = ?, tail_hash = ? WHERE gone = 0",
                   (_EMPTY_HASH, _EMPTY_HASH))
        db.execute("DELETE FROM bucket_cache")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def rebuild(state_dir: str, reason: str, notes: list[str] | None = None) -> sqlite3.Connection:
    """Set the index aside and start a new one (see open_index)."""
    return _rebuilt(state_dir, reason, notes)


def _rebuilt(state_dir: str, reason: str, notes: list[str] | None) -> sqlite3.Connection:
    path = os.path.join(state_dir, INDEX_FILENAME)
    lost = _lost_history(path)
    for suffix in ("-wal", "-shm"):
        try:
            os.replace(path + suffix, path + ".old" + suffix)
        except FileNotFoundError:
            pass
    os.replace(path, path + ".old")
    line = f"usage index {path}: {reason}; set aside as {INDEX_FILENAME}.old and rebuilt from the transcripts"
    if lost is None:
        line += " (what it held of transcripts claude has deleted since could not be counted)"
    elif lost[0]:
        line += (f"; lost: {lost[0]} request{'s' if lost[0] != 1 else ''} of {lost[1]} transcript"
                 f"{'s' if lost[1] != 1 else ''} claude has deleted since")
    if notes is not None:
        notes.append(line)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    db.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
    _tune(db)
    return db


def _lost_history(path: str) -> tuple[int, int] | None:
    """(responses, files) the index holds of transcripts that no longer exist; None when it cannot
    be read far enough to say."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        files = db.execute("SELECT id, path FROM files").fetchall()
        gone = [file_id for file_id, file_path in files if not os.path.exists(file_path)]
        if not gone:
            return 0, 0
        count = 0
        for start in range(0, len(gone), 500):
            part = gone[start : start + 500]
            count += db.execute(f"SELECT count(*) FROM messages WHERE file_id IN ({','.join('?' * len(part))})",
                                part).fetchone()[0]
        return count, len(gone)
    except sqlite3.Error:
        return None
    finally:
        db.close()


def _drop_impossible_rows(db: sqlite3.Connection, notes: list[str] | None) -> None:
    """Once per index (meta 'bounded'): drop the responses an older ccswitch stored with what no
    response has, a token count past MAX_TOKENS or a time outside MIN_TS..MAX_TS. It kept them, and
    they broke every report (SQLite's sums overflowed, a date of the year 10000 was NULL); their
    transcripts, unchanged, are not read again. Left for a later open while another process writes
    the index, or when the write fails (a full disk): the report that needs no write still runs."""
    if db.execute("SELECT 1 FROM meta WHERE key = 'bounded'").fetchone():
        return
    db.execute("PRAGMA busy_timeout = 0")
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")  # back to the connection's
    try:
        dropped = db.execute(
            "DELETE FROM messages WHERE max(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
            "cache_write_1h_tokens) > ? OR NOT (ts >= ? AND ts < ?)", (MAX_TOKENS, MIN_TS, MAX_TS)).rowcount
        if dropped:
            bump_generation(db)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('bounded', '1')")
        db.execute("COMMIT")
    except sqlite3.OperationalError:
        db.execute("ROLLBACK")
        return
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if dropped and notes is not None:
        notes.append(f"usage index: dropped {dropped} response{'s' if dropped != 1 else ''} an older ccswitch "
                     "kept with token counts or times no response has")


def bulk(db: sqlite3.Connection) -> bool:
    """Before a first scan (no message yet): drop the lookup indexes, for `lookups_back` to build
    after the inserts. True when they were dropped. Inside the caller's transaction."""
    if db.execute("SELECT 1 FROM messages LIMIT 1").fetchone():
        return False
    for name in LOOKUPS:
        db.execute(f"DROP INDEX IF EXISTS {name}")
    return True


def lookups_back(db: sqlite3.Connection) -> None:
    for name, column in LOOKUPS.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON messages ({column})")


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
        "SELECT id, path, size, mtime_ns, inode, end_offset, head_hash, tail_hash, pending FROM files")}
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
        file_id, _, size, mtime_ns, inode, end, head_hash, tail_hash, pending = row
        if (size, mtime_ns, inode) == (info.size, info.mtime_ns, info.inode):
            continue
        if info.size >= end and _same_prefix(info.path, end, head_hash, tail_hash):
            jobs.append(Job(info, file_id, end, False, bool(pending)))  # grew (or was only touched): read the rest
        else:
            jobs.append(Job(info, file_id, 0, True))
    return jobs


def _same_prefix(path: str, end: int, head_hash: str, tail_hash: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return window_hashes(handle, end) == (head_hash, tail_hash)
    except OSError:
        return False


def read_rows(job: Job, stamper: Stamper) -> tuple[FileRead, list[tuple[object, ...]]]:
    """Read a job's file and turn its responses into index rows (runs in the reading processes,
    so the writer only has to insert)."""
    read = read_file(job.info.path, job.start, job.pending)
    rows = [_row(m, job.file_id, stamper) for m in read.messages.values()]
    read.messages, read.first_seen, read.prompts = {}, {}, []
    return read, rows


def store(db: sqlite3.Connection, job: Job, read: FileRead, rows: list[tuple[object, ...]]) -> None:
    """Record what reading one file gave (inside the caller's transaction)."""
    if read.gone:
        return
    info = job.info
    if job.reset:
        db.execute("DELETE FROM messages WHERE file_id = ?", (job.file_id,))
    db.execute(
        "UPDATE files SET size = ?, mtime_ns = ?, inode = ?, end_offset = ?, head_hash = ?, tail_hash = ?, gone = 0, "
        "pending = ? WHERE id = ?",
        (info.size, info.mtime_ns, info.inode, read.end, read.head_hash, read.tail_hash, int(read.pending),
         job.file_id),
    )
    try:
        db.executemany(_UPSERT, rows)
    except UnicodeEncodeError:  # json reads "\ud800" into a str that SQLite's UTF-8 cannot take
        storable = [row for row in rows if all(utf8_writable(v) for v in row if type(v) is str)]
        read.stats.malformed_lines += len(rows) - len(storable)
        db.executemany(_UPSERT, storable)  # the rows stored before the bad one again: upserts are idempotent


def _row(m: Message, file_id: int, stamper: Stamper) -> tuple[object, ...]:
    # Interned: a session's rows then share one copy of its strings, which pickling sends once.
    return (
        m.message_id, m.request_id, file_id, intern(m.session), intern(m.model), m.ts, intern(m.cwd),
        m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens, m.cache_write_1h_tokens,
        int(m.sidechain), int(m.fast), stamper.run_profile(m.session, m.ts), int(m.turn_start),
        stamper.use_profile(m.cwd, m.ts),
    )


# --- picker resumes: `run p -- claude --resume` (no id) ------------------------------------------

PICKED_HORIZON = 2 * 86400  # a picker resume is matched to a session written to within this long


def apply_picked(db: sqlite3.Connection, stamper: Stamper) -> None:
    """Give the stamper the picker resumes matched earlier (kept in `meta`), so the responses read
    now are stamped with them."""
    by_key: dict[str, list[tuple[float, str]]] = {}  # one key per resume, not one per (resume, match)
    for started, project, profile in stamper.picked:
        by_key.setdefault(_picked_key(started, project), []).append((started, profile))
    for key, session in db.execute("SELECT key, value FROM meta WHERE key LIKE 'picked:%'"):
        for started, profile in by_key.get(key, ()):
            stamper.add_launch(session, started, profile)


def match_picked(db: sqlite3.Connection, stamper: Stamper) -> None:
    """Match each picker resume not matched yet to the session of its project written to first
    after it started (one that existed before: the picker reopens a session), then stamp that
    session's responses again. Inside the caller's transaction."""
    done = {key for (key,) in db.execute("SELECT key FROM meta WHERE key LIKE 'picked:%'")}
    for started, project, profile in stamper.picked:
        key = _picked_key(started, project)
        if key in done:
            continue
        prefix = project.rstrip(os.sep) + os.sep
        row = db.execute(
            "SELECT m.session FROM messages AS m JOIN files AS f ON f.id = m.file_id "
            "WHERE substr(f.path, 1, ?) = ? AND m.sidechain = 0 AND m.ts >= ? AND m.ts < ? AND EXISTS ("
            "SELECT 1 FROM messages AS o WHERE o.session = m.session AND o.ts < ?) "
            "GROUP BY m.session ORDER BY min(m.ts) LIMIT 1",
            (len(prefix), prefix, started - CLOCK_SLACK, started + PICKED_HORIZON, started - CLOCK_SLACK)).fetchone()
        if row is None:
            continue
        session = row[0]
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, session))
        stamper.add_launch(session, started, profile)
        restamp = [(stamper.run_profile(session, ts), rowid)
                   for rowid, ts in db.execute("SELECT rowid, ts FROM messages WHERE session = ?", (session,))]
        db.executemany("UPDATE messages SET run_profile = ? WHERE rowid = ?", restamp)
        bump_generation(db)


def _picked_key(started: float, project: str) -> str:
    return f"picked:{started!r}:{project}"


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


def drop_sidechain_replays(db: sqlite3.Connection) -> None:
    """After storing rows of a sidechain (subagent, `/btw`) file: its replays of a parent's responses go."""
    db.execute(_DROP_SIDECHAIN_REPLAYS)


def finish(db: sqlite3.Connection, infos: Iterable[FileInfo], changed: bool, sidechain_seen: bool) -> None:
    """Mark files no longer found as gone (their rows stay), drop sidechain replays, and move the
    generation on when anything changed (so cached reports are not reused)."""
    present = {info.path for info in infos}
    gone = [(file_id,) for file_id, path in db.execute("SELECT id, path FROM files WHERE gone = 0") if path not in present]
    db.executemany("UPDATE files SET gone = 1 WHERE id = ?", gone)
    if sidechain_seen:
        drop_sidechain_replays(db)
    if changed or gone:
        bump_generation(db)
