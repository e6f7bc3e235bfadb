"""Usage records: one SQLite row per request, written by a thread off the request path.

The schema lives here and only here, versioned with `PRAGMA user_version`. Rows hold what a usage
report needs (who answered, which model, how fast, how many tokens, the upstream's message id for
de-duplication against claude's transcripts) and never a prompt, an answer's text, a key or a token.
The handler only puts a dict on a queue; the writer thread batches whatever has queued up into one
transaction. Several gateways (one per session) share the file: WAL, and a busy timeout.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping

from ccswitch.fsutil import ensure_private_dir

SCHEMA_VERSION = 1
COLUMNS = (
    "time", "session", "path", "profile", "upstream_host", "model_requested", "model_sent", "stream", "status",
    "outcome", "error", "failover", "ttfb_ms", "total_ms", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "message_id", "request_id",
)
SCHEMA = """
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
    request_id TEXT             -- the upstream's request-id response header
);
CREATE INDEX IF NOT EXISTS requests_time ON requests (time);
CREATE INDEX IF NOT EXISTS requests_message_id ON requests (message_id);
"""
OUTCOMES = {
    "ok": "a 2xx answer relayed whole",
    "passed": "the upstream's error status passed through (the request's fault, e.g. 400)",
    "failed": "every upstream tried failed before answering; the last failure was returned",
    "broken": "the upstream failed after bytes reached the client; the stream ended with an error event",
    "client_closed": "the client went away before the answer was complete",
    "no_route": "no upstream serves the model",
    "bad_request": "the body was not a Messages request the gateway could route",
    "shutdown": "the gateway stopped while the answer was streaming",
}
_INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
BATCH_SECONDS = 0.2


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
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, no fsync per batch
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        db.close()
        raise RuntimeError(f"{path}: records schema {version} is newer than this gateway's {SCHEMA_VERSION}")
    if version < SCHEMA_VERSION:
        db.executescript(f"BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    return db


class RecordWriter:
    """`put(row)` from the event loop is a list append, nothing more; a daemon thread looks every
    BATCH_SECONDS and writes what has gathered in one transaction. No signalling on the request
    path: waking the thread with a threading.Event blocked the event loop ~6 ms per batch (the
    writer holds the Event's lock while it waits for the GIL). `close()` flushes."""

    def __init__(self, path: str, warn: Callable[[str], None]) -> None:
        self.path = path
        self.warn = warn
        self._rows: list[Mapping[str, object]] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="ccswitch-records", daemon=True)
        self._thread.start()

    def put(self, row: Mapping[str, object]) -> None:
        self._rows.append(row)

    def close(self, timeout: float = 5.0) -> None:
        self._closing = True
        self._thread.join(timeout)

    def _take(self) -> list[Mapping[str, object]]:
        """The rows gathered since the last batch, once there are some (or we are closing)."""
        while not self._rows and not self._closing:
            time.sleep(BATCH_SECONDS)
        rows, self._rows = self._rows, []  # atomic under the GIL: a put() lands in one list or the other
        return rows

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
