"""`ccswitch test` and `ccswitch doctor`: does a profile work, and is anything in its way."""

import os
from typing import Annotated, Optional

import typer

from ccswitch.cli.common import (
    JsonOption,
    WideOption,
    exit_with,
    load_profiles,
    print_json,
    profile_names,
    reports_errors,
)
from ccswitch.console import stdout
from ccswitch.errors import ExitStatus, UsageError

DEFAULT_TIMEOUT = 20.0


@reports_errors
def test_profiles(
    names: Annotated[Optional[list[str]], typer.Argument(help="Profiles to test (default: the default profile).",
                                                         autocompletion=profile_names)] = None,
    all_profiles: Annotated[bool, typer.Option("--all", help="Every profile in your file, and each preset whose token is set.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="Send streaming requests, as claude does; first byte = first event.")] = False,
    timeout: Annotated[str, typer.Option("--timeout", metavar="SECONDS",
                                         help="Seconds to wait for each endpoint (0.1 to 86400).")] = str(DEFAULT_TIMEOUT),
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Send one tiny real request per profile and model, and say what works: auth, model, latency.

    Each distinct model of the opus, sonnet and haiku tiers (and `model` when it is a full name) gets one Messages request (max_tokens 8) with the profile's credential, through HTTPS_PROXY/NO_PROXY like claude. Profiles run concurrently. Exit status 0 only when nothing failed.

    Example: ccswitch test glm kimi --stream --timeout 10
    """
    from ccswitch.commands import health as commands
    from ccswitch.health import endpoint_checks
    from ccswitch.seconds import parse_seconds

    seconds = parse_seconds(timeout, f"--timeout {timeout}")
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
    rows = endpoint_checks.run_tests(profiles, env, timeout=seconds, stream=stream)
    ok = endpoint_checks.passed(rows)
    if as_json:
        print_json({"passed": ok, "stream": stream, "timeout": seconds, "results": rows})
    else:
        stdout.print(commands.test_table(rows, wide=wide))
    if not ok:
        raise typer.Exit(int(ExitStatus.FAILURE))


@reports_errors
def doctor(as_json: JsonOption = False) -> None:
    """Check claude, node, your profiles file and Claude's settings files for anything in the way.

    Each check is OK, WARN or FAIL with a one-line fix. Exit status 1 when any check FAILs.

    Example: ccswitch doctor --json | jq '.checks[] | select(.status != "ok")'
    """
    from ccswitch.commands import health as commands

    exit_with(commands.doctor(as_json))


def register(app: typer.Typer) -> None:
    app.command("test")(test_profiles)
    app.command("doctor")(doctor)
