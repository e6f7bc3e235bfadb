"""Which profile a response was served by, as far as the launch records and the history of `use`
tell (docs/usage.md, "Attribution"): stamped on each response when it is indexed.

- `run_profile`: the launch of the response's session in force when it was written (`ccswitch run`,
  its resumes and continues: usage.sessions);
- `use_profile`: the profile `use` had made active for the response's project (project scope, the
  innermost project holding its working directory) or else for the user, at that time.

Both are known before the response exists (a launch and a `use` are recorded before claude sends
anything), so a stamp never goes stale. The periods come in as plain data (switching.history's
UsePeriod: scope, root, profile, start, end): this engine does not import `switching`.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Sequence

from ccswitch.usage.sessions import Launches, Picked, profile_at

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any


class Stamper:
    """The two stamps of a response, from every launch and `use` period (built once per update).
    `picked`: the picker resumes (usage.sessions), matched to a session by the index. `relays`: the
    profiles that serve nothing themselves (`routes`): a launch of one stamps nothing, the
    gateway's record of each response says which profile served it."""

    def __init__(self, launches: Launches | None = None, periods: Iterable[Any] = (), picked: Picked | None = None,
                 relays: Iterable[str] = ()) -> None:
        self.launches = launches or {}
        self.picked = picked or []
        self.relays = frozenset(relays)
        periods = sorted(periods, key=lambda p: p.start)
        self._user = [p for p in periods if p.root is None]
        self._user_starts = [p.start for p in self._user]
        self._projects: dict[str, list[Any]] = {}
        for period in periods:
            if period.root is not None:
                self._projects.setdefault(os.path.normpath(period.root), []).append(period)
        self._by_cwd: dict[str, list[list[Any]]] = {}

    def __bool__(self) -> bool:
        return bool(self.launches or self._user or self._projects)

    def add_launch(self, session: str, started_at: float, profile: str) -> None:
        runs = self.launches.setdefault(session, [])
        if (started_at, profile) not in runs:
            runs.append((started_at, profile))
            runs.sort()

    def run_profile(self, session: str, ts: float) -> str | None:
        found = profile_at(self.launches, session, ts) if self.launches else None
        return None if found in self.relays else found

    def use_profile(self, cwd: str, ts: float) -> str | None:
        for periods in self._projects_of(cwd):
            found = _active(periods, ts)
            if found is not None:
                return found
        if not self._user:
            return None
        index = bisect.bisect_right(self._user_starts, ts)
        return _active(self._user[max(0, index - 8) : index], ts)

    def _projects_of(self, cwd: str) -> list[list[Any]]:
        """The periods of every project holding `cwd`, innermost first (cached per directory)."""
        found = self._by_cwd.get(cwd)
        if found is None:
            inside = [root for root in self._projects if _within(cwd, root)]
            found = [self._projects[root] for root in sorted(inside, key=len, reverse=True)]
            self._by_cwd[cwd] = found
        return found


def _within(cwd: str, root: str) -> bool:
    if not cwd:
        return False
    cwd = os.path.normpath(cwd)
    return cwd == root or cwd.startswith(root.rstrip(os.sep) + os.sep)


def _active(periods: Sequence[Any], ts: float) -> str | None:
    """The profile of the latest period (by start) in force at `ts`."""
    for period in reversed(periods):
        if period.start <= ts and (period.end is None or ts < period.end):
            return period.profile
    return None
