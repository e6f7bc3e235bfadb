"""When `use` made a profile active in a settings file, and when that ended: an append-only log.

`ccswitch usage` attributes a plain claude session (one `ccswitch run` did not start) to the profile
that was in force where and when it ran (docs/usage.md, "Attribution"). The records say only what
is active now, so every `use`, `off` and `restore` that changes a file appends one line to
`use-history.jsonl` in the state dir (0600, one `write` on an O_APPEND descriptor, a few dozen bytes):

    {"at": 1796000000.0, "settings": "/home/me/.claude/settings.json", "scope": "user", "profile": "glm"}

`profile` is null when the file no longer has one (`off`, or a restore of a backup taken before any
`use`). A period lasts from one event of a file to the next event of the same file. A `use` made
before this log existed is still known from its record (`applied_at`), which seeds the period.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple
from datetime import datetime

from ccswitch.fsutil import append_private, ensure_private_dir, read_regular

HISTORY_FILENAME = "use-history.jsonl"


class UsePeriod(namedtuple("UsePeriod", [
    "scope",    # str
    "root",     # str | None
    "profile",  # str
    "start",    # float
    "end",      # float | None
])):
    """A profile `use` kept active in one settings file from `start` to `end` (None: still is).
    `root` is the project's directory for a project-scope file, None for the user's file."""
    __slots__ = ()


def append_event(state_dir: str, settings_path: str, scope: str, profile: str | None, at: float) -> None:
    """One line for a change of the profile in `settings_path`. Raises OSError when it cannot be written."""
    ensure_private_dir(state_dir)
    line = json.dumps({"at": at, "settings": os.path.abspath(settings_path), "scope": scope, "profile": profile})
    append_private(os.path.join(state_dir, HISTORY_FILENAME), (line + "\n").encode("utf-8"))


def project_root(settings_path: str) -> str:
    """The project a project-scope settings file (`<root>/.claude/settings.local.json`) belongs to."""
    return os.path.dirname(os.path.dirname(os.path.abspath(settings_path)))


def load_periods(state_dir: str, records: list[dict] | None = None) -> tuple[list[UsePeriod], int]:
    """Every period of the log, oldest first, and the number of malformed lines skipped.

    `records` are the current records of `use` (switching.records): a file whose record predates
    the log (no event at or before its `applied_at`) gets its period from `applied_at` on.
    """
    events: dict[str, list[tuple[float, str, str | None]]] = {}
    bad = 0
    try:
        data = read_regular(os.path.join(state_dir, HISTORY_FILENAME))
    except OSError:
        data = b""
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
            at, path, scope, profile = float(event["at"]), event["settings"], event["scope"], event["profile"]
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        if not isinstance(path, str) or scope not in ("user", "project") or not (profile is None or isinstance(profile, str)):
            bad += 1
            continue
        events.setdefault(path, []).append((at, scope, profile))
    for record in records or ():
        _seed(events, record)
    periods = [period for path, changes in events.items() for period in _periods(path, sorted(changes))]
    return sorted(periods, key=lambda p: p.start), bad


def _seed(events: dict[str, list[tuple[float, str, str | None]]], record: dict) -> None:
    path, scope, profile, applied = (record.get(k) for k in ("settings_path", "scope", "profile", "applied_at"))
    if not (isinstance(path, str) and isinstance(profile, str) and isinstance(applied, str) and scope in ("user", "project")):
        return
    try:
        at = datetime.fromisoformat(applied).timestamp()
    except ValueError:
        return
    if not any(when <= at + 1 for when, _, _ in events.get(path, ())):
        events.setdefault(path, []).append((at, scope, profile))


def _periods(path: str, changes: list[tuple[float, str, str | None]]) -> list[UsePeriod]:
    periods = []
    for index, (at, scope, profile) in enumerate(changes):
        if profile is None:
            continue
        end = changes[index + 1][0] if index + 1 < len(changes) else None
        root = project_root(path) if scope == "project" else None
        periods.append(UsePeriod(scope, root, profile, at, end))
    return periods
