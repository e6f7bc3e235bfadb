"""profiles.toml and the preset files on disk: read with tomllib (fast), validate, hand back a
ProfileSet (`build_profile_set`, the one way to make one from files); and write profiles.toml back
after a change, validated first, atomically, private.

The text changes themselves (keeping comments and layout) are in `tomledit`; tomlkit is imported only
there and only by commands that write.
"""

from __future__ import annotations

import errno
import os
import re
import sys

from ccswitch.errors import CcswitchError, ProfileFileError
from ccswitch.fsutil import PRIVATE_FILE, atomic_write_text, ensure_private_dir
from ccswitch.profiles import includes
from ccswitch.profiles.model import ProfileSet
from ccswitch.profiles.presets import preset_names, preset_path
from ccswitch.profiles.schema import (
    find_line,
    find_top_level_line,
    unknown_profile_message,
    validate_profile_table,
    validate_user_file,
)

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
    return parse_toml(text, path), text


def parse_toml(text: str, where: str, *, with_line: bool = True) -> dict:
    """tomllib.loads, its failures a ProfileFileError naming `where` (and the line when known and
    `with_line`: text being edited gets comment lines above it, which would shift the number)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        line = int(match.group(1)) if match and with_line else None
        raise ProfileFileError(where, f"invalid TOML: {exc}", line) from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise ProfileFileError(where, "invalid TOML: arrays or tables nested too deeply to read") from None


def profiles_file_exists(path: str) -> bool:
    """Whether profiles.toml is there: False only when it is plainly absent. A path that cannot
    lead to a file (a symlink loop, a link to nothing, CCSWITCH_HOME naming a file) is an error, not
    a missing file: reading on without the user's profiles would hide them without a word."""
    try:
        os.stat(path)
        return True
    except FileNotFoundError:
        if not os.path.islink(path):
            return False
        problem = f"a symlink to {os.readlink(path)}, which does not exist"
    except NotADirectoryError:
        problem = f"{_first_file_above(path)} is a file, not a directory"
    except OSError as error:
        problem = "a symlink loop" if error.errno == errno.ELOOP else (error.strerror or str(error))
    raise ProfileFileError(path, f"cannot read: {problem}")


def _first_file_above(path: str) -> str:
    parts = os.path.abspath(path).split(os.sep)
    for count in range(2, len(parts)):
        above = os.sep.join(parts[:count]) or os.sep
        if os.path.exists(above) and not os.path.isdir(above):
            return above
    return os.path.dirname(path)


def load_profile_set(profiles_path: str, presets_directory: str, home: str | None = None) -> ProfileSet:
    """Read and validate the user's profiles file (absent is fine), the files it includes (`~` is
    `home`) and the presets."""
    if profiles_file_exists(profiles_path):
        data, text = read_toml(profiles_path)
    else:
        data, text = {}, ""
    return profile_set_from(data, text, profiles_path, presets_directory, home)


def read_included(specs: list[str], profiles_path: str, home: str | None) -> dict:
    """The profiles of the included files, checked (includes.validate_included), as ProfileSet's
    keyword arguments; a name in two included files is an error naming both."""
    key = includes.include_key(specs, profiles_path, includes.home_or_default(home))  # before reading: a change meanwhile shows next time
    files, warnings = includes.files_of(specs, profiles_path, includes.home_or_default(home))
    included: dict[str, dict] = {}
    included_from: dict[str, str] = {}
    texts: dict[str, str] = {}
    for path in files:
        data, text = read_toml(path)
        texts[path] = text
        for name, table in includes.validate_included(data, path, text).items():
            if name in included:
                raise ProfileFileError(path, f"[profiles.{name}]: also in {included_from[name]}; a profile may come "
                                             "from one included file only", find_line(text, name, None))
            included[name], included_from[name] = table, path
    return {"included": included, "included_from": included_from, "included_texts": texts, "warnings": warnings,
            "include_specs": specs, "include_key": key}


def load_preset(directory: str, name: str) -> dict:
    path = preset_path(directory, name)
    data, text = read_toml(path)
    validate_profile_table(name, data, path, text)
    return data


def build_profile_set(user: dict, default: str | None, profiles_path: str, presets_directory: str, text: str = "",
                      **layers: object) -> ProfileSet:
    """A ProfileSet over validated user (and included: `layers`, from read_included) tables; each
    preset file is read once, when first needed."""
    loaded: dict[str, dict] = {}

    def preset(name: str) -> dict:
        if name not in loaded:
            loaded[name] = load_preset(presets_directory, name)
        return loaded[name]

    return ProfileSet(user, default, profiles_path, preset_names(presets_directory), preset, text, **layers)  # type: ignore[arg-type]


