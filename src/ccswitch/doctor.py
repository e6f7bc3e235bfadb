"""`ccswitch doctor`: every check, each OK / WARN / FAIL with a one-line fix.

Two layers. The conflict analysis (`conflict_checks`, `effective_environment`, ...) is pure: it takes
parsed settings files, claude's state and the shell environment as plain data, so `status` can share
it. The gathering (`run_doctor`) reads the files and runs `claude --version`, from paths and an env
it is given; it never reads os.environ itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence

from ccswitch import paths
from ccswitch.errors import CcswitchError, ProfileFileError
from ccswitch.presets import load_preset, preset_names
from ccswitch.profiles import MANAGED_VARIABLES, ProfileSet
from ccswitch.secrets import describe_token

OK, WARN, FAIL = "ok", "warn", "fail"
AUTH_VARIABLES = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
BASE_URL_VARIABLES = ("ANTHROPIC_BASE_URL", "ANTHROPIC_BEDROCK_BASE_URL", "ANTHROPIC_VERTEX_BASE_URL", "ANTHROPIC_FOUNDRY_BASE_URL")
# Keys in .claude.json that mean claude holds a login of its own (claude.ai or Console).
LOGIN_KEYS = ("oauthAccount", "primaryApiKey")
# The first Node that npm can install current claude releases on (shared/claude-code.md).
NODE_FOR_CURRENT_CLAUDE = 22
SHELL = "shell"


class Check:
    __slots__ = ("name", "status", "message", "fix")

    def __init__(self, name: str, status: str, message: str, fix: str = "") -> None:
        self.name = name
        self.status = status
        self.message = message
        self.fix = fix

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "message": self.message, "fix": self.fix}

    def __repr__(self) -> str:
        return f"Check({self.name!r}, {self.status!r}, {self.message!r})"


class SettingsSource:
    """One Claude settings file: where it is, what it says (or why it could not be read)."""

    __slots__ = ("label", "path", "data", "error", "exists")

    def __init__(self, label: str, path: str, data: Mapping | None = None, error: str | None = None, exists: bool = True) -> None:
        self.label = label  # "managed", "local", "project", "user"
        self.path = path
        self.data = data
        self.error = error
        self.exists = exists

    @property
    def env(self) -> dict[str, str]:
        block = self.data.get("env") if isinstance(self.data, Mapping) else None
        if not isinstance(block, Mapping):
            return {}
        return {str(k): "" if v is None else str(v) for k, v in block.items()}

    def where(self) -> str:
        return f"{self.label} settings ({self.path})"


# ---------------------------------------------------------------------------------------------
# Reading (paths in, plain data out)


def read_json_object(path: str) -> tuple[dict | None, str | None, bool]:
    """(data, error, exists) for a JSON file that must hold an object."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, None, False
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}", True
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}", True
    if not isinstance(data, dict):
        return None, "not a JSON object", True
    return data, None, True


def read_settings(label: str, path: str) -> SettingsSource:
    data, error, exists = read_json_object(path)
    if data is not None and "env" in data and not isinstance(data["env"], dict):
        error = '"env" must be an object of strings'
    return SettingsSource(label, path, data, error, exists)


def settings_sources(env: Mapping[str, str], project_dir: str) -> list[SettingsSource]:
    """Claude's settings files, highest precedence first (shared/claude-code.md)."""
    candidates = [
        ("managed", paths.managed_settings_file(env)),
        ("local", paths.claude_project_local_settings(project_dir)),
        ("project", paths.claude_project_settings(project_dir)),
        ("user", paths.claude_user_settings(env)),
    ]
    user = os.path.realpath(candidates[-1][1])
    sources = []
    for label, path in candidates:
        if label in ("local", "project") and os.path.realpath(path) == user:
            continue  # in $HOME the user file is also the project file; report it once, as the user's
        sources.append(read_settings(label, path))
    return sources


# ---------------------------------------------------------------------------------------------
# Pure analysis


def effective_environment(sources: Sequence[SettingsSource], shell: Mapping[str, str],
                          variables: Sequence[str] = MANAGED_VARIABLES) -> dict[str, tuple[str, str]]:
    """variable -> (value, where) as claude resolves it: the highest settings file that has the key
    wins, the shell comes last, and "" counts as unset. Only variables that end up non-empty."""
    result = {}
    for var in variables:
        for source in sources:
            if var in source.env:
                value, where = source.env[var], source.where()
                break
        else:
            value, where = shell.get(var, ""), SHELL
        if value:
            result[var] = (value, where)
    return result


