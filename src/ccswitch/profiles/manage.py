"""Adding, replacing, removing and renaming profiles, and keeping their keyring entries in step.

The core of `add`, `edit`, `remove`, `rename` and `token`: every function takes the profiles path,
the presets directory and (where scopes matter) the working directory and environment, and returns
what it did as plain text for the CLI to print. Each change is checked as a whole file before it is
written (store.save_profiles_text); secrets go to the keyring before the file names them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ccswitch.errors import (
    CcswitchError,
    ProfileFileError,
    UsageError,
)
from ccswitch.profiles import keyrings, tokens, tomledit
from ccswitch.profiles.active import active_scopes, recorded_active
from ccswitch.profiles.environment import sends_no_token
from ccswitch.profiles.pins import find_pin
from ccswitch.profiles.schema import (
    check_name,
    validate_profile_table,
)
from ccswitch.profiles.store import (
    ProfilesFile,
    check_profiles_text,
    ensure_writable,
    open_for_change,
    parse_toml,
    save_profiles_text,
)


def _require_user_profile(opened: ProfilesFile, name: str, verb: str) -> None:
    profile_set = opened.profile_set
    if name in profile_set.user:
        return
    if name in profile_set.included:
        raise UsageError(f"{name!r} comes from {profile_set.included_from[name]} (an included file), not from your "
                         f"profiles; there is nothing to {verb} here (`ccswitch edit {name}` makes your own override)")
    if name in profile_set.preset_names:
        raise UsageError(f"{name!r} is a built-in preset, not one of your profiles; there is nothing to {verb}")
    raise profile_set.unknown(name)


def _refuse_shadowing_a_preset(opened: ProfilesFile, name: str, exclude: str, doing: str) -> None:
    """A new user profile named after a preset (or an included profile) replaces it for every
    profile that `extends` it: they would inherit its endpoint and send their own token there. Refuse."""
    profile_set = opened.profile_set
    if (name not in profile_set.preset_names and name not in profile_set.included) or name in profile_set.user:
        return
    followers = sorted(n for n, raw in (*profile_set.included.items(), *profile_set.user.items())
                       if n != exclude and raw.get("extends") == name)
    if followers:
        one = len(followers) == 1
        raise UsageError(
            f"{doing}: {name!r} is {'an included profile' if name in profile_set.included else 'a built-in preset'} that {', '.join(repr(f) for f in followers)} "
            f"{'extends' if one else 'extend'}; a profile of that name would replace the preset for "
            f"{'it' if one else 'them'} ({'its' if one else 'their'} token could go to another endpoint); pick another name"
        )


def add_profile(
    profiles_path: str,
    presets_directory: str,
    name: str,
    table: Mapping[str, object],
    *,
    force: bool = False,
    keyring_secret: str | None = None,
    cache_path: str | None,
) -> str:
    """Write `[profiles.NAME]`; with `keyring_secret`, store it under ccswitch/NAME first."""
    check_name(name)
    opened = open_for_change(profiles_path, presets_directory, cache_path=cache_path)
    if name in opened.profile_set.user and not force:
        raise UsageError(
            f"profile {name!r} already exists in {profiles_path}; use --force to replace it, or `ccswitch edit {name}`"
        )
    _refuse_shadowing_a_preset(opened, name, name, f"cannot add {name!r}")
    validate_profile_table(name, table, "the new profile")
    new_text = tomledit.add_profile(opened.text, name, table)
    unused = sends_no_token(check_profiles_text(opened, new_text, presets_directory).get(name)) if table.get("token") else None
    if unused:
        raise UsageError(f"profile {name!r} {unused}: a token for it would never be used; nothing written (leave the "
                         "token out)")
    if keyring_secret is not None:
        ensure_writable(profiles_path)  # the keyring entry must not outlive a write that fails
        tokens.keyring_set(tokens.keyring_entry(str(table.get("token", tokens.KEYRING_REF)), name), keyring_secret)
    save_profiles_text(opened, new_text, presets_directory)
    return "replaced" if name in opened.profile_set.user else "added"


def remove_profile(
    profiles_path: str, presets_directory: str, name: str, *, cwd: str, env: Mapping[str, str], force: bool = False,
    cache_path: str | None,
) -> list[str]:
    """Remove a user profile (and its keyring entry); returns notes for the user."""
    opened = open_for_change(profiles_path, presets_directory, cache_path=cache_path)
    _require_user_profile(opened, name, "remove")
    profile_set = opened.profile_set
    is_preset = name in profile_set.preset_names or name in profile_set.included  # the override goes, they stay
    if not is_preset:
        followers = sorted(n for n, raw in profile_set.user.items() if n != name and raw.get("extends") == name)
        if followers:
            raise UsageError(
                f"profile {name!r} cannot be removed: {', '.join(repr(f) for f in followers)} "
                f"{'extends' if len(followers) == 1 else 'extend'} it; change or remove "
                f"{'it' if len(followers) == 1 else 'them'} first"
            )
        # Like `extends`, not overridable with --force: the file would no longer load.
        falling_back = sorted(n for n, raw in profile_set.user.items() if name in (raw.get("fallback") or ()))
        if falling_back:
            raise UsageError(
                f"profile {name!r} cannot be removed: {', '.join(repr(f) for f in falling_back)} "
                f"{'lists' if len(falling_back) == 1 else 'list'} it in `fallback`; take it out of "
                f"{'that list' if len(falling_back) == 1 else 'those lists'} first (`ccswitch edit`)"
            )
    scopes = active_scopes(name, profile_set.default, cwd, env)
    if scopes and not force:
        raise UsageError(f"profile {name!r} is active ({'; '.join(scopes)}); use --force to remove it anyway")
    token_ref = profile_set.get(name).token
    drop_default = profile_set.default == name and not is_preset
    new_text = tomledit.remove_profile(opened.text, name, drop_default=drop_default)
    save_profiles_text(opened, new_text, presets_directory)
    notes = [f"removed profile {name!r} from {profiles_path}"]
    if drop_default:
        notes.append(f"{name!r} was the default; there is no default now")
    if is_preset:
        again = "the built-in preset" if name not in profile_set.included else f"the profile from {profile_set.included_from[name]}"
        notes.append(f"{name!r} is now {again} again")
    # The entry is named after the profile; a preset never reads the keyring, so an override's
    # entry goes with the override.
    if tokens.KEYRING_REF in tokens.token_references(token_ref):
        try:
            if tokens.keyring_delete(name):
                notes.append(f"removed its token from the OS keyring ({keyrings.KEYRING_SERVICE}/{name})")
        except CcswitchError as error:
            notes.append(f"warning: its keyring entry was not removed: {error.message}")
    return notes


def rename_profile(
    profiles_path: str, presets_directory: str, old: str, new: str, *, cwd: str, env: Mapping[str, str],
    cache_path: str | None,
) -> list[str]:
    check_name(new)
    opened = open_for_change(profiles_path, presets_directory, cache_path=cache_path)
    _require_user_profile(opened, old, "rename")
    if new == old:
        raise UsageError(f"rename: {old!r} is already called {new!r}; nothing to do")
    if new in opened.profile_set.user:
        raise UsageError(f"profile {new!r} already exists; remove it first or pick another name")
    # `old` itself may extend the preset: renamed, it becomes the preset's override, which is fine.
    _refuse_shadowing_a_preset(opened, new, old, f"cannot rename {old!r} to {new!r}")
    profile_set = opened.profile_set
    token_ref = profile_set.get(old).token
    new_text = tomledit.rename_profile(opened.text, old, new)
    check_profiles_text(opened, new_text, presets_directory)
    # The keyring entry is named after the profile: copy it before the file points at the new name.
    moved_secret = False
    notes = []
    if tokens.KEYRING_REF in tokens.token_references(token_ref):
        try:
            value = tokens.resolve_token(tokens.KEYRING_REF, env, old)
        except CcswitchError as error:
            notes.append(f"warning: no keyring entry moved: {error.message}")
        else:
            ensure_writable(profiles_path)  # the new entry must not outlive a write that fails
            tokens.keyring_set(new, value or "", plain_text=True)  # where it already was: nothing new is exposed
            moved_secret = True
    save_profiles_text(opened, new_text, presets_directory)
    notes.insert(0, f"renamed profile {old!r} to {new!r}")
    if moved_secret:
        try:
            tokens.keyring_delete(old)
        except CcswitchError as error:
            notes.append(f"warning: the old keyring entry stays: {error.message}")
        notes.append(f"moved its token in the OS keyring to {keyrings.KEYRING_SERVICE}/{new}")
    if profile_set.default == old:
        notes.append(f"the default is now {new!r}")
    pin = find_pin(cwd)
    if pin and pin[1] == old:
        notes.append(f"warning: {pin[0]} still names {old!r}; change it to {new!r}")
    if any(active == old for _, active in recorded_active(env, cwd)):
        notes.append(f"warning: `ccswitch use` recorded {old!r}; run `ccswitch use {new}`")
    return notes


def token_entry(
    profiles_path: str, presets_directory: str, name: str, *, cache_path: str | None
) -> tuple[ProfilesFile, str, str | None]:
    """(opened file, keyring entry, current token reference) for `token set/rm`."""
    opened = open_for_change(profiles_path, presets_directory, cache_path=cache_path)
    if name not in opened.profile_set:
        raise opened.profile_set.unknown(name)
    ref = opened.profile_set.get(name).token
    if tokens.reference_kind(ref) == "pool":
        # One secret cannot stand for a pool, and replacing the pool by it would drop the others.
        raise UsageError(
            f"profile {name!r} has a key pool of {len(ref)} (token = [...]); `ccswitch token` handles one token. "  # type: ignore[arg-type]
            f"Give each key its own reference in the pool (env:VAR, cmd:..., keyring:ENTRY) and store a keyring "
            f"entry with `keyring set {keyrings.KEYRING_SERVICE} ENTRY`, or `ccswitch edit {name}`")
    entry = tokens.keyring_entry(ref, name) if tokens.reference_kind(ref) == "keyring" else name
    return opened, entry, ref


def set_token(profiles_path: str, presets_directory: str, name: str, secret: str, *, cache_path: str | None,
              plain_text: bool = False) -> list[str]:
    """Store the token in the keyring and make the profile read it from there. A keyring backend
    that keeps it in a plain-text file is refused unless `plain_text` (profiles.keyrings)."""
    opened, entry, ref = token_entry(profiles_path, presets_directory, name, cache_path=cache_path)
    unused = sends_no_token(opened.profile_set.get(name))
    if unused:
        raise UsageError(f"profile {name!r} {unused}: a stored token would never be used; nothing stored or changed")
    notes = []
    new_text = None
    if tokens.reference_kind(ref) != "keyring":
        if name in opened.profile_set.user:
            new_text = tomledit.set_profile_value(opened.text, name, "token", tokens.KEYRING_REF)
        else:
            new_text = tomledit.add_profile(opened.text, name, {"extends": name, "token": tokens.KEYRING_REF})
        check_profiles_text(opened, new_text, presets_directory)
    backend = tokens.keyring_set(entry, secret, plain_text=plain_text)
    notes.append(f"stored the token for {name!r} as {keyrings.KEYRING_SERVICE}/{entry} {backend.where()}")
    if new_text is not None:
        save_profiles_text(opened, new_text, presets_directory)
        was = f" (was {ref})" if tokens.reference_kind(ref) in ("env", "cmd") else ""
        notes.append(f'profile {name!r} now reads it from there: token = "keyring" in {profiles_path}{was}')
    return notes


def remove_token(profiles_path: str, presets_directory: str, name: str) -> list[str]:
    _, entry, ref = token_entry(profiles_path, presets_directory, name, cache_path=None)  # writes no file
    if not tokens.keyring_delete(entry):
        raise CcswitchError(f"no token for {name!r} in the OS keyring ({keyrings.KEYRING_SERVICE}/{entry})")
    notes = [f"removed the token for {name!r} from the OS keyring ({keyrings.KEYRING_SERVICE}/{entry})"]
    if tokens.reference_kind(ref) == "keyring":
        notes.append(f"profile {name!r} still reads its token from the keyring; `ccswitch token set {name}` stores a new one")
    return notes


EDIT_ERROR_MARK = "# ccswitch: "


def edit_start(opened: ProfilesFile, name: str) -> str:
    """The text the editor opens: the profile as written, or a new override of a preset."""
    if name in opened.profile_set.user:
        return tomledit.profile_text(opened.text, name)
    if name in opened.profile_set.preset_names or name in opened.profile_set.included:
        preset = opened.profile_set.get_below_user(name)
        what = "the built-in preset" if preset.origin == "preset" else f"the profile included from {preset.file}"
        lines = [
            f"# A new profile {name!r} that overrides {what}; keep what you change.",
            f"[profiles.{tomledit.quote_key(name)}]",
            f'extends = "{name}"',
        ]
        for key in ("base_url", "auth", "token", "model"):
            value = getattr(preset, key)
            if value:
                lines.append(f"# {key} = {_toml_string(value)}")
        return "\n".join(lines) + "\n"
    raise opened.profile_set.unknown(name)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def strip_error_marks(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(EDIT_ERROR_MARK))


def edit_apply(opened: ProfilesFile, name: str, edited: str, presets_directory: str) -> str:
    """The whole new file for an edited profile, validated; a CcswitchError says what is wrong."""
    where = f"profile {name!r} as edited"
    data = parse_toml(edited, where, with_line=False)
    extra = sorted(key for key in data if key != "profiles")
    if extra:
        raise ProfileFileError(where, f"only [profiles.{name}] belongs here, not {', '.join(extra)}")
    names = sorted(data.get("profiles", {}))
    if names != [name]:
        if not names:
            raise ProfileFileError(where, f"[profiles.{name}] is gone; to delete the profile use `ccswitch remove {name}`")
        raise ProfileFileError(
            where, f"expected only [profiles.{name}], found {', '.join(f'[profiles.{n}]' for n in names)} "
            "(to rename a profile use `ccswitch rename`)"
        )
    table = data["profiles"][name]
    if not isinstance(table, dict):
        raise ProfileFileError(where, f"profiles.{name}: must be a table")
    validate_profile_table(name, table, where, edited)
    new_text = tomledit.replace_profile(opened.text, name, edited)
    check_profiles_text(opened, new_text, presets_directory)
    return new_text
