"""Which profile `ccswitch run` launched for which claude session: an append-only JSONL file.

`ccswitch run` calls `record_session` just before it execs claude (passing `--session-id <uuid>`
when the user gave none), so this module is on the launch path: it imports json, os and fsutil only.
One line per launch: {"session": ..., "profile": ..., "started_at": <epoch seconds>} (and
"gateway": true for `run NAME --gateway`, which `ccswitch --resume` repeats). A session
resumed later on another profile (`--resume ID`, `--continue`) gets a second line; `profile_at`
picks the launch in force when a message was written, so each part of the session is attributed
to the profile that served it. A resume through claude's picker names no session on the command
line: its line has "session": null and "project", the transcripts folder of its project; the index
later matches it to the session of that project that is written to next (usage.collect).
"""

from __future__ import annotations

import json
import os

from ccswitch.fsutil import append_private, ensure_private_dir, read_regular

SESSIONS_FILENAME = "sessions.jsonl"


def record_session(state_dir: str, session_id: str | None, profile: str, started_at: float,
                   picked_in: str | None = None, gateway: bool = False) -> None:
    """Append one launch record (`picked_in`: the project folder of a picker resume, whose session
    is not known yet; `gateway`: asked for with --gateway). Raises OSError when the state dir
    cannot be written.

    One write() of one line on an O_APPEND descriptor: concurrent launches never interleave
    within a line (POSIX appends of this size are atomic on local filesystems).
    """
    ensure_private_dir(state_dir)
    record: dict[str, object] = {"session": session_id, "profile": profile, "started_at": started_at}
    if session_id is None:
        record["project"] = picked_in
    if gateway:
        record["gateway"] = True
    line = json.dumps(record) + "\n"
    append_private(os.path.join(state_dir, SESSIONS_FILENAME), line.encode("utf-8"))


Launches = dict[str, list[tuple[float, str]]]
Picked = list[tuple[float, str, str]]  # (started_at, project folder, profile) of picker resumes


def load_sessions(state_dir: str) -> tuple[Launches, Picked, int]:
    """Every recorded launch, session -> [(started_at, profile)] oldest first, the picker resumes,
    and the number of malformed lines skipped. A missing file is no launches."""
    launches: Launches = {}
    picked: Picked = []
    bad = 0
    try:
        data = read_regular(os.path.join(state_dir, SESSIONS_FILENAME))
    except FileNotFoundError:
        return launches, picked, 0
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
        elif session is None and isinstance(profile, str) and isinstance(record.get("project"), str):
            picked.append((started, record["project"], profile))
        else:
            bad += 1
    for runs in launches.values():
        runs.sort()
    return launches, sorted(picked), bad


# The launch is recorded before claude starts, so every response of it is written later by the same
# clock; transcripts keep milliseconds, so one may read up to 1 ms early. Anything wider would give
# the last turns of a session to a resume started right after it (seconds apart in scripts).
CLOCK_SLACK = 0.01


def profile_at(launches: Launches, session: str, ts: float) -> str | None:
    """The profile of the last launch of `session` at or before `ts`, None when there is none."""
    found = None
    for started, profile in launches.get(session, ()):
        if started - CLOCK_SLACK <= ts:
            found = profile
        else:
            break
    return found


def last_launch(state_dir: str, session: str) -> tuple[str, bool] | None:
    """(profile, through --gateway) of the last `run` of `session`: what `ccswitch --resume ID`
    resumes it with. None when `run` never launched it."""
    found = None
    try:
        data = read_regular(os.path.join(state_dir, SESSIONS_FILENAME))
    except FileNotFoundError:
        return None
    for raw in data.splitlines():
        if session.encode() not in raw:  # most lines are other sessions': no parse
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("session") == session and isinstance(record.get("profile"), str):
            launched = (float(record.get("started_at", 0)) if isinstance(record.get("started_at"), (int, float)) else 0.0,
                        record["profile"], record.get("gateway") is True)
            if found is None or launched[0] >= found[0]:
                found = launched
    return None if found is None else found[1:]
