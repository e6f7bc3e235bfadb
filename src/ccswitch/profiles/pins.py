"""`.ccswitch` pin files: a directory's choice of profile (a name, never a secret).
"""

from __future__ import annotations

from ccswitch.errors import ConfigError
from ccswitch.paths import find_pin_file


def read_pin(path: str) -> str:
    """The profile name in a `.ccswitch` file: its first line that is not blank or a # comment."""
    from ccswitch.profiles.schema import NAME_RE

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
    file and name `ccswitch run` would use (paths.find_pin_file, launch.read_pin); None when there
    is none or it does not hold a usable name (then it pins nothing)."""
    from ccswitch.errors import ConfigError
    from ccswitch.profiles.pins import read_pin

    pin = find_pin_file(start)
    if pin is None:
        return None
    try:
        return pin, read_pin(pin)
    except ConfigError:
        return None
