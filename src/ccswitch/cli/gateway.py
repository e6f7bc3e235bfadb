"""`ccswitch gateway`: the gateway in the foreground, serving every profile, for IDEs, several
terminals or `use` (a `run` starts its own per session)."""

import errno
import os
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ccswitch import paths
from ccswitch.cli.common import load_profiles, profile_names, reports_errors
from ccswitch.console import escape, stderr
from ccswitch.errors import UsageError, warn
from ccswitch.fsutil import PRIVATE_FILE, atomic_write_text, ensure_private_dir
from ccswitch.profiles.tokens import TokenResolver

if TYPE_CHECKING:
    import socket

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
    from ccswitch.gateway.lifecycle import keep_memory_private
    from ccswitch.gateway.routing import tier_model_names
    from ccswitch.gateway.server import host_for_url, run
    from ccswitch.launch import gateway as gateways

    # Served in this process: before any token is resolved into it, no other process of the user
    # may read its memory or environment (docs/gateway.md, "The gateway's environment").
    keep_memory_private()
    env = dict(os.environ)
    profile_set = load_profiles(env)
    name = name or profile_set.default
    if not name:
        raise UsageError("name the profile whose tiers claude uses (ccswitch gateway NAME); there is no default profile")
    tokens = TokenResolver(env)
    extra, notes = gateways.every_upstream(profile_set, tokens, env)
    plan = gateways.plan_gateway(profile_set.get(name), profile_set, tokens, session="gateway", key=_key(env),
                                 records=paths.gateway_records_file(env), timeouts=gateways.timeouts_from(env), extra=extra)
    try:
        checked = GatewayConfig.from_dict(plan.config)
    except GatewayConfigError as error:
        raise UsageError(f"gateway: {error}") from None
    sock = listen(host, port)  # before anything is printed: a port in use is one line, not a banner and a traceback
    for note in notes + plan.notes:
        stderr.print(f"[muted]{escape(note)}[/]")
    import ipaddress

    address = sock.getsockname()[0]
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_loopback:
        where = "every interface" if ip.is_unspecified else address
        warn(f"listening on {host}{f' ({where})' if where != host else ''}, beyond this machine: the gateway's key "
             "and every prompt and answer cross the network in plain HTTP; keep it to a network you trust, or put TLS "
             "in front")
    url = f"http://{host_for_url(client_address(address, sock.family))}:{sock.getsockname()[1]}"
    names = tier_model_names(checked)
    stderr.print(f"ccswitch gateway on {url} for {', '.join(checked.upstreams)}\n"
                 f"  claude: ANTHROPIC_BASE_URL={url} ANTHROPIC_AUTH_TOKEN=$(cat {paths.gateway_key_file(env)}) claude\n"
                 f"  tiers:  {'  '.join(f'{tier}={model}' for tier, model in names.items())}\n"
                 "  any profile: /model PROFILE::MODEL; Ctrl-C stops it", markup=False)
    run(checked, sock=sock)


def listen(host: str, port: int) -> "socket.socket":
    """A socket listening on `host`:`port`, or one UsageError line saying why not."""
    import socket  # here, not at the top: every `--help` imports this module (1.7 ms)

    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise UsageError(f"--host {host}: not an address of this machine ({getattr(error, 'strerror', None) or error})") from None
    try:
        return socket.create_server(address, family=family, backlog=128)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"--port {port}: already in use on {host} (another gateway? pick a free port with --port)") from None
        reason = os.strerror(error.errno) if error.errno else str(error)  # not create_server's long wording
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None


def client_address(address: str, family: int) -> str:
    """An address a client can use for a socket bound to `address`: itself, or for a wildcard
    (0.0.0.0, ::) the address this machine's default route leaves from, not the wildcard."""
    import ipaddress
    import socket

    if not ipaddress.ip_address(address.split("%")[0]).is_unspecified:
        return address
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        # connect() on UDP only picks the route and the source address: no packet is sent.
        probe.connect(("192.0.2.1" if family == socket.AF_INET else "2001:db8::1", 9))
        return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()
    finally:
        probe.close()


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
    import secrets  # hmac, hashlib, random: only when a gateway starts, not on every --help

    key = secrets.token_urlsafe(32)
    ensure_private_dir(os.path.dirname(path))
    atomic_write_text(path, key + "\n", mode=PRIVATE_FILE)
    return key


def register(app: typer.Typer) -> None:
    app.command("gateway")(run_gateway)
