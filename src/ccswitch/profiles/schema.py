"""The profiles file format: its keys, how each is checked, and the messages that point at the line.

Pure: takes parsed TOML data and the file's text (for line numbers); raises ProfileFileError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccswitch.claude.models import TIERS
from ccswitch.claude.variables import CREDENTIAL_VARIABLES, MODEL_VARIABLES
from ccswitch.errors import ProfileFileError, UsageError
from ccswitch.profiles.tokens import CMD_PREFIX, ENV_PREFIX

SCHEMA_VERSION = 1
AUTH_MODES = ("bearer", "x-api-key", "none")
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
    "context_source",
)
INT_KEYS = ("context_window",)  # tokens
# `prices`: model -> price entry (or an array of them), the format of ccswitch.usage.prices, read
# fully by `ccswitch usage`; a child's entry for a model replaces its parent's.
TABLE_KEYS = ("models", "env", "headers", "routes", "prices")
LIST_KEYS = ("serves", "fallback")  # arrays of strings; a child's array replaces its parent's
BOOL_KEYS = ("fallback_check", "prefer_when_tied")
PROFILE_KEYS = SCALAR_KEYS + INT_KEYS + TABLE_KEYS + LIST_KEYS + BOOL_KEYS
# A context window claude could plan for: at least a few turns, at most what any model offers.
CONTEXT_WINDOW_RANGE = (4_096, 100_000_000)
TOP_LEVEL_KEYS = ("schema", "default", "profiles")
# A name becomes part of file names (the settings file `run` hands claude, backups) and keyring
# entries: 64 characters leave room under every file system's 255-byte limit.
MAX_NAME_LENGTH = 64
NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,%d}\Z" % MAX_NAME_LENGTH)
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


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


def name_problem(name: str) -> str | None:
    """What is wrong with a profile name, or None."""
    if len(name) > MAX_NAME_LENGTH:
        return (f"profile name {name[:24]!r}... is {len(name)} characters long; at most {MAX_NAME_LENGTH} "
                "(a name becomes part of file names and keyring entries)")
    if not NAME_RE.match(name):
        return f"bad profile name {name!r}: use only letters, digits, '.', '_' and '-'"
    return None


def check_name(name: str) -> None:
    """A name given on the command line for a new profile."""
    problem = name_problem(name)
    if problem:
        raise UsageError(problem)


class _Problem(Exception):
    """One wrong field: raised by the checks below, turned into a ProfileFileError with the line."""

    def __init__(self, key: str | None, message: str, table: str | None = None) -> None:
        super().__init__(message)
        self.key, self.message, self.table = key, message, table


def validate_profile_table(name: str, raw: Mapping[str, object], path: str, text: str = "") -> None:
    """Check one profile's fields. Used for user profiles and presets alike."""
    try:
        problem = name_problem(name)
        if problem:
            raise _Problem(None, problem)
        for key, value in raw.items():
            _check_type(key, value)
        for check in (_check_scalars, _check_references, _check_models, _check_routes, _check_env, _check_headers,
                      _check_prices):
            check(name, raw)
    except _Problem as problem:
        where = f"[profiles.{name}]" if problem.table is None else f"[profiles.{name}.{problem.table}]"
        line = find_line(text, name, problem.key, problem.table) or (
            find_line(text, name, problem.table) if problem.table else None)
        raise ProfileFileError(path, f"{where}: {problem.message}", line) from None


def _check_type(key: str, value: object) -> None:
    if key not in PROFILE_KEYS:
        raise _Problem(key, f"unknown key {key!r}{did_you_mean(key, PROFILE_KEYS)}")
    if key in TABLE_KEYS:
        if not isinstance(value, dict):
            raise _Problem(key, f"{key}: must be a table" + (" of models" if key == "prices" else " of strings"))
    elif key in LIST_KEYS:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _Problem(key, f"{key}: must be an array of non-empty strings")
    elif key in BOOL_KEYS:
        if not isinstance(value, bool):
            raise _Problem(key, f"{key}: must be true or false, not {_toml_type(value)}")
    elif key in INT_KEYS:
        low, high = CONTEXT_WINDOW_RANGE
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Problem(key, f"{key}: must be a number of tokens from {low} to {high} (e.g. 200000), "
                                f"not {value!r}")
    elif key == "models_checked" and hasattr(value, "isoformat"):
        return  # a TOML date is fine here
    elif not isinstance(value, str):
        raise _Problem(key, f"{key}: must be a string, not {_toml_type(value)}")


def _check_scalars(name: str, raw: Mapping[str, object]) -> None:
    auth = raw.get("auth")
    if auth is not None and auth not in AUTH_MODES:
        raise _Problem("auth", f"auth: {auth!r} is not one of {', '.join(AUTH_MODES)}{did_you_mean(str(auth), AUTH_MODES)}")
    base_url = raw.get("base_url")
    problem = base_url_problem(base_url) if isinstance(base_url, str) else None
    if problem:
        raise _Problem("base_url", f"base_url: {problem}")
    token_var = raw.get("token_var")
    if isinstance(token_var, str) and not ENV_NAME_RE.match(token_var):
        raise _Problem("token_var", f"token_var: {token_var!r} is not a variable name")


