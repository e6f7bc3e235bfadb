"""`ccswitch gateway`: the gateway in the foreground, serving every profile, for IDEs, several
terminals or `use` (a `run` starts its own per session)."""

from __future__ import annotations

import os
import secrets
from typing import Annotated, Optional

import typer

from ccswitch import paths
from ccswitch.cli.common import load_profiles, profile_names, reports_errors
from ccswitch.console import escape, stderr
from ccswitch.errors import UsageError
from ccswitch.fsutil import PRIVATE_FILE, atomic_write_text, ensure_private_dir
from ccswitch.profiles.tokens import TokenResolver

DEFAULT_PORT = 7654


@reports_errors
def run_gateway(
    name: Annotated[Optional[str], typer.Argument(help="Profile whose tiers claude's opus/sonnet/haiku/fable use "
                                                  "(its `routes`, or itself); default: `default`.",
                                                  autocompletion=profile_names)] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; anything but loopback must be given here.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
) -> None:
    """Run the gateway in the foreground for every profile whose token is found, until Ctrl-C.

    Point any claude (or SDK) at it with the URL and the key file it names; `/model PROFILE::MODEL`
    reaches any profile, and each profile fails over to its `fallback` list.

    Example: ccswitch gateway mix --port 7654
    """
    from ccswitch.gateway.config import GatewayConfig, GatewayConfigError
    from ccswitch.gateway.routing import tier_model_names
    from ccswitch.gateway.server import run
    from ccswitch.launch import gateway as gateways

    env = dict(os.environ)
    profile_set = load_profiles(env)
    name = name or profile_set.default
    if not name:
        raise UsageError("name the profile whose tiers claude uses (ccswitch gateway NAME); there is no default profile")
    tokens = TokenResolver(env)
    extra, notes = gateways.every_upstream(profile_set, tokens, env)
    plan = gateways.plan_gateway(profile_set.get(name), profile_set, tokens, session="gateway", key=_key(env),
                                 records=paths.gateway_records_file(env), timeouts=gateways.timeouts_from(env), extra=extra)
    config = {**plan.config, "listen": {"host": host, "port": port}, "allow_remote": host not in ("127.0.0.1", "::1", "localhost")}
    try:
        checked = GatewayConfig.from_dict(config)
    except GatewayConfigError as error:
        raise UsageError(f"gateway: {error}") from None
    for note in notes:
        stderr.print(f"[muted]{escape(note)}[/]")
    names = tier_model_names(checked)
    stderr.print(f"ccswitch gateway on http://{host}:{port} for {', '.join(checked.upstreams)}\n"
                 f"  claude: ANTHROPIC_BASE_URL=http://{host}:{port} ANTHROPIC_AUTH_TOKEN=$(cat {paths.gateway_key_file(env)}) claude\n"
                 f"  tiers:  {'  '.join(f'{tier}={model}' for tier, model in names.items())}\n"
                 "  any profile: /model PROFILE::MODEL; Ctrl-C stops it", markup=False)
    run(checked)


def _key(env: dict[str, str]) -> str:
    """The key clients must send: kept in a 0600 file across restarts, so IDE settings stay valid."""
    path = paths.gateway_key_file(env)
    try:
        with open(path, encoding="utf-8") as handle:
            key = handle.read().strip()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    key = secrets.token_urlsafe(32)
    ensure_private_dir(os.path.dirname(path))
    atomic_write_text(path, key + "\n", mode=PRIVATE_FILE)
    return key


def register(app: typer.Typer) -> None:
    app.command("gateway")(run_gateway)