def check_settings_files(sources: Sequence[SettingsSource]) -> list[Check]:
    checks = []
    for source in sources:
        name = f"{source.label} settings"
        if not source.exists:
            checks.append(Check(name, OK, f"{source.path}: not present"))
        elif source.error:
            checks.append(Check(name, FAIL, f"{source.path}: {source.error}",
                                "fix the file: claude ignores or rejects settings it cannot parse"))
        else:
            checks.append(Check(name, OK, f"{source.path}: parses"))
    return checks


def conflict_checks(sources: Sequence[SettingsSource], shell: Mapping[str, str],
                    claude_state: Mapping | None) -> list[Check]:
    """Everything that makes claude use another endpoint, credential or model than the user thinks."""
    checks: list[Check] = []
    effective = effective_environment(sources, shell)
    by_label = {source.label: source for source in sources}

    # 1. A variable exported in the shell loses to the same key in any settings file (Claude Code 2.0+).
    for var in MANAGED_VARIABLES:
        value = shell.get(var)
        if not value:
            continue
        for source in sources:
            if var in source.env and source.env[var] != value:
                shown = "blanks it" if source.env[var] == "" else "sets another value"
                checks.append(Check(
                    "shell vs settings", WARN,
                    f"${var} from your shell is overridden: {source.where()} {shown}",
                    f"remove {var} from {source.path}, or let `ccswitch run`/`use` own it",
                ))
                break

    # 2. Both auth variables: claude sends both headers and warns of an auth conflict.
    if all(var in effective for var in AUTH_VARIABLES):
        token_from, key_from = effective["ANTHROPIC_AUTH_TOKEN"][1], effective["ANTHROPIC_API_KEY"][1]
        checks.append(Check(
            "auth variables", FAIL,
            f"ANTHROPIC_AUTH_TOKEN ({token_from}) and ANTHROPIC_API_KEY ({key_from}) are both set: "
            "claude sends both headers",
            "keep one: unset or blank the other (a ccswitch profile blanks the one it does not use)",
        ))

    # 3. Managed settings beat everything, profiles included.
    managed = by_label.get("managed")
    if managed is not None:
        owned = [var for var in MANAGED_VARIABLES if var in managed.env]
        if owned:
            checks.append(Check(
                "managed settings", WARN,
                f"{managed.path} sets {', '.join(owned)}: no profile or settings file can change them",
                "ask whoever manages this machine; ccswitch cannot override managed settings",
            ))

    # 4. ANTHROPIC_SMALL_FAST_MODEL is deprecated but still read first for background requests.
    small_fast = effective.get("ANTHROPIC_SMALL_FAST_MODEL")
    if small_fast:
        haiku = effective.get("ANTHROPIC_DEFAULT_HAIKU_MODEL", ("", ""))[0]
        if small_fast[0] != haiku:
            checks.append(Check(
                "small fast model", WARN,
                f"ANTHROPIC_SMALL_FAST_MODEL={small_fast[0]} ({small_fast[1]}) wins over "
                f"ANTHROPIC_DEFAULT_HAIKU_MODEL{'=' + haiku if haiku else ' (unset)'} for background requests",
                f"remove ANTHROPIC_SMALL_FAST_MODEL from {_where_short(small_fast[1])}; "
                "set the haiku tier instead",
            ))

    # 5. A base URL ending in /v1 sends requests to /v1/v1/messages.
    for var in BASE_URL_VARIABLES:
        found = effective.get(var)
        if found and found[0].rstrip("/").lower().endswith("/v1"):
            checks.append(Check(
                "base URL", FAIL,
                f"{var}={found[0]} ({found[1]}) ends in /v1: claude appends /v1/messages itself",
                f"drop the trailing /v1 in {_where_short(found[1])}",
            ))

    # 6. A saved claude.ai / Console login beside a gateway token.
    if isinstance(claude_state, Mapping):
        logins = [key for key in LOGIN_KEYS if claude_state.get(key)]
        gateway = [var for var in (*AUTH_VARIABLES, "ANTHROPIC_BASE_URL") if var in effective]
        if logins and gateway:
            checks.append(Check(
                "saved login", WARN,
                f"claude has a saved login ({', '.join(logins)} in .claude.json) and "
                f"{', '.join(gateway)} is set ({effective[gateway[0]][1]}): claude warns of an auth conflict",
                "run `claude /logout` if you no longer use that login, or keep the gateway to `ccswitch run`",
            ))

    if not checks:
        checks.append(Check("conflicts", OK, "no conflicting provider settings found"))
    return checks


