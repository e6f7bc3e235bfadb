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
    QUOTA_KEYS,
    SCALAR_KEYS,
    TABLE_KEYS,
    TOKENLESS_AUTHS,
    did_you_mean,
    find_line,
    unknown_profile_message,
)


class Profile:
    """A fully resolved profile. Immutable by convention; build a new one with `replace`."""

    # Every profile key but `extends` (resolved into `chain`), plus where the profile comes from
    # (`file`: the profiles file or included file its own table is in; None for a preset).
    __slots__ = ("name", "origin", "file", "chain", *(k for k in PROFILE_KEYS if k != "extends"))

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

    # name: str; origin: "preset" | "included" | "user"; chain: tuple of (name, origin) from self to the root
    # models/env/headers: dict[str, str]; token: str, or a tuple of references (a key pool), or
    # None; everything else str | None.

    @property
    def extends(self) -> str | None:
        return self.chain[1][0] if len(self.chain) > 1 else None

    def origin_label(self) -> str:
        if self.origin == "preset":
            return "preset"
        who = "user" if self.origin == "user" else f"included ({_basename(self.file)})"
        if self.extends:
            return f"{who} extends {self.extends}"
        return who

    @property
    def auth_mode(self) -> str:
        """How the token is sent: `auth`, or Bearer when the profile does not say (schema.AUTH_MODES)."""
        return self.auth or "bearer"

    @property
    def needs_token(self) -> bool:
        """Whether the profile sends a token of its own (schema.TOKENLESS_AUTHS send none)."""
        return self.auth_mode not in TOKENLESS_AUTHS

    def token_variable(self) -> str | None:
        """The variable that receives the token, or None when the profile sends no credential."""
        if self.token_var:
            return self.token_var
        return AUTH_VARIABLE.get(self.auth_mode)


def _basename(path: object) -> str:
    text = str(path or "")
    return text.replace("\\", "/").rsplit("/", 1)[-1]


# The layers a name is looked up in, highest first: the user's file, included (team) files, presets.
LAYERS = ("user", "included", "preset")


