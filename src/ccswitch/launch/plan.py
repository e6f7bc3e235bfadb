"""Launching a program on a profile: which profile, which command, which environment, which settings.

For claude, environment variables are not enough: any settings file's `env` block beats the process
environment, so a shell export loses to `~/.claude/settings.json`. Only managed settings rank above
`claude --settings`, so the profile goes there: a settings file whose `env` holds every managed
variable (set, or blanked with "" so nothing from a lower source leaks in), plus `--model`.

That file holds the token (never argv: `ps` shows argv to every user). It is 0600 in a 0700
directory, named after the profile, a checksum of its content and the process that becomes claude,
and deleted by a later `run` once that process has ended (launch.settings_file).

On the launch path: no typer, rich, tomllib, tempfile or hashlib here (bench/startup.py); what only
`run` needs (claude's argv, the program, the settings file) is imported by the functions of `run`,
so that `env` does not load it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence

from ccswitch import paths
from ccswitch.claude.models import (
    CONTEXT_1M,
    DEFAULT_ALIAS,
    is_alias,
    strip_context_suffix,
)
from ccswitch.claude.sources import overrides, read_sources
from ccswitch.claude.variables import (
    CREDENTIAL_VARIABLES,
    MANAGED_VARIABLES,
    RESUME_HINT_COMMAND,
)
from ccswitch.errors import CcswitchError, UsageError
from ccswitch.findings import WARN, Finding
from ccswitch.interpreter import module_command
from ccswitch.launch.choice import NAMED, choose_profile
from ccswitch.launch.shells import posix_quote, render
from ccswitch.profiles.environment import (
    context_window,
    is_third_party,
    needs_gateway,
    prepare_claude_state,
    profile_environment,
    refuse_gateway_only,
)
from ccswitch.profiles.model import Profile, ProfileSet
from ccswitch.profiles.tokens import TokenResolver
from ccswitch.redact import mask


class Launch:
    """Everything `run` will do, computed without side effects (so `--dry-run` can show it)."""

    __slots__ = ("profile", "reason", "argv", "path", "is_claude", "env", "settings", "settings_path", "warnings", "token",
                 "gateway", "session", "picked_in", "gateway_asked")

    def __init__(self, **fields: object) -> None:
        for slot in self.__slots__:
            setattr(self, slot, fields.pop(slot, None))

    def masked_settings(self) -> dict | None:
        if self.settings is None:
            return None
        env = {k: (mask(v) if k in CREDENTIAL_VARIABLES or (self.token and v == self.token) else v)
               for k, v in self.settings["env"].items()}
        return {**self.settings, "env": env}


def _profile_and_token(
    choice: tuple[str, str], profile_set: ProfileSet, env: Mapping[str, str], tokens: TokenResolver | None,
    *, gateway_refused_by: str | None = None,
) -> tuple[Profile, str, str | None]:
    """The chosen profile, why it was chosen, and its token (resolved once, through `tokens`). With
    `gateway_refused_by` (a command that cannot start the gateway), a profile that needs one is
    refused before its token is looked for: a missing token is not the reason it cannot be used."""
    profile_name, reason = choice
    profile = profile_set.get(profile_name, None if reason == NAMED else reason)
    if gateway_refused_by:
        refuse_gateway_only(profile, gateway_refused_by)
    try:
        token = (tokens or TokenResolver(env)).resolve_profile(profile)
    except CcswitchError as error:
        if reason == NAMED:
            raise
        # A profile the user did not name: say how it was picked, or the error is a riddle.
        raise CcswitchError(f"{error.message} (chosen because: {reason})", error.exit_status) from None
    return profile, reason, token


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
    choice: tuple[str, str] | None = None,
    tokens: TokenResolver | None = None,
    gateway: bool = False,
    dry_run: bool = False,
) -> Launch:
    """Work out the argv, environment and settings for `ccswitch run`; touches nothing on disk.
    With `dry_run`, a program that is not installed still gets its plan (path None).

    `choice` is a (profile, reason) already decided (a fallback); otherwise choose_profile decides.
    `tokens` is the invocation's resolver (a `cmd:` or keyring token is fetched once per command).
    `gateway` sends the launch through a per-session gateway, as a profile with `routes` always does.
    """
    from ccswitch.claude.argv import (
        claude_model_option,
        launch_session,
        new_session_id,
    )
    from ccswitch.launch.program import resolve_command

    if choice is None:
        choice = choose_profile(name, cwd, profile_set, claude_model_option(command, env), env)
    tokens = tokens or TokenResolver(env)
    profile, reason, token = _profile_and_token(choice, profile_set, env, tokens)
    base_env = child_base_environment(env)
    argv, path, is_claude = resolve_command(command, base_env, missing_ok=dry_run)
    # Name the claude session, so that `usage` (and the gateway's records) know which profile ran it:
    # a new one (or a fork) gets --session-id; a resume or continue is followed to the session it
    # reopens; a resume through claude's picker is remembered by project (usage.sessions).
    kind, session = launch_session(argv[1:]) if is_claude else ("none", None)
    if kind == "new":
        session = new_session_id()
    elif kind == "continue":
        from ccswitch.claude.transcripts import continued_session

        session = continued_session(env, cwd)
    routed, upstreams, model = None, None, profile.model
    if gateway or needs_gateway(profile):
        from ccswitch.launch import (
            gateway as gateways,  # only a gateway run pays for planning one
        )

        routed = gateways.plan_gateway(profile, profile_set, tokens, session=session or "unknown",
                                       records=paths.gateway_records_file(env), timeouts=gateways.timeouts_from(env))
        profile_env = gateways.session_environment(routed, gateways.PORT_PLACEHOLDER)
        model = gateways.session_model(profile)
        upstreams = [profile_set.get(upstream) for upstream in routed.config["upstreams"]]
        base_env = {k: v for k, v in base_env.items() if k not in routed.token_variables}
    else:
        profile_env = profile_environment(profile, token, include_model=not is_claude)
    if not is_claude:
        launch = _prepare_other(profile, reason, argv, path, base_env, profile_env, env, cwd)
    else:
        if kind == "new":
            argv = [argv[0], "--session-id", session, *argv[1:]]
        launch = _prepare_claude(profile, reason, argv, path, base_env, profile_env, env, cwd, model, upstreams,
                                 gateway_asked=bool(gateway))
    launch.token, launch.gateway, launch.session = token, routed, session
    launch.gateway_asked = bool(gateway)  # `--gateway`: a resume of this session asks for it again
    if routed is not None:
        launch.warnings.extend(Finding("gateway", WARN, note) for note in routed.notes)
    if kind == "pick":
        from ccswitch.claude.transcripts import project_dir

        launch.picked_in = project_dir(env, cwd)
    return launch


def _prepare_other(profile: Profile, reason: str, argv: list[str], path: str, base_env: dict[str, str],
                   profile_env: dict[str, str], env: Mapping[str, str], cwd: str) -> Launch:
    """Any program but claude: the profile's variables in its environment, the others unset."""
    child_env = dict(base_env)
    child_env.update((k, v) for k, v in profile_env.items() if v)
    warnings = [
        Finding("settings-override", WARN,
                f"{source.path} sets {', '.join(keys)}: a claude started inside this command would use that, "
                f"not profile {profile.name!r} (use `ccswitch run {profile.name}` to start claude)")
        for source, keys in overrides(profile_env, read_sources(env, cwd))
    ]
    return Launch(profile=profile, reason=reason, argv=argv, path=path, is_claude=False, env=child_env,
                  settings=None, settings_path=None, warnings=warnings)


