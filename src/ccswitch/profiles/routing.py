"""Pick a profile from a model name, the way a gateway routes by model: each profile may declare
the model names it serves as shell-style patterns (`serves = ["kimi-k2*"]`).

Ranking, best first: the most specific matching pattern (an exact name beats any pattern; then more
literal characters); then a user profile over a preset; then a profile whose token is available
over one whose token is missing. Two candidates still equal is an error that names both.
Matching is case-sensitive, as providers' model ids are (`Qwen/...` on ModelScope is not
OpenRouter's `qwen/...`), and `*`/`?` do not cross a `/`, as in paths: `qwen*` serves
`qwen3-coder-plus` but not the vendor-prefixed slug `qwen/qwen3-coder`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccswitch.errors import UsageError
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.tokens import describe_token


def _compile(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + re.escape(body[1:]) if body.startswith("!") else re.escape(body)) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def matches(model: str, pattern: str) -> bool:
    return _compile(pattern).match(model) is not None


def specificity(pattern: str) -> tuple[int, int]:
    """(exact?, literal characters): `kimi-for-coding` > `kimi-k2-*` > `kimi-*` > `*`."""
    wildcard = any(c in pattern for c in "*?[")
    literal = sum(1 for c in pattern if c not in "*?[]")
    return (0 if wildcard else 1, literal)


class Route:
    __slots__ = ("profile", "origin", "pattern", "token_found", "rank")

    def __init__(self, profile: str, origin: str, pattern: str, token_found: bool) -> None:
        self.profile = profile
        self.origin = origin
        self.pattern = pattern
        self.token_found = token_found
        self.rank = (*specificity(pattern), origin == "user", token_found)

    def as_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "origin": self.origin, "pattern": self.pattern, "token_found": self.token_found}

    def reason(self) -> str:
        token = "token found" if self.token_found else "token missing"
        return f"{self.origin} profile {self.profile!r} serves {self.pattern!r} ({token})"


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
        routes.append(Route(name, profile.origin, best, found))
    routes.sort(key=lambda r: r.rank, reverse=True)
    return routes


def route_model(model: str, profile_set: ProfileSet, env: Mapping[str, str]) -> Route | None:
    """The profile that serves `model`, None when none does; a tie is a UsageError naming both."""
    routes = candidates(model, profile_set, env)
    if not routes:
        return None
    if len(routes) > 1 and routes[0].rank == routes[1].rank:
        tied = [r.profile for r in routes if r.rank == routes[0].rank]
        raise UsageError(
            f"model {model!r} is served equally well by profiles {', '.join(repr(t) for t in tied)} "
            f"(pattern {routes[0].pattern!r}); name one (`ccswitch run {tied[0]} ...`) or give one a more "
            "specific `serves` pattern"
        )
    return routes[0]
