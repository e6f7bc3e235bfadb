"""`ccswitch test`: which requests to send for a profile, and running them for many profiles at once.

Pure apart from the network: takes profiles and the environment, returns plain dicts (one per
profile and model) for the table and `--json`. Never contains a token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

from ccswitch.claude.models import MAIN_TIERS, is_alias, strip_context_suffix
from ccswitch.claude.variables import CLOUD_SWITCHES, cloud_switch
from ccswitch.errors import CcswitchError
from ccswitch.findings import FAIL, OK, SKIPPED
from ccswitch.health import probe as probes
from ccswitch.health.outcomes import UNREACHABLE, Outcome
from ccswitch.profiles.apis import ANTHROPIC, is_translated
from ccswitch.profiles.environment import profile_environment, tier_routes
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.tokens import (
    ENV_PREFIX,
    InvalidToken,
    TokenResolver,
    describe_token,
    reference_kind,
)

# What claude sends when a profile maps no model at all: a Claude id (providers that accept Claude
# names map it server-side). The cheapest current tier.
FALLBACK_MODEL = "claude-haiku-4-5"


class ProbeTarget:
    """One request to send: a profile's endpoint, credential and one model."""

    __slots__ = ("profile", "model", "tiers", "base_url", "auth_variable", "token", "headers", "api", "options")

    def __init__(self, profile: str, model: str, tiers: tuple[str, ...], base_url: str | None,
                 auth_variable: str | None, token: str | None, headers: dict[str, str], api: str = ANTHROPIC,
                 options: dict[str, object] | None = None) -> None:
        self.profile = profile
        self.model = model
        self.tiers = tiers
        self.base_url = base_url
        self.auth_variable = auth_variable
        self.token = token
        self.headers = headers
        self.api = api  # the endpoint's format: probed in it (docs/translation.md, "Profiles")
        self.options = options or {}


def models_to_test(profile: Profile) -> list[tuple[str, tuple[str, ...]]]:
    """Each distinct model the profile sends, with the tiers that send it, in tier order."""
    found: dict[str, list[str]] = {}
    for tier in MAIN_TIERS:
        model = profile.models.get(tier)
        if model:
            found.setdefault(model, []).append(tier)
    if profile.model and not is_alias(profile.model):
        found.setdefault(strip_context_suffix(profile.model), []).append("model")
    if not found:
        found[FALLBACK_MODEL] = ["claude default"]
    return [(model, tuple(tiers)) for model, tiers in found.items()]


def plan(profile: Profile, env: Mapping[str, str], tokens: TokenResolver | None = None) -> list[ProbeTarget] | dict[str, object]:
    """The requests to send for `profile`, or a finished row when none can be sent.

    `tokens`: the invocation's resolver, so profiles sharing a `cmd:`/keyring token fetch it once."""
    environment = profile_environment(profile, None)
    switch = cloud_switch(environment)
    if switch is not None:
        cloud, credentials = CLOUD_SWITCHES[switch]
        return row(profile.name, None, (), SKIPPED, f"not tested: {cloud} uses {credentials} credentials")
    try:
        token = (tokens or TokenResolver(env)).resolve_profile(profile)
    except CcswitchError as error:
        status = describe_token(profile.token, env, profile.name)
        unset = status.kind == "env" and not env.get(status.source[1:])
        detail = f"{status.source} is not set" if unset else error.message
        reason = Outcome.TOKEN_INVALID if isinstance(error, InvalidToken) else Outcome.TOKEN_MISSING
        return row(profile.name, None, (), FAIL, reason.value, detail=detail)
    environment = profile_environment(profile, token)
    base_url = environment.get("ANTHROPIC_BASE_URL") or None
    if environment.get("ANTHROPIC_AUTH_TOKEN"):
        auth_variable = "ANTHROPIC_AUTH_TOKEN"
    elif environment.get("ANTHROPIC_API_KEY"):
        auth_variable = "ANTHROPIC_API_KEY"
    else:
        auth_variable = None
    if auth_variable is None and (base_url is None or profile.auth == "login"):
        return row(profile.name, None, (), SKIPPED, "not tested: uses claude's own login")
    headers = parse_custom_headers(environment.get("ANTHROPIC_CUSTOM_HEADERS", ""))
    # What reaches the endpoint: from claude, the token or claude.variables.NO_TOKEN for a profile without
    # one; from the gateway (an OpenAI format), the token alone.
    credential = None if not auth_variable else token if is_translated(profile.api) else environment[auth_variable]
    return [
        ProbeTarget(profile.name, model, tiers, base_url, auth_variable, credential, headers, profile.api or ANTHROPIC,
                    dict(profile.openai))
        for model, tiers in models_to_test(profile)
    ]


def parse_custom_headers(value: str) -> dict[str, str]:
    """ANTHROPIC_CUSTOM_HEADERS as claude reads it: one `Name: value` per line."""
    headers = {}
    for line in value.splitlines():
        name, sep, content = line.partition(":")
        if sep and name.strip():
            headers[name.strip()] = content.strip()
    return headers


