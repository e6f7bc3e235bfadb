"""Which profile `ccswitch run` launched for which claude session: an append-only JSONL file.

`ccswitch run` calls `record_session` just before it execs claude (passing `--session-id <uuid>`
when the user gave none), so this module is on the launch path: it imports json, os and fsutil only.
One line per launch: {"session": ..., "profile": ..., "started_at": <epoch seconds>}. A session
resumed later on another profile gets a second line; `profile_at` picks the launch in force when a
message was written, so each part of the session is attributed to the profile that served it.
"""

from __future__ import annotations

import json
import os

from ccswitch.fsutil import ensure_private_dir

SESSIONS_FILENAME = "sessions.jsonl"


def record_session(state_dir: str, session_id: str, profile: str, started_at: float) -> None:
    """Append one launch record. Raises OSError when the state dir cannot be written.

    One write() of one line on an O_APPEND descriptor: concurrent launches never interleave
    within a line (POSIX appends of this size are atomic on local filesystems).
    """
    ensure_private_dir(state_dir)
    line = json.dumps({"session": session_id, "profile": profile, "started_at": started_at}) + "\n"
    fd = os.open(os.path.join(state_dir, SESSIONS_FILENAME), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


Launches = dict[str, list[tuple[float, str]]]


def load_sessions(state_dir: str) -> tuple[Launches, int]:
    """Every recorded launch, session -> [(started_at, profile)] oldest first, and the number of
    malformed lines skipped. A missing file is no launches."""
    launches: Launches = {}
    bad = 0
    try:
        with open(os.path.join(state_dir, SESSIONS_FILENAME), "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return launches, 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            session, profile, started = record["session"], record["profile"], float(record["started_at"])
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        if isinstance(session, str) and isinstance(profile, str):
            launches.setdefault(session, []).append((started, profile))
        else:
            bad += 1
    for runs in launches.values():
        runs.sort()
    return launches, bad


# A message can carry a timestamp a little before the launch record's (clock read in two places).
CLOCK_SLACK = 5.0


def profile_at(launches: Launches, session: str, ts: float) -> str | None:
    """The profile of the last launch of `session` at or before `ts`, None when there is none."""
    found = None
    for started, profile in launches.get(session, ()):
        if started - CLOCK_SLACK <= ts:
            found = profile
        else:
            break
    return found
