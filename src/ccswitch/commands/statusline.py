"""`ccswitch statusline`: the line claude shows under its prompt (its `statusLine` setting), and
`--install`/`--uninstall` of that setting (docs/usage.md, "The status line").

claude runs the command after every message with a JSON object on stdin (docs/claude-code.md,
"Status line"). The line: the profile (for a routes profile, the provider behind the current
model), the provider's model, this session's tokens and cost in the profile's currency, today's
cost, and the current quota window's use. It reads only the session's transcripts (what is new
in them since the index last saw them) and the index, never a scan; no typer, no rich.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping

from ccswitch import paths
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.interpreter import module_command

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

SEPARATOR = " · "


def statusline(stdin: str, env: Mapping[str, str], now: float | None = None) -> str:
    """The one line for claude's status line, from what claude sent on stdin."""
    data = _payload(stdin)
    session = data.get("session_id") if isinstance(data.get("session_id"), str) else ""
    model = (data.get("model") or {}).get("id") if isinstance(data.get("model"), dict) else None
    model = model if isinstance(model, str) else ""
    cwd = data.get("cwd") if isinstance(data.get("cwd"), str) else os.getcwd()
    transcript = data.get("transcript_path") if isinstance(data.get("transcript_path"), str) else ""
    now = time.time() if now is None else now
    return _line(session, model, cwd, transcript, env, now)


def _payload(stdin: str) -> dict[str, Any]:
    try:
        data = json.loads(stdin) if stdin.strip() else {}
    except (ValueError, RecursionError):
        raise UsageError("statusline: stdin is not JSON (claude's statusLine setting runs this command)") from None
    if not isinstance(data, dict):
        raise UsageError("statusline: stdin is not a JSON object")
    return data


def _line(session: str, model: str, cwd: str, transcript: str, env: Mapping[str, str], now: float) -> str:
    from ccswitch.commands.usage import load_stamper
    from ccswitch.profiles.cache import load_profiles
    from ccswitch.usage.collect import repaired
    from ccswitch.usage.index import open_index

    profile_set = load_profiles(env)
    state_dir = paths.user_state_dir(env)
    stamper, _ = load_stamper(profile_set, env)  # a malformed line is `usage`'s to report, not the status line's
    lazy = _LazyAttribution(profile_set, env)

    def run(notes: list[str]) -> tuple[str]:
        db = open_index(state_dir, notes)  # one connection: each close of the last one checkpoints
        db.execute("PRAGMA synchronous = OFF")
        try:
            return (_parts(db, profile_set, stamper, lazy, session, model, cwd, transcript, env, now),)
        finally:
            db.close()

    return repaired(state_dir, run)[0]


def _parts(db: Any, profile_set: Any, stamper: Any, lazy: Any, session: str, model: str, cwd: str, transcript: str,
           env: Mapping[str, str], now: float) -> str:
    from ccswitch.usage.collect import update_transcripts, usage_report
    from ccswitch.usage.providers import price_tables
    from ccswitch.usage.report import parse_since

    state_dir = paths.user_state_dir(env)
    if transcript:
        update_transcripts(state_dir, _session_files(transcript), stamper, db)
    prices = price_tables(profile_set)
    gateway = paths.gateway_records_file(env)
    mine, _ = usage_report(state_dir, prices=prices, attribute=lazy, gateway_db=gateway, session=session, db=db)
    today, _ = usage_report(state_dir, prices=prices, attribute=lazy, gateway_db=gateway, since=parse_since("1d", now),
                            db=db)
    from ccswitch.usage.sessions import profile_at

    launched = profile_at(stamper.launches, session, now)  # a routes profile too: shown with its provider
    profile = launched or stamper.use_profile(cwd, now) or lazy(model) or "unknown"
    provider, served = _provider(profile_set, profile, model)
    zero = _zero(prices.get(provider) or {}, served)
    parts = [profile if provider == profile else f"{profile}→{provider}", served or "-",
             f"{_tokens(mine.totals)} tok {_cost(mine.totals, zero)}", f"today {_cost(today.totals, zero)}"]
    window = _window(profile_set, provider, state_dir, lazy, gateway, now, db)
    if window:
        parts.append(window)
    return SEPARATOR.join(parts)


class _LazyAttribution:
    """providers.attribution, built the first time a model needs it (most sessions are stamped)."""

    def __init__(self, profile_set: Any, env: Mapping[str, str]) -> None:
        self.profile_set, self.env, self.attribute = profile_set, env, None

    def __call__(self, model: str) -> str | None:
        if not model:
            return None
        if self.attribute is None:
            from ccswitch.usage.providers import attribution

            self.attribute = attribution(self.profile_set, self.env)
        return self.attribute(model)


def _session_files(transcript: str) -> list[str]:
    """The session's transcript and its subagents' (`<session>/subagents/*.jsonl` beside it)."""
    found = [transcript]
    subagents = os.path.join(transcript[: -len(".jsonl")] if transcript.endswith(".jsonl") else transcript, "subagents")
    try:
        found += sorted(os.path.join(subagents, name) for name in os.listdir(subagents) if name.endswith(".jsonl"))
    except OSError:
        pass
    return found


