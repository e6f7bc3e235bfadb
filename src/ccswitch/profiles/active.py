"""Which scopes make a profile active: the file's `default`, a `.ccswitch` pin file in the working
directory or above, and the profile `ccswitch use` recorded for the user or project scope.

Used by `remove`, which must not pull a profile out from under a scope that still names it, by
`list`, which marks the profiles `use` made active (the same records, read by the same function),
and by `status` and `doctor`, which name a settings file whose model the active profile does not serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccswitch import paths
from ccswitch.claude.sources import SHELL, Source
from ccswitch.findings import WARN, Finding
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.pins import find_pin
from ccswitch.profiles.routing import stray_model
from ccswitch.switching.records import active_records


def recorded_active(env: Mapping[str, str], cwd: str) -> list[tuple[str, str]]:
    """(scope, profile name) for each scope where `ccswitch use` made a profile active."""
    records = active_records(paths.state_dir(env), paths.claude_user_settings(env), cwd)
    return [(scope, str(record["profile"])) for scope, record in records.items() if record and record.get("profile")]


def active_scopes(name: str, default: str | None, cwd: str, env: Mapping[str, str]) -> list[str]:
    """Human descriptions of every scope in which `name` is the active profile."""
    scopes = []
    if default == name:
        scopes.append("it is the default in profiles.toml")
    pin = find_pin(cwd)
    if pin and pin[1] == name:
        scopes.append(f"{pin[0]} pins it")
    for scope, active in recorded_active(env, cwd):
        if active == name:
            scopes.append(f"`ccswitch use` made it active ({scope})")
    return scopes


def stray_models(profile_set: ProfileSet, active: Mapping[str, Mapping[str, object] | None],
                 sources: Sequence[Source]) -> list[Finding]:
    """For the profile `use` made active (the project's before the user's): a settings file whose
    "model" that profile does not serve, named. `status` and `doctor` report it."""
    for scope in ("project", "user"):
        record = active.get(scope)
        name = record.get("profile") if record else None
        if isinstance(name, str) and name in profile_set:
            stray = stray_model(profile_set.get(name), [s for s in sources if s.name != SHELL])
            return [stray[0]] if stray is not None else []
    return []


def missing_active(profile_set: ProfileSet, active: Mapping[str, Mapping[str, object] | None]) -> list[Finding]:
    """A scope whose settings file `use` filled from a profile that no longer exists (`remove
    --force`, or a hand edit): its values are still in the file, and nothing names them any more."""
    found = []
    for scope in ("project", "user"):
        record = active.get(scope)
        name = record.get("profile") if record else None
        if isinstance(name, str) and name not in profile_set:
            where = record.get("settings_path") if record else None
            off = "ccswitch off" + (" --scope project" if scope == "project" else "")
            fix = f"`{off}` takes its values out, or `ccswitch use OTHER` replaces them"
            found.append(Finding(
                "active-profile-gone", WARN,
                f"the {scope} settings{f' ({where})' if where else ''} still hold profile {name!r} from `ccswitch use`, "
                f"but no profile of that name exists any more; {fix}", fix))
    return found
