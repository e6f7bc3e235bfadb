"""What a profile is, how profiles are validated, how `extends` chains resolve, and which
environment a profile applies.

Pure: functions take parsed TOML data (plain dicts) and return profiles; no file is read here.
Kept free of dataclasses, typing and pathlib on purpose: this module is on the launch path of every
`ccswitch run`, and those imports alone cost more than the rest of the start-up (bench/startup.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ccswitch.errors import ProfileFileError, UnknownProfileError
from ccswitch.secrets import CMD_PREFIX, ENV_PREFIX

SCHEMA_VERSION = 1

AUTH_MODES = ("bearer", "x-api-key", "none")
AUTH_VARIABLE = {"bearer": "ANTHROPIC_AUTH_TOKEN", "x-api-key": "ANTHROPIC_API_KEY"}

# Tier name in `[models]` -> the variable claude reads it from.
MODEL_VARIABLES = {
    "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "fable": "ANTHROPIC_DEFAULT_FABLE_MODEL",
    "subagent": "CLAUDE_CODE_SUBAGENT_MODEL",
    "small_fast": "ANTHROPIC_SMALL_FAST_MODEL",
}

# Every variable that decides where claude sends requests, with which credential, for which model.
# A profile owns all of them: what it does not set is blanked, so nothing from the shell or another
# settings file can leak into its requests (a stray ANTHROPIC_API_KEY beside a Bearer token sends
# both headers). Provider details that do nothing unless their switch is on (AWS_REGION,
# ANTHROPIC_VERTEX_PROJECT_ID, ...) are deliberately not managed, so they pass through.
MANAGED_VARIABLES = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_MODEL",
    *MODEL_VARIABLES.values(),
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_FOUNDRY_BASE_URL",
    "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
    "CLAUDE_CODE_SKIP_VERTEX_AUTH",
    "CLAUDE_CODE_SKIP_FOUNDRY_AUTH",
    "ANTHROPIC_FOUNDRY_API_KEY",
    "ANTHROPIC_FOUNDRY_AUTH_TOKEN",
)

# Variables that carry a credential: only the `token` field may fill them, so that every output
# path can mask it.
CREDENTIAL_VARIABLES = frozenset(
    {
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_FOUNDRY_API_KEY",
        "ANTHROPIC_FOUNDRY_AUTH_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
    }
)

SCALAR_KEYS = (
    "extends",
    "description",
    "docs_url",
    "models_checked",
    "source",
    "base_url",
    "auth",
    "token",
    "token_var",
    "model",
)
TABLE_KEYS = ("models", "env", "headers")
LIST_KEYS = ("serves", "fallback")  # arrays of strings; a child's array replaces its parent's
BOOL_KEYS = ("fallback_check",)
PROFILE_KEYS = SCALAR_KEYS + TABLE_KEYS + LIST_KEYS + BOOL_KEYS
TOP_LEVEL_KEYS = ("schema", "default", "profiles")

_NAME_RE = re.compile(r"[A-Za-z0-9._-]+\Z")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


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

    def get(self, name: str) -> Profile:
        if name not in self._resolved:
            self._resolved[name] = self._resolve(name, ())
        return self._resolved[name]

    def get_preset(self, name: str) -> Profile:
        """The built-in preset itself, even when a user profile shadows its name."""
        return self._resolve(name, (), presets_only=True)

    def _raw(self, name: str, origin: str) -> Mapping[str, object]:
        if origin == "user":
            return self.user[name]
        return self._load_preset(name)

    def _resolve(self, name: str, seen: tuple[tuple[str, str], ...], presets_only: bool = False) -> Profile:
        if not presets_only and name in self.user:
            origin = "user"
        elif name in self.preset_names:
            origin = "preset"
        else:
            raise UnknownProfileError(unknown_profile_message(name, self.names()))
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
    for key in BOOL_KEYS:
        fields[key] = bool(raw.get(key, getattr(parent, key) if parent else False))
    if not fields["auth"]:
        fields["auth"] = "bearer"
    chain = ((name, origin),) + (parent.chain if parent else ())
    return Profile(name=name, origin=origin, chain=chain, **fields)


# ---------------------------------------------------------------------------------------------
# Validation of raw TOML data


def validate_user_file(data: Mapping[str, object], path: str, text: str = "") -> tuple[dict, str | None]:
    """Check a parsed profiles.toml; return (profiles table, default name). Raises ProfileFileError."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ProfileFileError(
                path,
                f"unknown top-level key {key!r}{did_you_mean(key, TOP_LEVEL_KEYS)}",
                find_top_level_line(text, key),
            )
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise ProfileFileError(
            path,
            f"schema = {schema!r} is not supported (this ccswitch reads schema {SCHEMA_VERSION}; "
            "perhaps the file was written by a newer ccswitch)",
            find_top_level_line(text, "schema"),
        )
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ProfileFileError(path, "default: must be a profile name (a string)", find_top_level_line(text, "default"))
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ProfileFileError(path, "profiles: must be a table ([profiles.NAME])", find_top_level_line(text, "profiles"))
    for name, raw in profiles.items():
        if not isinstance(raw, dict):
            raise ProfileFileError(path, f"profiles.{name}: must be a table", find_line(text, name, None))
        validate_profile_table(name, raw, path, text)
    return profiles, default


