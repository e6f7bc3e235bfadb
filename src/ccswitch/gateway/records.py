"""Usage records: one SQLite row per request, written by a thread off the request path.

The schema lives here and only here, versioned with `PRAGMA user_version` (a file of an older
version gains the columns added since, in place). Rows hold what a usage
report needs (who answered, which model, how fast, how many tokens, the upstream's message id for
de-duplication against claude's transcripts, which key of a pool served, whether the request was a
person's prompt) and never a prompt's or an answer's text, a key or a token.
The handler only puts a dict on a queue; the writer thread batches whatever has queued up into one
transaction. Several gateways (one per session) share the file: WAL, and a busy timeout.
The same thread reads back what a quota counts (`read_answered`), for a `Follower` (gateway/quota.py):
the answers of every gateway sharing the file, once at the start and then as they are written.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from ccswitch.fsutil import ensure_private_dir, use_wal

SCHEMA_VERSION = 3
# The two paths of the Messages API a record names: a prompt's request (what usage and a quota
# count) and claude's token counting (answered, but no request of a person's).
MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
COLUMNS = (
    "time", "session", "path", "profile", "upstream_host", "model_requested", "model_sent", "stream", "status",
    "outcome", "error", "failover", "ttfb_ms", "total_ms", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "message_id", "request_id", "key_index", "prompt",
)
TABLE = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,         -- unix seconds when the request arrived
    session TEXT NOT NULL,
    path TEXT NOT NULL,         -- /v1/messages, /v1/messages/count_tokens, ...
    profile TEXT,               -- the profile that answered (the last one tried); NULL if none was
    upstream_host TEXT,
    model_requested TEXT,       -- as the client sent it: PROFILE::MODEL, a tier, a model id
    model_sent TEXT,            -- the id the answering upstream got
    stream INTEGER,             -- 1 for an SSE request
    status INTEGER,             -- the HTTP status the client got
    outcome TEXT NOT NULL,      -- see OUTCOMES
    error TEXT,                 -- what went wrong, in words (refused, timeout, HTTP 529, ...); never an upstream's text
    failover TEXT,              -- JSON [[profile, reason], ...] tried before `profile`; NULL if none
    ttfb_ms REAL,               -- request arrival to the first byte sent to the client
    total_ms REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_read_tokens INTEGER,
    cache_write_tokens INTEGER,
    message_id TEXT,            -- the upstream's message.id: usage readers de-duplicate by it
    request_id TEXT,            -- the upstream's request-id response header
    key_index INTEGER,          -- the key of the profile's pool that served (its place in `token`); NULL: one key
    prompt INTEGER              -- an answered Messages request of a profile with quota windows: 1 when its last
                                -- user message is text or an image (a person's prompt), 0 for tool results; else NULL
)"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS requests_time ON requests (time)",
    "CREATE INDEX IF NOT EXISTS requests_message_id ON requests (message_id)",
)
# The columns each version added, for a file written by an older gateway: (version, column, type).
ADDED = ((2, "key_index", "INTEGER"), (3, "prompt", "INTEGER"))
OUTCOMES = {
    "ok": "a 2xx answer relayed whole",
    "passed": "the upstream's error status passed through (the request's fault, e.g. 400)",
    "failed": "every upstream tried failed before answering; the last failure was returned",
    "broken": "the upstream failed after bytes reached the client; the stream ended with an error event",
    "client_closed": "the client went away before the answer was complete",
    "no_route": "no upstream serves the model",
    "bad_request": "the body was not a Messages request the gateway could route",
    "shutdown": "the gateway stopped while the answer was streaming",
    "local": "answered by the gateway itself (count_tokens for an OpenAI-format upstream: an estimate)",
}
_INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
BATCH_SECONDS = 0.2
FOLLOW_SECONDS = 2.0  # a follower hears of other gateways' answers this late at most (of ours at each batch)
_TOKENS = ("coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + coalesce(cache_read_tokens, 0) "
           "+ coalesce(cache_write_tokens, 0)")


def open_db(path: str):  # -> sqlite3.Connection
    """Open (creating 0600 in a 0700 directory) and migrate the records database."""
    import sqlite3

    directory = os.path.dirname(os.path.abspath(path))
    ensure_private_dir(directory)
    # Create the file ourselves so it is private from the first byte; SQLite gives its -wal and -shm
    # files the database file's permissions.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    use_wal(db)
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, no fsync per batch
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            _migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _migrate(db, path: str) -> None:
    """Create the table, or add the columns an older version lacks. Under the write lock, with the
    version read again: several gateways may open the same old file at once."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{path}: records schema {version} is newer than this gateway's {SCHEMA_VERSION}")
        if version == 0:
            db.execute(TABLE)
        for added_in, column, kind in ADDED:
            if version and version < added_in:
                db.execute(f"ALTER TABLE requests ADD COLUMN {column} {kind}")
        for statement in INDEXES:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def read_answered(db, profiles: Sequence[str], since: float, after: int) -> tuple[list[tuple], int]:
    """The answered Messages requests (2xx) of `profiles` written after row `after` that arrived at
    `since` or later, as (time, session, profile, prompt, tokens) with NULLs as 0; and the last row's
    id, the next call's `after`. In one read transaction, so no row falls between the two."""
    marks = ", ".join("?" * len(profiles))
    # The first read goes by the time index; a later one by row id (`+time`: not the index), so it
    # looks only at the rows written since.
    where = "id <= ? AND time >= ?" if after == 0 else "id > ? AND id <= ? AND +time >= ?"
    db.execute("BEGIN")
    try:
        last = db.execute("SELECT coalesce(max(id), 0) FROM requests").fetchone()[0]
        rows = db.execute(
            f"SELECT time, session, profile, coalesce(prompt, 0), {_TOKENS} FROM requests WHERE {where} "
            f"AND profile IN ({marks}) AND path = ? AND status BETWEEN 200 AND 299 ORDER BY time",
            (*((last,) if after == 0 else (after, last)), since, *profiles, MESSAGES_PATH)).fetchall()
    finally:
        db.execute("COMMIT")
    return rows, last


