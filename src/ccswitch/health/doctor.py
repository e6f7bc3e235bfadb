"""`ccswitch doctor`: every check, each OK / WARN / FAIL with a one-line fix.

Two layers. The conflict analysis is precedence.findings, the same one `status` shows: `conflict_checks`
only names its findings as checks (pure: parsed settings files, claude's state and the shell
environment in). The gathering (`run_doctor`, precedence.gather) reads the files and runs
`claude --version`, from paths and an env it is given; it never reads os.environ itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from ccswitch import paths
from ccswitch.claude import installed, precedence
from ccswitch.claude.installed import Runner, Which
from ccswitch.claude.sources import SHELL, Source
from ccswitch.claude.state import ONBOARDING_KEY
from ccswitch.errors import CcswitchError, ProfileFileError
from ccswitch.findings import FAIL, OK, WARN, Finding
from ccswitch.profiles import keyrings
from ccswitch.profiles.active import missing_active, stray_models
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.schema import validate_user_file
from ccswitch.profiles.store import build_profile_set, profiles_file_exists, read_toml
from ccswitch.profiles.tokens import describe_token, reference_kind, token_references
from ccswitch.switching.records import active_records

# Source names (claude.sources.SETTINGS_SOURCES) -> the short names of doctor's "<name> settings" checks.
CHECK_LABELS = {"managed": "managed", "project-local": "local", "folder-local": "folder local", "project": "project",
                "user": "user"}
# Finding codes of the shared analysis -> doctor's check names. "unreadable" has checks of its own
# (check_settings_files).
CHECK_NAMES = {
    "override": "active profile",
    "managed": "managed override",
    "shell-api-key": "shell vs settings",
    "shell-overridden": "shell vs settings",
    "both-auth": "auth variables",
    "stale-small-fast-model": "small fast model",
    "base-url-v1": "base URL",
    "saved-login": "saved login",
    "rejected-api-key": "API key",
}


def checked(name: str, level: str, message: str, fix: str = "") -> Finding:
    """One row of doctor's table: a finding named by what was checked."""
    return Finding(name.replace(" ", "-"), level, message, fix, check=name)


def as_dict(finding: Finding) -> dict[str, str]:
    """A row of `doctor --json`: what was checked, its status, and the message and fix."""
    return {"name": finding.check, "status": finding.level, "message": finding.message, "fix": finding.fix}


def check_settings_files(sources: Sequence[Source]) -> list[Finding]:
    checks = []
    for source in sources:
        name = f"{CHECK_LABELS.get(source.name, source.name)} settings"
        if not source.exists:
            checks.append(checked(name, OK, f"{source.path}: not present"))
        elif source.error:
            checks.append(checked(name, FAIL, source.error, "fix the file: claude ignores or rejects settings it cannot parse"))
        else:
            checks.append(checked(name, OK, f"{source.path}: parses"))
    return checks


def conflict_checks(sources: Sequence[Source], shell: Mapping[str, str], claude_state: Mapping | None,
                    active: Mapping[str, Mapping | None] | None = None, claude_state_path: str | None = None) -> list[Finding]:
    """Everything that makes claude use another endpoint, credential or model than the user thinks:
    the findings `status` shows (precedence.findings), each named as a check."""
    found = precedence.findings([*sources, Source(SHELL, None, dict(shell))], active or {},
                                claude_state if isinstance(claude_state, Mapping) else None, claude_state_path)
    checks = [Finding(f.code, f.level, f.message, f.fix, check=CHECK_NAMES.get(f.code, f.code))
              for f in found if f.code != "unreadable"]
    if not checks:
        checks.append(checked("conflicts", OK, "no conflicting provider settings found"))
    return checks


