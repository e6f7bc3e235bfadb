"""The gateway's request records: its own SQLite file, read-only, and maybe absent.

The gateway writes one row per upstream request into a table `requests` (its schema:
gateway/records.py; time, session, profile, model_requested, model_sent, status, the four token
counts, message_id, request_id, ...). The columns are taken by name and a missing one reads as
empty, so a gateway a version ahead or behind still merges; tests/usage/test_index.py writes its
records with the gateway's own schema. Only answered Messages requests (status 2xx, or no status)
count: a `count_tokens` row answers no prompt (claude's /context sends dozens of them, answered by
the gateway itself for an OpenAI-format upstream). `prompt` (schema 3) says whether the request was
a person's prompt; older rows read as 0.
"""

from __future__ import annotations

import os
import sqlite3
from collections import namedtuple

from ccswitch.usage.messages import MAX_TOKENS, MAX_TS, MIN_TS
from ccswitch.usage.report import time_window

WANTED = (
    "time", "session", "profile", "model_sent", "model_requested", "status", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "message_id", "request_id", "path", "prompt",
)


class GatewayRequest(namedtuple("GatewayRequest", [
    "ts",                  # float
    "session",             # str
    "profile",             # str | None
    "model",               # str
    "input_tokens",        # int
    "output_tokens",       # int
    "cache_read_tokens",   # int
    "cache_write_tokens",  # int
    "message_id",          # str
    "request_id",          # str
    "prompt",              # int  # 1: the request's last user message was text or an image
])):
    __slots__ = ()


def load_requests(path: str | None, since: float | None = None, until: float | None = None) -> tuple[list[GatewayRequest], str | None]:
    """The answered requests in [since, until), and a warning when the file exists but cannot be read."""
    if not path or not os.path.exists(path):
        return [], None
    if not os.path.isfile(path):  # sqlite would wait for ever to open a FIFO
        return [], f"gateway records {path}: not a regular file, not read"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        return [], f"gateway records {path}: {exc}"
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(requests)")}
        if not columns:
            return [], None  # the gateway has not recorded anything yet
        select = ", ".join(name if name in columns else "NULL" for name in WANTED)
        where, args = time_window("time", since, until) if "time" in columns else ("1", [])
        rows = db.execute(f"SELECT {select} FROM requests WHERE {where}", args).fetchall()
    except sqlite3.Error as exc:
        return [], f"gateway records {path}: {exc}"
    finally:
        db.close()
    return [request for row in rows if (request := _request(row)) is not None], None


def _request(row: tuple[object, ...]) -> GatewayRequest | None:
    ts, session, profile, sent, requested, status, *tokens, message_id, request_id, path, prompt = row
    if status is not None and not (isinstance(status, int) and 200 <= status < 300):
        return None
    if isinstance(path, str) and path.endswith("/count_tokens"):
        return None
    if not isinstance(ts, (int, float)) or not MIN_TS <= ts < MAX_TS:  # NaN fails it too
        return None
    counts = [t if isinstance(t, int) and 0 <= t <= MAX_TOKENS else 0 for t in tokens]
    return GatewayRequest(
        ts=float(ts),
        session=session if isinstance(session, str) else "",
        profile=profile if isinstance(profile, str) and profile else None,
        model=str(sent or requested or ""),
        input_tokens=counts[0],
        output_tokens=counts[1],
        cache_read_tokens=counts[2],
        cache_write_tokens=counts[3],
        message_id=message_id if isinstance(message_id, str) else "",
        request_id=request_id if isinstance(request_id, str) else "",
        prompt=1 if prompt == 1 else 0,
    )
