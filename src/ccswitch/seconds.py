"""A number of seconds from the user (an option, an environment variable): the one parser, with
bounds, for every wait and lifetime ccswitch lets the user set.

Bounds, because float() takes what no timer can: `inf` and `1e308` overflow the C timeval a socket
or a subprocess wait is given (OverflowError), `nan` compares false with everything (a wait that
never ends, or a ValueError deep in the standard library), and 0 turns a connect into a
non-blocking call that fails at once ("Operation now in progress").

On the launch path: imports only errors.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.errors import UsageError

MAX_SECONDS = 86_400.0  # a day: longer than any wait ccswitch does, far below what any timer holds
MIN_WAIT = 0.1  # a wait shorter than this ends before a connection could be made


def parse_seconds(text: str, label: str, *, minimum: float = MIN_WAIT, maximum: float = MAX_SECONDS) -> float:
    """`text` as seconds, or a UsageError saying `label` (how the user gave it: `--timeout inf`)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = float("nan")
    if not minimum <= value <= maximum:  # nan fails every comparison
        raise UsageError(f"{label}: must be a number of seconds from {minimum:g} to {maximum:g}")
    return value


def seconds_from(env: Mapping[str, str], variable: str, default: float, *, minimum: float = MIN_WAIT,
                 maximum: float = MAX_SECONDS) -> float:
    """The seconds `variable` sets in `env`, or `default` when it is unset or blank."""
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    return parse_seconds(raw, f"{variable}={raw!r}", minimum=minimum, maximum=maximum)
