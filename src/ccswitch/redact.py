"""How a secret is shown anywhere ccswitch prints one: never whole.

On the launch path: no imports.
"""

from __future__ import annotations


def mask(secret: str | None) -> str:
    """Enough of a token to recognise it, never enough to use it: `sk-…a1b2`."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "****"
    return f"{secret[:3]}…{secret[-4:]}"


def url(text: str) -> str:
    """A URL as shown: a user name and password in it (`https://user:secret@host`) replaced by
    `***`, so no credential written into a URL is shown whole. Anything else is returned as is."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return text
    return f"{scheme}://***@{host}{rest[end:]}"
