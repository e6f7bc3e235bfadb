"""Which profile `run` and `env` use: the name given, a pin, the profile serving the model, the default.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccswitch.claude.models import is_alias
from ccswitch.errors import UsageError
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.pins import PIN_FILENAME, find_pin_file, read_pin

NAMED = "named on the command line"


def choose_profile(
    name: str | None,
    cwd: str,
    profile_set: ProfileSet,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    command: str = "run",
) -> tuple[str, str]:
    """(profile name, why it was chosen). The one place that decides, first match wins:

    1. the NAME given on the command line;
    2. the nearest `.ccswitch` pin from `cwd` upwards (a project's choice beats a guess from a model);
    3. routing: the profile whose `serves` patterns match `model` (the `--model` passed to claude),
       unless it is a claude alias (`opus`, `sonnet[1m]`, ...), which names a tier, not a provider;
    4. `default` in profiles.toml;
    5. otherwise an error, whose hint names `command` (`run` or `env`).
    """
    if name:
        return name, NAMED
    pin = find_pin_file(cwd)
    if pin:
        return read_pin(pin), f"pinned in {pin}"
    routed_nowhere = False
    if model:
        # Routing reads every preset's `serves`: only when a model is given.
        from ccswitch.profiles.routing import route_model

        if not is_alias(model):
            route = route_model(model, profile_set, env or {})
            if route is not None:
                return route.profile, f"routed by model {model!r}: {route.reason()}"
            routed_nowhere = True
    if profile_set.default:
        unrouted = f"; no profile serves model {model!r}" if routed_nowhere else ""
        return profile_set.default, f"default in {profile_set.path}{unrouted}"
    no_route = f", no profile whose `serves` matches model {model!r}," if routed_nowhere else ","
    raise UsageError(
        f"no profile named, no {PIN_FILENAME} pin from {cwd} upwards{no_route} and no `default` in "
        f"{profile_set.path}; name one (ccswitch {command} NAME) or pin one (ccswitch pin NAME)"
    )
