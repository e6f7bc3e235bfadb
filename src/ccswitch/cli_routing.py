"""`ccswitch which MODEL`: which profile a model name routes to, and why."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape

from ccswitch.cli import JsonOption, app, load_profiles, print_json, reports_errors
from ccswitch.console import stdout
from ccswitch.errors import CcswitchError, ExitStatus
from ccswitch.routing import candidates, is_claude_alias, route_model


@app.command("which")
@reports_errors
def which_profile(
    model: Annotated[str, typer.Argument(help="A model name, e.g. kimi-k2-0905-preview.")],
    as_json: JsonOption = False,
) -> None:
    """Print the profile that `ccswitch run -- claude --model MODEL` would pick, and why.

    Example: ccswitch which kimi-k2-0905-preview
    """
    env = dict(os.environ)
    profile_set = load_profiles(env)
    if is_claude_alias(model):
        raise CcswitchError(
            f"{model!r} is a claude alias: it resolves through the chosen profile's tier mapping, not to a profile",
            ExitStatus.USAGE,
        )
    route = route_model(model, profile_set, env)
    others = [r for r in candidates(model, profile_set, env) if route and r.profile != route.profile]
    if as_json:
        print_json({"model": model, "route": route.as_dict() if route else None, "also": [r.as_dict() for r in others]})
    elif route:
        stdout.print(f"[name]{escape(route.profile)}[/]  [muted]{escape(route.reason())}[/]")
        for other in others:
            stdout.print(f"  [muted]also matches: {escape(other.reason())}[/]")
    if route is None:
        raise CcswitchError(f"no profile serves {model!r}; add `serves = [\"{model}\"]` to a profile", ExitStatus.FAILURE)
