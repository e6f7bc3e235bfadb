"""What an export serves, whatever the gateway: the profiles (the named ones, the routes' targets
and every `fallback` they reach), each one's model groups (`PROFILE/MODEL`, `PROFILE/TIER` for a
`routes` profile), the fallbacks between groups, and the variable each key is read from.

Pure: profiles in, plain data out; nothing is resolved (a keyring or `cmd:` key gets a variable name
and a note saying where its value is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ccswitch.claude.models import MAIN_TIERS, is_alias
from ccswitch.errors import UsageError
from ccswitch.profiles.apis import is_translated
from ccswitch.profiles.environment import is_third_party, tier_models, tier_routes
from ccswitch.profiles.keyrings import KEYRING_SERVICE
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.tokens import (
    ENV_PREFIX,
    keyring_entry,
    reference_kind,
    token_references,
)

CLIENT_TIERS = MAIN_TIERS  # what the profiles pointing claude at the gateway map


class Group:
    """One model name the gateway serves: the profile behind it (several deployments for a key pool)
    and the upstream model; `fallbacks`: the groups tried after it, in order."""

    __slots__ = ("name", "profile", "model", "fallbacks")

    def __init__(self, name: str, profile: Profile, model: str) -> None:
        self.name = name
        self.profile = profile
        self.model = model
        self.fallbacks: list[str] = []


class Export:
    def __init__(self) -> None:
        self.profiles: list[Profile] = []  # every profile with an endpoint, in order
        self.groups: dict[str, Group] = {}
        self.client_tiers: dict[str, dict[str, str]] = {}  # exported name -> tier -> group (the client profiles)
        self.keys: dict[str, list[str]] = {}  # profile -> the variables its keys are read from (a pool: several)
        self.notes: list[str] = []


def group_name(profile: str, model_or_tier: str) -> str:
    return f"{profile}/{model_or_tier}"


def choose(profile_set: ProfileSet, names: Iterable[str], every: bool) -> list[str]:
    """The names asked for, or with `every` the user's and included profiles (not presets)."""
    names = list(names)
    if every and names:
        raise UsageError("export: name profiles or give --all, not both")
    if every:
        return [n for n in profile_set.names() if n in profile_set.user or n in profile_set.included]
    if not names:
        raise UsageError("export: name the profiles to export (or --all for all of yours)")
    for name in names:
        if name not in profile_set:
            raise profile_set.unknown(name)
    return names


def build(profile_set: ProfileSet, names: list[str], *, every: bool) -> Export:
    export = Export()
    wanted: list[str] = []
    for name in names:
        profile = profile_set.get(name)
        problem = _problem(profile)
        if problem and every:
            export.notes.append(f"{name}: left out ({problem})")
            continue
        if problem:
            raise UsageError(f"export: profile {name!r} {problem}")
        wanted.append(name)
    served = _closure(profile_set, wanted, export)
    for profile in served:
        export.profiles.append(profile)
        export.keys[profile.name] = key_variables(profile, export.notes)
        if is_translated(profile.api) and profile.openai:
            export.notes.append(f"{profile.name}: its [openai] options ({', '.join(sorted(profile.openai))}) are ccswitch's "
                                "own gateway's; they are not exported (set the equivalent in the gateway if it needs one)")
        for tier, (model, _) in tier_models(profile).items():
            name = group_name(profile.name, model)
            export.groups.setdefault(name, Group(name, profile, model))
    for profile in served:
        _fallbacks(profile, profile_set, export)
    for name in wanted:
        profile = profile_set.get(name)
        if profile.routes:
            _routes_groups(profile, profile_set, export)
        else:
            models = tier_models(profile)
            export.client_tiers[name] = {t: group_name(name, models[t][0]) for t in CLIENT_TIERS}
    return export


def _problem(profile: Profile) -> str | None:
    if profile.routes:
        return None
    if not is_third_party(profile):
        return "uses Anthropic's own endpoint, claude's login or a cloud: a gateway has nothing to route there"
    if not tier_models(profile):
        return "maps no models ([profiles.NAME.models]): the gateway must know which model it serves"
    return None


def _closure(profile_set: ProfileSet, names: list[str], export: Export) -> list[Profile]:
    """The profiles with an endpoint that the export needs: the named ones, the targets of named
    `routes` profiles, and every profile their `fallback` lists reach."""
    order: list[str] = []
    queue = [t for n in names for t in (tier_routes(profile_set.get(n)).values() if profile_set.get(n).routes else [n])]
    while queue:
        name = queue.pop(0)
        if name in order:
            continue
        profile = profile_set.get(name)
        problem = _problem(profile) or ("routes tiers itself" if profile.routes else None)
        if problem:
            export.notes.append(f"{name}: not served ({problem}); it is left out of the fallbacks too")
            continue
        order.append(name)
        queue.extend(profile.fallback)
    return [profile_set.get(n) for n in order]


def _fallbacks(profile: Profile, profile_set: ProfileSet, export: Export) -> None:
    """A group's fallbacks: for each profile of `fallback`, in order, its model for the same tier."""
    served = {p.name for p in export.profiles}
    for tier, (model, _) in tier_models(profile).items():
        group = export.groups[group_name(profile.name, model)]
        for other in profile.fallback:
            if other not in served:
                continue
            target = tier_models(profile_set.get(other)).get(tier)
            if target:
                name = group_name(other, target[0])
                if name not in group.fallbacks:
                    group.fallbacks.append(name)


def _routes_groups(profile: Profile, profile_set: ProfileSet, export: Export) -> None:
    """A `routes` profile: one group per tier (`NAME/opus`), served by the routed profile's model
    for that tier, failing over as that profile's own group does."""
    tiers: dict[str, str] = {}
    for tier, target_name in tier_routes(profile).items():
        target = profile_set.get(target_name)
        model = tier_models(target).get(tier)
        if model is None or target_name not in {p.name for p in export.profiles}:
            continue
        name = group_name(profile.name, tier)
        group = export.groups[name] = Group(name, target, model[0])
        group.fallbacks = list(export.groups[group_name(target_name, model[0])].fallbacks)
        if tier in CLIENT_TIERS:
            tiers[tier] = name
    export.client_tiers[profile.name] = tiers


def key_variables(profile: Profile, notes: list[str]) -> list[str]:
    """The variable each of the profile's keys is read from: its own `env:` variable, or a name made
    from the profile's (with a note saying where the key is now). None for a profile without one."""
    refs = token_references(profile.token)
    variables = []
    base = re.sub(r"[^A-Z0-9]+", "_", profile.name.upper()).strip("_") or "PROFILE"
    for index, ref in enumerate(refs):
        if reference_kind(ref) == "env":
            variables.append(ref[len(ENV_PREFIX):])
            continue
        variable = f"{base}_API_KEY" + (f"_{index}" if len(refs) > 1 else "")
        kind = reference_kind(ref)
        where = (f"in the OS keyring as {KEYRING_SERVICE}/{keyring_entry(ref, profile.name)}" if kind == "keyring" else
                 "printed by its token command" if kind == "cmd" else "in plain text in its profiles file")
        notes.append(f"set {variable} to the key of profile {profile.name!r}" + (f" (key {index})" if len(refs) > 1 else "")
                     + f": it is {where}")
        variables.append(variable)
    return variables


def client_model(profile: Profile) -> str | None:
    """The model `run` starts with on the client profile: the group of the profile's own `model`."""
    if profile.model and not is_alias(profile.model):
        return group_name(profile.name, profile.model)
    return None