def onboarding_check(path: str, state: Mapping | None, error: str | None, exists: bool) -> Check:
    fix = f'finish claude\'s first-run setup once, or set "hasCompletedOnboarding": true in {path}'
    if not exists:
        return Check("onboarding", WARN, f"{path}: not present: interactive claude will show its first-run screens", fix)
    if error:
        return Check("onboarding", WARN, f"{path}: {error}", "let claude rewrite it: move it aside and start claude once")
    if isinstance(state, Mapping) and state.get("hasCompletedOnboarding") is True:
        return Check("onboarding", OK, "first-run setup done (hasCompletedOnboarding)")
    return Check("onboarding", WARN, "hasCompletedOnboarding is not set: interactive claude will show its first-run screens", fix)


def _where_short(where: str) -> str:
    return "your shell" if where == SHELL else where


# ---------------------------------------------------------------------------------------------
# claude and node


Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Which = Callable[..., "str | None"]


def claude_checks(env: Mapping[str, str], which: Which, run: Runner) -> list[Check]:
    program = paths.claude_program(env)
    search_path = env.get("PATH", os.defpath)
    found = which(program, path=search_path)
    override = f" (from ${paths.ENV_CLAUDE_PROGRAM})" if env.get(paths.ENV_CLAUDE_PROGRAM) else ""
    if not found:
        return [Check("claude", FAIL, f"{program}{override}: not found on PATH",
                      "install it: npm install -g @anthropic-ai/claude-code (or set CCSWITCH_CLAUDE to its path)")]
    version, problem = _first_line(run, [found, "--version"], env)
    if problem:
        return [Check("claude", FAIL, f"{found}{override}: `--version` failed: {problem}",
                      "reinstall claude: npm install -g @anthropic-ai/claude-code")]
    checks = [Check("claude", OK, f"{found}{override}: {version}")]
    if "node_modules" in os.path.realpath(found).split(os.sep):
        checks.append(node_check(env, which, run))
    return checks


def node_check(env: Mapping[str, str], which: Which, run: Runner) -> Check:
    node = which("node", path=env.get("PATH", os.defpath))
    if not node:
        return Check("node", WARN, "claude came from npm, but node is not on PATH",
                     "install Node.js 22 or later, or npm cannot update claude")
    version, problem = _first_line(run, [node, "--version"], env)
    if problem:
        return Check("node", WARN, f"{node} --version failed: {problem}", "reinstall Node.js 22 or later")
    match = re.match(r"v?(\d+)", version)
    if match and int(match.group(1)) < NODE_FOR_CURRENT_CLAUDE:
        return Check("node", WARN,
                     f"node {version}: npm installs and updates of claude stop at 2.1.197 below Node {NODE_FOR_CURRENT_CLAUDE}",
                     f"upgrade Node.js to {NODE_FOR_CURRENT_CLAUDE} or later")
    return Check("node", OK, f"node {version}")