def _prepare_claude(profile: Profile, reason: str, argv: list[str], path: str, base_env: dict[str, str],
                    profile_env: dict[str, str], env: Mapping[str, str], cwd: str, model: str | None,
                    upstreams: list[Profile] | None = None, gateway_asked: bool = False) -> Launch:
    """claude: the profile in a `--settings` file, which beats every settings file but managed ones;
    `model` (the profile's, as the gateway routes it in a gateway run) in `--model`. `upstreams`: the
    profiles a gateway session reaches (a settings "model" must be one of theirs). The file also
    holds the hook that records a session started inside this claude (usage.session_start)."""
    from ccswitch.claude.argv import (
        has_option,
        load_user_settings,
        map_option_values,
        option_values,
    )
    from ccswitch.launch.settings_file import settings_file_name, settings_text

    args, user_settings_values = option_values(argv[1:], "--settings")
    if len(user_settings_values) > 1:
        raise UsageError("--settings given more than once; pass one (ccswitch merges it with the profile)")
    settings = dict(load_user_settings(user_settings_values[0], cwd) if user_settings_values else {})
    # The user's other settings stay; for every variable the profile decides, the profile wins.
    settings["env"] = {**settings.get("env", {}), **profile_env}
    warnings = [
        Finding("managed", WARN, f"{source.path} sets {', '.join(keys)}: managed settings beat every other source, "
                                 f"so profile {profile.name!r} does not decide {'it' if len(keys) == 1 else 'them'}")
        for source, keys in overrides(profile_env, read_sources(env, cwd, ("managed",)))
    ]
    if is_third_party(profile) and context_window(profile) < CONTEXT_1M:
        # A window the provider does not have: `sonnet[1m]` asks for the tier alone (claude 2.1.197
        # would otherwise send the bare alias `sonnet`; docs/claude-code.md, "Releases").
        args = map_option_values(args, "--model", lambda model: strip_context_suffix(model) if is_alias(model) else model)
    extra: list[str] = []
    if model and not has_option(args, "--model"):
        extra = ["--model", model]
    elif not has_option(args, "--model") and "model" not in settings:
        # With no model given: the one use of routing here (a routed run imported it already).
        from ccswitch.profiles.routing import stray_model

        stray = stray_model(profile, read_sources(env, cwd), upstreams)
        if stray is not None:
            finding, source = stray
            # The --settings file's "model" beats the project's, local and user files' (not managed).
            if source.name != "managed":
                settings["model"] = DEFAULT_ALIAS
            warnings.append(finding)
    from ccswitch.usage import session_start

    # Not on Windows, where claude may run hooks in PowerShell, which no quoting here was tried
    # with; nor where the interpreter cannot name itself (embedded).
    if sys.executable and sys.platform != "win32":
        argv_of_hook = session_start.hook_argv(module_command(session_start.MODULE), paths.user_state_dir(env),
                                               profile.name, gateway_asked)
        command = " ".join(posix_quote(arg) for arg in argv_of_hook)  # claude runs hooks with sh
        settings = session_start.with_hook(settings, session_start.hooks_entry(command))
    settings_path = os.path.join(paths.run_settings_dir(env), settings_file_name(profile.name, settings_text(settings)))
    final_argv = [argv[0], "--settings", settings_path, *extra, *args]
    return Launch(profile=profile, reason=reason, argv=final_argv, path=path, is_claude=True,
                  env=with_resume_hint(base_env), settings=settings, settings_path=settings_path, warnings=warnings)


