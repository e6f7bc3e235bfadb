"""Pick a profile from a model name, the way a gateway routes by model: each profile may declare
the model names it serves as shell-style patterns (`serves = ["kimi-k2*"]`).

A profile of the user's own (or an included one) also serves, by exact name, each model written in its
tiers or as its `model` (in its own table or a user or included one it extends; not what a preset gave
it, and not a Claude id, which stays with the profile claude's own names go to): writing
`opus = "gpt-5.5"` is saying so.

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

from ccswitch.claude.models import (
    DEFAULT_ALIAS,
    claude_id_tier,
    is_alias,
    strip_context_suffix,
)
from ccswitch.findings import WARN, Finding
from ccswitch.profiles.environment import is_third_party, tier_models, tier_routes
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.patterns import matches, specificity, split_qualified
from ccswitch.profiles.tokens import describe_token

# What a route says of its token. A keyring or cmd: token is not read to route (that could pop up
# a keychain dialog or a password manager for `which`); the words say so rather than "missing".
TOKEN_WORDS = {True: "token found", False: "token missing", "keyring": "token in the OS keyring, not read",
               "cmd": "token from a command, not run"}

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the status line routes models)
if TYPE_CHECKING:  # the type only: routing a model reads none of claude's settings
    from ccswitch.claude.sources import Source


class Route:
    __slots__ = ("profile", "origin", "pattern", "token_found", "token_kind", "rank", "default", "preferred",
                 "tie_break")

    def __init__(self, profile: str, origin: str, pattern: str, token_found: bool | None, default: bool = False,
                 preferred: bool = False, token_kind: str = "") -> None:
        self.profile = profile
        self.origin = origin
        self.pattern = pattern
        self.token_found = token_found  # None: not looked up (keyring, cmd:)
        self.token_kind = token_kind
        # A token not looked up may well be there: only a token known to be missing ranks lower.
        self.rank = (*specificity(pattern), origin == "user", token_found is not False)
        self.default = default  # the user's `default`
        self.preferred = preferred  # `prefer_when_tied = true`
        self.tie_break: str | None = None  # why it won over candidates of equal rank, when there were some

    def as_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "origin": self.origin, "pattern": self.pattern, "token_found": self.token_found,
                "tie_break": self.tie_break}

    def reason(self) -> str:
        token = TOKEN_WORDS[self.token_kind if self.token_found is None else self.token_found]
        tie = f"; {self.tie_break}" if self.tie_break else ""
        return f"{self.origin} profile {self.profile!r} serves {self.pattern!r} ({token}){tie}"


def candidates(model: str, profile_set: ProfileSet, env: Mapping[str, str]) -> list[Route]:
    """Every profile that serves `model`, best first, with the best-matching pattern of each."""
    routes = []
    for name in profile_set.names():
        profile = profile_set.get(name)
        matching = [p for p in profile.serves if matches(model, p)]
        if profile.origin != "preset" and not profile.routes and not claude_id_tier(model) \
                and model in profile_set.written_models(name):
            matching.append(model)  # you wrote it in this profile: it serves that name
        if not matching:
            continue
        best = max(matching, key=specificity)
        token = describe_token(profile.token, env)
        found = True if not profile.needs_token else token.found
        routes.append(Route(name, profile.origin, best, found, default=name == profile_set.default,
                            preferred=bool(profile.prefer_when_tied), token_kind=token.kind))
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
    resolves it through the profile's tiers), a model it maps or names, or one its `serves` match.
    A profile-qualified name (`kimi::k2`) only a gateway routes: an endpoint never serves one."""
    if is_alias(model):
        return True
    name = strip_context_suffix(model.strip())
    if split_qualified(name) is not None:
        return False
    named = {m for m, _ in tier_models(profile).values()} | set(profile.models.values())
    if name in named or name == profile.model:
        return True
    return any(matches(name, pattern) for pattern in profile.serves)


def session_serves(upstreams: Sequence[Profile], model: str) -> bool:
    """Whether a gateway session whose upstreams are `upstreams` serves `model` as the user meant
    it: an alias, a name qualified with one of them, or a model one of them serves. A Claude id the
    gateway would route by its tier (a retired model left in a settings file) is not one."""
    qualified = split_qualified(strip_context_suffix(model.strip()))
    if qualified is not None:
        return qualified[0] in {upstream.name for upstream in upstreams}
    return any(serves_model(upstream, model) for upstream in upstreams)


def stray_model(profile: Profile, sources: Sequence[Source], upstreams: Sequence[Profile] | None = None,
                then: str | None = None) -> tuple[Finding, Source] | None:
    """The session model a lower settings file would give a session of `profile` that does not
    serve it (a Claude id left in ~/.claude/settings.json, a gateway's `pb::opus` saved by `/model`):
    a finding naming the file, and the file; None when the model that would be sent is one of the
    profile's. `upstreams`: the session goes through a gateway to these profiles (`routes`, or
    `run --gateway`). `then`: what follows, when it is not that `run` starts claude on the opus tier."""
    if upstreams is not None:
        def serves(model: str) -> bool:
            return session_serves(upstreams, model)
        instead = f"{DEFAULT_ALIAS} (routed to profile {tier_routes(profile)[DEFAULT_ALIAS]!r})"
    elif is_third_party(profile) and tier_models(profile):
        def serves(model: str) -> bool:
            return serves_model(profile, model)
        instead = f"{DEFAULT_ALIAS} ({tier_models(profile)[DEFAULT_ALIAS][0]})"
    else:
        return None
    for source in sources:
        model = source.data.get("model")
        if isinstance(model, str) and model.strip():
            if serves(model):
                return None
            if source.name == "managed":
                return Finding("managed-model", WARN, f"{source.path} sets \"model\": {model!r}, which profile "
                               f"{profile.name!r} does not serve, and managed settings beat every other source",
                               "ask whoever manages this machine"), source
            return Finding("stray-model", WARN,
                           f"{source.path} sets \"model\": {model!r}, which profile {profile.name!r} does not serve; "
                           f"{then or f'claude starts with {instead} instead'}",
                           f"remove \"model\" from {source.path}, or give the profile a `model`"), source
    return None
