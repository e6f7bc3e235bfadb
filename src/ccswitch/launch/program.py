"""Which program to start, and starting it: exec on POSIX, spawn and wait on Windows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence

from ccswitch import paths
from ccswitch.claude.argv import is_claude_command
from ccswitch.errors import CcswitchError, ExitStatus

DEFAULT_COMMAND = "claude"
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"


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


def resolve_command(command: Sequence[str], env: Mapping[str, str], *,
                    missing_ok: bool = False) -> tuple[list[str], str | None, bool]:
    """(argv, executable path, is it claude). `claude` means $CCSWITCH_CLAUDE when that is set.
    A program that is not there is an error, or, with `missing_ok` (a dry run), a None path."""
    argv = list(command) or [DEFAULT_COMMAND]
    is_claude = is_claude_command(argv[0], env)
    if is_claude and argv[0] == DEFAULT_COMMAND:
        argv[0] = paths.claude_program(env)  # the same claude `doctor` checks
    path = find_program(argv[0], env)
    if path is None and not missing_ok:
        raise CcswitchError(missing_program(argv[0], is_claude, env))
    return argv, path, is_claude


def missing_program(program: str, is_claude: bool, env: Mapping[str, str]) -> str:
    """Why the program cannot be started, and what to do."""
    if is_claude:
        override = env.get(paths.ENV_CLAUDE_PROGRAM)
        where = f"{paths.ENV_CLAUDE_PROGRAM}={override}" if override else "PATH"
        return (f"claude not found ({where}); install it with `{INSTALL_HINT}`, "
                f"or set {paths.ENV_CLAUDE_PROGRAM} to the claude binary")
    return f"{program}: command not found"


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
        import signal  # Windows only
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