def onboarding_check(path: str, state: Mapping | None, error: str | None, exists: bool) -> Finding:
    fix = f'finish claude\'s first-run setup once, or set "{ONBOARDING_KEY}": true in {path}'
    if not exists:
        return checked("onboarding", WARN, f"{path}: not present: interactive claude will show its first-run screens", fix)
    if error:
        return checked("onboarding", WARN, f"{path}: {error}", "let claude rewrite it: move it aside and start claude once")
    if isinstance(state, Mapping) and state.get(ONBOARDING_KEY) is True:
        return checked("onboarding", OK, "first-run setup done (hasCompletedOnboarding)")
    return checked("onboarding", WARN, "hasCompletedOnboarding is not set: interactive claude will show its first-run screens", fix)


def claude_checks(env: Mapping[str, str], claude: installed.Installed, which: Which, run: Runner) -> list[Finding]:
    override = f" (from ${paths.ENV_CLAUDE_PROGRAM})" if claude.from_override else ""
    if not claude.path:
        return [checked("claude", FAIL, f"{claude.program}{override}: not found on PATH",
                      "install it: npm install -g @anthropic-ai/claude-code (or set CCSWITCH_CLAUDE to its path)")]
    if claude.problem:
        return [checked("claude", FAIL, f"{claude.path}{override}: `--version` failed: {claude.problem}",
                      "reinstall claude: npm install -g @anthropic-ai/claude-code")]
    checks = [checked("claude", OK, f"{claude.path}{override}: {claude.version}")]
    if claude.from_npm:
        checks.append(node_check(env, which, run, claude.package))
    return checks


def node_check(env: Mapping[str, str], which: Which, run: Runner, package: dict | None = None) -> Finding:
    """Node against what the installed claude package declares in `engines`: the package's own
    word, not a version remembered here (npm installs a package whose `engines` the running Node
    does not meet, with an EBADENGINE warning, and a native claude may well run)."""
    engines = (package or {}).get("engines")
    wanted = engines.get("node") if isinstance(engines, dict) else None
    label = f"claude {package.get('version', '?')}" if package else "claude"
    upgrade = f"install Node.js {wanted}" if isinstance(wanted, str) else "install Node.js"
    node = which("node", path=env.get("PATH", os.defpath))
    if not node:
        return checked("node", WARN, "claude came from npm, but node is not on PATH",
                       f"{upgrade}, or npm cannot update claude")
    version, problem = installed.first_line(run, [node, "--version"], env)
    if problem:
        return checked("node", WARN, f"{node} --version failed: {problem}", f"reinstall Node.js ({upgrade})")
    if not isinstance(wanted, str):
        return checked("node", OK, f"node {version}")
    meets = satisfies(version, wanted)
    if meets is False:
        return checked("node", WARN,
                       f"node {version} is below what {label} declares (package.json engines: node {wanted}); npm warns "
                       f"(EBADENGINE) on installs and updates, and a release may stop running on it",
                       f"upgrade Node.js to {wanted}")
    return checked("node", OK, f"node {version}" + (f" ({label} asks for {wanted})" if meets else ""))


_COMPARATOR = re.compile(r"(>=|<=|>|<|=|\^|~)?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?")


def satisfies(version: str, spec: str) -> bool | None:
    """Whether a Node version meets an npm `engines` range (`>=22.0.0`, `^20.19 || >=22`, `18.x`);
    None when the range is not one of those forms (then doctor claims nothing)."""
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version.strip())
    if not match:
        return None
    have = tuple(int(part) for part in match.groups())
    for alternative in spec.split("||"):
        words = re.findall(r"(?:>=|<=|>|<|=|\^|~)?\s*v?[\dx*.]+", alternative.strip())
        if not words or "".join(w.replace(" ", "") for w in words) != alternative.replace(" ", ""):
            return None
        if all(_meets(have, word) for word in words):
            return True
    return False


def _meets(have: tuple[int, ...], word: str) -> bool:
    match = _COMPARATOR.fullmatch(word.strip())
    if not match:
        return False
    operator, major, minor, patch = match.groups()
    parts = [int(major), *(int(p) if p and p not in "x*" else None for p in (minor, patch))]
    low = tuple(p or 0 for p in parts)
    if operator in (None, "=") and None in parts:  # 18.x: any 18
        return have[:parts.index(None)] == tuple(parts[:parts.index(None)])
    if operator in (None, "="):
        return have == low
    if operator == ">=":
        return have >= low
    if operator == ">":
        return have > low
    if operator == "<":
        return have < low
    if operator == "<=":
        return have <= low
    if operator == "^":
        return have >= low and have[0] == low[0]
    return have >= low and have[:2] == low[:2]  # ~


