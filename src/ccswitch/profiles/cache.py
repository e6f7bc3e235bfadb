"""A JSON copy of profiles.toml and the presets, so that a warm `ccswitch run` never imports tomllib.

tomllib alone costs about as much as the whole rest of a `run` start (bench/startup.py). The cache
is keyed on the size and mtime_ns of profiles.toml and of every preset file, their paths and the
ccswitch version; any difference (or a cache we cannot read) means a fresh, fully validated read
with tomllib, after which the cache is rewritten. Files that profiles.toml includes are keyed the
same way (profiles.includes.include_key), from the `include` list the cache itself holds: that list
can only change with profiles.toml, whose own key is checked first. Only data that passed validation is ever cached.
It can hold literal tokens from profiles.toml, so it is written 0600 in a 0700 directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ccswitch import __version__, paths
from ccswitch.errors import warn as print_warning
from ccswitch.fsutil import atomic_write_text, ensure_private_dir, read_json
from ccswitch.profiles.includes import home_or_default, include_key
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.presets import PRESET_SUFFIX, presets_dir

CACHE_FORMAT = 2


def _stat_key(path: str) -> list[object]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        # Absent; but a link to nothing must not match a cache taken while the file was absent:
        # the full read reports it (store.profiles_file_exists).
        return [path, None, "link" if os.path.islink(path) else None]
    except OSError as error:  # a symlink loop, a file where a directory should be: never cached
        return [path, None, error.errno]
    return [path, st.st_mtime_ns, st.st_size]


def cache_key(profiles_path: str, presets_directory: str) -> list[object]:
    presets = sorted(e for e in os.listdir(presets_directory) if e.endswith(PRESET_SUFFIX))
    return [
        CACHE_FORMAT,
        __version__,
        _stat_key(profiles_path),
        presets_directory,
        [_stat_key(os.path.join(presets_directory, entry)) for entry in presets],
    ]


def load_profiles(env: Mapping[str, str], *, warn: bool = True) -> ProfileSet:
    """The profiles every command sees: profiles.toml from `env`'s config dir, with the files it
    includes and the presets, through the cache. The one loader for the typer app and the run/env
    front door alike; it prints a warning for each include that is not there (not on a Tab)."""
    profile_set = load_cached_profile_set(paths.profiles_file(env), presets_dir(), paths.profiles_cache_file(env),
                                          paths.home_dir(env))
    if warn:
        for warning in profile_set.warnings:
            print_warning(warning)
    return profile_set


def load_cached_profile_set(profiles_path: str, presets_directory: str, cache_path: str | None,
                            home: str | None = None) -> ProfileSet:
    """Like store.load_profile_set, but from the JSON cache when it is current."""
    key = cache_key(profiles_path, presets_directory)
    if cache_path:
        cached = _read_cache(cache_path, key)
        specs = cached.get("include_specs") if cached is not None else None
        if cached is not None and (not specs or cached.get("include_key") == include_key(specs, profiles_path, home_or_default(home))):
            presets = cached["presets"]
            return ProfileSet(
                cached["user"], cached["default"], profiles_path, tuple(sorted(presets)), presets.__getitem__,
                included=cached["included"], included_from=cached["included_from"], warnings=cached["warnings"],
                include_specs=specs or (),
            )
    # tomllib costs as much as the rest of a warm `run`: only on a cold start.
    from ccswitch.profiles.store import load_profile_set

    profile_set = load_profile_set(profiles_path, presets_directory, home)
    if cache_path:
        _write_cache(cache_path, key, profile_set)
    return profile_set


def _read_cache(cache_path: str, key: list[object]) -> dict | None:
    data = read_json(cache_path)
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return data


def _write_cache(cache_path: str, key: list[object], profile_set: ProfileSet) -> None:
    presets = profile_set.preset_tables()
    specs = profile_set.include_specs
    data = {"key": key, "user": profile_set.user, "default": profile_set.default, "presets": presets,
            "included": profile_set.included, "included_from": profile_set.included_from,
            "warnings": profile_set.warnings, "include_specs": specs,
            "include_key": profile_set.include_key}
    # TOML dates (models_checked) become strings, which is what Profile keeps anyway.
    text = json.dumps(data, default=str, ensure_ascii=False)
    try:
        ensure_private_dir(os.path.dirname(cache_path))
        atomic_write_text(cache_path, text, mode=0o600)
    except OSError:
        pass  # a read-only cache dir only costs speed
