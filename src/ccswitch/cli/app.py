"""The typer app: parse arguments, call the core, render the result.

Errors from the core (CcswitchError) are reported in one place, `reports_errors`: one line on
stderr and the error's exit code. Anything else is a bug and keeps its traceback (without locals).
"""

from typing import Annotated, Optional

import typer

from ccswitch import __version__
from ccswitch.cli import (
    exporting,
    gateway,
    health,
    importing,
    launch,
    manage,
    profiles,
    switching,
    usage,
)
from ccswitch.cli.common import MARKUP_MODE
from ccswitch.console import stdout

app = typer.Typer(
    name="ccswitch",
    help="Named provider profiles for Claude Code: GLM, Kimi, Qwen, DeepSeek, gateways, Anthropic.\n\n"
    "Example: ccswitch list",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion; answered by commands.completion
    # Locals can hold a token; never print them in a traceback.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # rich's help (panels, colours) in a terminal; plain click help in a pipe, where importing rich's
    # markdown and traceback modules would cost more than all the rest of `--help` (bench/startup.py).
    rich_markup_mode=MARKUP_MODE,
)


def _version_callback(value: bool) -> None:
    if value:
        stdout.print(f"ccswitch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Named provider profiles for Claude Code.

    Example: ccswitch list
    """


def build() -> typer.Typer:
    """Register every command group on the app, in the order `--help` lists them."""
    for group in (profiles, launch, gateway, health, manage, importing, exporting, switching, usage):
        group.register(app)
    return app


build()
