"""The built-in provider presets: one TOML file per provider, shipped inside the package.

In a wheel they sit in `ccswitch/profiles/`; in a source checkout they are the repo's top-level
`profiles/`. A preset is read only when a profile needs it, so `run glm` parses one small file.
"""

from __future__ import annotations

import os

from ccswitch.errors import ConfigError
from ccswitch.profiles import validate_profile_table

PRESET_SUFFIX = ".toml"


def presets_dir() -> str:
    packaged = os.path.join(os.path.dirname(__file__), "profiles")
    if os.path.isdir(packaged):
        return packaged
    checkout = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "profiles")
    if os.path.isdir(checkout):
        return os.path.normpath(checkout)
    raise ConfigError(f"the built-in presets are missing (looked in {packaged}); reinstall ccswitch")


def preset_names(directory: str) -> tuple[str, ...]:
    return tuple(
        sorted(entry[: -len(PRESET_SUFFIX)] for entry in os.listdir(directory) if entry.endswith(PRESET_SUFFIX))
    )


def load_preset(directory: str, name: str) -> dict:
    from ccswitch.store import read_toml

    path = os.path.join(directory, name + PRESET_SUFFIX)
    data, text = read_toml(path)
    validate_profile_table(name, data, path, text)
    return data