def profiles_checks(profiles_path: str, presets_directory: str, env: Mapping[str, str]) -> tuple[list[Finding], ProfileSet | None]:
    try:
        if not profiles_file_exists(profiles_path):
            return [checked("profiles file", OK, f"{profiles_path}: not present (only the built-in presets)")], None
        data, text = read_toml(profiles_path)
        user, default = validate_user_file(data, profiles_path, text)
    except ProfileFileError as error:
        return [checked("profiles file", FAIL, error.message, "fix that line; `ccswitch list` re-reads the file")], None
    checks = [checked("profiles file", OK, f"{profiles_path}: parses ({len(user)} profile{'s' * (len(user) != 1)})")]
    checks.append(privacy_check(profiles_path, user))
    profile_set = build_profile_set(user, default, profiles_path, presets_directory, text)

    broken = []
    for name in user:
        try:
            profile_set.get(name)
        except CcswitchError as error:
            broken.append(error.message)
    if default is not None and default not in profile_set:
        broken.append(f"{profiles_path}: default: {profile_set.unknown(default).message}")
    if broken:
        checks.extend(checked("extends", FAIL, message, "point `extends`/`default` at an existing profile") for message in broken)
    else:
        checks.append(checked("extends", OK, "every extends and the default resolve"))
        prices = price_check(profile_set, user)
        if prices is not None:
            checks.append(prices)

    token_problems = []
    for name in _names_to_check(user, default):
        try:
            profile = profile_set.get(name)
        except CcswitchError:
            continue  # already reported above
        status = describe_token(profile.token, env, name)
        # found is None for keyring and cmd: references: checking would unlock a keychain or run a
        # password manager; doctor reports the keyring backend instead (keyring_check).
        if profile.token and status.found is False:
            token_problems.append((name, status))
    for name, status in token_problems:
        level = FAIL if name == default else WARN
        checks.append(checked("token", level, f"profile {name!r}: token {status.detail}",
                            f"export {status.source.lstrip('$')} or change the profile's token"))
    if not token_problems:
        checks.append(checked("token", OK, "every token reference resolves"))
    keyring = keyring_check(profile_set, user)
    if keyring is not None:
        checks.append(keyring)
    return checks, profile_set


def _names_to_check(user: Mapping[str, object], default: str | None) -> list[str]:
    names = list(user)
    if default and default not in names:
        names.append(default)
    return names


def privacy_check(path: str, user: Mapping[str, Mapping[str, object]]) -> Finding:
    if os.name == "nt":  # pragma: no cover - POSIX modes only
        return checked("profiles private", OK, "file modes are not checked on Windows")
    problems = []
    file_mode = os.stat(path).st_mode & 0o777
    if file_mode & 0o077:
        problems.append((f"{path} is {file_mode:o}", f"chmod 600 {path}"))
    directory = os.path.dirname(os.path.abspath(path))
    dir_mode = os.stat(directory).st_mode & 0o777
    if dir_mode & 0o077:
        problems.append((f"{directory} is {dir_mode:o}", f"chmod 700 {directory}"))
    if not problems:
        return checked("profiles private", OK, "file 600, directory 700")
    # Readable by others is a leak when the file holds a token in plain text, untidy otherwise.
    plain = any(reference_kind(ref) == "literal" for raw in user.values()
                for ref in token_references(raw.get("token")))  # type: ignore[arg-type]
    return checked("profiles private", FAIL if plain else WARN,
                 "; ".join(p for p, _ in problems) + (" and it holds plain-text tokens" if plain else ""),
                 " && ".join(f for _, f in problems))