class RecordWriter:
    """`put(row)` from the event loop is a list append, nothing more; a daemon thread looks every
    BATCH_SECONDS and writes what has gathered in one transaction. No signalling on the request
    path: waking the thread with a threading.Event blocked the event loop ~6 ms per batch (the
    writer holds the Event's lock while it waits for the GIL). `close()` flushes.

    A `follower` (gateway/quota.py's; its `profiles`, `since(now)` and a thread-safe `deliver(rows)`)
    gets `read_answered` once the file is open (every row since `since`; an empty list when there
    is no file to read), then the rows written since: after each batch, and every FOLLOW_SECONDS
    (other gateways write the same file)."""

    def __init__(self, path: str, warn: Callable[[str], None], follower: object | None = None) -> None:
        self.path = path
        self.warn = warn
        self._rows: list[Mapping[str, object]] = []
        self._closing = False
        self._follower = follower
        self._after = 0  # the last row the follower has been given
        self._read_at: float | None = None  # when it was last read for (monotonic); None: not yet
        self._thread = threading.Thread(target=self._run, name="ccswitch-records", daemon=True)
        self._thread.start()

    def put(self, row: Mapping[str, object]) -> None:
        self._rows.append(row)

    def close(self, timeout: float = 5.0) -> None:
        self._closing = True
        self._thread.join(timeout)

    def _take(self) -> list[Mapping[str, object]]:
        """The rows gathered since the last batch, once there are some (or we are closing, or the
        follower is due a read)."""
        while not self._rows and not self._closing and not self._follow_due():
            time.sleep(BATCH_SECONDS)
        rows, self._rows = self._rows, []  # atomic under the GIL: a put() lands in one list or the other
        return rows

    def _follow_due(self) -> bool:
        return self._follower is not None and (self._read_at is None or
                                               time.monotonic() - self._read_at >= FOLLOW_SECONDS)

    def _follow(self, db) -> None:
        """Read what the follower has not seen yet and hand it over (the first time even when there
        is nothing: it is waiting for that read)."""
        follower, first = self._follower, self._read_at is None
        self._read_at = time.monotonic()
        rows: list[tuple] = []
        try:
            if db is not None:
                rows, self._after = read_answered(db, follower.profiles, follower.since(time.time()), self._after)
        except Exception as exc:  # the records are a report: the quotas count this gateway's answers alone
            self.warn(f"usage records: quotas count only this gateway's answers from now on: {exc}")
            self._follower = None
        if db is None:
            self._follower = None  # nothing to follow: the quotas count this gateway's answers alone
        if rows or first:
            follower.deliver(rows)

    def _run(self) -> None:
        try:
            db = open_db(self.path)
        except Exception as exc:  # records are a report, not the service: keep serving without them
            self.warn(f"usage records disabled: {exc}")
            db = None
        try:
            while True:
                rows = self._take()
                if rows and db is not None:
                    self._write(db, rows)
                if self._follower is not None and not self._closing and (rows or self._follow_due()):
                    self._follow(db)
                if self._closing and not self._rows:
                    return
        finally:
            if db is not None:
                db.close()

    def _write(self, db, rows: list[Mapping[str, object]]) -> None:
        try:
            with db:
                db.execute("BEGIN")
                db.executemany(_INSERT, [tuple(row.get(c) for c in COLUMNS) for row in rows])
        except Exception as exc:  # a full disk, a locked file: lose these rows, not the session
            self.warn(f"usage records: {len(rows)} rows not written: {exc}")