class ProfileSet:
    """The user's profiles file, parsed and validated, the profiles of the files it includes, and a
    loader for the built-in presets."""

    def __init__(
        self,
        user: Mapping[str, Mapping[str, object]],
        default: str | None,
        path: str,
        preset_names: tuple[str, ...],
        load_preset: Callable[[str], Mapping[str, object]],
        text: str = "",
        *,
        included: Mapping[str, Mapping[str, object]] | None = None,
        included_from: Mapping[str, str] | None = None,
        included_texts: Mapping[str, str] | None = None,
        warnings: tuple[str, ...] | list[str] = (),
        include_specs: tuple[str, ...] | list[str] = (),
        include_key: list[object] | None = None,
    ) -> None:
        self.user = dict(user)
        self.default = default
        self.path = path
        self.preset_names = preset_names
        self._load_preset = load_preset
        self._text = text
        self.included = dict(included or {})
        self.included_from = dict(included_from or {})  # profile name -> the file it is in
        self._included_texts = dict(included_texts or {})  # file -> text, for line numbers (cold loads only)
        self.warnings = list(warnings)  # includes that are not there: one line each
        self.include_specs = list(include_specs)  # `include` as written in profiles.toml
        self.include_key = include_key  # the included files' stats, taken before they were read (the cache's key)
        self._resolved: dict[str, Profile] = {}

    def names(self) -> list[str]:
        """Every profile name, presets first in their order, then included, then user-only profiles."""
        names = list(self.preset_names)
        names.extend(n for n in self.included if n not in names)
        names.extend(n for n in self.user if n not in self.preset_names and n not in self.included)
        return names

    def __contains__(self, name: object) -> bool:
        return name in self.user or name in self.included or name in self.preset_names

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
        return self._resolve(name, (), start=LAYERS.index("preset"))

    def get_below_user(self, name: str) -> Profile:
        """What a user profile of this name overrides: the included profile, else the preset."""
        return self._resolve(name, (), start=LAYERS.index("included"))

    def _layer_has(self, origin: str, name: str) -> bool:
        if origin == "user":
            return name in self.user
        if origin == "included":
            return name in self.included
        return name in self.preset_names

    def _raw(self, name: str, origin: str) -> Mapping[str, object]:
        if origin == "user":
            return self.user[name]
        if origin == "included":
            return self.included[name]
        return self._load_preset(name)

    def file_of(self, name: str, origin: str) -> str | None:
        if origin == "user":
            return self.path
        if origin == "included":
            return self.included_from.get(name)
        return None

    def _where(self, name: str, origin: str) -> tuple[str, int | None]:
        """(file, line of `extends`) for an error about this profile's own table."""
        if origin == "preset":
            return f"preset {name}", None
        path = self.file_of(name, origin) or self.path
        text = self._text if origin == "user" else self._included_texts.get(path, "")
        return path, find_line(text, name, "extends")

    def written_models(self, name: str) -> set[str]:
        """The model names the user wrote for profile `name` (its `models` and `model`, in its own
        table and the user's or included tables it extends), not those a preset gave it."""
        written: set[str] = set()
        for link, origin in self.get(name).chain:
            if origin == "preset":
                continue
            raw = self._raw(link, origin)
            models, model = raw.get("models"), raw.get("model")
            if isinstance(models, Mapping):
                written.update(v for v in models.values() if isinstance(v, str))
            if isinstance(model, str):
                written.add(model)
        return written

    def preset_tables(self) -> dict[str, Mapping[str, object]]:
        """Every preset's table as written (for the launch cache)."""
        return {name: self._load_preset(name) for name in self.preset_names}

    def _resolve(self, name: str, seen: tuple[tuple[str, str], ...], start: int = 0) -> Profile:
        origin = next((o for o in LAYERS[start:] if self._layer_has(o, name)), None)
        if origin is None:
            raise self.unknown(name)
        key = (name, origin)
        if key in seen:
            cycle = " -> ".join(n for n, _ in (*seen, key))
            first_name, first_origin = seen[0]
            raise ProfileFileError(self._where(first_name, first_origin)[0],
                                   f"[profiles.{first_name}]: extends cycle: {cycle}", None)
        raw = self._raw(name, origin)
        parent_name = raw.get("extends")
        if isinstance(parent_name, str):
            # `[profiles.glm] extends = "glm"` means "the glm one layer down, with my changes".
            below = LAYERS.index(origin) + 1
            lower = any(self._layer_has(o, name) for o in LAYERS[below:])
            if parent_name == name and not lower:
                path, line = self._where(name, origin)
                raise ProfileFileError(
                    path, f"[profiles.{name}]: extends: a profile cannot extend itself (and there is no "
                          f"{'included profile or ' if origin == 'user' else ''}preset {name!r})", line)
            if parent_name not in self:
                path, line = self._where(name, origin)
                raise ProfileFileError(
                    path, f"[profiles.{name}]: extends: unknown profile {parent_name!r}"
                          + did_you_mean(parent_name, self.names()), line)
            parent = self._resolve(parent_name, (*seen, key), start=below if parent_name == name else 0)
        else:
            parent = None
        return merge_profile(name, origin, raw, parent, self.file_of(name, origin))


def merge_profile(name: str, origin: str, raw: Mapping[str, object], parent: Profile | None,
                  file: str | None = None) -> Profile:
    fields: dict[str, object] = {}
    for key in SCALAR_KEYS:
        if key == "extends":
            continue
        value = raw.get(key, getattr(parent, key) if parent else None)
        if isinstance(value, (list, tuple)):  # a key pool (`token = [...]`)
            fields[key] = tuple(value)
            continue
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
    for key in QUOTA_KEYS:
        fields[key] = raw.get(key, getattr(parent, key) if parent else None)
    if not fields["auth"]:
        fields["auth"] = "bearer"
    chain = ((name, origin),) + (parent.chain if parent else ())
    return Profile(name=name, origin=origin, file=file, chain=chain, **fields)
