"""`ccswitch usage`: tokens and estimated cost per profile and model, from claude's transcripts
and the gateway's records (docs/usage.md); `--windows`: each profile's quota windows."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from ccswitch import paths
from ccswitch.console import Output, print_json, stdout
from ccswitch.errors import CcswitchError, UsageError, warn
from ccswitch.profiles.cache import load_profiles

TYPE_CHECKING = False  # typing is not imported at run time: `statusline` shares load_stamper (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

MAX_WIDTH = 80


def show_usage(since: str | None = None, until: str | None = None, by: str | None = None, as_json: bool = False,
               windows: bool = False, *, out: Output = stdout) -> int:
    from ccswitch.usage.report import BY_CHOICES, parse_since, parse_until

    if by is not None and by not in BY_CHOICES:
        raise UsageError(f"--by {by!r}: choose one of {', '.join(BY_CHOICES)}")
    if windows and (since is not None or until is not None or by):
        raise UsageError("--windows shows the windows in force now: it takes no --since, --until or --by")
    try:  # an empty value (an unset shell variable) is an error, not the whole history
        start = parse_since(since) if since is not None else None
        end = parse_until(until) if until is not None else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--until {until} is before --since {since}: nothing could match")
    env = dict(os.environ)
    if windows:
        return _show_windows(env, as_json, out)
    return _show_report(env, start, end, since or until, by, as_json, out)


def engine_inputs(env: Mapping[str, str]) -> dict[str, Any]:
    """What the usage engine needs from the profiles and the state dirs: the profiles, their price
    tables, the attribution by model name, the gateway's records and the stamper (load_stamper,
    which `statusline` shares)."""
    from ccswitch.usage.providers import attribution, price_tables
    from ccswitch.usage.scan import default_config_dirs

    profile_set = load_profiles(env)
    stamper, warnings = load_stamper(profile_set, env)
    return {
        "profile_set": profile_set, "state_dir": paths.user_state_dir(env), "prices": price_tables(profile_set),
        "attribute": attribution(profile_set, env), "gateway_db": paths.gateway_records_file(env),
        "config_dirs": default_config_dirs(env, paths.home_dir(env)), "stamper": stamper, "warnings": warnings,
    }


def load_stamper(profile_set: Any, env: Mapping[str, str]) -> tuple[Any, list[str]]:
    """The stamper that knows every `run` launch and `use` period (usage/attribution.py), and a
    warning for each of their files with malformed lines."""
    from ccswitch.switching.history import load_periods
    from ccswitch.switching.records import all_records
    from ccswitch.usage.attribution import Stamper
    from ccswitch.usage.providers import relay_profiles
    from ccswitch.usage.sessions import load_sessions

    state_dir = paths.user_state_dir(env)
    launches, picked, bad_launches = load_sessions(state_dir)
    switching_state = paths.state_dir(env)
    periods, bad_periods = load_periods(switching_state, all_records(switching_state))
    warnings = [f"{path}: skipped {count} malformed line{'s' if count != 1 else ''}"
                for path, count in ((os.path.join(state_dir, "sessions.jsonl"), bad_launches),
                                    (os.path.join(switching_state, "use-history.jsonl"), bad_periods)) if count]
    return Stamper(launches, periods, picked, relays=relay_profiles(profile_set)), warnings


def _show_report(env: dict[str, str], start: float | None, end: float | None, windowed: str | None, by: str | None,
                 as_json: bool, out: Output) -> int:
    import sqlite3  # the index needs it anyway; imported here so that `ccswitch --help` does not

    from ccswitch.usage.collect import collect_and_report

    state_dir = paths.user_state_dir(env)
    try:
        inputs = engine_inputs(env)
        config_dirs = inputs["config_dirs"]
        report, stats, warnings = collect_and_report(
            state_dir, config_dirs, prices=inputs["prices"], attribute=inputs["attribute"],
            gateway_db=inputs["gateway_db"], since=start, until=end, by=by, stamper=inputs["stamper"], on_wait=warn)
    except (OSError, sqlite3.Error) as error:
        raise CcswitchError(f"usage index in {state_dir}: {error}") from None
    for line in inputs["warnings"] + warnings + _no_transcripts(stats.files, config_dirs):
        warn(line)
    if as_json:
        print_json(report.to_json())
        return 0
    if not report.rows:
        window = " in this period" if windowed else ""
        out.print(f"No usage{window}: {stats.files} transcript file(s) under {', '.join(config_dirs)}.", markup=False)
        return 0
    from ccswitch.usage.render import chart_lines, unpriced_note, usage_table

    fitted = _fitted(out)
    fitted.print(usage_table(report, by))
    note = unpriced_note(report)
    if note:
        fitted.print(note, markup=False)
    fitted.print()
    for line in chart_lines(report, fitted.width or MAX_WIDTH):
        fitted.print(line)
    return 0


def _no_transcripts(found: int, config_dirs: list[str]) -> list[str]:
    """Why nothing was found, when nothing was: the config dirs without a projects/ folder."""
    if found:
        return []
    missing = [d for d in config_dirs if not os.path.isdir(os.path.join(d, "projects"))]
    why = f" ({', '.join(missing)}: no projects/ folder)" if missing else ""
    return [f"no transcripts under {', '.join(config_dirs)}{why}"]


def _fitted(out: Output) -> Output:
    """`out` at most 80 columns wide (the report is laid out for that)."""
    return Output(out.stream, terminal=out.is_terminal, width=min(out.width or MAX_WIDTH, MAX_WIDTH), file=out.file)


def _show_windows(env: dict[str, str], as_json: bool, out: Output) -> int:
    import sqlite3

    from ccswitch.usage.collect import collect_events
    from ccswitch.usage.providers import quota_tables
    from ccswitch.usage.report import windows_json
    from ccswitch.usage.windows import lookback, window_state

    state_dir = paths.user_state_dir(env)
    try:
        inputs = engine_inputs(env)
        quotas = quota_tables(inputs["profile_set"])
        now = time.time()
        every = [quota for entry in quotas.values() for quota in entry.windows]
        events, stats, warnings = collect_events(
            state_dir, inputs["config_dirs"], since=lookback(every, now) if every else now,
            attribute=inputs["attribute"], gateway_db=inputs["gateway_db"], stamper=inputs["stamper"], on_wait=warn)
    except (OSError, sqlite3.Error) as error:
        raise CcswitchError(f"usage index in {state_dir}: {error}") from None
    for line in inputs["warnings"] + warnings:
        warn(line)
    states, unchosen = [], {}
    for name, entry in quotas.items():
        used = events.get(name, [])
        chosen = entry.plan is not None or any(quota.plan is None for quota in entry.windows)
        if not used and entry.plan is None:
            continue  # a preset's plans nobody uses here
        if entry.plans and entry.plan is None:
            unchosen[name] = entry.plans
        if chosen:
            states += [(name, window_state(quota, used, now)) for quota in entry.windows]
    if as_json:
        print_json(windows_json(states, now, unchosen))
        return 0
    if not states and not unchosen:
        out.print("No quota windows: no profile in use declares a `quota` (see docs/usage.md, \"Windows and quotas\").",
                  markup=False)
        return 0
    from ccswitch.usage.render import windows_table

    if states:
        _fitted(out).print(windows_table(states, now))
    for name, offered in unchosen.items():
        choices = " | ".join(f'"{plan}"' for plan in offered)
        out.print(f"{name}: its quota depends on the plan; say which in your profile: plan = {choices}", markup=False)
    return 0
