"""Pick a profile from a model name, the way a gateway routes by model: each profile may declare
the model names it serves as shell-style patterns (`serves = ["kimi-k2*"]`).

Ranking, best first: the most specific matching pattern (an exact name beats any pattern; then more
literal characters); then a user profile over a preset; then a profile whose token is available
over one whose token is missing. Candidates still equal (out of the box: `glm` and `zai` both serve
`glm-*`, `qwen` and `qwen-coding` both `qwen*`) are told apart by a tie-break, never an error: the
user's `default` first, then a profile with `prefer_when_tied = true` (the region-primary presets
`glm` and `qwen` carry it), then the first name in alphabetical order. The route says which rule
decided, and `which` prints it.
Matching is case-sensitive, as providers' model ids are (`Qwen/...` on ModelScope is not
OpenRouter's `qwen/...`), and `*`/`?` do not cross a `/`, as in paths: `qwen*` serves
`qwen3-coder-plus` but not the vendor-prefixed slug `qwen/qwen3-coder`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccswitch.claude.models import DEFAULT_ALIAS, is_alias, strip_context_suffix
from ccswitch.claude.sources import Source
from ccswitch.findings import WARN, Finding
from ccswitch.profiles.environment import is_third_party, tier_models
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.patterns import matches, specificity
from ccswitch.profiles.tokens import describe_token


class Route:
    __slots__ = ("profile", "origin", "pattern", "token_found", "rank", "default", "preferred", "tie_break")

    def __init__(self, profile: str, origin: str, pattern: str, token_found: bool, default: bool = False,
                 preferred: bool = False) -> None:
        self.profile = profile
        self.origin = origin
        self.pattern = pattern
        self.token_found = token_found
        self.rank = (*specificity(pattern), origin == "user", token_found)
        self.default = default  # the user's `default`
        self.preferred = preferred  # `prefer_when_tied = true`
        self.tie_break: str | None = None  # why it won over candidates of equal rank, when there were some

    def as_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "origin": self.origin, "pattern": self.pattern, "token_found": self.token_found,
                "tie_break": self.tie_break}

    def reason(self) -> str:
        token = "token found" if self.token_found else "token missing"
        tie = f"; {self.tie_break}" if self.tie_break else ""
        return f"{self.origin} profile {self.profile!r} serves {self.pattern!r} ({token}){tie}"


def candidates(model: str, profile_set: ProfileSet, env: Mapping[str, str]) -> list[Route]:
    """Every profile that serves `model`, best first, with the best-matching pattern of each."""
    routes = []
    for name in profile_set.names():
        profile = profile_set.get(name)
        matching = [p for p in profile.serves if matches(model, p)]
        if not matching:
            continue
        best = max(matching, key=specificity)
        found = profile.auth == "none" or describe_token(profile.token, env).found
        routes.append(Route(name, profile.origin, best, found, default=name == profile_set.default,
                            preferred=bool(profile.prefer_when_tied)))
    # Names in order first: the sort below is stable, so the first name wins a tie nothing else breaks.
    routes.sort(key=lambda r: r.profile)
    routes.sort(key=lambda r: (r.rank, r.default, r.preferred), reverse=True)
    return routes


def route_model(model: str, profile_set: ProfileSet, env: Mapping[str, str]) -> Route | None:
    """The profile that serves `model`, None when none does; equals are told apart by the tie-break."""
    routes = candidates(model, profile_set, env)
    if not routes:
        return None
    best = routes[0]
    tied = [r for r in routes[1:] if r.rank == best.rank]
    if tied:
        others = ", ".join(repr(r.profile) for r in tied)
        if best.default and not any(r.default for r in tied):
            why = "it is your `default`"
        elif best.preferred and not any(r.preferred for r in tied):
            why = "it has prefer_when_tied = true"
        else:
            why = "its name comes first"
        best.tie_break = f"chosen over {others}, which match{'es' if len(tied) == 1 else ''} as well: {why}"
    return best


def serves_model(profile: Profile, model: str) -> bool:
    """Whether `model`, reaching `profile`'s endpoint, names one of its models: an alias (claude
    resolves it through the profile's tiers), a model it maps or names, or one its `serves` match."""
    if is_alias(model):
        return True
    name = strip_context_suffix(model.strip())
    named = {m for m, _ in tier_models(profile).values()} | set(profile.models.values())
    if name in named or name == profile.model:
        return True
    return any(matches(name, pattern) for pattern in profile.serves)


def stray_model(profile: Profile, sources: Sequence[Source]) -> tuple[Finding, Source] | None:
    """The session model a lower settings file would give a third-party profile that does not serve
    it (a Claude id left in ~/.claude/settings.json): a finding naming the file, and the file; None
    when the model that would be sent is one of the profile's."""
    if not is_third_party(profile) or not tier_models(profile):
        return None
    for source in sources:
        model = source.data.get("model")
        if isinstance(model, str) and model.strip():
            if serves_model(profile, model):
                return None
            if source.name == "managed":
                return Finding("managed-model", WARN, f"{source.path} sets \"model\": {model!r}, which profile "
                               f"{profile.name!r} does not serve, and managed settings beat every other source",
                               "ask whoever manages this machine"), source
            return Finding("stray-model", WARN,
                           f"{source.path} sets \"model\": {model!r}, which profile {profile.name!r} does not serve; "
                           f"claude starts with {DEFAULT_ALIAS} ({tier_models(profile)[DEFAULT_ALIAS][0]}) instead",
                           f"remove \"model\" from {source.path}, or give the profile a `model`"), source
    return None
