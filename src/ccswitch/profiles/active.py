"""Which scopes make a profile active: the file's `default`, a `.ccswitch` pin file in the working
directory or above, and the profile `ccswitch use` recorded for the user or project scope.

Used by `remove`, which must not pull a profile out from under a scope that still names it, by
`list`, which marks the profiles `use` made active (the same records, read by the same function),
and by `status` and `doctor`, which name a settings file whose model the active profile does not serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ccswitch import paths
from ccswitch.claude.models import CLAUDE_MODEL_PREFIX, is_alias
from ccswitch.claude.precedence import SCOPE_SOURCE
from ccswitch.claude.sources import SHELL, Source, rank, resolve
from ccswitch.claude.variables import cloud_switch
from ccswitch.findings import WARN, Finding
from ccswitch.profiles.environment import LOOPBACK_HOSTS, is_third_party, url_host
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.patterns import split_qualified
from ccswitch.profiles.pins import find_pin
from ccswitch.profiles.routing import stray_model
from ccswitch.switching.records import active_records


def recorded_active(env: Mapping[str, str], cwd: str) -> list[tuple[str, str]]:
    """(scope, profile name) for each scope where `ccswitch use` made a profile active."""
    records = active_records(paths.state_dir(env), paths.claude_user_settings(env), cwd)
    return [(scope, str(record["profile"])) for scope, record in records.items() if record and record.get("profile")]


def active_scopes(name: str, default: str | None, cwd: str, env: Mapping[str, str]) -> list[str]:
    """Human descriptions of every scope in which `name` is the active profile."""
    scopes = []
    if default == name:
        scopes.append("it is the default in profiles.toml")
    pin = find_pin(cwd)
    if pin and pin[1] == name:
        scopes.append(f"{pin[0]} pins it")
    for scope, active in recorded_active(env, cwd):
        if active == name:
            scopes.append(f"`ccswitch use` made it active ({scope})")
    return scopes


def stray_models(profile_set: ProfileSet, active: Mapping[str, Mapping[str, object] | None],
                 sources: Sequence[Source]) -> list[Finding]:
    """The settings "model" a plain `claude` started here sends, when what is in force cannot serve
    it (`status` and `doctor` report it): one the profile `use` made active (the project's before the
    user's) does not serve; else a gateway's `profile::model` outside any gateway, or a model that is
    not Claude's at Anthropic's own API. `/model` inside a `ccswitch run` session saves such names
    into the user settings (docs/claude-code.md, "Models")."""
    files = [s for s in sources if s.name != SHELL]
    if resolve("ANTHROPIC_MODEL", sources)[1]:
        return []  # it beats every "model" key
    for scope in ("project", "user"):
        record = active.get(scope)
        name = record.get("profile") if record else None
        if isinstance(name, str) and name in profile_set:
            profile = profile_set.get(name)
            stray = stray_model(profile, files, then=f"a plain `claude` started here sends it to {name}'s endpoint, "
                                                     "which does not serve it")
            if stray is None:
                if is_third_party(profile):
                    return []
                break  # Anthropic's own API or a cloud: the checks below
            finding, source = stray
            use = f"ccswitch use {name}" + (" --scope project" if scope == "project" else "")
            if source.name != "managed" and rank(source.name) >= rank(SCOPE_SOURCE[scope]):
                finding = Finding(finding.code, finding.level, finding.message,
                                  f"`{use}` writes {name}'s model in its place ({_remove_model(source)})")
            return [finding]
    return _unservable_model(profile_set, files, sources)


def _unservable_model(profile_set: ProfileSet, files: Sequence[Source], sources: Sequence[Source]) -> list[Finding]:
    source = next((s for s in files if isinstance(s.data.get("model"), str) and s.data["model"].strip()), None)
    if source is None:
        return []
    model = str(source.data["model"]).strip()
    base_url = resolve("ANTHROPIC_BASE_URL", sources)[1] or ""
    qualified = split_qualified(model)
    if qualified is not None and qualified[0] in profile_set:
        if url_host(base_url) in LOOPBACK_HOSTS:
            return []  # perhaps a `ccswitch gateway` in the foreground, which routes such names
        where = base_url or "Anthropic's API"
        return [Finding("gateway-model", WARN,
                        f"{source.path} sets \"model\": {model!r}, a name only a ccswitch gateway routes (`/model` "
                        f"saved it in a `ccswitch run` session): a plain `claude` started here sends it to {where}, "
                        "which does not serve it", _remove_model(source))]
    if base_url or cloud_switch({k: v for s in reversed(sources) for k, v in s.env.items()}) is not None:
        return []  # an endpoint ccswitch knows nothing of: what it serves is its business
    if is_alias(model) or model.lower().startswith(CLAUDE_MODEL_PREFIX):
        return []
    return [Finding("stray-model", WARN,
                    f"{source.path} sets \"model\": {model!r}, which is not a Claude model: a plain `claude` started "
                    "here sends it to Anthropic's API, which does not serve it", _remove_model(source))]


def _remove_model(source: Source) -> str:
    """How to take a "model" out of a settings file: `/model default` rewrites the user's."""
    if source.name == "user":
        return f"`/model default` in a plain `claude` removes it from {source.path}"
    return f"remove \"model\" from {source.path}"


def missing_active(profile_set: ProfileSet, active: Mapping[str, Mapping[str, object] | None]) -> list[Finding]:
    """A scope whose settings file `use` filled from a profile that no longer exists (`remove
    --force`, or a hand edit): its values are still in the file, and nothing names them any more."""
    found = []
    for scope in ("project", "user"):
        record = active.get(scope)
        name = record.get("profile") if record else None
        if isinstance(name, str) and name not in profile_set:
            where = record.get("settings_path") if record else None
            off = "ccswitch off" + (" --scope project" if scope == "project" else "")
            fix = f"`{off}` takes its values out, or `ccswitch use OTHER` replaces them"
            found.append(Finding(
                "active-profile-gone", WARN,
                f"the {scope} settings{f' ({where})' if where else ''} still hold profile {name!r} from `ccswitch use`, "
                f"but no profile of that name exists any more; {fix}", fix))
    return found
