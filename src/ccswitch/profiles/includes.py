"""Shared team profiles: `include = [...]` at the top of profiles.toml names files (or directories
of `*.toml`) whose profiles sit below the user's own and above the presets.

An included file holds `[profiles.NAME]` tables and optionally `schema`; nothing else (a team
cannot pick the user's `default`, and includes do not nest). It may live in git, so it never holds
a literal token: only `env:`, `cmd:` and keyring references. A path that does not exist is a
warning, not an error: a missing checkout must not stop every command.

Pure apart from stat/listdir: the reading itself is store.read_included (tomllib stays off the
launch path; the cache calls only `include_key`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ccswitch.errors import ProfileFileError
from ccswitch.profiles.schema import (
    check_schema_version,
    find_line,
    find_top_level_line,
    validate_profiles,
)
from ccswitch.profiles.tokens import reference_kind, token_references

INCLUDE_KEY = "include"
INCLUDED_TOP_LEVEL_KEYS = ("schema", "profiles")
SUFFIX = ".toml"


def check_specs(value: object, profiles_path: str, text: str) -> list[str]:
    """`include` as written: an array of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ProfileFileError(profiles_path, "include: must be an array of paths (files or directories of *.toml)",
                               find_top_level_line(text, INCLUDE_KEY))
    return list(value)


def expand(spec: str, profiles_path: str, home: str) -> str:
    """`~/x` under `home`, a relative path beside profiles.toml, an absolute path as it is."""
    if spec == "~" or spec.startswith("~/") or spec.startswith("~" + os.sep):
        spec = os.path.join(home, spec[2:])
    elif not os.path.isabs(spec):
        spec = os.path.join(os.path.dirname(os.path.abspath(profiles_path)), spec)
    return os.path.normpath(spec)


def home_or_default(home: str | None) -> str:
    """The home `~` in an include means: `home` when given, else the user's."""
    return home if home is not None else os.path.expanduser("~")


def _toml_files(directory: str) -> list[str]:
    """A directory's included files: its *.toml, hidden ones aside, by name. Raises OSError."""
    return sorted(e for e in os.listdir(directory) if e.endswith(SUFFIX) and not e.startswith("."))


def files_of(specs: Sequence[str], profiles_path: str, home: str) -> tuple[list[str], list[str]]:
    """(the files to read, in order, a directory's *.toml sorted by name; warnings for paths that
    are not there)."""
    files: list[str] = []
    warnings: list[str] = []
    for spec in specs:
        path = expand(spec, profiles_path, home)
        if os.path.isdir(path):
            try:
                entries = _toml_files(path)
            except OSError as error:
                warnings.append(f"{profiles_path}: include: cannot list {path} ({error.strerror or error}); skipped")
                continue
            files.extend(os.path.join(path, entry) for entry in entries)
        elif os.path.exists(path):
            files.append(path)
        else:
            warnings.append(f"{profiles_path}: include: {path} does not exist; its profiles are left out")
    return list(dict.fromkeys(files)), warnings


def include_key(specs: Sequence[str], profiles_path: str, home: str) -> list[object]:
    """What the launch cache compares: each path as expanded now, a directory's listing, and the
    size and mtime of every file (a `git pull` in the team's checkout changes them)."""
    key: list[object] = [home]
    for spec in specs:
        path = expand(spec, profiles_path, home)
        entry: list[object] = [path]
        if os.path.isdir(path):
            try:
                names = _toml_files(path)
            except OSError:
                names = []
            entry.append([_stat(os.path.join(path, name)) for name in names])
        else:
            entry.append(_stat(path))
        key.append(entry)
    return key


def _stat(path: str) -> list[object]:
    try:
        st = os.stat(path)
    except OSError:
        return [path, None, None]
    return [path, st.st_mtime_ns, st.st_size]


def validate_included(data: Mapping[str, object], path: str, text: str) -> dict[str, dict]:
    """An included file's profiles, checked: its keys, each profile's fields, no literal token."""
    for key in data:
        if key not in INCLUDED_TOP_LEVEL_KEYS:
            why = ("includes do not nest; list every file in your own profiles.toml" if key == INCLUDE_KEY else
                   "the default is yours to choose: set it in your own profiles.toml" if key == "default" else
                   "an included file holds only [profiles.NAME] tables (and schema)")
            raise ProfileFileError(path, f"{key}: not allowed in an included file ({why})", find_top_level_line(text, key))
    check_schema_version(data, path, text)
    profiles = validate_profiles(data, path, text)
    for name, raw in profiles.items():
        refs = token_references(raw.get("token"))  # type: ignore[arg-type]
        if any(reference_kind(ref) == "literal" for ref in refs):
            raise ProfileFileError(
                path, f"[profiles.{name}]: token: a literal token in an included file (it is meant to be shared, "
                      "e.g. in git); use env:VAR, cmd:COMMAND or keyring, and keep the key itself out of the file",
                find_line(text, name, "token"))
    return profiles
