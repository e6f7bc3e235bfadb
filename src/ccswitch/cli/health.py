"""`ccswitch test` and `ccswitch doctor`: does a profile work, and is anything in its way."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ccswitch.cli.common import JsonOption, load_profiles, print_json, reports_errors
from ccswitch.console import stdout
from ccswitch.errors import ExitStatus, UsageError
from ccswitch.findings import FAIL, OK, SKIPPED, WARN
from ccswitch.health import doctor as core
from ccswitch.health import endpoint_checks
from ccswitch.profiles.presets import presets_dir

DEFAULT_TIMEOUT = 20.0
RESULT_STYLE = {OK: "[ok]OK[/]", FAIL: "[error]FAIL[/]", SKIPPED: "[muted]SKIP[/]"}
CHECK_STYLE = {OK: "[ok]OK[/]", WARN: "[warning]WARN[/]", FAIL: "[error]FAIL[/]"}


@reports_errors
def test_profiles(
    names: Annotated[Optional[list[str]], typer.Argument(help="Profiles to test (default: the default profile).")] = None,
    all_profiles: Annotated[bool, typer.Option("--all", help="Every profile in your file, and each preset whose token is set.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="Send streaming requests, as claude does; first byte = first event.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each endpoint.", min=0.1)] = DEFAULT_TIMEOUT,
    as_json: JsonOption = False,
) -> None:
    """Send one tiny real request per profile and model, and say what works: auth, model, latency.

    Each distinct model of the opus, sonnet and haiku tiers (and `model` when it is a full name) gets one Messages request (max_tokens 8) with the profile's credential, through HTTPS_PROXY/NO_PROXY like claude. Profiles run concurrently. Exit status 0 only when nothing failed.

    Example: ccswitch test glm kimi --stream --timeout 10
    """

    env = dict(os.environ)
    profile_set = load_profiles(env)
    if names and all_profiles:
        raise UsageError("give profile names or --all, not both")
    if all_profiles:
        selected = endpoint_checks.configured_profiles(profile_set, env)
        if not selected:
            raise UsageError("--all found nothing to test: no profiles file and no preset's token variable is set")
    elif names:
        selected = list(dict.fromkeys(names))
    elif profile_set.default:
        selected = [profile_set.default]
    else:
        raise UsageError("name the profiles to test (or use --all); there is no default profile")
    profiles = endpoint_checks.tested_profiles(selected, profile_set)
    rows = endpoint_checks.run_tests(profiles, env, timeout=timeout, stream=stream)
    ok = endpoint_checks.passed(rows)
    if as_json:
        print_json({"passed": ok, "stream": stream, "timeout": timeout, "results": rows})
    else:
        stdout.print(render_test_table(rows))
    if not ok:
        raise typer.Exit(int(ExitStatus.FAILURE))


def render_test_table(rows: list[dict]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("profile", "model", "result", "reason", "HTTP", "connect", "first byte", "total"):
        table.add_column(column, justify="right" if column in ("HTTP", "connect", "first byte", "total") else "left")
    for row in rows:
        model = escape(str(row["model"])) if row["model"] else "-"
        if row["model"] and row["tiers"]:
            model += f" [muted]({escape(', '.join(row['tiers']))})[/]"
        reason = escape(str(row["reason"]))
        if row["detail"] and row["result"] != "ok":
            reason += f"[muted]: {escape(str(row['detail']))}[/]"
        table.add_row(
            f"[name]{escape(str(row['profile']))}[/]",
            model,
            RESULT_STYLE[str(row["result"])],
            reason,
            str(row["http_status"] or "-"),
            *(_ms(row[key]) for key in ("connect_ms", "first_byte_ms", "total_ms")),
        )
    return table


def _ms(value: object) -> str:
    return f"{value:.0f} ms" if isinstance(value, (int, float)) else "-"


@reports_errors
def doctor(as_json: JsonOption = False) -> None:
    """Check claude, node, your profiles file and Claude's settings files for anything in the way.

    Each check is OK, WARN or FAIL with a one-line fix. Exit status 1 when any check FAILs.

    Example: ccswitch doctor --json | jq '.checks[] | select(.status != "ok")'
    """
    env = dict(os.environ)
    checks = core.run_doctor(env, os.getcwd(), presets_dir())
    failed = core.failed(checks)
    if as_json:
        print_json({"passed": not failed, "checks": [core.as_dict(check) for check in checks]})
    else:
        table = Table(box=None, pad_edge=False, header_style="bold", show_header=False)
        for column in ("status", "check", "message"):
            table.add_column(column)
        for check in checks:
            message = escape(check.message)
            if check.fix and check.level != OK:
                message += f"\n[muted]fix: {escape(check.fix)}[/]"
            table.add_row(CHECK_STYLE[check.level], escape(check.check), message)
        stdout.print(table)
    if failed:
        raise typer.Exit(int(ExitStatus.FAILURE))


def register(app: typer.Typer) -> None:
    app.command("test")(test_profiles)
    app.command("doctor")(doctor)
