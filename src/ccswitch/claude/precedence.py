"""Which setting wins: what a plain `claude` started here will use for every managed variable, why,
and what is in its way. The one implementation behind both `status` and `doctor`.

Claude merges the `env` blocks of its settings files key by key, highest first: managed settings,
project `.claude/settings.local.json`, project `.claude/settings.json`, user settings (or
$CLAUDE_CONFIG_DIR/settings.json), and only then the shell environment. A settings value of ""
still wins (and counts as unset), which is how a profile blanks a shell export.

`analyze` is pure (parsed data in, plain dicts out). `gather` is the only part that reads files,
from an env and a working directory it is given. Each warning carries a stable `code` (scripts and
`doctor` act on it), a `level` ("warn" or "fail", which `doctor` reports), the message and a
one-line `fix`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccswitch.claude import settings as claude_settings
from ccswitch.claude.sources import (
    SHELL,
    Source,
    load_sources,
    rank,
    resolve,
    settings_files,
)
from ccswitch.claude.state import LOGIN_KEYS
from ccswitch.claude.variables import (
    API_KEY,
    AUTH_TOKEN,
    BASE_URL_VARIABLES,
    CREDENTIAL_VARIABLES,
    MANAGED_VARIABLES,
)
from ccswitch.profiles.tokens import mask

# The scope `ccswitch use --scope` writes -> the source it is.
SCOPE_SOURCE = {"user": "user", "project": "project-local"}
WARN, FAIL = "warn", "fail"
AUTH_FIX = "keep one: unset or blank the other (a ccswitch profile blanks the one it does not use)"


class Situation:
    """Everything the analysis needs from disk and the environment, for `status` and `doctor`."""

    __slots__ = ("sources", "active", "claude_state", "claude_state_path", "claude_state_error", "claude_state_exists")

    def __init__(self, sources: list[Source], active: Mapping[str, Mapping[str, object] | None], claude_state: dict | None,
                 claude_state_path: str, claude_state_error: str | None, claude_state_exists: bool) -> None:
        self.sources = sources
        self.active = active
        self.claude_state = claude_state
        self.claude_state_path = claude_state_path
        self.claude_state_error = claude_state_error
        self.claude_state_exists = claude_state_exists

    def analyze(self) -> dict[str, object]:
        return analyze(self.sources, self.active, self.claude_state, self.claude_state_path)


def gather(env: Mapping[str, str], cwd: str) -> Situation:
    from ccswitch import paths
    from ccswitch.switching.records import active_records

    sources = load_sources(settings_files(env, cwd), env)
    active = active_records(paths.state_dir(env), paths.claude_user_settings(env), cwd)
    state_path = paths.claude_state_file(env)
    state, state_error, state_exists = claude_settings.read_object(state_path)
    return Situation(sources, active, state, state_path, state_error, state_exists)


def _show(variable: str, value: str | None) -> str | None:
    if value is None:
        return None
    return mask(value) if variable in CREDENTIAL_VARIABLES and value else value


def analyze(
    sources: Sequence[Source],
    active: Mapping[str, Mapping[str, object] | None],
    claude_state: Mapping[str, object] | None = None,
    claude_state_path: str | None = None,
    variables: Sequence[str] = MANAGED_VARIABLES,
) -> dict[str, object]:
    """Everything `status` shows and `doctor` checks: effective values (tokens masked), their
    sources, the active profiles, and the warnings.

    `active` maps a scope ("user", "project") to ccswitch's record of the profile `use` put there.
    """
    by_name = {s.name: s for s in sources}
    rows = []
    effective: dict[str, tuple[Source | None, str]] = {}
    for variable in variables:
        winner, value, shadowed = resolve(variable, sources)
        effective[variable] = (winner, value or "")
        rows.append(
            {
                "name": variable,
                "value": _show(variable, value),
                "set": bool(value),
                "source": winner.name if winner else None,
                "path": winner.path if winner else None,
                "shadowed": [{"source": s.name, "value": _show(variable, s.env[variable])} for s in shadowed],
            }
        )

    def value_of(variable: str) -> str:
        return effective[variable][1] if variable in effective else (resolve(variable, sources)[1] or "")

    def winner_of(variable: str) -> Source | None:
        return effective[variable][0] if variable in effective else resolve(variable, sources)[0]

    def where(variable: str) -> str:
        winner = winner_of(variable)
        return winner.label if winner else "nowhere"

    model, model_source = _session_model(sources, value_of("ANTHROPIC_MODEL"), winner_of("ANTHROPIC_MODEL"))
    warnings: list[dict[str, str]] = []

    def warn(code: str, level: str, message: str, fix: str) -> None:
        warnings.append({"code": code, "level": level, "message": message, "fix": fix})

    for source in sources:
        if source.error:
            warn("unreadable", FAIL, f"{source.label}: {source.error} (claude cannot use this file as it is)",
                 "fix the file: claude ignores or rejects settings it cannot parse")

    # A higher source that overrides what `ccswitch use` put into a lower one.
    active_rows = {}
    reported: dict[str, set[str]] = {}  # source name -> variables already named in an override warning
    for scope, record in active.items():
        if not record:
            active_rows[scope] = None
            continue
        source = by_name.get(SCOPE_SOURCE.get(scope, scope))
        changed = claude_settings.changed_since(source.data, record) if source else []
        active_rows[scope] = {"profile": record.get("profile"), "path": record.get("settings_path"),
                              "since": record.get("applied_at"), "changed": changed}
        if source is None:
            continue
        overridden: dict[str, list[str]] = {}
        for variable, entry in (record.get("env") or {}).items():  # type: ignore[union-attr]
            winner, value = winner_of(variable), value_of(variable)
            if winner is not None and rank(winner.name) < rank(source.name) and claude_settings.digest(value) != entry.get("written"):
                overridden.setdefault(winner.name, []).append(variable)
        for name, names in overridden.items():
            reported.setdefault(name, set()).update(names)
            higher = by_name[name]
            warn("override", WARN, f"{higher.label} overrides the active profile {record.get('profile')!r} ({source.label}) for "
                                   f"{', '.join(names)}",
                 f"remove {', '.join(names)} from {higher.where_to_fix()}" if name != "managed"
                 else "ask whoever manages this machine; ccswitch cannot override managed settings")
        written_model = (record.get("top") or {}).get("model")
        if written_model and model_source is not None and model_source is not source \
                and rank(model_source.name) < rank(source.name) \
                and claude_settings.digest(model["value"]) != written_model.get("written"):
            via = "ANTHROPIC_MODEL" if value_of("ANTHROPIC_MODEL") else '"model"'
            warn("override", WARN, f"{model['source']} sets the model to {model['value']!r}, overriding the active profile "
                                   f"{record.get('profile')!r}",
                 f"remove {via} from {model_source.where_to_fix()}")

    # Managed settings beat everything, profiles included (what an override warning named is not repeated).
    managed = by_name.get("managed")
    if managed is not None:
        owned = [v for v in variables if v in managed.env and v not in reported.get("managed", set())]
        if owned:
            warn("managed", WARN, f"{managed.path} sets {', '.join(owned)}: no profile or settings file can change them",
                 "ask whoever manages this machine; ccswitch cannot override managed settings")

    shell = by_name.get(SHELL)
    token, api_key = value_of(AUTH_TOKEN), value_of(API_KEY)
    shell_api_key = bool(shell and shell.env.get(API_KEY) and token)
    if shell_api_key:
        if winner_of(API_KEY) is shell:
            warn("shell-api-key", WARN, "ANTHROPIC_API_KEY from your shell is sent beside the ANTHROPIC_AUTH_TOKEN from "
                                        f"{where(AUTH_TOKEN)}: claude sends both headers; unset it in your shell profile",
                 "unset ANTHROPIC_API_KEY in your shell profile")
        else:
            warn("shell-api-key", WARN, f"your shell exports ANTHROPIC_API_KEY, but {where(API_KEY)} blanks it for claude; "
                                        "other tools still see it (unset it if it is stale)",
                 "unset ANTHROPIC_API_KEY in your shell profile")
    # A variable exported in the shell loses to the same key in any settings file (Claude Code 2.0+).
    if shell is not None:
        for variable in variables:
            value = shell.env.get(variable)
            if not value or (variable == API_KEY and shell_api_key):
                continue
            winner = winner_of(variable)
            if winner is not None and winner is not shell and winner.env[variable] != value:
                shown = "blanks it" if winner.env[variable] == "" else "sets another value"
                warn("shell-overridden", WARN, f"${variable} from your shell is overridden: {winner.where()} {shown}",
                     f"remove {variable} from {winner.path}, or let `ccswitch run`/`use` own it")

    # Both auth variables: claude sends both headers and warns of an auth conflict.
    pair_source = winner_of(AUTH_TOKEN) if token and api_key and winner_of(AUTH_TOKEN) is winner_of(API_KEY) else None
    for source in sources:
        if source.env.get(AUTH_TOKEN) and source.env.get(API_KEY):
            warn("both-auth", FAIL if source is pair_source else WARN,
                 f"{source.label} sets both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY: keep only one", AUTH_FIX)
    if token and api_key and pair_source is None:
        warn("both-auth", FAIL,
             f"claude will send both auth headers: ANTHROPIC_AUTH_TOKEN ({winner_of(AUTH_TOKEN).where()}) and "  # type: ignore[union-attr]
             f"ANTHROPIC_API_KEY ({winner_of(API_KEY).where()}) are both set; the gateway may reject or bill the wrong one",  # type: ignore[union-attr]
             AUTH_FIX)

    # ANTHROPIC_SMALL_FAST_MODEL is deprecated but still read first for background requests.
    small_fast = value_of("ANTHROPIC_SMALL_FAST_MODEL")
    haiku = value_of("ANTHROPIC_DEFAULT_HAIKU_MODEL")
    if small_fast and small_fast != haiku:
        warn("stale-small-fast-model", WARN,
             f"ANTHROPIC_SMALL_FAST_MODEL={small_fast} (from {where('ANTHROPIC_SMALL_FAST_MODEL')}) is deprecated "
             "but still read first for background requests"
             + (f", ahead of ANTHROPIC_DEFAULT_HAIKU_MODEL={haiku}" if haiku else " (ANTHROPIC_DEFAULT_HAIKU_MODEL is unset)")
             + "; remove it unless this provider serves that model",
             f"remove ANTHROPIC_SMALL_FAST_MODEL from {winner_of('ANTHROPIC_SMALL_FAST_MODEL').where_to_fix()}; "  # type: ignore[union-attr]
             "set the haiku tier instead")

    # A base URL ending in /v1 sends requests to /v1/v1/messages.
    for variable in BASE_URL_VARIABLES:
        value = value_of(variable)
        if value.rstrip("/").lower().endswith("/v1"):
            source = winner_of(variable)
            warn("base-url-v1", FAIL, f"{variable}={value} ({source.where()}) ends in /v1: claude appends "  # type: ignore[union-attr]
                                      "/v1/messages itself, so requests go to /v1/v1/messages",
                 f"drop the trailing /v1 in {source.where_to_fix()}")  # type: ignore[union-attr]

    # A saved claude.ai / Console login beside a gateway credential or endpoint. Not only beside a
    # base URL: with a saved login, interactive claude asks whether to use ANTHROPIC_API_KEY and
    # defaults to "No" (shared/claude-code.md), so a key alone already conflicts with the login.
    if isinstance(claude_state, Mapping):
        saved = [key for key in LOGIN_KEYS if claude_state.get(key)]
        gateway = [v for v in (AUTH_TOKEN, API_KEY, "ANTHROPIC_BASE_URL") if value_of(v)]
        if saved and gateway:
            warn("saved-login", WARN,
                 f"{claude_state_path or '.claude.json'} holds a saved claude.ai login ({', '.join(saved)}) beside "
                 f"{'; '.join(f'{v} from {winner_of(v).where()}' for v in gateway)}: "  # type: ignore[union-attr]
                 "claude warns of an auth conflict",
                 "run `claude /logout` if you no longer use that login, or keep the gateway to `ccswitch run`")

    return {
        "sources": [
            {"name": s.name, "label": s.label, "path": s.path, "exists": s.exists, "error": s.error}
            for s in sources if s.name != SHELL
        ],
        "active": active_rows,
        "variables": rows,
        "model": model,
        "warnings": warnings,
    }


def _session_model(sources: Sequence[Source], env_model: str, env_model_source: Source | None) -> tuple[dict[str, object], Source | None]:
    """`--model` aside: ANTHROPIC_MODEL (non-blank) beats the `model` key of the highest settings file."""
    if env_model and env_model_source is not None:
        return {"value": env_model, "source": env_model_source.label + " ANTHROPIC_MODEL"}, env_model_source
    for source in sources:
        if source.name != SHELL and isinstance(source.data.get("model"), str):
            return {"value": source.data["model"], "source": f'{source.label} "model"'}, source
    return {"value": None, "source": "claude's built-in default"}, None