def _provider(profile_set: Any, profile: str, model: str) -> tuple[str, str]:
    """(the profile that serves `model`, the model it is sent as): for a routes profile, the
    `profile::model` name claude was given, or the profile a tier alias is routed to."""
    if "::" in model:
        name, served = model.split("::", 1)
        return (name, served) if name in profile_set else (profile, model)
    if profile in profile_set:
        routes = profile_set.get(profile).routes or {}
        from ccswitch.claude.models import alias_tier

        tier = alias_tier(model) if model else None
        if tier and tier in routes:
            return routes[tier], model
    return profile, model


def _tokens(totals: dict[str, Any]) -> str:
    from ccswitch.usage.render import count
    from ccswitch.usage.report import TOKEN_KEYS

    return count(sum(totals.get(key, 0) for key in TOKEN_KEYS))


def _cost(totals: dict[str, Any], zero: str) -> str:
    from ccswitch.usage.render import total_cost

    text = total_cost(totals)
    return zero if text == "-" else text


def _zero(table: Any, model: str) -> str:
    """Nothing spent yet, in the currency the provider bills `model` in (else any of its prices)."""
    from ccswitch.usage.prices import entries_for
    from ccswitch.usage.render import money

    entries = entries_for(table, model) if model else ()
    currency = entries[-1].currency if entries else next((e[-1].currency for e in table.values() if e), None)
    return money(0.0, currency) if currency else "0"


def _window(profile_set: Any, profile: str, state_dir: str, attribute: Any, gateway: str, now: float,
            db: Any) -> str | None:
    """The first quota window in force for `profile`: "5h 12/600 prompts" (and when it resets)."""
    from ccswitch.profiles.quota import in_force, parse_quotas

    if profile not in profile_set:
        return None
    chosen = profile_set.get(profile)
    if chosen.quota is None:
        return None
    quotas = in_force(parse_quotas(chosen.quota), chosen.plan)
    if not quotas:
        return None
    from ccswitch.usage.collect import usage_events
    from ccswitch.usage.render import window_use
    from ccswitch.usage.windows import clock, lookback, window_state

    events, _ = usage_events(state_dir, since=lookback(quotas[:1], now), attribute=attribute, gateway_db=gateway,
                             db=db)
    state = window_state(quotas[0], events.get(profile, []), now)
    reset = f", resets {clock(state.resets_at, now)}" if state.resets_at and state.used else ""
    return f"{state.quota.window} {window_use(state)}{reset}"


def main(env: Mapping[str, str] | None = None) -> int:
    """Read claude's JSON from stdin, print the line. A problem is one line (claude shows stdout),
    never a traceback, and exits 0 so claude keeps its screen."""
    env = dict(os.environ) if env is None else env
    import sqlite3

    try:
        line = statusline(sys.stdin.read(), env)
    except CcswitchError as error:
        line = f"ccswitch: {error.message}"
    except (OSError, ValueError, sqlite3.Error) as error:
        line = f"ccswitch: {error}"
    # A name claude sent may hold "\udc00" (JSON reads it; no UTF-8 can say it): shown as ?.
    line = line.replace("\n", " ").encode("utf-8", "replace").decode("utf-8")
    sys.stdout.write(line + "\n")
    return 0


def change_setting(install: bool, scope: str, dry_run: bool) -> int:
    """`--install` / `--uninstall` at `scope`: the change through switching.statusline."""
    from ccswitch.console import escape, stderr
    from ccswitch.switching import statusline as setting

    env = dict(os.environ)
    target = setting.target_for(scope, paths.claude_user_settings(env), os.getcwd())
    state, backups = paths.state_dir(env), paths.backups_dir(env)
    where = escape(target.path)
    if install:
        change = setting.install(target, command_line(env), state, backups, dry_run=dry_run)
        kept = False
    else:
        change, kept = setting.uninstall(target, state, backups, dry_run=dry_run)
        if change is None:
            stderr.print(f"no status line of ccswitch in {where}; nothing to undo")
            return 0
    if dry_run:
        from ccswitch.cli.switching import _print_diff

        _print_diff(change)
        return 0
    if kept:
        stderr.print(f"[warning]note:[/] statusLine in {where} was changed since --install; left as it is")
    elif change.backup_id is None:
        stderr.print(f"nothing changed in {where}")
    elif install:
        stderr.print(f"[ok]statusline[/] installed in {where}\n[muted]backup {change.backup_id}; "
                     f"`ccswitch statusline --uninstall{'' if scope == 'user' else ' --scope ' + scope}` undoes it[/]")
    else:
        stderr.print(f"[ok]statusline[/] removed from {where}; backup {change.backup_id}")
    return 0


def command_line(env: Mapping[str, str]) -> str:
    """How claude's shell runs this ccswitch: the `ccswitch` on PATH when it is this one, else
    this Python with `-m ccswitch` (quoted for a POSIX shell)."""
    import shlex
    import shutil

    found = shutil.which("ccswitch", path=env.get("PATH"))
    here = os.path.dirname(os.path.abspath(sys.executable))
    if found and os.path.dirname(os.path.realpath(found)) == here:
        return f"{shlex.quote(found)} statusline"
    return shlex.join([*module_command("ccswitch"), "statusline"])  # run in the project: not `-m` alone
