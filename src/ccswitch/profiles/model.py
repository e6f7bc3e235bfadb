"""A resolved profile (`Profile`) and the set of profiles a command sees (`ProfileSet`): the user's
file merged over the built-in presets along `extends` chains.

Pure: takes parsed TOML data; no file is read here. Kept free of dataclasses, typing and pathlib on
purpose: this module is on the launch path of every `ccswitch run` (bench/startup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ccswitch.claude.variables import AUTH_VARIABLE
from ccswitch.errors import ProfileFileError, UnknownProfileError
from ccswitch.profiles.schema import (
    BOOL_KEYS,
    INT_KEYS,
    LIST_KEYS,
    PROFILE_KEYS,
    SCALAR_KEYS,
    TABLE_KEYS,
    did_you_mean,
    find_line,
    unknown_profile_message,
)


class Profile:
    """A fully resolved profile. Immutable by convention; build a new one with `replace`."""

    # Every profile key but `extends` (resolved into `chain`), plus where the profile comes from.
    __slots__ = ("name", "origin", "chain", *(k for k in PROFILE_KEYS if k != "extends"))

    def __init__(self, **fields: object) -> None:
        for slot in self.__slots__:
            object.__setattr__(self, slot, fields.pop(slot, None))
        if fields:
            raise TypeError(f"unknown Profile fields: {sorted(fields)}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Profile is immutable; use replace()")

    def replace(self, **changes: object) -> Profile:
        fields = {slot: getattr(self, slot) for slot in self.__slots__}
        fields.update(changes)
        return Profile(**fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        return f"Profile(name={self.name!r}, origin={self.origin!r}, base_url={self.base_url!r})"

    # name: str; origin: "preset" | "user"; chain: tuple of (name, origin) from self to the root
    # models/env/headers: dict[str, str]; everything else str | None.

    @property
    def extends(self) -> str | None:
        return self.chain[1][0] if len(self.chain) > 1 else None

    def origin_label(self) -> str:
        if self.origin == "preset":
            return "preset"
        if self.extends:
            return f"user extends {self.extends}"
        return "user"

    def token_variable(self) -> str | None:
        """The variable that receives the token, or None when the profile sends no credential."""
        if self.token_var:
            return self.token_var
        return AUTH_VARIABLE.get(self.auth or "bearer")


class ProfileSet:
    """The user's profiles file, parsed and validated, plus a loader for the built-in presets."""

    def __init__(
        self,
        user: Mapping[str, Mapping[str, object]],
        default: str | None,
        path: str,
        preset_names: tuple[str, ...],
        load_preset: Callable[[str], Mapping[str, object]],
        text: str = "",
    ) -> None:
        self.user = dict(user)
        self.default = default
        self.path = path
        self.preset_names = preset_names
        self._load_preset = load_preset
        self._text = text
        self._resolved: dict[str, Profile] = {}

    def names(self) -> list[str]:
        """Every profile name, presets first in their order, then user-only profiles."""
        names = list(self.preset_names)
        names.extend(n for n in self.user if n not in self.preset_names)
        return names

    def __contains__(self, name: object) -> bool:
        return name in self.user or name in self.preset_names

    def get(self, name: str, why: str | None = None) -> Profile:
        """The resolved profile; an unknown name is an UnknownProfileError, saying `why` that name
        was looked up when the user did not type it (a pin, a fallback list)."""
        if name not in self:
            raise self.unknown(name, why)
        if name not in self._resolved:
            self._resolved[name] = self._resolve(name, ())
        return self._resolved[name]

    def unknown(self, name: str, why: str | None = None) -> UnknownProfileError:
        message = unknown_profile_message(name, self.names())
        return UnknownProfileError(f"{message} ({why})" if why else message)

    def get_preset(self, name: str) -> Profile:
        """The built-in preset itself, even when a user profile shadows its name."""
        return self._resolve(name, (), presets_only=True)

    def _raw(self, name: str, origin: str) -> Mapping[str, object]:
        if origin == "user":
            return self.user[name]
        return self._load_preset(name)

    def preset_tables(self) -> dict[str, Mapping[str, object]]:
        """Every preset's table as written (for the launch cache)."""
        return {name: self._load_preset(name) for name in self.preset_names}

    def _resolve(self, name: str, seen: tuple[tuple[str, str], ...], presets_only: bool = False) -> Profile:
        if not presets_only and name in self.user:
            origin = "user"
        elif name in self.preset_names:
            origin = "preset"
        else:
            raise self.unknown(name)
        key = (name, origin)
        if key in seen:
            cycle = " -> ".join(n for n, _ in (*seen, key))
            raise ProfileFileError(self.path, f"[profiles.{seen[0][0]}]: extends cycle: {cycle}", None)
        raw = self._raw(name, origin)
        parent_name = raw.get("extends")
        if isinstance(parent_name, str):
            if parent_name == name and (origin == "preset" or name not in self.preset_names):
                raise ProfileFileError(
                    self.path if origin == "user" else f"preset {name}",
                    f"[profiles.{name}]: extends: a profile cannot extend itself (and there is no preset {name!r})",
                    find_line(self._text, name, "extends") if origin == "user" else None,
                )
            if parent_name not in self and not (origin == "user" and parent_name in self.preset_names):
                raise ProfileFileError(
                    self.path if origin == "user" else f"preset {name}",
                    f"[profiles.{name}]: extends: unknown profile {parent_name!r}"
                    + did_you_mean(parent_name, self.names()),
                    find_line(self._text, name, "extends") if origin == "user" else None,
                )
            # `[profiles.glm] extends = "glm"` means "the preset glm, with my changes".
            parent = self._resolve(parent_name, (*seen, key), presets_only=(parent_name == name))
        else:
            parent = None
        return merge_profile(name, origin, raw, parent)


def merge_profile(name: str, origin: str, raw: Mapping[str, object], parent: Profile | None) -> Profile:
    fields: dict[str, object] = {}
    for key in SCALAR_KEYS:
        if key == "extends":
            continue
        value = raw.get(key, getattr(parent, key) if parent else None)
        fields[key] = str(value) if value is not None else None
    for key in TABLE_KEYS:
        merged = dict(getattr(parent, key)) if parent else {}
        merged.update(raw.get(key, {}))  # type: ignore[arg-type]
        fields[key] = merged
    for key in LIST_KEYS:
        fields[key] = tuple(raw.get(key, getattr(parent, key) if parent else ()))  # type: ignore[arg-type]
    for key in INT_KEYS:
        fields[key] = raw.get(key, getattr(parent, key) if parent else None)
    for key in BOOL_KEYS:
        fields[key] = bool(raw.get(key, getattr(parent, key) if parent else False))
    if not fields["auth"]:
        fields["auth"] = "bearer"
    chain = ((name, origin),) + (parent.chain if parent else ())
    return Profile(name=name, origin=origin, chain=chain, **fields)
