"""`run`, `env` and `pin` in the typer app.

`ccswitch run`/`env` normally never get here: `__main__` hands them to the light `launcher` unless
`--help` is asked for. These commands give them their help text and call the same functions.
"""

import os
from typing import Annotated, Optional

import typer

from ccswitch.cli.common import (
    exit_with,
    load_profiles,
    profile_names,
    reports_errors,
    shell_names,
)
from ccswitch.console import escape, stderr
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.fsutil import atomic_write_text
from ccswitch.launch.shells import SHELLS
from ccswitch.profiles.pins import PIN_FILENAME, find_pin_file


@reports_errors
def run_profile(
    name: Annotated[
        Optional[str],
        typer.Argument(help="Profile; default: the nearest .ccswitch pin, then the profile serving claude's --model, then `default`.",
                       autocompletion=profile_names),
    ] = None,
    command: Annotated[Optional[list[str]], typer.Argument(help="The command after --; default: claude.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the profile and why, the command, settings and environment (token masked); run nothing.")
    ] = False,
    fallback: Annotated[
        bool,
        typer.Option(
            "--fallback",
            help="First send one quick request to the profile's endpoint; if it is down (refused, timeout, DNS, TLS, 5xx, 429, 401/403), "
            "launch the first healthy profile of its `fallback` list. Also on with `fallback_check = true` in the profile.",
        ),
    ] = False,
    gateway: Annotated[
        bool,
        typer.Option("--gateway", help="Run the profile through a per-session gateway on 127.0.0.1: failover on every "
                     "request and usage records (a profile with `routes` always does)."),
    ] = False,
    no_onboarding_fix: Annotated[
        bool, typer.Option("--no-onboarding-fix", help="Leave .claude.json alone (claude may show its first-run screens).")
    ] = False,
) -> None:
    """Start claude (or any command) on a profile, without changing anything global.

    Usage: ccswitch run [NAME] [-- CMD [ARGS...]]. The profile reaches claude through `--settings`, which beats your settings.json files and your shell; every provider variable the profile does not set is blanked. The exit code is the command's.

    Which profile, first match wins: the NAME given; the nearest .ccswitch pin; the profile whose `serves` patterns match the `--model` given to claude (not an alias such as opus or sonnet: those go through the chosen profile's tier mapping); `default`; otherwise an error. `ccswitch which MODEL` shows the routing.

    With --fallback the probe waits at most $CCSWITCH_PROBE_TIMEOUT seconds (default 3) per profile, and its result is reused for $CCSWITCH_PROBE_CACHE_SECONDS (default 30; 0 turns the cache off). If no profile is healthy, nothing is launched and the exit code is 1.

    Example: ccswitch run glm -- claude -p "hello"

    Example: ccswitch run -- claude --model kimi-k2-0905-preview

    Example: ccswitch run glm --fallback
    """
    # The launch core: imported here, not for every command's --help.
    from ccswitch.launch import front_door

    raise typer.Exit(
        front_door.run(name, command or [], dry_run=dry_run, onboarding_fix=not no_onboarding_fix, fallback=fallback,
                       gateway=gateway)
    )


@reports_errors
def env_profile(
    name: Annotated[Optional[str], typer.Argument(help="Profile; default: the nearest .ccswitch pin, then `default`.", autocompletion=profile_names)] = None,
    shell: Annotated[
        Optional[str], typer.Option("--shell", help=f"One of {', '.join(SHELLS)}; default from $SHELL.", autocompletion=shell_names)
    ] = None,
) -> None:
    """Print shell code that exports a profile's variables and unsets the provider variables it does not set.

    Settings files' `env` beat exported variables in claude (a warning says when one would); `ccswitch run` does not have that problem. On a terminal the token is masked.

    Example: eval "$(ccswitch env glm)"
    """
    from ccswitch.launch import front_door  # as in run_profile

    raise typer.Exit(front_door.env_command(name, shell))


@reports_errors
def pin_profile(
    name: Annotated[Optional[str], typer.Argument(help="Profile to pin to this directory.", autocompletion=profile_names)] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove this directory's .ccswitch.")] = False,
) -> None:
    """Pin a profile to this directory (a `.ccswitch` file holding its name, never a secret).

    `ccswitch run` and `env` without a name use the nearest pin from the current directory up. Without arguments, show which pin applies here.

    Example: ccswitch pin glm
    """
    cwd = os.getcwd()
    here = os.path.join(cwd, PIN_FILENAME)
    if clear:
        if name:
            raise UsageError("pin: give a profile name or --clear, not both")
        if os.path.isfile(here):
            try:
                os.unlink(here)
            except OSError as error:
                raise CcswitchError(f"cannot remove {here}: {error.strerror or error}; nothing was changed") from None
            stderr.print(f"removed {escape(here)}")
            return
        nearest = find_pin_file(cwd)
        if nearest:
            raise UsageError(f"no {PIN_FILENAME} in {cwd}; the pin that applies is {nearest} (clear it there)")
        stderr.print(f"no {PIN_FILENAME} here; nothing to clear")
        return
    if name is None:
        from ccswitch.commands.profiles import show_pin

        exit_with(show_pin())
        return
    profile_set = load_profiles()
    profile_set.get(name)  # a pin to a profile that does not exist helps nobody
    if os.path.isdir(here):
        raise UsageError(f"{here} is a directory; a pin is a file holding a profile name (move the directory away)")
    try:
        # Not a secret, and meant to be shared with the project: ordinary permissions.
        atomic_write_text(here, name + "\n", mode=0o644)
    except OSError as error:
        raise CcswitchError(f"cannot write {here}: {error.strerror or error}; nothing was changed") from None
    stderr.print(f"pinned [name]{escape(name)}[/] in {escape(here)}")


def register(app: typer.Typer) -> None:
    app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},)(run_profile)
    app.command("env")(env_profile)
    app.command("pin")(pin_profile)
