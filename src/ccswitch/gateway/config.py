"""The gateway's configuration: a plain JSON-able dict, validated into `GatewayConfig`.

The launcher builds the dict (tokens already resolved) and sends it over the child's stdin; the
contract is written out in the package docstring (`ccswitch/gateway/__init__.py`). Every mistake is
one `GatewayConfigError` whose message names the key (`upstreams.kimi.base_url: ...`) and never a
token's value.

Stdlib only, and no dataclasses: the launcher validates the config in its own process before it
spawns anything (a bad config starts nothing), and that process is on claude's start-up path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccswitch.claude.models import TIERS
from ccswitch.profiles.apis import (
    ANTHROPIC,
    APIS,
    is_translated,
    option_problem,
    options_with_defaults,
)
from ccswitch.profiles.quota import Quota, QuotaError, parse_quotas

CONFIG_VERSION = 1
AUTH_MODES = ("bearer", "x-api-key", "none")

# A profile name as profiles.py allows it: no ':' so `PROFILE::MODEL` splits unambiguously.
_NAME_RE = re.compile(r"[A-Za-z0-9._-]+\Z")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# Header values and the session key go on the wire: no control characters (header injection).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_KEY_RE = re.compile(r"[\x21-\x7e]{16,512}\Z")

# Headers a profile's `headers` may not set: the gateway owns credentials and framing.
RESERVED_HEADERS = frozenset(
    {"authorization", "x-api-key", "host", "content-length", "content-encoding", "transfer-encoding", "connection"}
)

TOP_KEYS = frozenset(
    {"version", "session", "key", "listen", "allow_remote", "records", "parent_pid", "timeouts", "breaker",
     "upstreams", "tiers", "remove_on_exit"}
)
UPSTREAM_KEYS = frozenset({"base_url", "auth", "token", "tokens", "headers", "models", "serves", "fallback", "supports_1m",
                           "api", "openai", "quota"})

# Seconds (docs/gateway.md, "Timeouts"). `first_byte` bounds connect + headers + the first chunk of a
# streaming answer, so a stuck upstream fails over long before claude's own timeouts. A non-streaming
# answer is silent until it is whole: after `first_byte` without a status line a tiny probe asks
# whether the upstream is at work (then it has `response` in all) or dead (fail over). `idle` is the
# longest silence tolerated mid-stream: well under claude's own (300 s), so that the stream ends with
# an error event and claude's retry goes to the next upstream long before claude would give up.
DEFAULT_TIMEOUTS = {"connect": 10.0, "first_byte": 60.0, "response": 600.0, "idle": 90.0}
# Consecutive failures that open an upstream's circuit, the first cooldown, and its cap (doubling).
DEFAULT_BREAKER = {"failures": 3, "cooldown": 30.0, "max_cooldown": 300.0}


class GatewayConfigError(ValueError):
    """The config dict is wrong: one line naming the key. Exit status 2 (a usage error)."""

    exit_status = 2


class Upstream:
    """One profile the gateway can send requests to, with its resolved token (or key pool)."""

    __slots__ = ("name", "base_url", "auth", "token", "headers", "models", "serves", "fallback", "supports_1m", "api",
                 "openai", "keys", "quotas")

    def __init__(self, name: str, base_url: str, auth: str, token: str | None, headers: dict[str, str],
                 models: dict[str, str], serves: tuple[str, ...], fallback: tuple[str, ...], supports_1m: bool,
                 api: str = ANTHROPIC, openai: dict[str, object] | None = None,
                 keys: tuple[tuple[int | None, str], ...] | None = None, quotas: tuple[Quota, ...] = ()) -> None:
        self.name = name
        self.base_url = base_url
        self.auth = auth
        self.token = token  # a pool's first key
        # Every key: (index in the profile's pool, key) for a pool, (None, token) for a single token.
        self.keys = keys if keys is not None else (((None, token),) if token else ())
        self.headers = headers
        self.models = models
        self.serves = serves
        self.fallback = fallback
        self.supports_1m = supports_1m
        self.api = api  # the format it speaks: anthropic (relayed as is) or an OpenAI one (translated)
        self.openai = openai or {}  # for an OpenAI format: every option, defaults filled in (profiles/apis.py)
        self.quotas = quotas  # its quota windows: those with a limit are counted (gateway/quota.py)

    def __repr__(self) -> str:  # never the token
        return f"Upstream(name={self.name!r}, base_url={self.base_url!r}, auth={self.auth!r}, api={self.api!r})"


class GatewayConfig:
    __slots__ = ("session", "key", "listen", "allow_remote", "records", "parent_pid", "remove_on_exit", "timeouts", "breaker",
                 "upstreams", "tiers")

    def __init__(self, **fields: object) -> None:
        for slot in self.__slots__:
            setattr(self, slot, fields[slot])

    def __repr__(self) -> str:  # never the key or a token
        return f"GatewayConfig(session={self.session!r}, upstreams={list(self.upstreams)!r}, tiers={self.tiers!r})"

    @classmethod
    def from_dict(cls, data: object) -> GatewayConfig:
        """Validate `data` (as documented in the package docstring); raise GatewayConfigError."""
        data = _mapping(data, "config")
        _no_unknown_keys(data, TOP_KEYS, "")
        version = data.get("version", CONFIG_VERSION)
        if version != CONFIG_VERSION:
            raise GatewayConfigError(f"version: {version!r} is not supported (this gateway reads {CONFIG_VERSION})")
        # Checked in the order the keys are documented, so the first mistake is the one reported.
        fields: dict[str, object] = {
            "session": _string(data.get("session"), "session"),
            "key": _key(data.get("key")),
            "allow_remote": _bool(data.get("allow_remote", False), "allow_remote"),
        }
        fields["listen"] = _listen(data.get("listen"), fields["allow_remote"])
        fields["records"] = _optional_string(data.get("records"), "records")
        fields["parent_pid"] = _parent_pid(data.get("parent_pid"))
        # Files of the session (claude's --settings file) that the gateway removes when it ends.
        fields["remove_on_exit"] = _string_list(data.get("remove_on_exit", []), "remove_on_exit")
        fields["timeouts"] = _numbers(data.get("timeouts"), DEFAULT_TIMEOUTS, "timeouts")
        fields["breaker"] = _numbers(data.get("breaker"), DEFAULT_BREAKER, "breaker")
        fields["upstreams"] = upstreams = _upstreams(data.get("upstreams"))
        fields["tiers"] = _tiers(data.get("tiers"), upstreams)
        return cls(**fields)


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise GatewayConfigError(f"{where}: must be an object, not {type(value).__name__}")
    return value


def _no_unknown_keys(data: Mapping[str, object], known: frozenset[str], where: str) -> None:
    unknown = sorted(k for k in data if k not in known)
    if unknown:
        raise GatewayConfigError(f"{where}{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise GatewayConfigError(f"{where}: must be a non-empty string")
    if _CONTROL_RE.search(value):
        raise GatewayConfigError(f"{where}: must not contain control characters")
    return value


def _optional_string(value: object, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise GatewayConfigError(f"{where}: must be true or false")
    return value


def _int(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise GatewayConfigError(f"{where}: must be an integer")
    return value


def _key(value: object) -> str:
    if not isinstance(value, str) or not _KEY_RE.match(value):
        # Never echo the value: it is the session's credential.
        raise GatewayConfigError("key: must be 16-512 printable ASCII characters without spaces")
    return value


def _parent_pid(value: object) -> int | None:
    if value is None:
        return None
    pid = _int(value, "parent_pid")
    if pid <= 1:
        raise GatewayConfigError(f"parent_pid: {pid} is not a parent to watch")
    return pid


def _listen(value: object, allow_remote: bool) -> dict[str, object] | None:
    """{"fd": N} (a socket already listening, inherited) or {"host": H, "port": P}; None until spawn sets it."""
    if value is None:
        return None
    listen = _mapping(value, "listen")
    if "fd" in listen:
        _no_unknown_keys(listen, frozenset({"fd"}), "listen.")
        fd = _int(listen["fd"], "listen.fd")
        if fd < 0:
            raise GatewayConfigError("listen.fd: must be a file descriptor (>= 0)")
        return {"fd": fd}
    _no_unknown_keys(listen, frozenset({"host", "port"}), "listen.")
    host = _string(listen.get("host", "127.0.0.1"), "listen.host")
    port = _int(listen.get("port"), "listen.port")
    if not 0 <= port <= 65535:
        raise GatewayConfigError(f"listen.port: {port} is not a TCP port")
    if not allow_remote and not _is_loopback(host):
        raise GatewayConfigError(f"listen.host: {host!r} is not a loopback address; set allow_remote to listen there")
    return {"host": host, "port": port}


def _is_loopback(host: str) -> bool:
    if host in ("127.0.0.1", "localhost"):  # what every session's gateway listens on
        return True
    import ipaddress  # 1.2 ms, and only for a host given by hand (`ccswitch gateway --host`)

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _numbers(value: object, defaults: Mapping[str, float], where: str) -> dict[str, float]:
    result = dict(defaults)
    if value is None:
        return result
    for name, number in _mapping(value, where).items():
        if name not in defaults:
            raise GatewayConfigError(f"{where}.{name}: unknown key (known: {', '.join(defaults)})")
        if not isinstance(number, (int, float)) or isinstance(number, bool) or not number > 0:
            raise GatewayConfigError(f"{where}.{name}: must be a positive number")
        result[name] = number
    return result


def _upstreams(value: object) -> dict[str, Upstream]:
    upstreams = _mapping(value, "upstreams")
    if not upstreams:
        raise GatewayConfigError("upstreams: at least one profile is needed")
    result = {}
    for name, raw in upstreams.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise GatewayConfigError(f"upstreams: bad profile name {name!r} (letters, digits, '.', '_', '-')")
        result[name] = _upstream(name, _mapping(raw, f"upstreams.{name}"))
    for upstream in result.values():
        _check_fallback(upstream, result)
    return result


def _upstream(name: str, raw: Mapping[str, object]) -> Upstream:
    where = f"upstreams.{name}"
    _no_unknown_keys(raw, UPSTREAM_KEYS, f"{where}.")
    auth = raw.get("auth", "bearer")
    if auth not in AUTH_MODES:
        raise GatewayConfigError(f"{where}.auth: {auth!r} is not one of {', '.join(AUTH_MODES)}")
    token, keys = _credentials(raw, where, str(auth))
    api = raw.get("api", ANTHROPIC)
    if api not in APIS:
        raise GatewayConfigError(f"{where}.api: {api!r} is not one of {', '.join(APIS)}")
    return Upstream(
        name=name,
        base_url=_base_url(raw.get("base_url"), f"{where}.base_url", str(api)),
        auth=str(auth),
        token=token,
        headers=_headers(raw.get("headers"), f"{where}.headers"),
        models=_models(raw.get("models"), f"{where}.models"),
        serves=tuple(_string_list(raw.get("serves"), f"{where}.serves")),
        fallback=tuple(_string_list(raw.get("fallback"), f"{where}.fallback")),
        supports_1m=_bool(raw.get("supports_1m", False), f"{where}.supports_1m"),
        api=str(api),
        openai=_openai_options(raw.get("openai"), f"{where}.openai", str(api)),
        keys=keys,
        quotas=_quotas(raw.get("quota"), f"{where}."),
    )


def _credentials(raw: Mapping[str, object], where: str, auth: str) -> tuple[str | None, tuple[tuple[int | None, str], ...]]:
    """(first key, every key) from `token` (one key) or `tokens` (a pool: [[index, key], ...], the
    index being the key's place in the profile's array, which records name). Never echoes a key."""
    if "token" in raw and "tokens" in raw:
        raise GatewayConfigError(f"{where}: give token (one key) or tokens (a pool), not both")
    if auth == "none":
        return None, ()
    if "tokens" not in raw:
        token = raw.get("token")
        if not _usable_key(token):
            raise GatewayConfigError(f"{where}.token: auth {auth!r} needs a non-empty token without control characters")
        return token, ((None, token),)
    pool = raw["tokens"]
    if not isinstance(pool, (list, tuple)) or not pool:
        raise GatewayConfigError(f"{where}.tokens: must be a non-empty list of [index, key] pairs")
    keys, seen = [], set()
    for at, pair in enumerate(pool):
        index, key = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0 or not _usable_key(key):
            raise GatewayConfigError(f"{where}.tokens[{at}]: must be [index, key]: an index from 0 and a non-empty key "
                                     "without control characters")
        if index in seen:
            raise GatewayConfigError(f"{where}.tokens[{at}]: index {index} is given twice")
        seen.add(index)
        keys.append((index, key))
    return keys[0][1], tuple(keys)


def _usable_key(key: object) -> bool:
    return isinstance(key, str) and bool(key) and not _CONTROL_RE.search(key)


def _quotas(value: object, where: str) -> tuple[Quota, ...]:
    """The profile's quota windows in force (profiles/quota.py's format). Those with a limit are
    counted; any window makes the records note which of the profile's requests were prompts."""
    if value is None:
        return ()
    try:
        quotas = parse_quotas(value)
    except QuotaError as error:  # "quota[1].window: ...": the key is named, no value is secret
        raise GatewayConfigError(f"{where}{error}") from None
    return tuple(quotas)