def _first_line(run: Runner, argv: list[str], env: Mapping[str, str]) -> tuple[str, str | None]:
    try:
        done = run(argv, capture_output=True, text=True, timeout=20, env=dict(env), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return "", str(exc) or type(exc).__name__
    output = (done.stdout or "").strip() or (done.stderr or "").strip()
    first = output.splitlines()[0] if output else ""
    if done.returncode != 0:
        return first, f"exit status {done.returncode}" + (f": {first}" if first else "")
    return first, None


# ---------------------------------------------------------------------------------------------
# The profiles file


def profiles_checks(profiles_path: str, presets_directory: str, env: Mapping[str, str]) -> tuple[list[Check], ProfileSet | None]:
    from ccswitch.profiles import validate_user_file
    from ccswitch.store import read_toml

    if not os.path.exists(profiles_path):
        return [Check("profiles file", OK, f"{profiles_path}: not present (only the built-in presets)")], None
    try:
        data, text = read_toml(profiles_path)
        user, default = validate_user_file(data, profiles_path, text)
    except ProfileFileError as error:
        return [Check("profiles file", FAIL, error.message, "fix that line; `ccswitch list` re-reads the file")], None
    checks = [Check("profiles file", OK, f"{profiles_path}: parses ({len(user)} profile{'s' * (len(user) != 1)})")]
    checks.append(privacy_check(profiles_path, user))
    names = preset_names(presets_directory)
    profile_set = ProfileSet(user, default, profiles_path, names, lambda name: load_preset(presets_directory, name), text)

    broken = []
    for name in user:
        try:
            profile_set.get(name)
        except CcswitchError as error:
            broken.append(error.message)
    if default is not None and default not in profile_set:
        broken.append(f"{profiles_path}: default: no profile named {default!r}")
    if broken:
        checks.extend(Check("extends", FAIL, message, "point `extends`/`default` at an existing profile") for message in broken)
    else:
        checks.append(Check("extends", OK, "every extends and the default resolve"))

    token_problems = []
    for name in _names_to_check(user, default):
        try:
            profile = profile_set.get(name)
        except CcswitchError:
            continue  # already reported above
        status = describe_token(profile.token, env)
        if profile.token and not status.found:
            token_problems.append((name, status))
    for name, status in token_problems:
        level = FAIL if name == default else WARN
        checks.append(Check("token", level, f"profile {name!r}: token {status.detail}",
                            f"export {status.source.lstrip('$')} or change the profile's token"))
    if not token_problems:
        checks.append(Check("token", OK, "every token reference resolves"))
    keyring = keyring_check(profile_set, user)
    if keyring is not None:
        checks.append(keyring)
    return checks, profile_set


def _names_to_check(user: Mapping[str, object], default: str | None) -> list[str]:
    names = list(user)
    if default and default not in names:
        names.append(default)
    return names


def privacy_check(path: str, user: Mapping[str, Mapping[str, object]]) -> Check:
    if os.name == "nt":  # pragma: no cover - POSIX modes only
        return Check("profiles private", OK, "file modes are not checked on Windows")
    problems = []
    file_mode = os.stat(path).st_mode & 0o777
    if file_mode & 0o077:
        problems.append((f"{path} is {file_mode:o}", f"chmod 600 {path}"))
    directory = os.path.dirname(os.path.abspath(path))
    dir_mode = os.stat(directory).st_mode & 0o777
    if dir_mode & 0o077:
        problems.append((f"{directory} is {dir_mode:o}", f"chmod 700 {directory}"))
    if not problems:
        return Check("profiles private", OK, "file 600, directory 700")
    # Readable by others is a leak when the file holds a token in plain text, untidy otherwise.
    plain = any(isinstance(raw.get("token"), str) and not str(raw.get("token")).startswith(("env:", "keyring:"))
                for raw in user.values())
    return Check("profiles private", FAIL if plain else WARN,
                 "; ".join(p for p, _ in problems) + (" and it holds plain-text tokens" if plain else ""),
                 " && ".join(f for _, f in problems))


def keyring_check(profile_set: ProfileSet, user: Mapping[str, Mapping[str, object]]) -> Check | None:
    """Only when some profile keeps its token in the system keyring (`keyring:` references)."""
    users = [name for name, raw in user.items() if str(raw.get("token") or "").startswith("keyring:")]
    if not users:
        return None
    try:
        import keyring  # type: ignore[import-not-found]
    except ImportError:
        return Check("keyring", FAIL, f"profiles {', '.join(users)} use the keyring, but the keyring package is missing",
                     "pip install keyring (into the environment ccswitch runs from)")
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name.lower() or "null" in name.lower():
        return Check("keyring", FAIL, f"no usable keyring backend ({name})",
                     "install a backend (e.g. gnome-keyring or keyrings.alt) or use env: token references")
    return Check("keyring", OK, f"backend {name}")


# ---------------------------------------------------------------------------------------------
# Everything


def run_doctor(env: Mapping[str, str], project_dir: str, presets_directory: str, *,
               which: Which | None = None, run: Runner | None = None) -> list[Check]:
    import shutil

    checks = claude_checks(env, which or shutil.which, run or subprocess.run)
    profile_checks, _ = profiles_checks(paths.profiles_file(env), presets_directory, env)
    checks.extend(profile_checks)
    sources = settings_sources(env, project_dir)
    checks.extend(check_settings_files(sources))
    state_path = paths.claude_state_file(env)
    state, state_error, state_exists = read_json_object(state_path)
    checks.extend(conflict_checks(sources, env, state))
    checks.append(onboarding_check(state_path, state, state_error, state_exists))
    return checks


def failed(checks: Sequence[Check]) -> bool:
    return any(check.status == FAIL for check in checks)
