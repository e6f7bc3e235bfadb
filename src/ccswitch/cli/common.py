"""What every command module of the typer app shares: error reporting, `--json`, `--wide`, loading
profiles, completing profile names.
"""

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from ccswitch.console import print_json  # noqa: F401  (the commands' one JSON printer)
from ccswitch.errors import CcswitchError, ExitStatus, report

if TYPE_CHECKING:
    from ccswitch.profiles.model import ProfileSet

F = TypeVar("F", bound=Callable[..., object])
# rich markup in help only on a terminal: piped help stays plain text (the app and its sub-apps alike).
MARKUP_MODE = "rich" if sys.stdout.isatty() else None


def reports_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except CcswitchError as error:
            raise typer.Exit(report(error)) from None
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitStatus.CTRL_C)) from None

    return wrapper  # type: ignore[return-value]


def exit_with(status: int) -> None:
    """A command body's exit status, as typer wants it."""
    if status:
        raise typer.Exit(status)


def load_profiles(env: dict[str, str] | None = None) -> "ProfileSet":
    """profiles.cache.load_profiles for the current environment (imported here: `--help` loads no
    profile, and the app's every module is imported for it)."""
    from ccswitch.profiles import cache

    return cache.load_profiles(dict(os.environ) if env is None else env)


# Completion of values, for when typer answers a completion (the light path in commands.completion
# usually does, from the same lists; tests/commands/test_completion.py compares the two).
def profile_names(incomplete: str) -> list[str]:
    from ccswitch.commands import completion

    return completion.values("profile", incomplete, dict(os.environ))


def shell_names(incomplete: str) -> list[str]:
    from ccswitch.commands import completion

    return completion.values("shell", incomplete, dict(os.environ))


def scope_names(incomplete: str) -> list[str]:
    from ccswitch.commands import completion

    return completion.values("scope", incomplete, dict(os.environ))


def auth_modes(incomplete: str) -> list[str]:
    from ccswitch.commands import completion

    return completion.values("auth", incomplete, dict(os.environ))


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
WideOption = Annotated[bool, typer.Option("--wide", "-w", help="Every column, nothing shortened (may be wider than the terminal).")]
