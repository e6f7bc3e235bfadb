"""A `run` through the per-session gateway (docs/gateway.md): which profile serves each tier, the
gateway's config built from the profiles (tokens resolved once, here), and what claude (or any
command) is told so that it reaches the gateway and nothing else.

The gateway process itself is `ccswitch.gateway`; this module only plans it and starts it. On the
launch path of a plain `run` it is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ccswitch.claude.models import (
    CONTEXT_1M,
    MIN_AUTO_COMPACT_WINDOW,
    TIERS,
)
from ccswitch.claude.variables import (
    AUTH_TOKEN,
    AUTO_COMPACT_WINDOW,
    DISABLE_1M_CONTEXT,
    MANAGED_VARIABLES,
    MAX_CONTEXT_TOKENS,
    MODEL_VARIABLES,
    TIER_DESCRIPTION_VARIABLES,
    TIER_NAME_VARIABLES,
)
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.gateway.config import GatewayConfig, GatewayConfigError
from ccswitch.gateway.routing import tier_model_names
from ccswitch.profiles.environment import (
    context_window,
    is_third_party,
    tier_models,
    tier_routes,
)
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.tokens import ENV_PREFIX, TokenResolver, reference_kind

HOST = "127.0.0.1"
ENV_FIRST_BYTE_TIMEOUT = "CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT"
PORT_PLACEHOLDER = "<port>"  # in a --dry-run: the port is chosen when the gateway starts


class GatewayPlan:
    """The gateway a launch starts: its config (tokens included: never printed, never on argv) and
    the window claude is told for the routed profiles."""

    __slots__ = ("config", "window", "all_1m", "profile", "token_variables")

    def __init__(self, config: dict, window: int, all_1m: bool, profile: str, token_variables: list[str]) -> None:
        self.config = config
        self.window = window
        self.all_1m = all_1m
        self.profile = profile
        # The variables the upstreams' `env:` tokens come from: the session does not inherit them, so
        # nothing claude runs (a tool, a prompt-injected command) can read an upstream's token.
        self.token_variables = token_variables


def session_key() -> str:
    """A random key for one session: 256 bits, URL-safe (os.urandom and base64, as
    secrets.token_urlsafe does, without the hmac/hashlib imports on the launch path)."""
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode("ascii")


def plan_gateway(profile: Profile, profile_set: ProfileSet, tokens: TokenResolver, *, session: str,
                 records: str | None, key: str | None = None, timeouts: dict[str, float] | None = None,
                 extra: dict[str, dict[str, object]] | None = None) -> GatewayPlan:
    """The gateway for `profile`: every routed profile and its `fallback` list as upstreams (and
    `extra` ones, reachable by a profile-qualified model name)."""
    routes = tier_routes(profile)
    names = list(dict.fromkeys(routes.values()))
    for name in list(names):
        names.extend(f for f in profile_set.get(name).fallback if f not in names)
    upstreams = {name: _upstream(profile, profile_set.get(name, f"routed from profile {profile.name!r}"), tokens)
                 for name in names}
    upstreams.update((name, upstream) for name, upstream in (extra or {}).items() if name not in upstreams)
    config = {"session": session, "key": key or session_key(), "records": records, "upstreams": upstreams,
              "tiers": routes, "timeouts": timeouts or {}}
    try:
        GatewayConfig.from_dict(config)
    except GatewayConfigError as error:
        raise UsageError(f"profile {profile.name!r}: the gateway cannot start: {error}") from None
    routed = [profile_set.get(name) for name in dict.fromkeys(routes.values())]
    window = min(context_window(p) for p in routed)
    variables = [str(p.token)[len(ENV_PREFIX):] for p in map(profile_set.get, names)
                 if reference_kind(p.token) == "env"]
    return GatewayPlan(config, window, all(context_window(p) >= CONTEXT_1M for p in routed), profile.name, variables)


def every_upstream(profile_set: ProfileSet, tokens: TokenResolver, env: Mapping[str, str]) -> tuple[dict, list[str]]:
    """For a gateway serving every profile (`ccswitch gateway`): each profile that can be an upstream
    (an endpoint of its own, models mapped, a token found), and a note for each of the user's own
    profiles that cannot. Presets whose token variable is not set are left out quietly."""
    upstreams: dict[str, dict[str, object]] = {}
    notes: list[str] = []
    for name in profile_set.names():
        profile = profile_set.get(name)
        if profile.routes or not is_third_party(profile) or set(tier_models(profile)) != set(TIERS):
            continue
        if name not in profile_set.user and reference_kind(profile.token) == "env" \
                and not env.get(str(profile.token)[len(ENV_PREFIX):]):
            continue
        try:
            upstreams[name] = _upstream(profile, profile, tokens)
        except CcswitchError as error:
            notes.append(f"{name}: left out ({error.message})")
    return upstreams, notes


def timeouts_from(env: Mapping[str, str]) -> dict[str, float]:
    """`CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT`: seconds an upstream may take to send its first byte
    before the request goes to the next profile (the gateway's own default otherwise)."""
    value = env.get(ENV_FIRST_BYTE_TIMEOUT, "").strip()
    if not value:
        return {}
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise UsageError(f"{ENV_FIRST_BYTE_TIMEOUT}={value!r}: must be a number of seconds above 0")
    return {"first_byte": seconds}


def _upstream(owner: Profile, profile: Profile, tokens: TokenResolver) -> dict[str, object]:
    if profile.routes:
        raise UsageError(f"profile {owner.name!r}: {profile.name!r} routes tiers itself; a route names a profile with "
                         "an endpoint of its own")
    if not is_third_party(profile):
        raise UsageError(f"profile {owner.name!r}: {profile.name!r} cannot be reached through the gateway: it uses "
                         "Anthropic's own endpoint, claude's login or a cloud (Bedrock, Vertex, Foundry); run it directly")
    models = tier_models(profile)
    if set(models) != set(TIERS):
        raise UsageError(f"profile {owner.name!r}: {profile.name!r} maps no models ([profiles.{profile.name}.models]); "
                         "the gateway must know which model each tier asks of it")
    return {"base_url": profile.base_url, "auth": profile.auth or "bearer", "token": tokens.resolve_profile(profile),
            "headers": dict(profile.headers), "models": {tier: model for tier, (model, _) in models.items()},
            "serves": list(profile.serves), "fallback": list(profile.fallback),
            "supports_1m": context_window(profile) >= CONTEXT_1M}


def session_environment(plan: GatewayPlan, port: int | str) -> dict[str, str]:
    """What the session is told: the gateway's URL and key, profile-qualified model names per tier
    (the gateway routes them without guessing), and the window of the routed profiles."""
    env = dict.fromkeys(MANAGED_VARIABLES, "")
    env["ANTHROPIC_BASE_URL"] = f"http://{HOST}:{port}"
    env[AUTH_TOKEN] = plan.config["key"]
    config = GatewayConfig.from_dict(plan.config)
    for tier, name in tier_model_names(config).items():
        env[MODEL_VARIABLES[tier]] = name
        env[TIER_NAME_VARIABLES[tier]] = name
        env[TIER_DESCRIPTION_VARIABLES[tier]] = f"{plan.profile} via the ccswitch gateway · {plan.window // 1000}k context"
    if not plan.all_1m:
        env[DISABLE_1M_CONTEXT] = "1"
    env[MAX_CONTEXT_TOKENS] = str(plan.window)
    env[AUTO_COMPACT_WINDOW] = str(max(plan.window, MIN_AUTO_COMPACT_WINDOW))
    return env


def bind():  # -> a listening _socket.socket
    """The gateway's listening socket on a free loopback port: bound before the gateway starts, so
    the session can be told the port at once (connections wait in the kernel's queue)."""
    from ccswitch.gateway.spawn import listen_fd_socket

    return listen_fd_socket(HOST, 0)


def spawn_on(plan: GatewayPlan, sock, remove_on_exit: list[str]) -> int:
    """Start the gateway on `sock` without waiting for it; it ends when this process (claude, after
    exec) does, and removes `remove_on_exit` then. The config reaches it on a pipe, never argv."""
    from ccswitch.gateway.spawn import spawn

    return spawn({**plan.config, "parent_pid": os.getpid(), "remove_on_exit": remove_on_exit}, sock)
