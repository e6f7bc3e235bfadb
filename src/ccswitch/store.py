"""profiles.toml on disk: read with tomllib (fast), validate, hand back a ProfileSet.

Writing (with tomlkit, keeping the user's comments) lives here too once commands edit the file.
"""

from __future__ import annotations

import os
import re
import sys

from ccswitch.errors import ProfileFileError, UnknownProfileError
from ccswitch.presets import load_preset, preset_names
from ccswitch.profiles import ProfileSet, find_line, find_top_level_line, unknown_profile_message, validate_user_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")


def read_toml(path: str) -> tuple[dict, str]:
    """Parse a TOML file; (data, text). Syntax errors become ProfileFileError with the line."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ProfileFileError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileFileError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        raise ProfileFileError(path, f"invalid TOML: {exc}", int(match.group(1)) if match else None) from None


def load_profile_set(profiles_path: str, presets_directory: str) -> ProfileSet:
    """Read and validate the user's profiles file (absent is fine) together with the presets."""
    if os.path.exists(profiles_path):
        data, text = read_toml(profiles_path)
    else:
        data, text = {}, ""
    user, default = validate_user_file(data, profiles_path, text)
    names = preset_names(presets_directory)
    cache: dict[str, dict] = {}

    def preset(name: str) -> dict:
        if name not in cache:
            cache[name] = load_preset(presets_directory, name)
        return cache[name]

    profile_set = ProfileSet(user, default, profiles_path, names, preset, text)
    # Resolve every user profile now, so a broken `extends` is reported whatever command runs.
    for name in user:
        profile = profile_set.get(name)
        for fallback in profile.fallback:
            if fallback not in profile_set:
                raise ProfileFileError(
                    profiles_path,
                    f"[profiles.{name}]: fallback: {unknown_profile_message(fallback, profile_set.names())}",
                    find_line(text, name, "fallback"),
                )
    if default is not None and default not in profile_set:
        raise ProfileFileError(
            profiles_path,
            f"default: {unknown_profile_message(default, profile_set.names())}",
            find_top_level_line(text, "default"),
        )
    return profile_set


def require_profile(profile_set: ProfileSet, name: str):
    if name not in profile_set:
        raise UnknownProfileError(unknown_profile_message(name, profile_set.names()))
    return profile_set.get(name)

