"""The profiles file format: its keys, how each is checked, and the messages that point at the line.

Pure: takes parsed TOML data and the file's text (for line numbers); raises ProfileFileError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccswitch import redact
from ccswitch.claude.models import TIERS
from ccswitch.claude.variables import CREDENTIAL_VARIABLES, MODEL_VARIABLES
from ccswitch.errors import ProfileFileError, UsageError
from ccswitch.profiles.apis import ANTHROPIC, APIS, option_problem
from ccswitch.profiles.tokens import (
    CMD_PREFIX,
    ENV_PREFIX,
    KEYRING_REF,
    reference_kind,
    token_references,
    unsendable_at,
)

SCHEMA_VERSION = 1
# `none`: the endpoint takes no credential (a third-party one gets claude.variables.NO_TOKEN);
# `login`: claude's own claude.ai login goes to it, for a proxy in front of Anthropic you trust.
AUTH_MODES = ("bearer", "x-api-key", "none", "login")
TOKENLESS_AUTHS = ("none", "login")  # the modes that send no token of the profile's own
SCALAR_KEYS = (
    "extends",
    "description",
    "docs_url",
    "models_checked",
    "source",
    "api",  # the format the endpoint speaks (profiles/apis.py); default anthropic
    "base_url",
    "auth",
    "token",
    "token_var",
    "model",
    "context_source",
    "plan",
)
INT_KEYS = ("context_window",)  # tokens
# `prices`: model -> price entry (or an array of them), the format of ccswitch.usage.prices, read
# fully by `ccswitch usage`; a child's entry for a model replaces its parent's.
# `openai`: the options of an OpenAI-format endpoint (profiles/apis.py); a child's option replaces its parent's.
TABLE_KEYS = ("models", "env", "headers", "routes", "prices", "openai")
LIST_KEYS = ("serves", "fallback")  # arrays of strings; a child's array replaces its parent's
BOOL_KEYS = ("fallback_check", "prefer_when_tied")
# `quota`: a window table or an array of them (profiles/quota.py); a child's replaces its parent's.
QUOTA_KEYS = ("quota",)
PROFILE_KEYS = SCALAR_KEYS + INT_KEYS + TABLE_KEYS + LIST_KEYS + BOOL_KEYS + QUOTA_KEYS
# A context window claude could plan for: at least a few turns, at most what any model offers.
CONTEXT_WINDOW_RANGE = (4_096, 100_000_000)
TOP_LEVEL_KEYS = ("schema", "include", "default", "profiles")  # include: profiles.includes
# A name becomes part of file names (the settings file `run` hands claude, backups) and keyring
# entries: 64 characters leave room under every file system's 255-byte limit.
MAX_NAME_LENGTH = 64
NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,%d}\Z" % MAX_NAME_LENGTH)
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# What no URL holds as is (RFC 3986: whitespace, controls, and these delimiters); letters beyond
# ASCII are left to claude, which reads an internationalised host or path as a browser does. A
# string: re compiles it when a file is validated, not on every warm `run` that imports this module.
_URL_FORBIDDEN = r'[\x00-\x20\x7f"<>\\^`{|}]|\s'
# Control characters (C0 and DEL), refused in model names (a NUL cannot even be passed to a
# process); a string, as above.
_CONTROL = r"[\x00-\x1f\x7f]"


def validate_user_file(data: Mapping[str, object], path: str, text: str = "") -> tuple[dict, str | None]:
    """Check a parsed profiles.toml; return (profiles table, default name). Raises ProfileFileError."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ProfileFileError(
                path,
                f"unknown top-level key {key!r}{did_you_mean(key, TOP_LEVEL_KEYS)}",
                find_top_level_line(text, key),
            )
    check_schema_version(data, path, text)
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ProfileFileError(path, "default: must be a profile name (a string)", find_top_level_line(text, "default"))
    profiles = validate_profiles(data, path, text)
    return profiles, default


def check_schema_version(data: Mapping[str, object], path: str, text: str) -> None:
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise ProfileFileError(
            path,
            f"schema = {schema!r} is not supported (this ccswitch reads schema {SCHEMA_VERSION}; "
            "perhaps the file was written by a newer ccswitch)",
            find_top_level_line(text, "schema"),
        )