def profile_set_from(data: dict, text: str, profiles_path: str, presets_directory: str,
                     home: str | None = None) -> ProfileSet:
    """Validate parsed profiles data completely (fields, includes, `extends`, `default`)."""
    user, default = validate_user_file(data, profiles_path, text)
    specs = includes.check_specs(data[includes.INCLUDE_KEY], profiles_path, text) if includes.INCLUDE_KEY in data else []
    layers = read_included(specs, profiles_path, home) if specs else {}
    profile_set = build_profile_set(user, default, profiles_path, presets_directory, text, **layers)
    # Resolve every user and included profile now, so a broken `extends` is reported whatever command runs.
    for name in [*user, *(n for n in profile_set.included if n not in user)]:
        profile = profile_set.get(name)
        path = profile.file or profiles_path
        own_text = text if profile.origin == "user" else layers["included_texts"].get(path, "")  # type: ignore[index]
        for fallback in profile.fallback:
            if fallback not in profile_set:
                raise ProfileFileError(
                    path,
                    f"[profiles.{name}]: fallback: {unknown_profile_message(fallback, profile_set.names())}",
                    find_line(own_text, name, "fallback"),
                )
        for tier, target in profile.routes.items():
            if target not in profile_set:
                raise ProfileFileError(
                    path,
                    f"[profiles.{name}.routes]: {tier}: {unknown_profile_message(target, profile_set.names())}",
                    find_line(own_text, name, tier, "routes"),
                )
    if default is not None and default not in profile_set:
        raise ProfileFileError(
            profiles_path,
            f"default: {unknown_profile_message(default, profile_set.names())}",
            find_top_level_line(text, "default"),
        )
    return profile_set


class ProfilesFile:
    """profiles.toml opened for a change: its text as read, what that text means, and the JSON
    cache of it (profile_cache) that a write must drop."""

    __slots__ = ("path", "text", "profile_set", "exists", "cache_path", "home")

    def __init__(self, path: str, text: str, profile_set: ProfileSet, exists: bool, cache_path: str | None = None,
                 home: str | None = None) -> None:
        self.path = path
        self.text = text
        self.profile_set = profile_set
        self.exists = exists
        self.cache_path = cache_path
        self.home = home  # where `~` in `include` points


def open_for_change(profiles_path: str, presets_directory: str, *, cache_path: str | None,
                    home: str | None = None) -> ProfilesFile:
    """Read and fully validate the file before any change: a malformed file is never rewritten.

    `cache_path` (paths.profiles_cache_file) is required, even if None, so that no writer can
    forget the cache: it may hold a copy of a token the change removes.
    """
    exists = profiles_file_exists(profiles_path)
    if exists:
        data, text = read_toml(profiles_path)
    else:
        data, text = {}, ""
    profile_set = profile_set_from(data, text, profiles_path, presets_directory, home)
    return ProfilesFile(profiles_path, text, profile_set, exists, cache_path, home)


def save_profiles_text(opened: ProfilesFile, new_text: str, presets_directory: str) -> ProfileSet:
    """Validate `new_text` as a whole profiles file, then write it atomically as 0600 in a 0700 dir.

    Nothing is written if the result would not load, or if the file changed on disk since it was
    read (another ccswitch, or the user's editor).
    """
    profile_set = check_profiles_text(opened, new_text, presets_directory)
    path = opened.path
    current = _current_text(path)
    if current != (opened.text if opened.exists else None):
        raise ProfileFileError(path, "changed on disk while ccswitch was changing it; nothing written, try again")
    directory = os.path.dirname(os.path.realpath(path))
    try:
        # The directory holding tokens must not be listable by others: made so if it is ours.
        ensure_private_dir(directory, tighten=True)
        atomic_write_text(path, new_text, mode=PRIVATE_FILE)
    except OSError as error:
        raise _unwritable(path, error) from None
    _drop_cache(opened.cache_path)
    return profile_set


def ensure_writable(path: str) -> None:
    """Fail now, with one line, if profiles.toml cannot be written: before a change that must not
    happen alone (a token put into the keyring for a profile the file would then not name)."""
    directory = os.path.dirname(os.path.realpath(path))
    import tempfile  # only on the way to a write

    try:
        ensure_private_dir(directory, tighten=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".ccswitch-write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise _unwritable(path, error) from None


def _unwritable(path: str, error: OSError) -> CcswitchError:
    where = error.filename if isinstance(error.filename, str) else os.path.dirname(path)
    return CcswitchError(f"cannot write {path}: {error.strerror or error} ({where}); nothing was changed")


def _drop_cache(cache_path: str | None) -> None:
    """The cache keys on profiles.toml's mtime and size, so it is already stale; but it may keep a
    literal token the change just removed, until some later `run` rewrites it. The next `run`
    rebuilds it."""
    if not cache_path:
        return
    try:
        os.unlink(cache_path)
    except OSError:
        pass  # absent, or not ours to delete: a stale cache is never read, and the next run replaces it


def check_profiles_text(opened: ProfilesFile, new_text: str, presets_directory: str) -> ProfileSet:
    """What `new_text` would mean as the profiles file; a ProfileFileError if it would not load."""
    path = opened.path
    try:
        data = tomllib.loads(new_text)
        profile_set = profile_set_from(data, new_text, path, presets_directory, opened.home)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - tomledit checks its output parses
        raise ProfileFileError(path, f"the change would make invalid TOML ({exc}); nothing written") from None
    except ProfileFileError as exc:
        if exc.path != path:  # an included file: its lines are on disk as they are
            raise
        raise ProfileFileError(path, f"{_after_path(exc)} (in the changed file; nothing written)") from None
    return profile_set


def _after_path(error: ProfileFileError) -> str:
    # Line numbers would point into text that is not on disk: leave them out.
    prefix = f"{error.path}:{error.line}: " if error.line else f"{error.path}: "
    return error.message[len(prefix) :] if error.message.startswith(prefix) else error.message


def _current_text(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8-sig")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileFileError(path, f"cannot read: {exc}") from None