def _check_references(name: str, raw: Mapping[str, object]) -> None:
    """Names of other profiles and the token reference: a reference that can never resolve would
    only fail at launch, far from the line that is wrong."""
    extends = raw.get("extends")
    if isinstance(extends, str) and not NAME_RE.match(extends):
        raise _Problem("extends", f"extends: {name_problem(extends)}")
    for fallback in raw.get("fallback", ()):  # type: ignore[union-attr]
        if not NAME_RE.match(fallback):
            raise _Problem("fallback", f"fallback: {name_problem(fallback)}")
        if fallback == name:
            raise _Problem("fallback", "fallback: a profile cannot fall back to itself")
    token = raw.get("token")
    if not isinstance(token, str):
        return
    if token.startswith(ENV_PREFIX) and not ENV_NAME_RE.match(token[len(ENV_PREFIX) :]):
        raise _Problem("token", f"token: {token!r} does not name an environment variable (write env:NAME; NAME of "
                                "letters, digits and _)")
    if token.startswith(CMD_PREFIX) and not token[len(CMD_PREFIX) :].strip():
        raise _Problem("token", f"token: {token!r} names no command (write cmd:COMMAND)")


def _check_models(name: str, raw: Mapping[str, object]) -> None:
    for tier, model in raw.get("models", {}).items():  # type: ignore[union-attr]
        if tier not in MODEL_VARIABLES:
            raise _Problem(tier, f"unknown model tier {tier!r}{did_you_mean(tier, tuple(MODEL_VARIABLES))}", "models")
        if not isinstance(model, str) or not model.strip():
            raise _Problem(tier, f"{tier}: must be a non-empty string (a model name)", "models")


def _check_routes(name: str, raw: Mapping[str, object]) -> None:
    """`routes = { opus = "kimi", sonnet = "glm" }`: each tier served by another profile, through the
    per-session gateway."""
    for tier, target in raw.get("routes", {}).items():  # type: ignore[union-attr]
        if tier not in TIERS:
            raise _Problem(tier, f"unknown tier {tier!r}{did_you_mean(tier, TIERS)} (routes map opus, sonnet, haiku, "
                                 "fable to profiles)", "routes")
        if not isinstance(target, str) or not NAME_RE.match(target):
            raise _Problem(tier, f"{tier}: must be a profile name", "routes")
        if target == name:
            raise _Problem(tier, f"{tier}: a profile cannot route a tier to itself", "routes")


def _check_env(name: str, raw: Mapping[str, object]) -> None:
    for var, value in raw.get("env", {}).items():  # type: ignore[union-attr]
        if not ENV_NAME_RE.match(var):
            raise _Problem(var, f"{var!r} is not a valid environment variable name", "env")
        if not isinstance(value, str):
            raise _Problem(var, f"{var}: env values must be strings (write {var} = \"{_toml_scalar(value)}\")", "env")
        if var in CREDENTIAL_VARIABLES and value:
            raise _Problem(var, f"{var}: put credentials in the profile's `token` field, not in env", "env")


def _check_headers(name: str, raw: Mapping[str, object]) -> None:
    for header, value in raw.get("headers", {}).items():  # type: ignore[union-attr]
        if not _HEADER_NAME_RE.match(header):
            raise _Problem(header, f"{header!r} is not a valid HTTP header name", "headers")
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            raise _Problem(header, f"{header}: header values must be one-line strings", "headers")


def _check_prices(name: str, raw: Mapping[str, object]) -> None:
    for model, entry in raw.get("prices", {}).items():  # type: ignore[union-attr]
        entries = entry if isinstance(entry, list) else [entry]
        if not entries or not all(isinstance(item, dict) for item in entries):
            raise _Problem(model, f"{model}: must be a price table (input, output, currency, ...) or an array of "
                                  "them", "prices")


def base_url_problem(url: str) -> str | None:
    lowered = url.lower()
    if not (lowered.startswith("http://") or lowered.startswith("https://")) or len(url.split("://", 1)[1]) == 0:
        return f"{url!r} is not an http(s) URL"
    if lowered.rstrip("/").endswith("/v1"):
        return f"{url!r} ends in /v1, but claude appends /v1/messages itself; drop the /v1"
    return None


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


def find_line(text: str, profile: str, key: str | None, table: str | tuple[str, ...] | None = None) -> int | None:
    """Best-effort line of `key` in `[profiles.<profile>(.<table>)]` (a tuple: a nested table, such
    as ("prices", "glm-5.1")), for error messages only."""
    if not text:
        return None
    parts = ["profiles", profile] + ([table] if isinstance(table, str) else list(table or ()))
    header = re.compile(r"\s*\[\[?\s*" + r"\s*\.\s*".join(rf"[\"']?{re.escape(p)}[\"']?" for p in parts) + r"\s*\]")
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
