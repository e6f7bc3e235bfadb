"""Launching a program on a profile: which profile, which command, which environment, which settings.

For claude, environment variables are not enough: any settings file's `env` block beats the process
environment, so a shell export loses to `~/.claude/settings.json`. Only managed settings rank above
`claude --settings`, so the profile goes there: a settings file whose `env` holds every managed
variable (set, or blanked with "" so nothing from a lower source leaks in), plus `--model`.

That file holds the token (never argv: `ps` shows argv to every user). It is 0600 in a 0700
directory, named after the profile and a checksum of its content, never rewritten once created (a
running claude re-reads its --settings file when it changes), reused by every run with the same
content, and deleted once unused for PRUNE_AFTER_SECONDS.

On the launch path: no typer, rich, tomllib, tempfile or hashlib here (bench/startup.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from ccswitch import paths
from ccswitch.errors import CcswitchError, ConfigError, ExitStatus, UnknownProfileError, UsageError
from ccswitch.profiles import (
    CREDENTIAL_VARIABLES,
    MANAGED_VARIABLES,
    Profile,
    ProfileSet,
    profile_environment,
    unknown_profile_message,
)
from ccswitch.secrets import TokenResolver, mask

DEFAULT_COMMAND = "claude"
CLAUDE_NAMES = frozenset({"claude", "claude.exe", "claude.cmd"})
ENV_CLAUDE = paths.ENV_CLAUDE_PROGRAM
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
PRUNE_AFTER_SECONDS = 7 * 24 * 3600
SETTINGS_SUFFIX = ".json"
NAMED = "named on the command line"

# The switches that make a profile Anthropic-via-cloud rather than a login to Anthropic itself.
CLOUD_SWITCHES = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")


# ---------------------------------------------------------------------------------------------
# Which profile


def read_pin(path: str) -> str:
    """The profile name in a `.ccswitch` file: its first line that is not blank or a # comment."""
    from ccswitch.profiles import _NAME_RE

    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read(4096)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the pinned profile ({getattr(exc, 'strerror', None) or exc})") from None
    for number, line in enumerate(text.splitlines(), 1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if not _NAME_RE.match(name):
            raise ConfigError(f"{path}:{number}: {name[:40]!r} is not a profile name (the file holds a name only)")
        return name
    raise ConfigError(f"{path}: empty; write a profile name in it (ccswitch pin NAME) or delete it")


def choose_profile(
    name: str | None,
    cwd: str,
    profile_set: ProfileSet,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """(profile name, why it was chosen). The one place that decides, first match wins:

    1. the NAME given on the command line;
    2. the nearest `.ccswitch` pin from `cwd` upwards (a project's choice beats a guess from a model);
    3. routing: the profile whose `serves` patterns match `model` (the `--model` passed to claude),
       unless it is a claude alias (`opus`, `sonnet[1m]`, ...), which names a tier, not a provider;
    4. `default` in profiles.toml;
    5. otherwise an error.
    """
    if name:
        return name, NAMED
    pin = paths.find_pin_file(cwd)
    if pin:
        return read_pin(pin), f"pinned in {pin}"
    routed_nowhere = False
    if model:
        from ccswitch.routing import is_claude_alias, route_model  # only when a model is given

        if not is_claude_alias(model):
            route = route_model(model, profile_set, env or {})
            if route is not None:
                return route.profile, f"routed by model {model!r}: {route.reason()}"
            routed_nowhere = True
    if profile_set.default:
        unrouted = f"; no profile serves model {model!r}" if routed_nowhere else ""
        return profile_set.default, f"default in {profile_set.path}{unrouted}"
    no_route = f", no profile whose `serves` matches model {model!r}," if routed_nowhere else ","
    raise UsageError(
        f"no profile named, no {paths.PIN_FILENAME} pin from {cwd} upwards{no_route} and no `default` in "
        f"{profile_set.path}; name one (ccswitch run NAME) or pin one (ccswitch pin NAME)"
    )


def claude_model_option(command: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The `--model M` / `--model=M` given to claude in `command` (the last one wins, as in claude);
    None when there is none or the command is not claude (its `--model` means something else)."""
    if not command or not is_claude_command(command[0], env):
        return None
    values = _option_value(command[1:], "--model")[1]
    return values[-1] if values else None


# ---------------------------------------------------------------------------------------------
# Which program


def find_program(command: str, env: Mapping[str, str]) -> str | None:
    """Like shutil.which (not imported: it is on the launch path), over the child's PATH."""
    if os.path.dirname(command):
        return command if os.path.isfile(command) and os.access(command, os.X_OK) else None
    extensions = [""]
    if sys.platform == "win32":  # pragma: no cover
        extensions += env.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").lower().split(";")
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        for extension in extensions:
            candidate = os.path.join(directory or ".", command + extension)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def is_claude_command(program: str, env: Mapping[str, str]) -> bool:
    override = env.get(ENV_CLAUDE)
    return os.path.basename(program).lower() in CLAUDE_NAMES or (bool(override) and program == override)


def resolve_command(command: Sequence[str], env: Mapping[str, str]) -> tuple[list[str], str, bool]:
    """(argv, executable path, is it claude). `claude` means $CCSWITCH_CLAUDE when that is set."""
    argv = list(command) or [DEFAULT_COMMAND]
    override = env.get(ENV_CLAUDE)
    is_claude = is_claude_command(argv[0], env)
    if is_claude and argv[0] == DEFAULT_COMMAND:
        argv[0] = paths.claude_program(env)  # the same claude `doctor` checks
    path = find_program(argv[0], env)
    if path is None:
        if is_claude:
            where = f"{ENV_CLAUDE}={override}" if override else "PATH"
            raise CcswitchError(
                f"claude not found ({where}); install it with `{INSTALL_HINT}`, "
                f"or set {ENV_CLAUDE} to the claude binary"
            )
        raise CcswitchError(f"{argv[0]}: command not found")
    return argv, path, is_claude


# ---------------------------------------------------------------------------------------------
# The user's own --settings, and settings files that would beat a profile


def _option_value(args: Sequence[str], option: str) -> tuple[list[str], list[str]]:
    """(args without `option VALUE` / `option=VALUE`, the values). Stops at `--`."""
    rest: list[str] = []
    values: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg == option:
            if index + 1 >= len(args):
                raise UsageError(f"{option} needs a value")
            values.append(args[index + 1])
            index += 2
            continue
        if arg.startswith(option + "="):
            values.append(arg[len(option) + 1 :])
        else:
            rest.append(arg)
        index += 1
    return rest, values


def has_option(args: Sequence[str], option: str) -> bool:
    return bool(_option_value(args, option)[1])


def load_user_settings(value: str, cwd: str) -> dict:
    """What claude would make of `--settings VALUE`: inline JSON, else a file path."""
    try:
        data = json.loads(value)
    except ValueError:
        path = os.path.join(cwd, os.path.expanduser(value))
        try:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read()
        except OSError as exc:
            raise UsageError(f"--settings {value}: cannot read ({exc.strerror or exc})") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"--settings {value}: not valid JSON ({exc})") from None
        source = value
    else:
        source = "--settings (inline JSON)"
    if not isinstance(data, dict):
        raise UsageError(f"{source}: must be a JSON object")
    if not isinstance(data.get("env", {}), dict):
        raise UsageError(f"{source}: \"env\" must be an object")
    return data


def settings_env_keys(path: str) -> set[str]:
    """The keys of a settings file's `env` block; nothing for a missing or unreadable file."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return set()
    env = data.get("env") if isinstance(data, dict) else None
    return set(env) if isinstance(env, dict) else set()


def overriding_settings(
    files: Sequence[str], environment: Mapping[str, str]
) -> list[tuple[str, list[str]]]:
    """[(settings file, variables of `environment` its env block would override)]."""
    found = []
    for path in dict.fromkeys(files):
        keys = sorted(settings_env_keys(path) & set(environment))
        if keys:
            found.append((path, keys))
    return found


def claude_settings_files(env: Mapping[str, str], cwd: str) -> list[str]:
    """Every settings file whose `env` beats the process environment for a claude started in cwd."""
    project = paths.find_project_root(cwd)
    return [
        paths.managed_settings_file(env),
        paths.claude_project_local_settings(project),
        paths.claude_project_settings(project),
        paths.claude_user_settings(env),
    ]


def _profile_and_token(
    choice: tuple[str, str], profile_set: ProfileSet, env: Mapping[str, str], tokens: TokenResolver | None
) -> tuple[Profile, str, str | None]:
    """The chosen profile, why it was chosen, and its token (resolved once, through `tokens`)."""
    profile_name, reason = choice
    if profile_name not in profile_set:
        raise UnknownProfileError(_unknown(profile_name, reason, profile_set))
    profile = profile_set.get(profile_name)
    try:
        token = (tokens or TokenResolver(env)).resolve_profile(profile)
    except CcswitchError as error:
        if reason == NAMED:
            raise
        # A profile the user did not name: say how it was picked, or the error is a riddle.
        raise CcswitchError(f"{error.message} (chosen because: {reason})", error.exit_status) from None
    return profile, reason, token


# ---------------------------------------------------------------------------------------------
# The launch itself


class Launch:
    """Everything `run` will do, computed without side effects (so `--dry-run` can show it)."""

    __slots__ = ("profile", "reason", "argv", "path", "is_claude", "env", "settings", "settings_path", "warnings", "token")

    def __init__(self, **fields: object) -> None:
        for slot in self.__slots__:
            setattr(self, slot, fields.pop(slot, None))

    def masked_settings(self) -> dict | None:
        if self.settings is None:
            return None
        env = {k: (mask(v) if k in CREDENTIAL_VARIABLES or (self.token and v == self.token) else v)
               for k, v in self.settings["env"].items()}
        return {**self.settings, "env": env}


def needs_onboarding_fix(profile: Profile) -> bool:
    """Every profile except claude's own Anthropic login, where the first-run screens are the login."""
    if profile.base_url or profile.token or profile.auth != "none":
        return True
    return any(profile.env.get(switch) not in (None, "", "0") for switch in CLOUD_SWITCHES)


def _unknown(name: str, reason: str, profile_set: ProfileSet) -> str:
    message = unknown_profile_message(name, profile_set.names())
    return message if reason == NAMED else f"{message} ({reason})"


def child_base_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The inherited environment without any provider variable: the profile decides them all."""
    return {k: v for k, v in env.items() if k not in MANAGED_VARIABLES}


def prepare(
    name: str | None,
    command: Sequence[str],
    *,
    profile_set: ProfileSet,
    env: Mapping[str, str],
    cwd: str,
    managed_settings: str | None = None,
    choice: tuple[str, str] | None = None,
    tokens: TokenResolver | None = None,
) -> Launch:
    """Work out the argv, environment and settings for `ccswitch run`; touches nothing on disk.

    `choice` is a (profile, reason) already decided (a fallback); otherwise choose_profile decides.
    `tokens` is the invocation's resolver (a `cmd:` or keyring token is fetched once per command).
    """
    if choice is None:
        choice = choose_profile(name, cwd, profile_set, claude_model_option(command, env), env)
    profile, reason, token = _profile_and_token(choice, profile_set, env, tokens)
    base_env = child_base_environment(env)
    argv, path, is_claude = resolve_command(command, base_env)
    warnings: list[str] = []
    managed_path = managed_settings if managed_settings is not None else paths.managed_settings_file(env)
    if not is_claude:
        profile_env = profile_environment(profile, token)
        child_env = dict(base_env)
        child_env.update((k, v) for k, v in profile_env.items() if v)
        for path_, keys in overriding_settings([managed_path, *claude_settings_files(env, cwd)[1:]], profile_env):
            warnings.append(
                f"{path_} sets {', '.join(keys)}: a claude started inside this command would use that, "
                f"not profile {profile.name!r} (use `ccswitch run {profile.name}` to start claude)"
            )
        return Launch(profile=profile, reason=reason, argv=argv, path=path, is_claude=False, env=child_env,
                      settings=None, settings_path=None, warnings=warnings, token=token)

    args, user_settings_values = _option_value(argv[1:], "--settings")
    if len(user_settings_values) > 1:
        raise UsageError("--settings given more than once; pass one (ccswitch merges it with the profile)")
    settings = load_user_settings(user_settings_values[0], cwd) if user_settings_values else {}
    profile_env = profile_environment(profile, token, include_model=False)
    settings = dict(settings)
    # The user's other settings stay; for every variable the profile decides, the profile wins.
    settings["env"] = {**settings.get("env", {}), **profile_env}
    for path_, keys in overriding_settings([managed_path], {k: v for k, v in profile_env.items()}):
        warnings.append(
            f"{path_} sets {', '.join(keys)}: managed settings beat every other source, "
            f"so profile {profile.name!r} does not decide {'it' if len(keys) == 1 else 'them'}"
        )
    extra: list[str] = []
    if profile.model and not has_option(args, "--model"):
        extra = ["--model", profile.model]
    settings_path = os.path.join(paths.run_settings_dir(env), settings_file_name(profile.name, settings_text(settings)))
    final_argv = [argv[0], "--settings", settings_path, *extra, *args]
    return Launch(profile=profile, reason=reason, argv=final_argv, path=path, is_claude=True, env=base_env,
                  settings=settings, settings_path=settings_path, warnings=warnings, token=token)


def settings_text(settings: Mapping[str, object]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def settings_file_name(profile_name: str, text: str, attempt: int = 0) -> str:
    # crc32 rather than hashlib (3-4 ms to import): the name is only a lookup key, and a collision
    # is caught by comparing contents before a file is reused (see write_settings_file).
    import zlib

    checksum = zlib.crc32(text.encode("utf-8"))
    suffix = f"-{attempt}" if attempt else ""
    return f"{profile_name}-{checksum:08x}{suffix}{SETTINGS_SUFFIX}"


def write_settings_file(launch: Launch, *, now: float | None = None) -> str:
    """Create (or reuse) the launch's settings file, prune unused ones; returns the path used.

    A file is never rewritten with different content: a running claude re-reads its --settings file
    when it changes. Reuse refreshes the mtime, which is what pruning goes by.
    """
    assert launch.settings is not None and launch.settings_path is not None
    directory = os.path.dirname(launch.settings_path)
    try:
        return _write_settings_file(launch, directory, now)
    except OSError as error:
        raise CcswitchError(
            f"{directory}: cannot write the settings file for claude ({error.strerror or error}); "
            "check XDG_RUNTIME_DIR / XDG_STATE_HOME"
        ) from None


def _write_settings_file(launch: Launch, directory: str, now: float | None) -> str:
    text = settings_text(launch.settings)
    _ensure_private_directory(directory)
    path = launch.settings_path
    for attempt in range(1, 100):
        existing = _read_text(path)
        if existing is None:
            from ccswitch.fsutil import atomic_write_text

            atomic_write_text(path, text, mode=0o600)
            break
        if existing == text:
            os.utime(path)
            break
        path = os.path.join(directory, settings_file_name(launch.profile.name, text, attempt))
    prune_settings_files(directory, keep=path, now=now)
    if path != launch.settings_path:
        launch.argv[launch.argv.index(launch.settings_path)] = path
        launch.settings_path = path
    return path


def _ensure_private_directory(directory: str) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.stat(directory)
    # Our own directory only: never loosen or chmod a directory the user made for other things.
    if st.st_mode & 0o077 and os.path.basename(directory) in (paths.APP_NAME, "run"):
        os.chmod(directory, 0o700)


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def prune_settings_files(directory: str, *, keep: str, now: float | None = None) -> list[str]:
    """Delete settings files (ours: NAME-XXXXXXXX.json) not used for PRUNE_AFTER_SECONDS."""
    cutoff = (time.time() if now is None else now) - PRUNE_AFTER_SECONDS
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(SETTINGS_SUFFIX) or entry.path == keep or not entry.is_file(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass
    return removed


def ensure_onboarding_for(launch: Launch) -> str | None:
    """Skip claude's first-run wizard for a gateway/cloud profile; a warning if the file is bad."""
    if not launch.is_claude or not needs_onboarding_fix(launch.profile):
        return None
    from ccswitch.claude_state import ensure_onboarding

    try:
        return ensure_onboarding(paths.claude_state_file(launch.env))
    except OSError as exc:
        return f"{paths.claude_state_file(launch.env)}: cannot write ({exc.strerror or exc}); claude may show its first-run screens"


# ---------------------------------------------------------------------------------------------
# Running it


def exec_program(
    path: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    windows: bool | None = None,
    execve: Callable[..., object] | None = None,
    spawn: Callable[..., int] | None = None,
) -> int:
    """Replace this process with the program (POSIX), or run it and return its exit code (Windows).

    exec leaves claude the terminal, the signals (Ctrl-C interrupts a turn, not ccswitch) and the
    exit code. Windows has no exec: spawn, wait, and ignore Ctrl-C here, which the child also gets.
    """
    windows = (sys.platform == "win32") if windows is None else windows
    sys.stdout.flush()
    sys.stderr.flush()
    if windows:
        import signal
        import subprocess

        run = spawn or (lambda p, a, e: subprocess.call(a, executable=p, env=e))
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return int(run(path, list(argv), dict(env)))
        except OSError as exc:
            raise CcswitchError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        finally:
            signal.signal(signal.SIGINT, previous)
    try:
        (execve or os.execve)(path, list(argv), dict(env))
    except OSError as exc:
        raise CcswitchError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    return int(ExitStatus.OK)  # only reached with a fake execve


def describe_launch(launch: Launch, inherited: Mapping[str, str]) -> str:
    """The `--dry-run` report: profile, command, settings file (token masked), environment changes."""
    import shlex

    lines = [f"profile: {launch.profile.name} ({launch.reason})", f"command: {shlex.join(launch.argv)}"]
    if launch.settings is not None:
        lines.append(f"settings file {launch.settings_path} (0600; token masked here):")
        lines.append(json.dumps(launch.masked_settings(), indent=2, ensure_ascii=False, sort_keys=True))
    removed = sorted(k for k in inherited if k not in launch.env)
    if removed:
        lines.append("environment: unset " + " ".join(removed))
    for key in sorted(launch.env):
        if inherited.get(key) != launch.env[key]:
            value = launch.env[key]
            shown = mask(value) if key in CREDENTIAL_VARIABLES or (launch.token and value == launch.token) else value
            lines.append(f"environment: {key}={shown}")
    for warning in launch.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# `ccswitch env`


def prepare_env(
    name: str | None,
    shell: str,
    *,
    profile_set: ProfileSet,
    env: Mapping[str, str],
    cwd: str,
    reveal: bool = True,
    managed_settings: str | None = None,
    tokens: TokenResolver | None = None,
) -> tuple[str, list[str]]:
    """(what to eval, warnings). With `reveal` False the token is masked (output to a terminal)."""
    from ccswitch.shells import render

    profile, _, token = _profile_and_token(choose_profile(name, cwd, profile_set), profile_set, env, tokens)
    environment = profile_environment(profile, token)
    if not reveal and token:
        environment = {k: (mask(v) if v == token else v) for k, v in environment.items()}
    managed_path = managed_settings if managed_settings is not None else paths.managed_settings_file(env)
    warnings = [
        f"{path} sets {', '.join(keys)} in its env, which beats exported variables: claude would use that, "
        f"not profile {profile.name!r} (`ccswitch run {profile.name}` always wins)"
        for path, keys in overriding_settings([managed_path, *claude_settings_files(env, cwd)[1:]], environment)
    ]
    return render(environment, shell), warnings