def with_resume_hint(env: dict[str, str]) -> dict[str, str]:
    """claude's exit hint says `ccswitch --resume ID`, which works as long as claude keeps the
    session; its own `claude --settings FILE --resume ID` stops working once FILE is pruned (or the
    gateway it names is gone), and its narrow form `claude --resume ID` leaves the profile behind
    (docs/claude-code.md, "Resuming a session"). Only when `ccswitch` is a command the user can type."""
    from ccswitch.launch.program import find_program

    if env.get(RESUME_HINT_COMMAND) or find_program(paths.APP_NAME, env) is None:
        return env
    return {**env, RESUME_HINT_COMMAND: paths.APP_NAME}


def describe_launch(launch: Launch, inherited: Mapping[str, str]) -> str:
    """The `--dry-run` report: profile, command, settings file (token masked), environment changes."""
    import shlex  # --dry-run only

    from ccswitch.launch.program import missing_program

    lines = [f"profile: {launch.profile.name} ({launch.reason})", f"command: {shlex.join(launch.argv)}"]
    if launch.path is None:  # a dry run shows the plan even so
        lines.append(f"note: {missing_program(launch.argv[0], launch.is_claude, launch.env)}; a real run stops here")
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
        lines.append(f"warning: {warning.message}")
    return "\n".join(lines) + "\n"