def price_check(profile_set: ProfileSet, user: Mapping[str, Mapping[str, object]]) -> Finding | None:
    """The price tables as `usage` reads them (usage.prices is their format's one home), only when
    some profile of the user's has one: the file loads with a wrong one (only nan and inf are
    refused on load), and `usage` would be the first to say so."""
    if not any("prices" in raw for raw in user.values()):
        return None
    # ~15 ms: only for a file with prices.
    from ccswitch.usage.providers import price_tables

    try:
        tables = price_tables(profile_set)
    except ProfileFileError as error:
        return checked("prices", FAIL, error.message, "fix that price entry (docs/usage.md, \"Prices\")")
    return checked("prices", OK, f"{sum(1 for name in user if name in tables)} of your profiles have price tables "
                                 "`usage` can read")


def keyring_check(profile_set: ProfileSet, user: Mapping[str, Mapping[str, object]]) -> Finding | None:
    """Only when some profile keeps its token in the system keyring (`keyring` or `keyring:ENTRY`)."""
    users = [name for name, raw in user.items()
             if any(reference_kind(ref) == "keyring" for ref in token_references(raw.get("token")))]  # type: ignore[arg-type]
    if not users:
        return None
    try:
        import keyring  # type: ignore[import-not-found]  # noqa: F401  (is it installed?)
    except ImportError:
        return checked("keyring", FAIL, f"profiles {', '.join(users)} use the keyring, but the keyring package is missing",
                     "pip install keyring (into the environment ccswitch runs from)")
    try:
        backend = keyrings.current_backend()
    except keyrings.BackendNotLoaded as error:
        return checked("keyring", FAIL, f"profiles {', '.join(users)} use the keyring, but {error.problem}", error.fix)
    if backend.kind in (keyrings.NONE, keyrings.NULL):
        what = "stores nothing" if backend.kind == keyrings.NULL else "is no keyring at all"
        return checked("keyring", FAIL, f"profiles {', '.join(users)} use the keyring, but its backend ({backend.name}) {what}",
                       keyrings.WHAT_TO_DO)
    if backend.kind == keyrings.PLAIN_TEXT:
        return checked("keyring", WARN, f"the keyring backend {backend.name} keeps tokens in plain text (not encrypted)"
                                        f"{f' in {backend.file}' if backend.file else ''}: anyone who can read it can use them",
                       f"{keyrings.WHAT_TO_DO} (keyrings.alt came with a package? pip uninstall keyrings.alt)")
    return checked("keyring", OK, f"backend {backend.name}")


def run_doctor(env: Mapping[str, str], project_dir: str, presets_directory: str, *,
               which: Which | None = None, run: Runner | None = None) -> list[Finding]:
    which, run = which or shutil.which, run or subprocess.run
    claude = installed.probe(env, which=which, run=run, ask=True)
    checks = claude_checks(env, claude, which, run)
    profile_checks, profile_set = profiles_checks(paths.profiles_file(env), presets_directory, env)
    checks.extend(profile_checks)
    active = active_records(paths.state_dir(env), paths.claude_user_settings(env), project_dir)
    situation = precedence.gather(env, project_dir, active, lambda: claude.release)
    sources = [source for source in situation.sources if source.name != SHELL]
    checks.extend(check_settings_files(sources))
    checks.extend(Finding(f.code, f.level, f.message, f.fix, check="project scope") for f in situation.notes)
    checks.extend(conflict_checks(sources, env, situation.claude_state, situation.active, situation.claude_state_path))
    if profile_set is not None or not os.path.exists(paths.profiles_file(env)):
        known = profile_set or build_profile_set({}, None, paths.profiles_file(env), presets_directory)
        checks.extend(Finding(f.code, f.level, f.message, f.fix, check="active profile")
                      for f in missing_active(known, active))
        checks.extend(Finding(f.code, f.level, f.message, f.fix, check="session model")
                      for f in stray_models(known, active, situation.sources))
    checks.append(onboarding_check(situation.claude_state_path, situation.claude_state, situation.claude_state_error,
                                   situation.claude_state_exists))
    return checks


def failed(checks: Sequence[Finding]) -> bool:
    return any(check.level == FAIL for check in checks)
