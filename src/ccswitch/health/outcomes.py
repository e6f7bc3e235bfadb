"""What one probe request found, in the words users see: one vocabulary for `ccswitch test`, the
fallback before launch and the probe cache, with the two sets that decide what happens next.
"""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    """A str, so `--json` and the probe cache carry the words themselves."""

    OK = "ok"
    AUTH = "auth rejected"
    MODEL = "model not found"
    ENDPOINT = "endpoint not found"
    BAD_REQUEST = "bad request"
    RATE_LIMIT = "rate limited"
    SERVER = "server error"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "DNS"
    TLS = "TLS"
    PROXY = "proxy"
    OTHER = "other"
    TOKEN_MISSING = "token missing"  # nothing was sent: the profile's token is not set
    TOKEN_INVALID = "token invalid"  # nothing was sent: the token is there, but no header can carry it
    NOT_PROBED = "not probed"  # nothing was sent: a cloud profile or claude's own login

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


# Failures that belong to one provider's endpoint or account, not to the request itself: another
# profile may well succeed, so the launch falls back. A proxy in front of every provider, a bad
# request or an unknown model would fail on any fallback too.
FAIL_OVER = frozenset({Outcome.REFUSED, Outcome.TIMEOUT, Outcome.DNS, Outcome.TLS, Outcome.SERVER,
                       Outcome.RATE_LIMIT, Outcome.AUTH, Outcome.TOKEN_MISSING, Outcome.TOKEN_INVALID})
# After one of these the endpoint itself is out of reach: asking it about the next model only waits again.
UNREACHABLE = frozenset({Outcome.TIMEOUT, Outcome.REFUSED, Outcome.DNS, Outcome.TLS, Outcome.PROXY})
