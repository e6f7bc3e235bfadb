"""`ccswitch usage`: tokens and estimated cost per profile and model, from claude's transcripts
and the gateway's records (docs/usage.md)."""

from __future__ import annotations

import os
import sqlite3

from ccswitch import paths
from ccswitch.console import Output, print_json, stdout
from ccswitch.errors import CcswitchError, UsageError, warn
from ccswitch.profiles.cache import load_profiles


def show_usage(since: str | None = None, until: str | None = None, by: str | None = None, as_json: bool = False,
               *, out: Output = stdout) -> int:
    from ccswitch.usage.collect import collect_and_report
    from ccswitch.usage.providers import attribution, price_tables
    from ccswitch.usage.report import BY_CHOICES, parse_since, parse_until
    from ccswitch.usage.scan import default_config_dirs

    if by is not None and by not in BY_CHOICES:
        raise UsageError(f"--by {by!r}: choose one of {', '.join(BY_CHOICES)}")
    try:
        start = parse_since(since) if since else None
        end = parse_until(until) if until else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--until {until} is before --since {since}: nothing could match")
    env = dict(os.environ)
    profile_set = load_profiles(env)
    prices = price_tables(profile_set)
    state_dir = paths.user_state_dir(env)
    config_dirs = default_config_dirs(env, paths.home_dir(env))
    try:
        report, stats, warnings = collect_and_report(
            state_dir, config_dirs, prices=prices,
            attribute=attribution(profile_set, env), gateway_db=paths.gateway_records_file(env),
            since=start, until=end, by=by)
    except (OSError, sqlite3.Error) as error:
        raise CcswitchError(f"usage index in {state_dir}: {error}") from None
    for line in warnings:
        warn(line)
    if as_json:
        print_json(report.to_json())
        return 0
    if not report.rows:
        window = " in this period" if since or until else ""
        out.print(f"No usage{window}: {stats.files} transcript file(s) under {', '.join(config_dirs)}.", markup=False)
        return 0
    from ccswitch.usage.render import render

    out.file.write(render(report, color=out.is_terminal, width=out.width or 80))
    return 0