def _openai_options(value: object, where: str, api: str) -> dict[str, object]:
    if value is None:
        return options_with_defaults({}) if is_translated(api) else {}
    options = dict(_mapping(value, where))
    if not is_translated(api) and options:
        raise GatewayConfigError(f"{where}: options of an OpenAI-format upstream, but its api is {api!r}")
    for name, option in options.items():
        problem = option_problem(name, option)
        if problem:
            raise GatewayConfigError(f"{where}.{problem}")
    return options_with_defaults(options)


def _base_url(value: object, where: str, api: str = ANTHROPIC) -> str:
    url = _string(value, where)
    if not re.match(r"https?://[^/\s]+", url):
        raise GatewayConfigError(f"{where}: {url!r} is not an http(s) URL")
    url = url.rstrip("/")
    if api == ANTHROPIC and url.endswith("/v1"):
        # The request path (/v1/messages) is appended: a /v1 base would send /v1/v1/messages.
        raise GatewayConfigError(f"{where}: {url!r} ends in /v1; give the URL without it")
    return url


def _headers(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    headers = {}
    for name, text in _mapping(value, where).items():
        if not isinstance(name, str) or not _HEADER_NAME_RE.match(name):
            raise GatewayConfigError(f"{where}: bad header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise GatewayConfigError(f"{where}.{name}: the gateway sets this header itself")
        if not isinstance(text, str) or _CONTROL_RE.search(text):
            raise GatewayConfigError(f"{where}.{name}: must be a string without control characters")
        headers[name] = text
    return headers


def _models(value: object, where: str) -> dict[str, str]:
    models = _mapping(value, where)
    _no_unknown_keys(models, frozenset(TIERS), f"{where}.")
    for tier in TIERS:
        if tier not in models:
            raise GatewayConfigError(f"{where}.{tier}: missing (every tier needs a model; the launcher fills borrowed tiers)")
    return {tier: _string(models[tier], f"{where}.{tier}") for tier in TIERS}


def _string_list(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise GatewayConfigError(f"{where}: must be a list of strings")
    return [_string(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _check_fallback(upstream: Upstream, upstreams: Mapping[str, Upstream]) -> None:
    where = f"upstreams.{upstream.name}.fallback"
    seen = set()
    for name in upstream.fallback:
        if name == upstream.name:
            raise GatewayConfigError(f"{where}: fallback cycle: {name!r} falls back to itself")
        if name not in upstreams:
            raise GatewayConfigError(f"{where}: unknown profile {name!r} (known: {', '.join(upstreams)})")
        if name in seen:
            raise GatewayConfigError(f"{where}: {name!r} is listed twice")
        seen.add(name)


def _tiers(value: object, upstreams: Mapping[str, Upstream]) -> dict[str, str]:
    tiers = _mapping(value, "tiers")
    _no_unknown_keys(tiers, frozenset(TIERS), "tiers.")
    result = {}
    for tier in TIERS:
        name = tiers.get(tier)
        if not name:
            raise GatewayConfigError(f"tiers.{tier}: routed to no profile (every tier needs one)")
        if name not in upstreams:
            raise GatewayConfigError(f"tiers.{tier}: unknown profile {name!r} (known: {', '.join(upstreams)})")
        result[tier] = str(name)
    return result
