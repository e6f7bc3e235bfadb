"""The fast front door for `ccswitch run` and `ccswitch env`, parsed by hand.

Every claude start goes through here, so it imports no typer, rich, click, pydantic or tomlkit (a
test checks sys.modules): `__main__` sends `run`/`env` here unless `--help` is asked for, which
the typer app answers (its `run`/`env` commands call the same core in `py`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from ccswitch import paths
from ccswitch.errors import CcswitchError, ExitStatus, UsageError, report, warn
from ccswitch.launch.plan import (
    Launch,
    describe_launch,
    prepare,
    prepare_claude_state_for,
    prepare_env,
    prune_ended_sessions,
    start_gateway,
    write_settings_file,
)
from ccswitch.launch.program import exec_program
from ccswitch.launch.shells import default_shell, normalize_shell
from ccswitch.profiles.cache import load_profiles
from ccswitch.profiles.tokens import TokenResolver

RUN_USAGE = "usage: ccswitch run [--dry-run] [--fallback] [--gateway] [--no-onboarding-fix] [NAME] [-- CMD [ARGS...]]"
ENV_USAGE = "usage: ccswitch env [NAME] [--shell bash|zsh|fish|powershell|cmd|dotenv|json]"
RESUME_USAGE = ("usage: ccswitch --resume [SESSION_ID]  (what claude's exit hint prints: `ccswitch run PROFILE -- "
                "claude --resume SESSION_ID` on the profile the session last ran on)")
HELP_OPTIONS = ("-h", "--help")


def wants_help(args: Sequence[str]) -> bool:
    """`--help` for ccswitch itself: before any `--` (after it, the option is the command's)."""
    for arg in args:
        if arg == "--":
            return False
        if arg in HELP_OPTIONS:
            return True
    return False


class RunOptions:
    __slots__ = ("dry_run", "onboarding_fix", "fallback", "gateway")

    def __init__(self, dry_run: bool = False, onboarding_fix: bool = True, fallback: bool = False,
                 gateway: bool = False) -> None:
        self.dry_run = dry_run
        self.onboarding_fix = onboarding_fix
        self.fallback = fallback
        self.gateway = gateway


def parse_run(args: Sequence[str]) -> tuple[str | None, list[str], RunOptions]:
    """(name, command, options) from `run`'s arguments."""
    name: str | None = None
    options = RunOptions()
    for index, arg in enumerate(args):
        if arg == "--":
            return name, list(args[index + 1 :]), options
        if arg == "--dry-run":
            options.dry_run = True
        elif arg == "--fallback":
            options.fallback = True
        elif arg == "--no-onboarding-fix":
            options.onboarding_fix = False
        elif arg == "--gateway":
            options.gateway = True
        elif arg.startswith("-"):
            raise UsageError(f"run: unknown option {arg!r} (options for claude go after --)\n{RUN_USAGE}")
        elif name is None:
            name = arg
        else:
            raise UsageError(
                f"run: unexpected argument {arg!r}: put the command after -- "
                f"(ccswitch run {name} -- claude ...)\n{RUN_USAGE}"
            )
    return name, [], options


def parse_env(args: Sequence[str]) -> tuple[str | None, str | None]:
    name: str | None = None
    shell: str | None = None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--shell":
            if index + 1 >= len(args):
                raise UsageError(f"env: --shell needs a value\n{ENV_USAGE}")
            shell = args[index + 1]
            index += 1
        elif arg.startswith("--shell="):
            shell = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            raise UsageError(f"env: unknown option {arg!r}\n{ENV_USAGE}")
        elif name is None:
            name = arg
        else:
            raise UsageError(f"env: unexpected argument {arg!r}\n{ENV_USAGE}")
        index += 1
    return name, shell


def run(
    name: str | None,
    command: Sequence[str],
    *,
    dry_run: bool = False,
    onboarding_fix: bool = True,
    fallback: bool = False,
    gateway: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    choice: tuple[str, str] | None = None,
) -> int:
    """`ccswitch run`: shared by this launcher and the typer command. `choice`: (profile, why),
    already decided."""
    env = dict(os.environ) if env is None else dict(env)
    cwd = os.getcwd() if cwd is None else cwd
    profile_set = load_profiles(env)
    tokens = TokenResolver(env)  # a password manager prompts once, even when a fallback is probed
    plan = prepare(name, command, profile_set=profile_set, env=env, cwd=cwd, tokens=tokens, gateway=gateway,
                   dry_run=dry_run, choice=choice)
    checked: list[str] = []
    # A gateway fails over on every request; the probe before launch is for a direct one.
    if (fallback or plan.profile.fallback_check) and plan.gateway is None:
        # Imported only here: probing (endpoints, httpx) costs more than the whole rest of a launch.
        from ccswitch.launch import fallback as launch_fallback

        outcome = launch_fallback.check_launch(plan, command, profile_set=profile_set, env=env, cwd=cwd, tokens=tokens)
        for line in outcome.lines:
            sys.stderr.write(f"ccswitch: {line}\n")
        if outcome.launch is None:
            if dry_run:
                sys.stdout.write("".join(line + "\n" for line in launch_fallback.report(outcome)))
            raise CcswitchError(outcome.error or "no healthy profile")
        plan = outcome.launch
        checked = launch_fallback.report(outcome)
    if dry_run:
        sys.stdout.write(describe_launch(plan, env))
        sys.stdout.write("".join(line + "\n" for line in checked))
        return int(ExitStatus.OK)
    for finding in plan.warnings:
        warn(finding.message)
    if plan.gateway is not None:
        start_gateway(plan)
    if plan.is_claude:
        write_settings_file(plan)  # and deletes those of claudes that have ended
        if onboarding_fix:
            problem = prepare_claude_state_for(plan)
            if problem:
                warn(problem)
    else:
        prune_ended_sessions(env)  # what this command runs finds no token of a claude that has ended
    if plan.session or plan.picked_in:
        _record_session(env, plan)
    return exec_program(plan.path, plan.argv, plan.env)


def _record_session(env: Mapping[str, str], launch: Launch) -> None:
    """Which profile this claude session runs on, for `ccswitch usage` (usage.sessions)."""
    import time

    from ccswitch.usage.sessions import record_session

    try:
        record_session(paths.user_state_dir(env), launch.session, launch.profile.name, time.time(),
                       picked_in=launch.picked_in, gateway=launch.gateway_asked)
    except OSError as exc:
        warn(f"{paths.user_state_dir(env)}: cannot record the session for `ccswitch usage` ({exc.strerror or exc})")


def resume(args: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """`ccswitch --resume [ID]`, the command claude's exit hint names (plan.with_resume_hint): claude
    resumes the session on the profile `run` last launched it on, else on the usual choice."""
    if len(args) > 1 or any(arg.startswith("-") for arg in args):
        raise UsageError(f"--resume: takes one session id at most\n{RESUME_USAGE}")
    env = dict(os.environ) if env is None else dict(env)
    choice, gateway = None, False
    if args:
        from ccswitch.usage.sessions import SESSIONS_FILENAME, last_launch

        state_dir = paths.user_state_dir(env)
        last = last_launch(state_dir, args[0])
        if last is not None:
            profile, gateway = last
            choice = (profile, f"session {args[0]} last ran on it ({os.path.join(state_dir, SESSIONS_FILENAME)})")
    return run(None, ["claude", "--resume", *args], env=env, choice=choice, gateway=gateway)


def env_command(
    name: str | None,
    shell: str | None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> int:
    """`ccswitch env`: shared by this launcher and the typer command."""
    env = dict(os.environ) if env is None else dict(env)
    cwd = os.getcwd() if cwd is None else cwd
    chosen = normalize_shell(shell) if shell else default_shell(env, windows=sys.platform == "win32")
    reveal = not sys.stdout.isatty()
    text, warnings = prepare_env(name, chosen, profile_set=load_profiles(env), env=env, cwd=cwd, reveal=reveal)
    sys.stdout.write(text)
    for finding in warnings:
        warn(finding.message)
    if not reveal:
        warn('token masked because stdout is a terminal; eval "$(ccswitch env ...)" receives the real one')
    return int(ExitStatus.OK)


def main(argv: Sequence[str]) -> int:
    """`argv` starts with the subcommand (`run`, `env`, or `--resume`)."""
    command, args = argv[0], list(argv[1:])
    try:
        if command == "run":
            name, program, options = parse_run(args)
            return run(name, program, dry_run=options.dry_run, onboarding_fix=options.onboarding_fix,
                       fallback=options.fallback, gateway=options.gateway)
        if command == "env":
            name, shell = parse_env(args)
            return env_command(name, shell)
        if command == "--resume":
            return resume(args)
        raise UsageError(f"unknown command {command!r}")
    except CcswitchError as error:
        return report(error)
    except KeyboardInterrupt:
        return int(ExitStatus.CTRL_C)
