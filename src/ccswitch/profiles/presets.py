"""The built-in provider presets: one TOML file per provider, shipped inside the package.

In a wheel they sit in `ccswitch/presets/`; in a source checkout they are the repo's top-level
`profiles/`. A preset is read only when a profile needs it, so `run glm` parses one small file
(profiles.store reads them; this module only knows where they are).
"""

from __future__ import annotations

import os

from ccswitch.errors import ConfigError

PRESET_SUFFIX = ".toml"
# Where the wheel puts the repo's top-level profiles/ (pyproject.toml, force-include).
PACKAGED_DIRECTORY = "presets"


def presets_dir() -> str:
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../ccswitch
    packaged = os.path.join(package, PACKAGED_DIRECTORY)
    if os.path.isdir(packaged):
        return packaged
    checkout = os.path.join(package, os.pardir, os.pardir, "profiles")
    if os.path.isdir(checkout):
        return os.path.normpath(checkout)
    raise ConfigError(f"the built-in presets are missing (looked in {packaged}); reinstall ccswitch")


def preset_names(directory: str) -> tuple[str, ...]:
    return tuple(
        sorted(entry[: -len(PRESET_SUFFIX)] for entry in os.listdir(directory) if entry.endswith(PRESET_SUFFIX))
    )


def preset_path(directory: str, name: str) -> str:
    return os.path.join(directory, name + PRESET_SUFFIX)
