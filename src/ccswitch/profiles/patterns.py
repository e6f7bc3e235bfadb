"""The `serves` pattern language: shell-style, case-sensitive, and `*`/`?` do not cross a `/`, as in
paths (`qwen*` serves `qwen3-coder-plus` but not the vendor-prefixed slug `qwen/qwen3-coder`: on
ModelScope `Qwen/...` is not OpenRouter's `qwen/...`). Used by `run`'s routing and by the gateway.
Also the profile-qualified model names (`kimi::kimi-k2`) the gateway routes, which `run`, `status`
and `doctor` must recognise outside it.

Imports only `re`: the gateway process reads it too.
"""

from __future__ import annotations

import re

_COMPILED: dict[str, re.Pattern[str]] = {}
# `PROFILE::MODEL`, a model qualified with the profile that serves it (docs/gateway.md): profile
# names cannot contain ':', so the first `::` splits it, and no provider's model id has one.
SEP = "::"


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression of a pattern, compiled once per process (`usage` matches every
    profile's patterns against every model it attributes)."""
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = _compile(pattern)
    return compiled


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
    return compile_pattern(pattern).match(model) is not None


def specificity(pattern: str) -> tuple[int, int]:
    """(exact?, literal characters): `kimi-for-coding` > `kimi-k2-*` > `kimi-*` > `*`."""
    wildcard = any(c in pattern for c in "*?[")
    literal = sum(1 for c in pattern if c not in "*?[]")
    return (0 if wildcard else 1, literal)


def split_qualified(model: str) -> tuple[str, str] | None:
    """(profile, model) of a `PROFILE::MODEL` name, None for any other (the profile is not checked)."""
    prefix, sep, rest = model.partition(SEP)
    return (prefix, rest) if sep and prefix and rest else None
