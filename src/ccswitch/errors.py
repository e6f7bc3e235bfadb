"""The one error type the core raises, the exit codes it carries, and the one place that reports it.

On the launch path: imports nothing heavier than enum (which json's re pulls in anyway).
"""

from __future__ import annotations

import os
import sys
from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    FAILURE = 1  # something at run time went wrong (a command failed, a file could not be written)
    USAGE = 2  # the user's input or configuration is wrong
    CTRL_C = 130


class CcswitchError(Exception):
    """An error meant for the user: one line, no traceback. Exit status 1 unless a subclass says."""

    exit_status: ExitStatus = ExitStatus.FAILURE

    def __init__(self, message: str, exit_status: ExitStatus | None = None) -> None:
        super().__init__(message)
        if exit_status is not None:
            self.exit_status = exit_status

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(CcswitchError):
    """The command line, or a value the user gave, is wrong: exit status 2."""

    exit_status = ExitStatus.USAGE


class ConfigError(CcswitchError):
    """A configuration file is wrong; the message names the file (and line where known)."""

    exit_status = ExitStatus.USAGE


class ProfileFileError(ConfigError):
    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class UnknownProfileError(UsageError):
    pass


# ---------------------------------------------------------------------------------------------
# Reporting: the typer app and the light run/env front door both print through these.

_RED, _YELLOW, _RESET = "\033[1;31m", "\033[33m", "\033[0m"


def _coloured(prefix: str, colour: str) -> str:
    # NO_COLOR (no-color.org) and pipes get plain text; scripts grep these lines.
    if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
        return prefix
    return f"{colour}{prefix}{_RESET}"


def report(error: CcswitchError) -> int:
    """Print the error as one line on stderr; return the exit status to leave with."""
    sys.stderr.write(f"{_coloured('ccswitch: error:', _RED)} {error.message}\n")
    return int(error.exit_status)


def warn(message: str) -> None:
    sys.stderr.write(f"{_coloured('ccswitch: warning:', _YELLOW)} {message}\n")


def note(message: str) -> None:
    sys.stderr.write(f"ccswitch: {message}\n")
