"""Which upstream serves a request's model, with which model id, and what to try when it fails.

Pure: built from a validated `GatewayConfig`, no I/O. First match wins:

1. `PROFILE::MODEL` where PROFILE is a configured upstream: that upstream, MODEL sent (MODEL may be
   a tier alias: `kimi::opus` sends kimi's opus model). The launcher gives claude such names in
   ANTHROPIC_DEFAULT_*_MODEL, and `/model glm::glm-5.1` switches provider mid-session.
2. A tier: `opus`/`sonnet`/`haiku`/`fable` (a `[1m]` suffix ignored), or a Claude id naming one
   (`claude-sonnet-4-5`, `claude-3-5-haiku-20241022`, `claude-opus-4-5@20251101`): the tier's
   profile, sent its model for that tier.
3. A model an upstream maps exactly, or matches with its `serves` patterns: the most specific wins
   (exact, then more literal characters), ties to a profile a tier is routed to, then config
   order. Sent unchanged.

Why `::`: profile names cannot contain ':' (`[A-Za-z0-9._-]+`), so the first `::` splits
unambiguously; real ids use '/', single ':' and '@' (`ZhipuAI/GLM-5.2`, `qwen/qwen3-coder-30b`,
`gpt-oss:20b`, Bedrock's `...-v1:0` and ARNs, `claude-opus-4-5@20251101`) but no id in use has
`::`; claude sends any `--model` string verbatim; and it needs no quoting in a shell or in `/model`.
A prefix that is not a configured profile is not a qualification: the whole name goes on to 2-3.

Pattern semantics mirror ccswitch/routing.py (copied, not imported: the gateway imports nothing
outside its package): shell-style, case-sensitive, `*` and `?` do not cross '/'.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.claude.models import TIERS, alias_tier, claude_id_tier
from ccswitch.gateway.config import GatewayConfig, Upstream
from ccswitch.profiles.patterns import SEP, compile_pattern, specificity

_CACHE_LIMIT = 1024  # distinct model names per session are few; bounded anyway


class Route:
    """Where one model name goes: the attempts in order, each (profile, model id to send)."""

    __slots__ = ("requested", "profile", "model", "tier", "how", "attempts")

    def __init__(self, requested: str, profile: str, model: str, tier: str | None, how: str,
                 attempts: tuple[tuple[str, str], ...]) -> None:
        self.requested = requested
        self.profile = profile
        self.model = model
        self.tier = tier  # known when routed by tier, or when the model is one the profile maps
        self.how = how  # "qualified" | "tier" | "exact" | "pattern"
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"Route({self.requested!r} -> {self.profile}:{self.model} by {self.how}, attempts={self.attempts})"


def qualified(profile: str, model: str) -> str:
    return f"{profile}{SEP}{model}"


def tier_model_names(config: GatewayConfig) -> dict[str, str]:
    """tier -> the profile-qualified name claude should get in ANTHROPIC_DEFAULT_<TIER>_MODEL."""
    return {tier: qualified(name, config.upstreams[name].models[tier]) for tier, name in config.tiers.items()}


class Router:
    def __init__(self, config: GatewayConfig) -> None:
        self.upstreams: Mapping[str, Upstream] = config.upstreams
        self.tiers: Mapping[str, str] = config.tiers
        self._patterns = {
            name: [(compile_pattern(p), p) for p in up.serves] for name, up in self.upstreams.items()
        }
        # Ties go to a profile that serves a tier (the session's own choice), then config order.
        tier_profiles = list(dict.fromkeys(config.tiers.values()))
        order = tier_profiles + [n for n in self.upstreams if n not in tier_profiles]
        self._preference = {name: len(order) - i for i, name in enumerate(order)}
        self._cache: dict[str, Route | None] = {}

    def route(self, model: str) -> Route | None:
        """The route for `model`, or None when no upstream serves it. Cached per name."""
        try:
            return self._cache[model]
        except KeyError:
            pass
        route = self._route(model)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[model] = route
        return route

    def _route(self, model: str) -> Route | None:
        prefix, sep, rest = model.partition(SEP)
        if sep and rest and prefix in self.upstreams:
            tier = alias_tier(rest)
            if tier:
                return self._build(model, prefix, self.upstreams[prefix].models[tier], tier, "qualified")
            return self._build(model, prefix, rest, self._mapped_tier(prefix, rest), "qualified")
        tier = alias_tier(model) or claude_id_tier(model)
        if tier:
            name = self.tiers[tier]
            return self._build(model, name, self.upstreams[name].models[tier], tier, "tier")
        best = self._served_by(model)
        if best is None:
            return None
        name, pattern = best
        how = "exact" if specificity(pattern)[0] else "pattern"
        return self._build(model, name, model, self._mapped_tier(name, model), how)

    def _mapped_tier(self, name: str, model: str) -> str | None:
        models = self.upstreams[name].models
        return next((tier for tier in TIERS if models[tier] == model), None)

    def _served_by(self, model: str) -> tuple[str, str] | None:
        """(profile, best pattern) serving `model` by mapping or `serves`; an exact mapping counts as
        the pattern `model` itself."""
        best, best_rank = None, None
        for name, up in self.upstreams.items():
            if model in up.models.values():
                pattern = model
            else:
                matching = [p for regex, p in self._patterns[name] if regex.match(model)]
                if not matching:
                    continue
                pattern = max(matching, key=specificity)
            rank = (*specificity(pattern), self._preference[name])
            if best_rank is None or rank > best_rank:
                best, best_rank = (name, pattern), rank
        return best

    def _serves(self, name: str, model: str) -> bool:
        if model in self.upstreams[name].models.values():
            return True
        return any(regex.match(model) for regex, _ in self._patterns[name])

    def _build(self, requested: str, name: str, model: str, tier: str | None, how: str) -> Route:
        attempts = [(name, model)]
        for fallback in self.upstreams[name].fallback:
            attempts.append((fallback, self._fallback_model(fallback, model, tier)))
        return Route(requested, name, model, tier, how, tuple(attempts))

    def _fallback_model(self, name: str, model: str, tier: str | None) -> str:
        """A fallback gets its own model for the same tier; with no tier known, the model itself if
        it serves that, else its opus model (what `run --fallback` launches a fallback with)."""
        if tier:
            return self.upstreams[name].models[tier]
        if self._serves(name, model):
            return model
        return self.upstreams[name].models["opus"]

    def names(self) -> list[str]:
        """Model names that route: the tiers, then every profile-qualified mapped model."""
        names = list(TIERS)
        for name, up in self.upstreams.items():
            names.extend(qualified(name, m) for m in dict.fromkeys(up.models.values()))
        return names

    def patterns(self) -> list[str]:
        return list(dict.fromkeys(p for up in self.upstreams.values() for p in up.serves))

    def not_served_message(self, model: str) -> str:
        prefix, sep, _ = model.partition(SEP)
        hint = f" ({prefix!r} is not a profile of this session)" if sep and prefix not in self.upstreams else ""
        names = self.names()
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        patterns = self.patterns()
        served = f"; or a name matching {', '.join(patterns[:8])}" if patterns else ""
        return f"model {model!r} is not served by this gateway{hint}; use one of: {shown}{served}"
