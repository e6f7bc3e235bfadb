"""What every command module of the typer app shares: error reporting, `--json`, loading profiles.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from ccswitch.errors import CcswitchError, ExitStatus, report
from ccswitch.profiles import cache
from ccswitch.profiles.model import ProfileSet

F = TypeVar("F", bound=Callable[..., object])


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


def load_profiles(env: dict[str, str] | None = None) -> ProfileSet:
    """profiles.cache.load_profiles for the current environment."""
    return cache.load_profiles(dict(os.environ) if env is None else env)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def print_json(data: object) -> None:
    # Plain print, not rich: scripts read this and must get it byte for byte, uncoloured.
    print(json.dumps(data, indent=2, ensure_ascii=False))
