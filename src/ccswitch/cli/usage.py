"""`usage` in the typer app; its body is in `commands.usage` (the light front door answers it too)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ccswitch.cli.common import JsonOption, exit_with, reports_errors
from ccswitch.commands import usage as commands


@reports_errors
def show_usage(
    since: Annotated[Optional[str], typer.Option("--since", help="From this day on: 7d (today and the six days "
                                                 "before) or YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Up to this day, included: YYYY-MM-DD.")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Rows per day, profile, model or session "
                                              "(default: profile and model).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens and estimated cost per profile and model, from claude's transcripts and the gateway's records.

    Who served each response: the profile `ccswitch run` launched the session with, the gateway's
    record, else the one profile that maps or serves the model name (otherwise "unknown"). Prices
    come from the profiles (`[profiles.NAME.prices]`, presets included) and Anthropic's list prices
    for Claude models; a cost nobody published is shown as unknown, never 0.

    Example: ccswitch usage --since 7d --by day
    """
    exit_with(commands.show_usage(since, until, by, as_json))


def register(app: typer.Typer) -> None:
    app.command("usage")(show_usage)
