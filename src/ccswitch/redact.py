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
