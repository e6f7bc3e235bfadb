"""Which setting wins: what a plain `claude` started here will use for every managed variable, and why.

Claude merges the `env` blocks of its settings files key by key, highest first: managed settings,
project `.claude/settings.local.json`, project `.claude/settings.json`, user settings (or
$CLAUDE_CONFIG_DIR/settings.json), and only then the shell environment. A settings value of ""
still wins (and counts as unset), which is how a profile blanks a shell export.

`analyze` is pure (parsed data in, plain dicts out) so that `status` and `doctor` share it;
`load_sources` is the only part that reads files, from paths it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccswitch import claude_settings
from ccswitch.profiles import CREDENTIAL_VARIABLES, MANAGED_VARIABLES
from ccswitch.secrets import mask

# Highest precedence first; the shell is always last.
SETTINGS_SOURCES = ("managed", "project-local", "project", "user")
SHELL = "shell"
LABELS = {
    "managed": "managed settings",
    "project-local": "project settings.local.json",
    "project": "project settings.json",
    "user": "user settings",
    SHELL: "shell environment",
}
# The scope `ccswitch use --scope` writes -> the source it is.
SCOPE_SOURCE = {"user": "user", "project": "project-local"}


class Source:
    """One place claude reads settings from, already loaded."""

    __slots__ = ("name", "path", "data", "error", "exists")

    def __init__(self, name: str, path: str | None, data: Mapping[str, object] | None, error: str | None = None,
                 exists: bool = True) -> None:
        self.name = name
        self.path = path
        self.data = data or {}
        self.error = error
        self.exists = exists

    @property
    def env(self) -> Mapping[str, str]:
        env = self.data.get("env") if self.name != SHELL else self.data
        return env if isinstance(env, Mapping) else {}

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)


def load_sources(settings_paths: Sequence[tuple[str, str]], shell_env: Mapping[str, str]) -> list[Source]:
    """Read each (name, path) — highest precedence first — and append the shell. Never raises for a bad file."""
    sources = []
    for name, path in settings_paths:
        try:
            data, _, exists = claude_settings.read(path)
        except claude_settings.SettingsFileError as exc:
            sources.append(Source(name, path, None, exc.message))
            continue
        sources.append(Source(name, path, data, exists=exists))
    sources.append(Source(SHELL, None, dict(shell_env)))
    return sources


def _show(variable: str, value: str | None) -> str | None:
    if value is None:
        return None
    return mask(value) if variable in CREDENTIAL_VARIABLES and value else value


def resolve(variable: str, sources: Sequence[Source]) -> tuple[Source | None, str | None, list[Source]]:
    """(winning source, its value, lower sources it shadows). The first source that has the key wins."""
    having = [s for s in sources if variable in s.env]
    if not having:
        return None, None, []
    return having[0], str(having[0].env[variable]), having[1:]


def _rank(name: str) -> int:
    order = (*SETTINGS_SOURCES, SHELL)
    return order.index(name) if name in order else len(order)


def analyze(
    sources: Sequence[Source],
    active: Mapping[str, Mapping[str, object] | None],
    claude_state: Mapping[str, object] | None = None,
    claude_state_path: str | None = None,
    variables: Sequence[str] = MANAGED_VARIABLES,
) -> dict[str, object]:
    """Everything `status` shows: effective values (tokens masked), their sources, active profiles, warnings.

    `active` maps a scope ("user", "project") to ccswitch's record of the profile `use` put there.
    """
    by_name = {s.name: s for s in sources}
    rows = []
    effective: dict[str, tuple[Source | None, str | None]] = {}
    for variable in variables:
        winner, value, shadowed = resolve(variable, sources)
        effective[variable] = (winner, value)
        rows.append(
            {
                "name": variable,
                "value": _show(variable, value),
                "set": bool(value),
                "source": winner.name if winner else None,
                "path": winner.path if winner else None,
                "shadowed": [{"source": s.name, "value": _show(variable, str(s.env[variable]))} for s in shadowed],
            }
        )

    def value_of(variable: str) -> str:
        return effective.get(variable, (None, None))[1] or ""

    def where(variable: str) -> str:
        winner = effective.get(variable, (None, None))[0]
        return winner.label if winner else "nowhere"

    model = _session_model(sources, value_of("ANTHROPIC_MODEL"), where("ANTHROPIC_MODEL"))
    # Each warning carries a stable code, so `doctor` can act on them and scripts can filter them.
    warnings: list[dict[str, str]] = []

    def warn(code: str, message: str) -> None:
        warnings.append({"code": code, "message": message})

    for source in sources:
        if source.error:
            warn("unreadable", f"{source.label}: {source.error} (claude cannot use this file as it is)")

    # A higher source that overrides what `ccswitch use` put into a lower one.
    active_rows = {}
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
            winner, value = effective.get(variable) or resolve(variable, sources)[:2]
            if winner is not None and _rank(winner.name) < _rank(source.name) and claude_settings.digest(value) != entry.get("written"):
                overridden.setdefault(winner.label, []).append(variable)
        for label, names in overridden.items():
            warn("override", f"{label} overrides the active profile {record.get('profile')!r} ({source.label}) for "
                            f"{', '.join(names)}")
        if (record.get("top") or {}).get("model") and model["source"] != source.label + ' "model"':
            if _rank_of_label(model["source"]) < _rank(source.name):
                warn("override", f"{model['source']} sets the model to {model['value']!r}, overriding the active profile "
                                f"{record.get('profile')!r}")

    shell = by_name.get(SHELL)
    token = value_of("ANTHROPIC_AUTH_TOKEN")
    api_key = value_of("ANTHROPIC_API_KEY")
    if shell and shell.env.get("ANTHROPIC_API_KEY") and token:
        if where("ANTHROPIC_API_KEY") == LABELS[SHELL]:
            warn("shell-api-key", "ANTHROPIC_API_KEY from your shell is sent beside the ANTHROPIC_AUTH_TOKEN from "
                            f"{where('ANTHROPIC_AUTH_TOKEN')}: claude sends both headers; unset it in your shell profile")
        else:
            warn("shell-api-key", f"your shell exports ANTHROPIC_API_KEY, but {where('ANTHROPIC_API_KEY')} blanks it for claude; "
                            "other tools still see it (unset it if it is stale)")
    for source in sources:
        if source.env.get("ANTHROPIC_AUTH_TOKEN") and source.env.get("ANTHROPIC_API_KEY"):
            warn("both-auth", f"{source.label} sets both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY: keep only one")
    if token and api_key:
        warn("both-auth", f"claude will send both auth headers (ANTHROPIC_AUTH_TOKEN from {where('ANTHROPIC_AUTH_TOKEN')}, "
                        f"ANTHROPIC_API_KEY from {where('ANTHROPIC_API_KEY')}): the gateway may reject or bill the wrong one")
    small_fast = value_of("ANTHROPIC_SMALL_FAST_MODEL")
    haiku = value_of("ANTHROPIC_DEFAULT_HAIKU_MODEL")
    if small_fast and small_fast != haiku:
        warn("stale-small-fast-model", f"ANTHROPIC_SMALL_FAST_MODEL={small_fast} (from {where('ANTHROPIC_SMALL_FAST_MODEL')}) is deprecated "
                        "but still read first for background requests"
                        + (f", ahead of ANTHROPIC_DEFAULT_HAIKU_MODEL={haiku}" if haiku else "")
                        + "; remove it unless this provider serves that model")
    base_url = value_of("ANTHROPIC_BASE_URL")
    if base_url.rstrip("/").lower().endswith("/v1"):
        warn("base-url-v1", f"ANTHROPIC_BASE_URL={base_url} (from {where('ANTHROPIC_BASE_URL')}) ends in /v1: claude appends "
                        "/v1/messages itself, so requests go to /v1/v1/messages; drop the /v1")
    if claude_state and base_url and (token or api_key):
        saved = [key for key in ("oauthAccount", "primaryApiKey") if claude_state.get(key)]
        if saved:
            warn("saved-login", f"{claude_state_path or '.claude.json'} holds a saved claude.ai login ({', '.join(saved)}) "
                            f"beside the gateway token from {where('ANTHROPIC_AUTH_TOKEN' if token else 'ANTHROPIC_API_KEY')}: "
                            "claude reports an auth conflict; run `claude /logout` or use `ccswitch run` for the gateway")

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


def _rank_of_label(label: str) -> int:
    for name, text in LABELS.items():
        if label.startswith(text):
            return _rank(name)
    return len(LABELS)


def _session_model(sources: Sequence[Source], env_model: str, env_model_source: str) -> dict[str, object]:
    """`--model` aside: ANTHROPIC_MODEL (non-blank) beats the `model` key of the highest settings file."""
    if env_model:
        return {"value": env_model, "source": env_model_source + " ANTHROPIC_MODEL"}
    for source in sources:
        if source.name != SHELL and isinstance(source.data.get("model"), str):
            return {"value": source.data["model"], "source": f'{source.label} "model"'}
    return {"value": None, "source": "claude's built-in default"}
