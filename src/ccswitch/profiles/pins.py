"""`.ccswitch` pin files: a directory's choice of profile (a name, never a secret).
"""

from __future__ import annotations

import os

from ccswitch.errors import ConfigError
from ccswitch.profiles.schema import NAME_RE

PIN_FILENAME = ".ccswitch"


def find_pin_file(start: str) -> str | None:
    """The nearest `.ccswitch` pin file from `start` up to the filesystem root."""
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, PIN_FILENAME)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def read_pin(path: str) -> str:
    """The profile name in a `.ccswitch` file: its first line that is not blank or a # comment."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read(4096)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the pinned profile ({getattr(exc, 'strerror', None) or exc})") from None
    for number, line in enumerate(text.splitlines(), 1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if not NAME_RE.match(name):
            raise ConfigError(f"{path}:{number}: {name[:40]!r} is not a profile name (the file holds a name only)")
        return name
    raise ConfigError(f"{path}: empty; write a profile name in it (ccswitch pin NAME) or delete it")


def find_pin(start: str) -> tuple[str, str] | None:
    """(pin file, profile name) of the nearest `.ccswitch` file from `start` upwards: the same
    file and name `ccswitch run` would use (find_pin_file, read_pin); None when there
    is none or it does not hold a usable name (then it pins nothing)."""
    pin = find_pin_file(start)
    if pin is None:
        return None
    try:
        return pin, read_pin(pin)
    except ConfigError:
        return None