def validate_profiles(data: Mapping[str, object], path: str, text: str) -> dict:
    """The file's `[profiles.NAME]` tables, each checked (profiles.toml and included files alike)."""
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ProfileFileError(path, "profiles: must be a table ([profiles.NAME])", find_top_level_line(text, "profiles"))
    for name, raw in profiles.items():
        if not isinstance(raw, dict):
            raise ProfileFileError(path, f"profiles.{name}: must be a table", find_line(text, name, None))
        validate_profile_table(name, raw, path, text)
    return profiles


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
    """One wrong field: raised by the checks below, turned into a ProfileFileError with the line.
    `table`: the table it is in, a tuple for a nested one (("prices", "glm-5.1"))."""

    def __init__(self, key: str | None, message: str, table: str | tuple[str, ...] | None = None,
                 locate: object = None) -> None:
        super().__init__(message)
        self.key, self.message, self.table = key, message, table
        self.locate = locate  # text -> line, where find_line cannot tell (the n-th [[...quota]])
        self.fallback: tuple[str, tuple[str, ...] | None] | None = None  # (key, table) when key is not on a line of its own
        self.shown_table = table  # the table the message names (None: the profile's; the message says the rest)


def validate_profile_table(name: str, raw: Mapping[str, object], path: str, text: str = "") -> None:
    """Check one profile's fields. Used for user profiles and presets alike."""
    try:
        problem = name_problem(name)
        if problem:
            raise _Problem(None, problem)
        for key, value in raw.items():
            _check_type(key, value)
        for check in (_check_scalars, _check_references, _check_models, _check_routes, _check_env, _check_headers,
                      _check_prices, _check_openai, _check_quota, _check_numbers):
            check(name, raw)
    except _Problem as problem:
        table = ".".join(problem.shown_table) if isinstance(problem.shown_table, tuple) else problem.shown_table
        where = f"[profiles.{name}]" if table is None else f"[profiles.{name}.{table}]"
        line = (problem.locate(text) if problem.locate and text else None) or find_line(
            text, name, problem.key, problem.table)
        if not line and problem.fallback:
            line = find_line(text, name, *problem.fallback)
        if not line and problem.table:  # an inline table (`env = { ... }`): the line of its key
            line = find_line(text, name, problem.table if isinstance(problem.table, str) else problem.table[0])
        raise ProfileFileError(path, f"{where}: {problem.message}", line) from None


def _check_type(key: str, value: object) -> None:
    if key not in PROFILE_KEYS:
        raise _Problem(key, f"unknown key {key!r}{did_you_mean(key, PROFILE_KEYS)}")
    if key in QUOTA_KEYS:
        return  # checked whole by _check_quota
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
    elif key == "token" and isinstance(value, list):
        # A key pool: the gateway moves to the next key when one is refused (docs/gateway.md, "Key pools").
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise _Problem(key, "token: a key pool must be a non-empty array of token references (strings)")
    elif not isinstance(value, str):
        raise _Problem(key, f"{key}: must be a string, not {_toml_type(value)}")


def _check_scalars(name: str, raw: Mapping[str, object]) -> None:
    auth = raw.get("auth")
    if auth is not None and auth not in AUTH_MODES:
        raise _Problem("auth", f"auth: {auth!r} is not one of {', '.join(AUTH_MODES)}{did_you_mean(str(auth), AUTH_MODES)}")
    api = raw.get("api")
    if api is not None and api not in APIS:
        raise _Problem("api", f"api: {api!r} is not one of {', '.join(APIS)}{did_you_mean(str(api), APIS)}")
    if api not in (None, ANTHROPIC) and raw.get("routes"):
        raise _Problem("api", "api: a profile with `routes` has no endpoint of its own; set `api` on the profiles it "
                              "routes to")
    base_url = raw.get("base_url")
    # A child that does not say its api inherits it: its parent's decides whether /v1 is wrong.
    speaks = api if api is not None else (None if raw.get("extends") else ANTHROPIC)
    problem = base_url_problem(base_url, speaks) if isinstance(base_url, str) else None
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
    references = token_references(token) if isinstance(token, (str, list)) else ()
    for index, ref in enumerate(references):
        where = f"token[{index}]" if isinstance(token, list) else "token"
        if ref.startswith(ENV_PREFIX) and not ENV_NAME_RE.match(ref[len(ENV_PREFIX) :]):
            raise _Problem("token", f"{where}: {ref!r} does not name an environment variable (write env:NAME; NAME of "
                                    "letters, digits and _)")
        if ref.startswith(CMD_PREFIX) and not ref[len(CMD_PREFIX) :].strip():
            raise _Problem("token", f"{where}: {ref!r} names no command (write cmd:COMMAND)")
        if ref in references[:index]:
            shown = ref if reference_kind(ref) != "literal" else "a plain-text key"
            raise _Problem("token", f"{where}: the pool names {shown} twice (a bare `keyring` is the profile's one "
                                    "entry: name others keyring:ENTRY)" if ref == KEYRING_REF else
                                    f"{where}: the pool names {shown} twice")