def row(profile: str, model: str | None, tiers: tuple[str, ...], result: str, reason: str, *,
        detail: str = "", status: int | None = None, url: str | None = None, stream: bool = False,
        connect_ms: float | None = None, first_byte_ms: float | None = None, total_ms: float | None = None) -> dict[str, object]:
    return {
        "profile": profile,
        "model": model,
        "tiers": list(tiers),
        "result": result,
        "reason": reason,
        "detail": detail,
        "http_status": status,
        "url": url,
        "stream": stream,
        "connect_ms": connect_ms,
        "first_byte_ms": first_byte_ms,
        "total_ms": total_ms,
    }


def result_row(target: ProbeTarget, outcome: probes.ProbeResult) -> dict[str, object]:
    return row(
        target.profile, target.model, target.tiers, OK if outcome.ok else FAIL, outcome.reason,
        detail=outcome.detail, status=outcome.status, url=outcome.url, stream=outcome.stream,
        connect_ms=outcome.connect_ms, first_byte_ms=outcome.first_byte_ms, total_ms=outcome.total_ms,
    )


ProbeFunction = Callable[..., probes.ProbeResult]


def run_tests(
    profiles: Sequence[Profile],
    env: Mapping[str, str],
    *,
    timeout: float,
    stream: bool = False,
    probe: ProbeFunction = probes.probe,
) -> list[dict[str, object]]:
    """Test every profile concurrently (one thread each; its models one after another, so a
    provider with a concurrency limit is not tripped by us). Rows come back in the order given.

    A profile whose thread is still busy when the deadline passes (a DNS lookup httpx cannot
    interrupt, a server trickling bytes) is reported as a timeout; its thread is abandoned.
    """
    tokens = TokenResolver(env)  # resolved here, before the threads: one prompt per token, none in parallel
    plans: list[list[ProbeTarget] | dict[str, object]] = [plan(profile, env, tokens) for profile in profiles]
    results: list[list[dict[str, object]]] = [[] for _ in plans]

    def work(index: int, targets: list[ProbeTarget]) -> None:
        unreachable: probes.ProbeResult | None = None
        for target in targets:
            if unreachable is not None:
                results[index].append(
                    row(target.profile, target.model, target.tiers, FAIL, unreachable.reason,
                        detail="not tried: the endpoint already failed", url=unreachable.url, stream=stream)
                )
                continue
            outcome = probe(target.base_url, target.auth_variable, target.token, target.model, timeout,
                            stream, headers=target.headers, env=env, api=target.api, options=target.options)
            results[index].append(result_row(target, outcome))
            if outcome.reason in UNREACHABLE:
                unreachable = outcome

    threads = []
    for index, planned in enumerate(plans):
        if isinstance(planned, list):
            thread = threading.Thread(target=work, args=(index, planned), daemon=True, name=f"ccswitch-test-{index}")
            thread.start()
            threads.append(thread)
    longest = max((len(p) for p in plans if isinstance(p, list)), default=0)
    # Each request is bounded by `timeout` (plus at most one read timeout past it); allow for that.
    deadline = time.monotonic() + longest * timeout * 2 + 1.0
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))

    rows: list[dict[str, object]] = []
    for index, planned in enumerate(plans):
        if isinstance(planned, dict):
            rows.append(planned)
            continue
        done = list(results[index])
        rows.extend(done)
        for target in planned[len(done):]:
            rows.append(row(target.profile, target.model, target.tiers, FAIL, Outcome.TIMEOUT,
                            detail=f"no answer within {timeout:g} s", stream=stream))
    return rows


def tested_profiles(names: Sequence[str], profile_set: ProfileSet) -> list[Profile]:
    """The profiles behind `names`, each once: a profile with `routes` is no endpoint of its own, so
    the profiles its tiers route to are tested in its place."""
    chosen: dict[str, Profile] = {}
    for name in names:
        profile = profile_set.get(name)
        for target in dict.fromkeys(tier_routes(profile).values()) if profile.routes else (name,):
            chosen.setdefault(target, profile_set.get(target))
    return list(chosen.values())


def passed(rows: Sequence[Mapping[str, object]]) -> bool:
    return all(r["result"] != FAIL for r in rows)


def configured_profiles(profile_set: ProfileSet, env: Mapping[str, str]) -> list[str]:
    """What `--all` tests: every profile in the user's file, plus each preset whose token
    variable is set. Presets nobody set up (and the local-server presets with dummy tokens) are
    left out, so `--all` stays about the user's own endpoints and does not fail on them."""
    names = list(profile_set.user)
    for name in profile_set.preset_names:
        if name in names:
            continue
        ref = profile_set.get(name).token
        if reference_kind(ref) == "env" and env.get(ref[len(ENV_PREFIX) :]):  # type: ignore[index]
            names.append(name)
    return names
