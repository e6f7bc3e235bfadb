"""`ccswitch run --fallback` (or `fallback_check = true`): before launching, one quick request to
the chosen profile's endpoint; if it is down for a reason another provider would not share, launch
the first healthy profile of its `fallback` list instead.

Glue only: the request is the one `ccswitch test` sends (endpoint_checks.plan + probe.probe), the decision
and the cache are fallback.py's. Imported only when a check is asked for, so a plain `run` never
loads httpx (tests/test_launch_imports.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence

from ccswitch import paths
from ccswitch.claude.argv import claude_model_option, option_values
from ccswitch.claude.models import alias_tier, is_alias, strip_context_suffix
from ccswitch.health import endpoint_checks
from ccswitch.health import probe as probes
from ccswitch.health.outcomes import FAIL_OVER, Outcome
from ccswitch.health.probe_cache import (
    DEFAULT_CACHE_SECONDS,
    Health,
    ProbeCache,
    cache_path,
)
from ccswitch.launch.plan import Launch, prepare
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.routing import matches
from ccswitch.profiles.tokens import TokenResolver
from ccswitch.seconds import seconds_from

ENV_TIMEOUT = "CCSWITCH_PROBE_TIMEOUT"
ENV_CACHE_SECONDS = "CCSWITCH_PROBE_CACHE_SECONDS"
# Long enough for a distant provider's first token, short enough that a dead one costs little
# next to claude's own minutes of retries.
DEFAULT_TIMEOUT = 3.0


def health_of(result: probes.ProbeResult) -> Health:
    outcome = Outcome(result.reason)
    detail = result.detail or ""
    if result.status and not result.ok and f"HTTP {result.status}" not in detail:
        detail = f"HTTP {result.status}: {detail}" if detail else f"HTTP {result.status}"
    return Health(result.ok, outcome, detail)


def describe(health: Health) -> str:
    words = health.outcome.value
    text = f"{words} ({health.detail})" if health.detail and health.detail != words else words
    return text + (", cached" if health.cached else "")


def model_to_probe(profile: Profile, requested: str | None) -> str:
    """The model id a launch on `profile` would send first: `--model`, else the profile's model,
    else claude's default (the opus tier); an alias through the profile's tier mapping."""
    model = requested or profile.model or "default"
    tier = alias_tier(model)
    if tier is not None:
        return profile.models.get(tier) or endpoint_checks.FALLBACK_MODEL
    return strip_context_suffix(model)


def command_for(profile: Profile, command: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The command to start on a fallback profile. A `--model` naming a model the profile does not
    serve is dropped (a glm model id means nothing to kimi): the fallback's own model applies."""
    command = list(command)
    requested = claude_model_option(command, env)
    if requested is None or is_alias(requested) or any(matches(requested, p) for p in profile.serves):
        return command
    rest, _ = option_values(command[1:], "--model")
    return [command[0], *rest]


class LaunchCheck:
    """What the check found: the launch to make (None: none is healthy) and the lines to show."""

    __slots__ = ("launch", "decision", "lines", "error")

    def __init__(self, launch: Launch | None, decision: Decision, lines: list[str], error: str | None) -> None:
        self.launch = launch
        self.decision = decision
        self.lines = lines  # one per failed profile, then what happens instead
        self.error = error  # set when nothing is launched


