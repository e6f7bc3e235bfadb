"""`usage` and `statusline` in the typer app; their bodies are in `commands` (the light front door
answers their plain forms too)."""

from typing import Annotated, Optional

import typer

from ccswitch.cli.common import JsonOption, exit_with, reports_errors
from ccswitch.commands import usage as commands
from ccswitch.errors import UsageError


@reports_errors
def show_usage(
    since: Annotated[Optional[str], typer.Option("--since", help="From this day on: 7d (today and the six days "
                                                 "before) or YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Up to this day, included: YYYY-MM-DD.")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Rows per day, week, month, project, profile, model "
                                              "or session (default: profile and model).")] = None,
    windows: Annotated[bool, typer.Option("--windows", help="Each profile's quota windows now: use against "
                                          "the limit, when it resets, the burn rate.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Tokens and estimated cost per profile and model, from claude's transcripts and the gateway's records.

    Who served each response: the gateway's record, the profile `ccswitch run` launched (or resumed)
    the session with, the profile `ccswitch use` had made active there and then, else the one
    profile that maps or serves the model name, or claude's own login for a Claude model (otherwise
    "unknown"). Prices come from the profiles (`[profiles.NAME.prices]`, presets included) and
    Anthropic's list prices for Claude models; a cost nobody published is shown as unknown, never 0.

    Example: ccswitch usage --since 7d --by day; ccswitch usage --by session; ccswitch usage --windows
    """
    exit_with(commands.show_usage(since, until, by, as_json, windows))


@reports_errors
def statusline(
    install: Annotated[bool, typer.Option("--install", help="Add it to claude's statusLine setting (backup first).")] = False,
    uninstall: Annotated[bool, typer.Option("--uninstall", help="Put back what statusLine held before --install.")] = False,
    scope: Annotated[str, typer.Option("--scope", help="user: your settings.json; project: .claude/settings.json "
                                       "(shared); local: .claude/settings.local.json.")] = "user",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the change as a diff; write nothing.")] = False,
) -> None:
    """The line claude shows under its prompt: profile, model, this session's tokens and cost, today's cost, quota window.

    claude runs it after every message (its `statusLine` setting) and sends the session on stdin.
    `--install` puts it in settings.json through the same safe, reversible change as `use`;
    `--uninstall` undoes it (`off` leaves the status line alone).

    Example: ccswitch statusline --install
    """
    from ccswitch.commands import statusline as commands_statusline

    if not (install or uninstall):
        if scope != "user" or dry_run:
            raise UsageError("statusline: --scope and --dry-run go with --install or --uninstall")
        exit_with(commands_statusline.main())
        return
    if install and uninstall:
        raise UsageError("statusline: --install or --uninstall, not both")
    exit_with(commands_statusline.change_setting(install, scope, dry_run))


def register(app: typer.Typer) -> None:
    app.command("usage")(show_usage)
    app.command("statusline")(statusline)
