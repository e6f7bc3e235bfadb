"""Which setting wins: what a plain `claude` started here will use for every managed variable, why,
and what is in its way. The one analysis behind `status` and `doctor`.

Claude merges the `env` blocks of its settings files key by key, highest first: managed settings,
project `.claude/settings.local.json`, project `.claude/settings.json`, user settings (or
$CLAUDE_CONFIG_DIR/settings.json), and only then the shell environment (docs/claude-code.md,
"Where settings come from"). A settings value of "" still wins (and counts as unset), which is how
a profile blanks a shell export.

`analyze` and `findings` are pure (parsed data in, plain data out), one small function per finding.
`gather` is the only part that reads files, from an env and a working directory it is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from ccswitch import paths
from ccswitch.claude import settings as claude_settings
from ccswitch.claude.installed import PACKAGE, ROOT_LOCAL_SETTINGS_SINCE, release_text
from ccswitch.claude.sources import (
    SHELL,
    Source,
    load_sources,
    rank,
    resolve,
    settings_files,
)
from ccswitch.claude.state import LOGIN_KEYS, rejected_key
from ccswitch.claude.variables import (
    API_KEY,
    AUTH_TOKEN,
    BASE_URL_VARIABLES,
    CREDENTIAL_VARIABLES,
    MANAGED_VARIABLES,
)
from ccswitch.findings import FAIL, WARN, Finding
from ccswitch.redact import mask, url

# The scope `ccswitch use --scope` writes -> the source it is.
SCOPE_SOURCE = {"user": "user", "project": "project-local"}
OLD_CLAUDE_FIX = (f"update claude to {release_text(ROOT_LOCAL_SETTINGS_SINCE)} or later (npm install -g {PACKAGE}@latest: "
                  "name the tag, on Node below 22 npm otherwise installs 2.1.197), or start claude in {root}")
AUTH_FIX = "keep one: unset or blank the other (a ccswitch profile blanks the one it does not use)"
MANAGED_FIX = "ask whoever manages this machine; ccswitch cannot override managed settings"


class Situation:
    """Everything the analysis needs from disk and the environment, for `status` and `doctor`.
    `notes`: findings about the files themselves (an old claude that ignores the project's one)."""

    __slots__ = ("sources", "active", "claude_state", "claude_state_path", "claude_state_error", "claude_state_exists",
                 "notes")

    def __init__(self, sources: list[Source], active: Mapping[str, Mapping[str, object] | None], claude_state: dict | None,
                 claude_state_path: str, claude_state_error: str | None, claude_state_exists: bool,
                 notes: Sequence[Finding] = ()) -> None:
        self.sources = sources
        self.active = active
        self.claude_state = claude_state
        self.claude_state_path = claude_state_path
        self.claude_state_error = claude_state_error
        self.claude_state_exists = claude_state_exists
        self.notes = list(notes)

    def analyze(self) -> dict[str, object]:
        data = analyze(self.sources, self.active, self.claude_state, self.claude_state_path)
        data["warnings"] = [*(f.as_dict() for f in self.notes), *data["warnings"]]  # type: ignore[misc]
        return data

    def findings(self) -> list[Finding]:
        return [*self.notes, *findings(self.sources, self.active, self.claude_state, self.claude_state_path)]


def gather(env: Mapping[str, str], cwd: str, active: Mapping[str, Mapping[str, object] | None],
           claude_release: Callable[[], tuple[int, int, int] | None] | None = None) -> Situation:
    """Read what a claude started in `cwd` with `env` would read. `active` is ccswitch's record of
    what `use` put into each scope (switching.records.active_records), which this package cannot read.
    `claude_release` gives the installed claude's release (installed.probe); it is asked only when a
    git project has a settings.local.json at its root, which a claude before 2.1.211 reads only
    when started there."""
    notes: list[Finding] = []
    root_local = True
    here = os.path.abspath(cwd)
    root = paths.find_project_root(here)
    root_file = paths.claude_project_local_settings(root)
    if claude_release is not None and os.path.exists(os.path.join(root, ".git")) \
            and (os.path.exists(root_file) or active.get("project")):
        note = root_local_ignored(claude_release(), root, here != root)
        if note is not None:
            root_local = here == root
            notes.append(note)
    sources = load_sources(settings_files(env, cwd, root_local), env)
    state_path = paths.claude_state_file(env)
    state, state_error, state_exists = claude_settings.read_object(state_path)
    return Situation(sources, active, state, state_path, state_error, state_exists, notes)


def root_local_ignored(release: tuple[int, int, int] | None, root: str, subfolder: bool) -> Finding | None:
    """A claude before 2.1.211 reads the git root's settings.local.json only when started in the
    root (docs/claude-code.md, "Where settings come from"): the warning, or None for a later one."""
    if release is None or release >= ROOT_LOCAL_SETTINGS_SINCE:
        return None
    since = release_text(ROOT_LOCAL_SETTINGS_SINCE)
    what = f"{paths.claude_project_local_settings(root)} (where `ccswitch use --scope project` writes)"
    if subfolder:
        message = (f"claude {release_text(release)} ignores {what} when started in a subfolder of {root}, as here: "
                   f"it reads that file only when started in {root} itself (claude {since} and later read it from "
                   "any subfolder)")
    else:
        message = (f"claude {release_text(release)} reads {what} only when started in {root} itself, not from a "
                   f"subfolder (claude {since} and later read it from any subfolder)")
    return Finding("old-claude-project-scope", WARN, message, OLD_CLAUDE_FIX.format(root=root))


class Effective:
    """The value claude will use for each variable, and the source it comes from."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)
        self.by_name = {s.name: s for s in sources}
        self._cache: dict[str, tuple[Source | None, str | None, list[Source]]] = {}

    def resolve(self, variable: str) -> tuple[Source | None, str | None, list[Source]]:
        if variable not in self._cache:
            self._cache[variable] = resolve(variable, self.sources)
        return self._cache[variable]

    def value(self, variable: str) -> str:
        return self.resolve(variable)[1] or ""

    def winner(self, variable: str) -> Source | None:
        return self.resolve(variable)[0]

    def where(self, variable: str) -> str:
        winner = self.winner(variable)
        return winner.label if winner else "nowhere"


def _show(variable: str, value: str | None) -> str | None:
    if value is None:
        return None
    # A URL with a user name and password in it (ANTHROPIC_BASE_URL) shows neither.
    return mask(value) if variable in CREDENTIAL_VARIABLES and value else url(value)


def analyze(
    sources: Sequence[Source],
    active: Mapping[str, Mapping[str, object] | None],
    claude_state: Mapping[str, object] | None = None,
    claude_state_path: str | None = None,
    variables: Sequence[str] = MANAGED_VARIABLES,
) -> dict[str, object]:
    """Everything `status` shows: effective values (tokens masked), their sources, the active
    profiles, the session model and the warnings, as plain data.

    `active` maps a scope ("user", "project") to ccswitch's record of the profile `use` put there.
    """
    view = Effective(sources)
    return {
        "sources": [
            {"name": s.name, "label": s.label, "path": s.path, "exists": s.exists, "error": s.error}
            for s in sources if s.name != SHELL
        ],
        "active": _active_rows(view, active),
        "variables": [_variable_row(view, variable) for variable in variables],
        "model": session_model(view)[0],
        "warnings": [f.as_dict() for f in findings(sources, active, claude_state, claude_state_path, variables)],
    }


def _variable_row(view: Effective, variable: str) -> dict[str, object]:
    winner, value, shadowed = view.resolve(variable)
    return {
        "name": variable,
        "value": _show(variable, value),
        "set": bool(value),
        "source": winner.name if winner else None,
        "path": winner.path if winner else None,
        "shadowed": [{"source": s.name, "value": _show(variable, s.env[variable])} for s in shadowed],
    }


def _active_rows(view: Effective, active: Mapping[str, Mapping[str, object] | None]) -> dict[str, object]:
    rows: dict[str, object] = {}
    for scope, record in active.items():
        if not record:
            rows[scope] = None
            continue
        source = view.by_name.get(SCOPE_SOURCE.get(scope, scope))
        rows[scope] = {"profile": record.get("profile"), "path": record.get("settings_path"),
                       "since": record.get("applied_at"),
                       "changed": claude_settings.changed_since(source.data, record) if source else []}
    return rows


def findings(
    sources: Sequence[Source],
    active: Mapping[str, Mapping[str, object] | None],
    claude_state: Mapping[str, object] | None = None,
    claude_state_path: str | None = None,
    variables: Sequence[str] = MANAGED_VARIABLES,
) -> list[Finding]:
    """Everything that makes claude use another endpoint, credential or model than the user thinks."""
    view = Effective(sources)
    found = _unreadable(view)
    overrides, reported = _overrides_of_active(view, active)
    found += overrides
    found += _managed_owns(view, variables, reported.get("managed", set()))
    found += _shell_findings(view, variables)
    found += _both_auth(view)
    found += _stale_small_fast_model(view)
    found += _base_url_v1(view)
    if isinstance(claude_state, Mapping):
        found += _saved_login(view, claude_state, claude_state_path, active)
        found += _rejected_api_key(view, claude_state, claude_state_path)
    return found


def _unreadable(view: Effective) -> list[Finding]:
    return [Finding("unreadable", FAIL, f"{source.label}: {source.error} (claude cannot use this file as it is)",
                    "fix the file: claude ignores or rejects settings it cannot parse")
            for source in view.sources if source.error]


def _overrides_of_active(view: Effective, active: Mapping[str, Mapping[str, object] | None]
                         ) -> tuple[list[Finding], dict[str, set[str]]]:
    """A higher source that overrides what `ccswitch use` put into a lower one; and, per source,
    the variables named, so that no later finding repeats them."""
    found: list[Finding] = []
    reported: dict[str, set[str]] = {}
    for scope, record in active.items():
        source = view.by_name.get(SCOPE_SOURCE.get(scope, scope)) if record else None
        if source is None or not record:
            continue
        overridden: dict[str, list[str]] = {}
        for variable, entry in (record.get("env") or {}).items():  # type: ignore[union-attr]
            winner = view.winner(variable)
            if winner is not None and rank(winner.name) < rank(source.name) and not _as_written(view, variable, entry):
                overridden.setdefault(winner.name, []).append(variable)
        for name, names in overridden.items():
            reported.setdefault(name, set()).update(names)
            higher = view.by_name[name]
            found.append(Finding("override", WARN,
                                 f"{higher.label} overrides the active profile {record.get('profile')!r} ({source.label}) "
                                 f"for {', '.join(names)}",
                                 f"remove {', '.join(names)} from {higher.where_to_fix()}" if name != "managed" else MANAGED_FIX))
        found += _model_override(view, record, source)
    return found, reported


def _model_override(view: Effective, record: Mapping[str, object], source: Source) -> list[Finding]:
    written_model = (record.get("top") or {}).get("model")  # type: ignore[union-attr]
    model, model_source = session_model(view)
    if not written_model or model_source is None or model_source is source or rank(model_source.name) >= rank(source.name):
        return []
    if claude_settings.digest(model["value"]) == written_model.get("written"):
        return []
    via = "ANTHROPIC_MODEL" if view.value("ANTHROPIC_MODEL") else '"model"'
    return [Finding("override", WARN, f"{model['source']} sets the model to {model['value']!r}, overriding the active "
                                      f"profile {record.get('profile')!r}",
                    f"remove {via} from {model_source.where_to_fix()}")]


def _managed_owns(view: Effective, variables: Sequence[str], already_named: set[str]) -> list[Finding]:
    """Managed settings beat everything, profiles included."""
    managed = view.by_name.get("managed")
    owned = [v for v in variables if managed is not None and v in managed.env and v not in already_named]
    if not owned:
        return []
    return [Finding("managed", WARN, f"{managed.path} sets {', '.join(owned)}: no profile or settings file can change them",  # type: ignore[union-attr]
                    MANAGED_FIX)]


def _shell_findings(view: Effective, variables: Sequence[str]) -> list[Finding]:
    shell = view.by_name.get(SHELL)
    if shell is None:
        return []
    found: list[Finding] = []
    shell_api_key = bool(shell.env.get(API_KEY) and view.value(AUTH_TOKEN))
    if shell_api_key:
        if view.winner(API_KEY) is shell:
            message = ("ANTHROPIC_API_KEY from your shell is sent beside the ANTHROPIC_AUTH_TOKEN from "
                       f"{view.where(AUTH_TOKEN)}: claude sends both headers; unset it in your shell profile")
        else:
            message = (f"your shell exports ANTHROPIC_API_KEY, but {view.where(API_KEY)} blanks it for claude; "
                       "other tools still see it (unset it if it is stale)")
        found.append(Finding("shell-api-key", WARN, message, "unset ANTHROPIC_API_KEY in your shell profile"))
    # A variable exported in the shell loses to the same key in any settings file (Claude Code 2.0+).
    for variable in variables:
        value = shell.env.get(variable)
        winner = view.winner(variable)
        if not value or (variable == API_KEY and shell_api_key) or winner is None or winner is shell \
                or winner.env[variable] == value:
            continue
        shown = "blanks it" if winner.env[variable] == "" else "sets another value"
        found.append(Finding("shell-overridden", WARN, f"${variable} from your shell is overridden: {winner.where()} {shown}",
                             f"remove {variable} from {winner.path}, or let `ccswitch run`/`use` own it"))
    return found


def _both_auth(view: Effective) -> list[Finding]:
    """Both auth variables: claude sends both headers and warns of an auth conflict."""
    token, api_key = view.value(AUTH_TOKEN), view.value(API_KEY)
    token_from, key_from = view.winner(AUTH_TOKEN), view.winner(API_KEY)
    pair_source = token_from if token and api_key and token_from is key_from else None
    found = [Finding("both-auth", FAIL if source is pair_source else WARN,
                     f"{source.label} sets both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY: keep only one", AUTH_FIX)
             for source in view.sources if source.env.get(AUTH_TOKEN) and source.env.get(API_KEY)]
    if token and api_key and pair_source is None:
        found.append(Finding("both-auth", FAIL,
                             f"claude will send both auth headers: ANTHROPIC_AUTH_TOKEN ({token_from.where()}) and "  # type: ignore[union-attr]
                             f"ANTHROPIC_API_KEY ({key_from.where()}) are both set; the gateway may reject or bill the "  # type: ignore[union-attr]
                             "wrong one", AUTH_FIX))
    return found


def _stale_small_fast_model(view: Effective) -> list[Finding]:
    """ANTHROPIC_SMALL_FAST_MODEL is deprecated but still read first for background requests."""
    small_fast = view.value("ANTHROPIC_SMALL_FAST_MODEL")
    haiku = view.value("ANTHROPIC_DEFAULT_HAIKU_MODEL")
    if not small_fast or small_fast == haiku:
        return []
    ahead = f", ahead of ANTHROPIC_DEFAULT_HAIKU_MODEL={haiku}" if haiku else " (ANTHROPIC_DEFAULT_HAIKU_MODEL is unset)"
    return [Finding("stale-small-fast-model", WARN,
                    f"ANTHROPIC_SMALL_FAST_MODEL={small_fast} (from {view.where('ANTHROPIC_SMALL_FAST_MODEL')}) is "
                    f"deprecated but still read first for background requests{ahead}; remove it unless this provider "
                    "serves that model",
                    f"remove ANTHROPIC_SMALL_FAST_MODEL from {view.winner('ANTHROPIC_SMALL_FAST_MODEL').where_to_fix()}; "  # type: ignore[union-attr]
                    "set the haiku tier instead")]


def _base_url_v1(view: Effective) -> list[Finding]:
    """A base URL ending in /v1 sends requests to /v1/v1/messages."""
    found = []
    for variable in BASE_URL_VARIABLES:
        value = view.value(variable)
        if value.rstrip("/").lower().endswith("/v1"):
            source = view.winner(variable)
            found.append(Finding("base-url-v1", FAIL, f"{variable}={value} ({source.where()}) ends in /v1: claude "  # type: ignore[union-attr]
                                                      "appends /v1/messages itself, so requests go to /v1/v1/messages",
                                 f"drop the trailing /v1 in {source.where_to_fix()}"))  # type: ignore[union-attr]
    return found


def _saved_login(view: Effective, claude_state: Mapping[str, object], claude_state_path: str | None,
                 active: Mapping[str, Mapping[str, object] | None]) -> list[Finding]:
    """A saved claude.ai / Console login beside a gateway credential or endpoint. Not only beside a
    base URL: with a saved login, interactive claude asks whether to use ANTHROPIC_API_KEY and
    defaults to "No" (docs/claude-code.md), so a key alone already conflicts with the login. Not a
    base URL alone that `use` wrote: ccswitch writes one without a token only for `auth = "login"`,
    a proxy the user chose to send the login to (every other endpoint gets a token or NO_TOKEN)."""
    saved = [key for key in LOGIN_KEYS if claude_state.get(key)]
    gateway = [v for v in (AUTH_TOKEN, API_KEY, "ANTHROPIC_BASE_URL") if view.value(v)]
    if gateway == ["ANTHROPIC_BASE_URL"] and _written_by_use(view, active, "ANTHROPIC_BASE_URL"):
        return []
    if not (saved and gateway):
        return []
    return [Finding("saved-login", WARN,
                    f"{claude_state_path or '.claude.json'} holds a saved claude.ai login ({', '.join(saved)}) beside "
                    f"{'; '.join(f'{v} from {view.winner(v).where()}' for v in gateway)}: "  # type: ignore[union-attr]
                    "claude warns of an auth conflict",
                    "run `claude /logout` if you no longer use that login, or keep the gateway to `ccswitch run`")]


def _written_by_use(view: Effective, active: Mapping[str, Mapping[str, object] | None], variable: str) -> bool:
    """Whether the value of `variable` in force is the one an active `use` wrote."""
    return any(variable in env and _as_written(view, variable, env[variable])
               for env in (((record or {}).get("env") or {}) for record in active.values()))


def _as_written(view: Effective, variable: str, entry: Mapping[str, object]) -> bool:
    """Whether `variable`'s value in force is the one a `use` record's entry says it wrote (its digest)."""
    return claude_settings.digest(view.value(variable)) == entry.get("written")


def _rejected_api_key(view: Effective, claude_state: Mapping[str, object], claude_state_path: str | None) -> list[Finding]:
    """A key the user once refused: interactive claude then fails with "Not logged in" without asking
    (docs/claude-code.md, "First run, trust, API keys")."""
    key = view.value(API_KEY)
    if not key or not rejected_key(claude_state, key):
        return []
    where = claude_state_path or ".claude.json"
    return [Finding("rejected-api-key", FAIL,
                    f"interactive claude refuses the ANTHROPIC_API_KEY from {view.where(API_KEY)}: {where} records "
                    "that you once answered No to it (customApiKeyResponses.rejected), so it fails with \"Not logged in\"",
                    f"start it with `ccswitch run` or `ccswitch use` (they approve the key), or remove it from the "
                    f"rejected list in {where}")]


def session_model(view: Effective) -> tuple[dict[str, object], Source | None]:
    """`--model` aside: ANTHROPIC_MODEL (non-blank) beats the `model` key of the highest settings file."""
    env_model, env_model_source = view.value("ANTHROPIC_MODEL"), view.winner("ANTHROPIC_MODEL")
    if env_model and env_model_source is not None:
        return {"value": env_model, "source": env_model_source.label + " ANTHROPIC_MODEL"}, env_model_source
    for source in view.sources:
        if source.name != SHELL and isinstance(source.data.get("model"), str):
            return {"value": source.data["model"], "source": f'{source.label} "model"'}, source
    return {"value": None, "source": "claude's built-in default"}, None