def _check_models(name: str, raw: Mapping[str, object]) -> None:
    """Model names go into claude's environment and argv, and the gateway's config: no control
    character (no model id has one; a NUL cannot even be passed to a process)."""
    model = raw.get("model")
    if isinstance(model, str) and re.search(_CONTROL, model):
        raise _Problem("model", f"model: {_control_at(model)}, which no model name holds")
    for tier, model in raw.get("models", {}).items():  # type: ignore[union-attr]
        if tier not in MODEL_VARIABLES:
            raise _Problem(tier, f"unknown model tier {tier!r}{did_you_mean(tier, tuple(MODEL_VARIABLES))}", "models")
        if not isinstance(model, str) or not model.strip():
            raise _Problem(tier, f"{tier}: must be a non-empty string (a model name)", "models")
        if re.search(_CONTROL, model):
            raise _Problem(tier, f"{tier}: {_control_at(model)}, which no model name holds", "models")
    for index, pattern in enumerate(raw.get("serves", ())):  # type: ignore[arg-type]
        if re.search(_CONTROL, pattern):
            raise _Problem("serves", f"serves[{index}]: {_control_at(pattern)}, which no model name holds")


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
        if "\0" in value:
            raise _Problem(var, f"{var}: character {value.index(chr(0)) + 1} is NUL, which no process environment can "
                                "carry", "env")


def _check_headers(name: str, raw: Mapping[str, object]) -> None:
    """A header goes on the wire (claude's ANTHROPIC_CUSTOM_HEADERS, the gateway, `test`): printable
    ASCII only, as for a token (tokens.unsendable_at): a control character would split or end the
    header, and a letter beyond ASCII is refused by httpx and sent by no provider's docs."""
    for header, value in raw.get("headers", {}).items():  # type: ignore[union-attr]
        if not _HEADER_NAME_RE.match(header):
            raise _Problem(header, f"{header!r} is not a valid HTTP header name", "headers")
        if not isinstance(value, str):
            raise _Problem(header, f"{header}: header values must be one-line strings", "headers")
        position = unsendable_at(value)
        if position is not None:
            raise _Problem(header, f"{header}: character {position} ({_shown(value[position - 1])}) cannot be sent in an "
                                   "HTTP header: a header value is one line of printable ASCII", "headers")


def _check_prices(name: str, raw: Mapping[str, object]) -> None:
    for model, entry in raw.get("prices", {}).items():  # type: ignore[union-attr]
        entries = entry if isinstance(entry, list) else [entry]
        if not entries or not all(isinstance(item, dict) for item in entries):
            raise _Problem(model, f"{model}: must be a price table (input, output, currency, ...) or an array of "
                                  "them", "prices")


def _check_numbers(name: str, raw: Mapping[str, object]) -> None:
    """TOML reads `nan` and `inf` as numbers; no number of a profile can be one (a price, a window):
    `usage` would print nan as a cost. The price entries' own format is usage.prices' (doctor checks
    it: health.doctor.price_check)."""
    for keys, value in _floats(raw, ()):
        if value != value or value in (float("inf"), float("-inf")):
            shown = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys)[1:]
            named = [str(k) for k in keys if isinstance(k, str)]
            problem = _Problem(named[-1], f"{shown}: {value!r} is not a number it can use", tuple(named[:-1]) or None)
            if any(isinstance(k, int) for k in keys):  # in an array of inline tables: the line of the array
                last = max(i for i, k in enumerate(keys) if isinstance(k, int))
                outer = [str(k) for k in keys[:last] if isinstance(k, str)]
                problem.fallback = (outer[-1], tuple(outer[:-1]) or None)
            problem.shown_table = None  # the message names the whole path
            raise problem


