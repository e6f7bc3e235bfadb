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
    is_alias,
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
from ccswitch.gateway.routing import SEP, qualified, tier_model_names
from ccswitch.profiles.apis import is_translated
from ccswitch.profiles.environment import (
    context_window,
    is_third_party,
    tier_models,
    tier_routes,
)
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.quota import as_table, in_force, parse_quotas
from ccswitch.profiles.tokens import (
    ENV_PREFIX,
    TokenResolver,
    reference_kind,
    token_references,
)
from ccswitch.seconds import seconds_from

HOST = "127.0.0.1"
ENV_FIRST_BYTE_TIMEOUT = "CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT"
ENV_IDLE_TIMEOUT = "CCSWITCH_GATEWAY_IDLE_TIMEOUT"
TIMEOUT_VARIABLES = {ENV_FIRST_BYTE_TIMEOUT: "first_byte", ENV_IDLE_TIMEOUT: "idle"}  # -> the config's `timeouts`
PORT_PLACEHOLDER = "<port>"  # in a --dry-run: the port is chosen when the gateway starts


class GatewayPlan:
    """The gateway a launch starts: its config (tokens included: never printed, never on argv) and
    the window claude is told for the routed profiles."""

    __slots__ = ("config", "window", "all_1m", "profile", "token_variables", "notes")

    def __init__(self, config: dict, window: int, all_1m: bool, profile: str, token_variables: list[str],
                 notes: list[str] | None = None) -> None:
        self.config = config
        self.window = window
        self.all_1m = all_1m
        self.profile = profile
        # The variables the upstreams' `env:` tokens come from: the session does not inherit them, so
        # nothing claude runs (a tool, a prompt-injected command) can read an upstream's token.
        self.token_variables = token_variables
        self.notes = notes or []  # what was left out (a fallback without a token...), for the user


def session_key() -> str:
    """A random key for one session: 256 bits, URL-safe (os.urandom and base64, as
    secrets.token_urlsafe does, without the hmac/hashlib imports on the launch path; binascii, the
    C module base64 wraps, without base64's own 0.7 ms)."""
    import binascii

    encoded = binascii.b2a_base64(os.urandom(32), newline=False).rstrip(b"=")
    return encoded.translate(bytes.maketrans(b"+/", b"-_")).decode("ascii")


def plan_gateway(profile: Profile, profile_set: ProfileSet, tokens: TokenResolver, *, session: str,
                 records: str | None, key: str | None = None, timeouts: dict[str, float] | None = None,
                 extra: dict[str, dict[str, object]] | None = None) -> GatewayPlan:
    """The gateway for `profile`: every routed profile and its `fallback` list as upstreams (and
    `extra` ones, reachable by a profile-qualified model name).

    A routed profile that cannot be an upstream is an error; a fallback that cannot is left out with
    a note. The gateway follows only the routed profile's own `fallback` list (gateway/__init__.py),
    so a fallback's own fallbacks are not made upstreams (that would resolve tokens, even run a
    password manager, for profiles no tier reaches): every list is trimmed to the upstreams present."""
    routes = tier_routes(profile)
    routed = list(dict.fromkeys(routes.values()))
    upstreams = {name: _upstream(profile, profile_set.get(name, f"routed from profile {profile.name!r}"), tokens)
                 for name in routed}
    notes: list[str] = []
    candidates = list(routed)
    for name in routed if extra is None else ():  # `extra`: every profile was tried already (every_upstream)
        for fallback in profile_set.get(name).fallback:
            if fallback in upstreams or fallback in candidates:
                continue
            candidates.append(fallback)
            try:
                upstreams[fallback] = _upstream(profile_set.get(fallback), profile_set.get(fallback), tokens)
            except CcswitchError as error:
                notes.append(f"profile {name!r}: its fallback {fallback!r} is left out of the gateway ({error.message})")
    upstreams.update((name, upstream) for name, upstream in (extra or {}).items() if name not in upstreams)
    notes += _trim_fallbacks(upstreams, noted=set(extra or ()))
    config = {"session": session, "key": key or session_key(), "records": records, "upstreams": upstreams,
              "tiers": routes, "timeouts": timeouts or {}}
    try:
        GatewayConfig.from_dict(config)
    except GatewayConfigError as error:
        raise UsageError(f"profile {profile.name!r}: the gateway cannot start: {error}") from None
    window = min(context_window(p) for p in map(profile_set.get, routed))
    variables = [ref[len(ENV_PREFIX):] for name in candidates if name in profile_set
                 for ref in token_references(profile_set.get(name).token) if reference_kind(ref) == "env"]
    return GatewayPlan(config, window, all(context_window(profile_set.get(p)) >= CONTEXT_1M for p in routed),
                       profile.name, variables, notes)


def _trim_fallbacks(upstreams: dict[str, dict[str, object]], noted: set[str]) -> list[str]:
    """Drop from each upstream's `fallback` list the profiles that are not upstreams (the gateway's
    config names only profiles it has); a note for each dropped from a profile in `noted`."""
    notes = []
    for name, upstream in upstreams.items():
        fallback = list(upstream["fallback"])  # type: ignore[call-overload]
        kept = [f for f in fallback if f in upstreams]
        if kept != fallback:
            upstream["fallback"] = kept
            if name in noted:
                dropped = ", ".join(repr(f) for f in fallback if f not in kept)
                notes.append(f"{name}: fallback {dropped} dropped (not served by this gateway)")
    return notes


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
    """The gateway's timeouts the environment sets, in seconds (the gateway's own defaults otherwise):
    `CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT`, how long an upstream may take to start its answer before
    the request goes to the next profile; `CCSWITCH_GATEWAY_IDLE_TIMEOUT`, how long a stream may
    then go silent before it ends with an error event (claude's retry goes to the next profile)."""
    timeouts = {}
    for variable, key in TIMEOUT_VARIABLES.items():
        if env.get(variable, "").strip():
            timeouts[key] = seconds_from(env, variable, 0.0)
    return timeouts


