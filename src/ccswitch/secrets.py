"""Token references: where a profile's token comes from, whether it is there, and how to show it.

A reference is `env:VAR` or a literal string (plain text in the file). Resolving happens only when a
command needs the token; describing never resolves anything.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.errors import CcswitchError, ExitStatus

ENV_PREFIX = "env:"


class TokenStatus:
    """What `list`/`show` may say about a token: where it comes from and whether it is found."""

    __slots__ = ("kind", "source", "found", "detail")

    def __init__(self, kind: str, source: str, found: bool, detail: str) -> None:
        self.kind = kind  # "env" | "literal" | "none"
        self.source = source  # e.g. "$ZHIPU_API_KEY", "profiles.toml", ""
        self.found = found
        self.detail = detail  # human text, never the value

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "source": self.source, "found": self.found, "detail": self.detail}


def describe_token(ref: str | None, env: Mapping[str, str]) -> TokenStatus:
    if not ref:
        return TokenStatus("none", "", False, "none configured")
    if ref.startswith(ENV_PREFIX):
        var = ref[len(ENV_PREFIX) :]
        if env.get(var):
            return TokenStatus("env", f"${var}", True, f"found in ${var}")
        return TokenStatus("env", f"${var}", False, f"missing ({var} is not set)")
    return TokenStatus("literal", "profiles file", True, "plain text in the profiles file")


def resolve_token(ref: str | None, env: Mapping[str, str], profile_name: str) -> str | None:
    """The token's value, or a CcswitchError naming the profile (never the value)."""
    if not ref:
        return None
    if ref.startswith(ENV_PREFIX):
        var = ref[len(ENV_PREFIX) :]
        value = env.get(var)
        if not value:
            raise CcswitchError(
                f"profile {profile_name!r}: token: {var} is not set (export it, or change the profile's token)",
                ExitStatus.USAGE,
            )
        return value
    return ref


def mask(secret: str | None) -> str:
    """Enough of a token to recognise it, never enough to use it: `sk-…a1b2`."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "****"
    return f"{secret[:3]}…{secret[-4:]}"