def prepare_claude_state_for(launch: Launch) -> str | None:
    """.claude.json ready for the profile (environment.prepare_claude_state); a warning, or None."""
    if not launch.is_claude:
        return None
    return prepare_claude_state(launch.profile, launch.token, paths.claude_state_file(launch.env))


def prepare_env(
    name: str | None,
    shell: str,
    *,
    profile_set: ProfileSet,
    env: Mapping[str, str],
    cwd: str,
    reveal: bool = True,
    tokens: TokenResolver | None = None,
) -> tuple[str, list[Finding]]:
    """(what to eval, warnings). With `reveal` False the token is masked (output to a terminal)."""
    choice = choose_profile(name, cwd, profile_set, command="env")
    profile, _, token = _profile_and_token(choice, profile_set, env, tokens, gateway_refused_by="env")
    environment = profile_environment(profile, token)
    warnings = [
        Finding("settings-override", WARN,
                f"{source.path} sets {', '.join(keys)} in its env, which beats exported variables: claude would use "
                f"that, not profile {profile.name!r} (`ccswitch run {profile.name}` always wins)")
        for source, keys in overrides(environment, read_sources(env, cwd))
    ]
    if not reveal and token:
        environment = {k: (mask(v) if v == token else v) for k, v in environment.items()}
    return render(environment, shell), warnings


def start_gateway(launch: Launch) -> None:
    """For a gateway run: bind its port, tell the session (settings file or environment) where it
    listens, and start it; it removes the session's settings file when it ends."""
    from ccswitch.launch import gateway as gateways  # gateway runs only
    from ccswitch.launch.settings_file import settings_file_name, settings_text

    sock = gateways.bind()
    session_env = gateways.session_environment(launch.gateway, sock.getsockname()[1])
    if launch.is_claude:
        launch.settings["env"].update(session_env)
        old = launch.settings_path
        launch.settings_path = os.path.join(os.path.dirname(old), settings_file_name(launch.profile.name, settings_text(launch.settings)))
        launch.argv[launch.argv.index(old)] = launch.settings_path
    else:
        launch.env.update((key, value) for key, value in session_env.items() if value)
    gateways.spawn_on(launch.gateway, sock, [launch.settings_path] if launch.is_claude else [], launch.env)
    sock.close()  # the gateway holds its own copy


def prune_ended_sessions(env: Mapping[str, str]) -> None:
    """Delete the settings files of claudes that have ended (settings_file.prune_settings_files):
    a run that writes none (another program) prunes too."""
    from ccswitch.launch.settings_file import prune_settings_files

    prune_settings_files(paths.run_settings_dir(env), keep="")


def write_settings_file(launch: Launch, *, now: float | None = None) -> str:
    """Write the launch's settings file (settings_file.store_settings_file); returns the path used,
    which the launch's argv then names."""
    from ccswitch.launch.settings_file import store_settings_file

    assert launch.settings is not None and launch.settings_path is not None
    path = store_settings_file(launch.settings, launch.settings_path, launch.profile.name, now=now)
    if path != launch.settings_path:
        launch.argv[launch.argv.index(launch.settings_path)] = path
        launch.settings_path = path
    return path
