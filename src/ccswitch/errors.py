"""The one error type the core raises, and the exit codes it carries.

On the launch path: imports nothing heavier than enum (which json's re pulls in anyway).
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    FAILURE = 1  # something at run time went wrong (a command failed, a file could not be written)
    USAGE = 2  # the user's input or configuration is wrong
    CTRL_C = 130


class CcswitchError(Exception):
    """An error meant for the user: one line, no traceback."""

    exit_status: ExitStatus = ExitStatus.FAILURE

    def __init__(self, message: str, exit_status: ExitStatus | None = None) -> None:
        super().__init__(message)
        if exit_status is not None:
            self.exit_status = exit_status

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(CcswitchError):
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
