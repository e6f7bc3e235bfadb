"""`list`, `show`, `presets` and `which` in the typer app; their bodies are in `commands.profiles`
(the light front door answers them too, without typer), imported when one of them runs: every
`--help` imports this module.
"""

from typing import Annotated

import typer

from ccswitch.cli.common import (
    JsonOption,
    WideOption,
    exit_with,
    profile_names,
    reports_errors,
)


def _commands():  # type: ignore[no-untyped-def]
    from ccswitch.commands import profiles

    return profiles


@reports_errors
def list_profiles(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List every profile (yours first, then the built-in presets), one per line: models and token status.

    --wide adds what each profile extends, its endpoint and each tier's model.

    Example: ccswitch list --json | jq -r '.[] | select(.token.found) | .name'
    """
    exit_with(_commands().list_profiles(as_json, wide))


@reports_errors
def show_profile(
    name: Annotated[str, typer.Argument(help="Profile name.", autocompletion=profile_names)],
    as_json: JsonOption = False,
) -> None:
    """Show every resolved field of a profile and the exact environment it applies (token masked).

    Example: ccswitch show glm
    """
    exit_with(_commands().show_profile(name, as_json))


@reports_errors
def list_presets(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List the built-in provider presets with their description and docs URL.

    Example: ccswitch presets
    """
    exit_with(_commands().list_presets(as_json, wide))


@reports_errors
def which_profile(
    model: Annotated[str, typer.Argument(help="A model name, e.g. kimi-k2-0905-preview.")],
    as_json: JsonOption = False,
) -> None:
    """Print the profile that `ccswitch run -- claude --model MODEL` would pick, and why.

    Example: ccswitch which kimi-k2-0905-preview
    """
    exit_with(_commands().which_profile(model, as_json))


def register(app: typer.Typer) -> None:
    app.command("list")(list_profiles)
    app.command("show")(show_profile)
    app.command("presets")(list_presets)
    app.command("which")(which_profile)