def check_launch(
    plan: Launch,
    command: Sequence[str],
    *,
    profile_set: ProfileSet,
    env: Mapping[str, str],
    cwd: str,
    tokens: TokenResolver,
    probe: Callable[..., probes.ProbeResult] = probes.probe,
    cache: ProbeCache | None = None,
) -> LaunchCheck:
    """Probe `plan`'s profile (and then its fallbacks, in order) and re-plan on the first healthy one."""
    if cache is None:
        ttl = seconds_from(env, ENV_CACHE_SECONDS, DEFAULT_CACHE_SECONDS, minimum=0)  # 0: no cache
        cache = ProbeCache(cache_path(paths.user_cache_dir(env)), ttl)
    # The command each profile would run: a fallback may have to drop the --model it was given.
    commands: dict[str, list[str]] = {plan.profile.name: list(command)}
    timeout = seconds_from(env, ENV_TIMEOUT, DEFAULT_TIMEOUT)

    def check(name: str) -> tuple[str | None, Callable[[], Health]]:
        profile = profile_set.get(name)
        run_command = commands.setdefault(name, command_for(profile, command, env))
        requested = claude_model_option(run_command, env) if plan.is_claude else None
        return _probe_of(profile, model_to_probe(profile, requested), env, tokens, probe, timeout)

    decision = choose_healthy(plan.profile.name, plan.profile.fallback, check, cache)
    lines = [f"profile {name!r} failed its check: {describe(health)}"
             for name, health in decision.attempts if name != decision.profile]
    if decision.profile is None:
        return LaunchCheck(None, decision, lines, _all_down(plan.profile))
    chosen, health = decision.attempts[-1]
    if chosen == plan.profile.name:
        if not health.ok:
            lines.append(f"profile {chosen!r}: the check found {describe(health)}; launching it anyway "
                         "(another provider would not fix that)")
        return LaunchCheck(plan, decision, lines, None)
    reason = f"fallback for {plan.profile.name!r} ({decision.attempts[0][1].outcome}), which was {plan.reason}"
    replanned = prepare(None, commands[chosen], profile_set=profile_set, env=env, cwd=cwd, choice=(chosen, reason),
                        tokens=tokens)
    dropped = claude_model_option(command, env) if commands[chosen] != list(command) else None
    note = f"; model {dropped!r} is not one it serves, so it uses its own" if dropped else ""
    lines.append(f"launching fallback profile {chosen!r} instead{note}")
    return LaunchCheck(replanned, decision, lines, None)


def _probe_of(profile: Profile, model: str, env: Mapping[str, str], tokens: TokenResolver,
              probe: Callable[..., probes.ProbeResult], timeout: float) -> tuple[str | None, Callable[[], Health]]:
    """(cache key, the probe to run) for one profile; a key of None: nothing to send, nothing to cache."""
    planned = endpoint_checks.plan(profile, env, tokens)
    if isinstance(planned, dict):  # a cloud or login profile, or no token
        if planned["result"] == endpoint_checks.SKIPPED:
            return None, lambda: Health(True, Outcome.NOT_PROBED, str(planned["reason"]))
        return None, lambda: Health(False, Outcome(planned["reason"]), str(planned["detail"] or planned["reason"]))
    target = planned[0]
    key = "|".join((probes.messages_url(target.base_url, target.api), target.auth_variable or "", model,
                    _fingerprint(target.token)))
    return key, lambda: health_of(probe(target.base_url, target.auth_variable, target.token, model, timeout, False,
                                        headers=target.headers, env=env, api=target.api, options=target.options))


def _all_down(first: Profile) -> str:
    if first.fallback:
        names = ", ".join(repr(n) for n in first.fallback)
        return f"profile {first.name!r} and its fallbacks {names} are all down; launched nothing"
    return f"profile {first.name!r} is down and has no `fallback` list; launched nothing"


def report(outcome: LaunchCheck) -> list[str]:
    """The `--dry-run` lines: every profile checked and what it found."""
    return [f"fallback check: {name}: {'ok' if h.ok else describe(h)}" + (" (cached)" if h.cached and h.ok else "")
            for name, h in outcome.decision.attempts]


def _fingerprint(token: str | None) -> str:
    # A new key must not inherit the old one's rejection; the cache holds no token itself.
    return f"{zlib.crc32(token.encode('utf-8')):08x}" if token else "-"


class Decision:
    __slots__ = ("profile", "attempts")

    def __init__(self, profile: str | None, attempts: list[tuple[str, Health]]) -> None:
        self.profile = profile  # the profile to launch, or None when every candidate is down
        self.attempts = attempts  # (profile name, health) in the order tried


def choose_healthy(
    first: str,
    fallbacks: tuple[str, ...] | list[str],
    check: Callable[[str], tuple[str, Callable[[], Health]]],
    cache: ProbeCache | None,
) -> Decision:
    """Try `first`, then each fallback; the first that is healthy (or fails for a reason another
    provider would share) is launched. `check(name)` returns (cache key, probe thunk); a key of
    None means "not an endpoint's health, do not cache" (a missing token, a profile not probed)."""
    attempts: list[tuple[str, Health]] = []
    for name in (first, *[f for f in fallbacks if f != first]):
        key, run_probe = check(name)
        health = cache.get(key) if cache and key else None
        if health is None:
            health = run_probe()
            if cache and key:
                cache.put(key, health)
        attempts.append((name, health))
        if health.ok or health.outcome not in FAIL_OVER:
            return Decision(name, attempts)
    return Decision(None, attempts)
