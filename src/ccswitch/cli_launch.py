"""`run`, `env` and `pin` in the typer app.

`ccswitch run`/`env` normally never get here: `__main__` hands them to the light `launcher` unless
`--help` is asked for. These commands give them their help text and call the same functions.
"""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ccswitch import launcher, paths
from ccswitch.cli import app, load_profiles, reports_errors
from ccswitch.console import stderr
from ccswitch.errors import UsageError
from ccswitch.launch import read_pin
from ccswitch.shells import SHELLS


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@reports_errors
def run_profile(
    name: Annotated[Optional[str], typer.Argument(help="Profile; default: the nearest .ccswitch pin, then `default`.")] = None,
    command: Annotated[Optional[list[str]], typer.Argument(help="The command after --; default: claude.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the command, settings and environment (token masked); run nothing.")] = False,
    no_onboarding_fix: Annotated[
        bool, typer.Option("--no-onboarding-fix", help="Leave .claude.json alone (claude may show its first-run screens).")
    ] = False,
) -> None:
    """Start claude (or any command) on a profile, without changing anything global.

    Usage: ccswitch run [NAME] [-- CMD [ARGS...]]. The profile reaches claude through `--settings`, which beats your settings.json files and your shell; every provider variable the profile does not set is blanked. The exit code is the command's.

    Example: ccswitch run glm -- claude -p "hello"
    """
    raise typer.Exit(
        launcher.run(name, command or [], dry_run=dry_run, onboarding_fix=not no_onboarding_fix)
    )


@app.command("env")
@reports_errors
def env_profile(
    name: Annotated[Optional[str], typer.Argument(help="Profile; default: the nearest .ccswitch pin, then `default`.")] = None,
    shell: Annotated[
        Optional[str], typer.Option("--shell", help=f"One of {', '.join(SHELLS)}; default from $SHELL.")
    ] = None,
) -> None:
    """Print shell code that exports a profile's variables and unsets the provider variables it does not set.

    Settings files' `env` beat exported variables in claude (a warning says when one would); `ccswitch run` does not have that problem. On a terminal the token is masked.

    Example: eval "$(ccswitch env glm)"
    """
    raise typer.Exit(launcher.env_command(name, shell))


@app.command("pin")
@reports_errors
def pin_profile(
    name: Annotated[Optional[str], typer.Argument(help="Profile to pin to this directory.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove this directory's .ccswitch.")] = False,
) -> None:
    """Pin a profile to this directory (a `.ccswitch` file holding its name, never a secret).

    `ccswitch run` and `env` without a name use the nearest pin from the current directory up. Without arguments, show which pin applies here.

    Example: ccswitch pin glm
    """
    cwd = os.getcwd()
    here = os.path.join(cwd, paths.PIN_FILENAME)
    if clear:
        if name:
            raise UsageError("pin: give a profile name or --clear, not both")
        if os.path.isfile(here):
            os.unlink(here)
            stderr.print(f"removed {escape(here)}")
            return
        nearest = paths.find_pin_file(cwd)
        if nearest:
            raise UsageError(f"no {paths.PIN_FILENAME} in {cwd}; the pin that applies is {nearest} (clear it there)")
        stderr.print(f"no {paths.PIN_FILENAME} here; nothing to clear")
        return
    if name is None:
        nearest = paths.find_pin_file(cwd)
        if nearest is None:
            stderr.print(f"no {paths.PIN_FILENAME} pin from {escape(cwd)} upwards")
            raise typer.Exit(1)
        # Plain print: scripts read `NAME<TAB>PATH`, and rich would expand the tab.
        print(f"{read_pin(nearest)}\t{nearest}")
        return
    profile_set = load_profiles()
    from ccswitch.store import require_profile

    require_profile(profile_set, name)  # a pin to a profile that does not exist helps nobody
    from ccswitch.fsutil import atomic_write_text

    # Not a secret, and meant to be shared with the project: ordinary permissions.
    atomic_write_text(here, name + "\n", mode=0o644)
    stderr.print(f"pinned [name]{escape(name)}[/] in {escape(here)}")