def _upstream(owner: Profile, profile: Profile, tokens: TokenResolver) -> dict[str, object]:
    # Who is at fault: the profile itself, or, routed from `owner`, owner's route to it.
    whose = f"profile {profile.name!r}" if owner.name == profile.name else f"profile {owner.name!r}: {profile.name!r}"
    if profile.routes:
        raise UsageError(f"{whose} routes tiers itself; a route names a profile with an endpoint of its own")
    if not is_third_party(profile):
        raise UsageError(f"{whose} cannot be reached through the gateway: it uses Anthropic's own endpoint, claude's "
                         "login or a cloud (Bedrock, Vertex, Foundry); run it directly")
    models = tier_models(profile)
    if set(models) != set(TIERS):
        raise UsageError(f"{whose} maps no models ([profiles.{profile.name}.models]); the gateway must know which "
                         "model each tier asks of it")
    credentials = _credentials(profile, tokens)
    if not (credentials.get("token") or credentials.get("tokens")) and profile.auth_mode != "none":
        raise UsageError(f"{whose} has no token, and the gateway must send its endpoint one (set `token` in "
                         f"[profiles.{profile.name}], or auth = \"none\" for an endpoint that takes none)")
    upstream = {"base_url": profile.base_url, "auth": profile.auth_mode, **credentials,
                "headers": dict(profile.headers), "models": {tier: model for tier, (model, _) in models.items()},
                "serves": list(profile.serves), "fallback": list(profile.fallback),
                "supports_1m": context_window(profile) >= CONTEXT_1M}
    if is_translated(profile.api):  # the gateway translates (docs/translation.md, "Profiles")
        upstream.update(api=profile.api, openai=dict(profile.openai))
    quota = upstream_quota(profile)
    if quota:
        upstream["quota"] = quota
    _check_alone(whose, profile.name, upstream)
    return upstream


def _check_alone(whose: str, name: str, upstream: dict[str, object]) -> None:
    """The upstream as the gateway's config checks it, on its own: what it refuses (a header the
    gateway sets itself) is this profile's to fix, and must not stop a gateway serving others."""
    alone = {"session": "check", "key": "k" * 16, "records": None, "upstreams": {name: {**upstream, "fallback": []}},
             "tiers": dict.fromkeys(TIERS, name)}
    try:
        GatewayConfig.from_dict(alone)
    except GatewayConfigError as error:
        raise UsageError(f"{whose} cannot be an upstream of the gateway: {error}") from None


def upstream_quota(profile: Profile) -> list[dict[str, object]]:
    """The profile's quota windows in force (its `plan`'s, and those of no plan), for the gateway:
    it counts those with a limit (gateway/quota.py), and notes the profile's prompts in its records
    for any (what `usage --windows` counts a response only the gateway saw with)."""
    if profile.quota is None:
        return []
    return [as_table(quota) for quota in in_force(parse_quotas(profile.quota), profile.plan)]


def _credentials(profile: Profile, tokens: TokenResolver) -> dict[str, object]:
    """The upstream's `token`, or for a key pool `tokens`: every key that resolves with its index in
    the profile's array (the gateway spreads and cools them, and records the index)."""
    keys = upstream_keys(profile, tokens)
    if reference_kind(profile.token) == "pool":
        return {"tokens": [[index, key] for index, key in keys]}
    return {"token": keys[0][1] if keys else None}


def session_model(profile: Profile) -> str | None:
    """The profile's own `model` as claude asks the gateway for it. A full id goes profile-qualified
    (`glm::glm-5.1-air`), so it reaches this profile even when none of its tiers maps it (the gateway
    would not know whose it is); an alias, a qualified name, and a `routes` profile's model (routed
    like any name claude sends) go as they are."""
    model = profile.model
    if not model or profile.routes or is_alias(model) or SEP in model:
        return model
    return qualified(profile.name, model)


def upstream_keys(profile: Profile, tokens: TokenResolver) -> list[tuple[int, str]]:
    """(index in the profile's `token` array, value) of each key that resolves; one entry for a
    single token, none for a profile without one. A pool's whole list goes to the gateway
    (gateway/keys.py: which key serves, which cool down; the index is what records name)."""
    return tokens.resolve_pool(profile.token, profile.name)


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


def spawn_on(plan: GatewayPlan, sock, remove_on_exit: list[str], env: Mapping[str, str]) -> int:
    """Start the gateway on `sock` without waiting for it; it ends when this process (claude, after
    exec) does, and removes `remove_on_exit` then. On Linux it is forked private from birth (this
    process turns non-dumpable until it execs claude); elsewhere the config reaches it on a pipe,
    never argv. Its environment is what it needs of `env` and no token (gateway.spawn)."""
    from ccswitch.gateway.spawn import spawn

    return spawn({**plan.config, "parent_pid": os.getpid(), "remove_on_exit": remove_on_exit}, sock, env=env,
                 private=True)