def _floats(value: object, keys: tuple[str | int, ...]):  # -> Iterator[tuple[keys, float]]
    if isinstance(value, float):
        yield keys, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _floats(item, (*keys, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _floats(item, (*keys, index))


def _check_openai(name: str, raw: Mapping[str, object]) -> None:
    for option, value in raw.get("openai", {}).items():  # type: ignore[union-attr]
        problem = option_problem(option, value)
        if problem:
            raise _Problem(option, problem, "openai")


def _check_quota(name: str, raw: Mapping[str, object]) -> None:
    if "quota" not in raw:
        return
    # Here, not at the top: only a profile with a quota pays for the window grammar (0.35 ms of
    # every `run` and `env`, whose profiles come checked from the cache).
    from ccswitch.profiles.quota import QuotaError, parse_quotas

    try:
        parse_quotas(raw["quota"])
    except QuotaError as error:
        index, key = error.index, error.key

        def locate(text: str) -> int | None:
            return _nth_table_line(text, name, "quota", index, key) if index is not None else None

        raise _Problem(key, str(error), "quota", locate) from None


def _nth_table_line(text: str, profile: str, table: str, index: int, key: str | None) -> int | None:
    """The line of `key` in the index-th `[[profiles.<profile>.<table>]]` (or its header); None
    when the array is written inline (`quota = [...]`: find_line finds that line)."""
    header = re.compile(r"\s*\[\[\s*profiles\s*\.\s*[\"']?" + re.escape(profile) + r"[\"']?\s*\.\s*" + re.escape(table)
                        + r"\s*\]\]")
    seen, found = -1, None
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            seen += 1
            if seen == index:
                found = number
            elif seen > index:
                break
            continue
        if line.lstrip().startswith("["):
            if found is not None:
                break
            continue
        if found is not None and key is not None and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return found


MAX_URL_LENGTH = 65_536  # httpx's own limit (URL too long), which the gateway and `test` send through


def base_url_problem(url: str, api: str | None = ANTHROPIC) -> str | None:
    """What is wrong with a base URL for a profile speaking `api` (None: not known here). An
    OpenAI-format base is the provider's own, as it documents it, and often ends in /v1 (requests go
    to base_url + /chat/completions); an Anthropic one never does (claude appends /v1/messages)."""
    if len(url) > MAX_URL_LENGTH:  # httpx refuses it ("URL too long"), and claude's requests would fail
        return f"{len(url):,} characters long: a URL has at most {MAX_URL_LENGTH:,}"
    lowered = url.lower()
    shown = redact.url(url)  # a credential in the URL is never echoed
    if not (lowered.startswith("http://") or lowered.startswith("https://")) or len(url.split("://", 1)[1]) == 0:
        return f"{shown!r} is not an http(s) URL"
    if shown != url:
        # claude sends no credential from ANTHROPIC_BASE_URL: it would reach no provider, only the
        # screens that show the URL (docs/claude-code.md, "Credentials and requests").
        return (f"{shown!r} holds a user name or password (before the @), which claude never sends; put the "
                "credential in `token` (with `auth`), and the URL without it")
    bad = re.search(_URL_FORBIDDEN, url)
    if bad:
        what = "a space" if bad.group() == " " else repr(bad.group())
        return f"{url!r} holds {what}, which a URL cannot hold (percent-encode it: {_percent(bad.group())})"
    host, port = host_and_port(url)
    if not host:
        return f"{url!r} names no host"
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return f"{url!r}: {port!r} is not a port number"
    if api == ANTHROPIC and lowered.rstrip("/").endswith("/v1"):
        return f"{url!r} ends in /v1, but claude appends /v1/messages itself; drop the /v1"
    return None


def host_and_port(url: str) -> tuple[str, str]:
    """The host of a URL as written (an IPv6 address in its brackets; "" when there is no scheme or
    the brackets are empty or never close) and its port text. By hand: urllib.parse and ipaddress
    would cost every launch 5 ms (bench/startup.py)."""
    _, separator, rest = url.partition("://")
    if not separator:
        return "", ""
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if authority.startswith("["):  # an IPv6 address: [::1]:8080
        end = authority.find("]")
        if end <= 1:
            return "", ""
        after = authority[end + 1:]  # a port after its colon; anything else is shown as a bad port
        return authority[: end + 1], after[1:] if after.startswith(":") else after
    host, _, port = authority.partition(":")
    return host, port


def _control_at(text: str) -> str:
    """Where the first control character of `text` is, in words (the text itself may be a secret)."""
    found = re.search(_CONTROL, text)
    assert found is not None
    return f"character {found.start() + 1} is a control character ({_shown(found.group())})"


def _shown(char: str) -> str:
    return "NUL" if char == "\0" else repr(char)


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


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