def validate_profile_table(name: str, raw: Mapping[str, object], path: str, text: str = "") -> None:
    """Check one profile's fields. Used for user profiles and presets alike."""

    def fail(key: str | None, message: str, table: str | None = None) -> None:
        where = f"[profiles.{name}]" if table is None else f"[profiles.{name}.{table}]"
        line = find_line(text, name, key, table) or (find_line(text, name, table) if table else None)
        raise ProfileFileError(path, f"{where}: {message}", line)

    if not _NAME_RE.match(name):
        fail(None, f"bad profile name {name!r}: use only letters, digits, '.', '_' and '-'")
    for key, value in raw.items():
        if key not in PROFILE_KEYS:
            fail(key, f"unknown key {key!r}{did_you_mean(key, PROFILE_KEYS)}")
        if key in TABLE_KEYS:
            if not isinstance(value, dict):
                fail(key, f"{key}: must be a table of strings")
            continue
        if key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                fail(key, f"{key}: must be an array of non-empty strings")
            continue
        if key in BOOL_KEYS:
            if not isinstance(value, bool):
                fail(key, f"{key}: must be true or false, not {_toml_type(value)}")
            continue
        if key == "models_checked" and hasattr(value, "isoformat"):
            continue  # a TOML date is fine here
        if not isinstance(value, str):
            fail(key, f"{key}: must be a string, not {_toml_type(value)}")
    auth = raw.get("auth")
    if auth is not None and auth not in AUTH_MODES:
        fail("auth", f"auth: {auth!r} is not one of {', '.join(AUTH_MODES)}{did_you_mean(str(auth), AUTH_MODES)}")
    base_url = raw.get("base_url")
    if isinstance(base_url, str):
        problem = base_url_problem(base_url)
        if problem:
            fail("base_url", f"base_url: {problem}")
    extends = raw.get("extends")
    if isinstance(extends, str) and not _NAME_RE.match(extends):
        fail("extends", f"extends: bad profile name {extends!r}")
    for fallback in raw.get("fallback", ()):  # type: ignore[union-attr]
        if not _NAME_RE.match(fallback):
            fail("fallback", f"fallback: bad profile name {fallback!r}")
        if fallback == name:
            fail("fallback", "fallback: a profile cannot fall back to itself")
    token = raw.get("token")
    # A reference that can never resolve would only fail at launch, far from the line that is wrong.
    if isinstance(token, str) and token.startswith(ENV_PREFIX) and not _ENV_NAME_RE.match(token[len(ENV_PREFIX) :]):
        fail("token", f"token: {token!r} does not name an environment variable (write env:NAME; NAME of letters, digits and _)")
    if isinstance(token, str) and token.startswith(CMD_PREFIX) and not token[len(CMD_PREFIX) :].strip():
        fail("token", f"token: {token!r} names no command (write cmd:COMMAND)")
    token_var = raw.get("token_var")
    if isinstance(token_var, str) and not _ENV_NAME_RE.match(token_var):
        fail("token_var", f"token_var: {token_var!r} is not a variable name")
    models = raw.get("models", {})
    for tier, model in models.items():  # type: ignore[union-attr]
        if tier not in MODEL_VARIABLES:
            fail(tier, f"unknown model tier {tier!r}{did_you_mean(tier, tuple(MODEL_VARIABLES))}", "models")
        if not isinstance(model, str) or not model.strip():
            fail(tier, f"{tier}: must be a non-empty string (a model name)", "models")
    env = raw.get("env", {})
    for var, value in env.items():  # type: ignore[union-attr]
        if not _ENV_NAME_RE.match(var):
            fail(var, f"{var!r} is not a valid environment variable name", "env")
        if not isinstance(value, str):
            fail(var, f"{var}: env values must be strings (write {var} = \"{_toml_scalar(value)}\")", "env")
        if var in CREDENTIAL_VARIABLES and value:
            fail(var, f"{var}: put credentials in the profile's `token` field, not in env", "env")
    headers = raw.get("headers", {})
    for header, value in headers.items():  # type: ignore[union-attr]
        if not _HEADER_NAME_RE.match(header):
            fail(header, f"{header!r} is not a valid HTTP header name", "headers")
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            fail(header, f"{header}: header values must be one-line strings", "headers")


