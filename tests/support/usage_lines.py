"""Transcript lines as claude writes them, and fixtures for a Claude config dir in the private home.

Not a conftest.py: a second conftest module would shadow tests/conftest.py for `from conftest import`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccswitch.usage import scan

T0 = 1796032800.0  # 2026-11-30T10:00:00Z: the time of assistant()'s default timestamp


def assistant(
    message_id: str = "msg_1",
    request_id: str | None = "req_1",
    *,
    session: str = "s1",
    model: str = "claude-sonnet-4-5",
    output: int = 10,
    input: int = 5,
    cache_read: int = 100,
    cache_write: int = 20,
    ts: str = "2026-11-30T10:00:00.000Z",
    sidechain: bool = False,
    content: Any = None,
    **usage_extra: Any,
) -> str:
    """One assistant line, in claude's key order (model and id before content, usage last)."""
    message = {
        "model": model,
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "content": content if content is not None else [{"type": "text", "text": "hello"}],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input, "cache_creation_input_tokens": cache_write,
                  "cache_read_input_tokens": cache_read, "output_tokens": output, **usage_extra},
    }
    line: dict[str, Any] = {"parentUuid": None, "isSidechain": sidechain, "userType": "external", "cwd": "/p",
                            "sessionId": session, "version": "2.1.330", "gitBranch": "main", "message": message}
    if request_id is not None:
        line["requestId"] = request_id
    line.update(type="assistant", uuid="u-" + message_id, timestamp=ts)
    return json.dumps(line, separators=(",", ":"))


def user(text: str = "hi", **extra: Any) -> str:
    return json.dumps({"type": "user", "sessionId": "s1", "message": {"role": "user", "content": text},
                       "timestamp": "2026-11-30T10:00:00.000Z", **extra}, separators=(",", ":"))


@pytest.fixture
def claude_dir(isolated_home: Path) -> Path:
    path = isolated_home / ".claude"
    (path / "projects" / "-p").mkdir(parents=True)
    return path


@pytest.fixture
def write_transcript(claude_dir: Path) -> Callable[..., Path]:
    def write(name: str, lines: list[str], *, end: str = "\n") -> Path:
        path = claude_dir / "projects" / "-p" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + end, encoding="utf-8")
        return path

    return write


@pytest.fixture
def state_dir(isolated_home: Path) -> Path:
    return isolated_home / ".local" / "state" / "ccswitch"


def full_parse_reference(data: bytes, path: str) -> dict:
    """What reading every line whole gives (json.loads, no fast path), the reference the reader's
    fast path is held to: key -> (output, total)."""
    kept: dict = {}
    offset = 0
    for raw in data.split(b"\n"):
        here, offset = offset, offset + len(raw) + 1
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        found = scan._message(record, f"@{path}:{here}")
        if isinstance(found, scan.Message) and (found.key not in kept or found.better_than(kept[found.key])):
            kept[found.key] = found
    return {key: (m.output_tokens, m.total_tokens) for key, m in kept.items()}


def make_gateway(path, rows, request_path="/v1/messages"):
    """Records written with the gateway's own schema (gateway/records.py): the reader must follow it."""
    from ccswitch.gateway.records import COLUMNS, open_db

    db = open_db(path)
    names = ("time", "session", "profile", "model_requested", "model_sent", "status", "input_tokens",
             "output_tokens", "cache_read_tokens", "cache_write_tokens", "message_id", "request_id", "prompt")
    full = [dict(zip(names, row), path=request_path, outcome="ok") for row in rows]
    db.executemany(f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                   [tuple(row.get(column) for column in COLUMNS) for row in full])
    db.close()
