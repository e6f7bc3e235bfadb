"""`list`, `show`, `presets` and `which` in the typer app; their bodies are in `commands.profiles`
(the light front door answers them too, without typer).
"""

from __future__ import annotations

from typing import Annotated

import typer

from ccswitch.cli.common import (
    JsonOption,
    WideOption,
    exit_with,
    profile_names,
    reports_errors,
)
from ccswitch.commands import profiles as commands


@reports_errors
def list_profiles(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List every profile (built-in presets and yours), one per line: models and token status.

    --wide adds where each profile comes from, its endpoint and each tier's model.

    Example: ccswitch list --json | jq -r '.[] | select(.token.found) | .name'
    """
    exit_with(commands.list_profiles(as_json, wide))


@reports_errors
def show_profile(
    name: Annotated[str, typer.Argument(help="Profile name.", autocompletion=profile_names)],
    as_json: JsonOption = False,
) -> None:
    """Show every resolved field of a profile and the exact environment it applies (token masked).

    Example: ccswitch show glm
    """
    exit_with(commands.show_profile(name, as_json))


@reports_errors
def list_presets(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List the built-in provider presets with their description and docs URL.

    Example: ccswitch presets
    """
    exit_with(commands.list_presets(as_json, wide))


@reports_errors
def which_profile(
    model: Annotated[str, typer.Argument(help="A model name, e.g. kimi-k2-0905-preview.")],
    as_json: JsonOption = False,
) -> None:
    """Print the profile that `ccswitch run -- claude --model MODEL` would pick, and why.

    Example: ccswitch which kimi-k2-0905-preview
    """
    exit_with(commands.which_profile(model, as_json))


def register(app: typer.Typer) -> None:
    app.command("list")(list_profiles)
    app.command("show")(show_profile)
    app.command("presets")(list_presets)
    app.command("which")(which_profile)