def base_url_problem(url: str) -> str | None:
    lowered = url.lower()
    if not (lowered.startswith("http://") or lowered.startswith("https://")) or len(url.split("://", 1)[1]) == 0:
        return f"{url!r} is not an http(s) URL"
    if lowered.rstrip("/").endswith("/v1"):
        return f"{url!r} ends in /v1, but claude appends /v1/messages itself; drop the /v1"
    return None


# ---------------------------------------------------------------------------------------------
# The environment a profile applies


def profile_environment(profile: Profile, token: str | None, *, include_model: bool = True) -> dict[str, str]:
    """Every managed variable, set from the profile or blanked, plus the profile's own env.

    `include_model` puts the profile's `model` into ANTHROPIC_MODEL; `run` passes `--model` instead.
    """
    env = dict.fromkeys(MANAGED_VARIABLES, "")
    if profile.base_url:
        env["ANTHROPIC_BASE_URL"] = profile.base_url
    token_var = profile.token_variable()
    if token_var and token:
        env[token_var] = token
    for tier, model in profile.models.items():
        env[MODEL_VARIABLES[tier]] = model
    if include_model and profile.model:
        env["ANTHROPIC_MODEL"] = profile.model
    if profile.headers:
        env["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in profile.headers.items())
    env.update(profile.env)
    return env


# ---------------------------------------------------------------------------------------------
# Messages


def did_you_mean(word: str, choices: object) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)  # type: ignore[call-overload]
    return f' (did you mean "{close[0]}"?)' if close else ""


def unknown_profile_message(name: str, names: list[str]) -> str:
    return f"no profile named {name!r}{did_you_mean(name, names)}; `ccswitch list` shows them all"


def find_top_level_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("["):
            return None
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def find_line(text: str, profile: str, key: str | None, table: str | None = None) -> int | None:
    """Best-effort line of `key` in `[profiles.<profile>(.<table>)]`, for error messages only."""
    if not text:
        return None
    parts = ["profiles", profile] + ([table] if table else [])
    header = re.compile(r"\s*\[\s*" + r"\s*\.\s*".join(rf"[\"']?{re.escape(p)}[\"']?" for p in parts) + r"\s*\]")
    in_section = False
    header_line = None
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            in_section, header_line = True, number
            if key is None:
                return number
            continue
        if line.lstrip().startswith("["):
            in_section = False
            continue
        if in_section and key is not None and re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return header_line


def _toml_type(value: object) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _toml_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
