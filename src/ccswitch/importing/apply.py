"""What an import does to profiles.toml, decided before anything is written (`plan`), then done
(`apply`): keys into the OS keyring first, then one validated, atomic write of profiles.toml.

A second import of the same source finds every profile unchanged and writes nothing; a profile of
the same name that differs is a clash, reported and left alone unless `force`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ccswitch.errors import CcswitchError, ProfileFileError, UsageError
from ccswitch.importing.entries import Entry, Found
from ccswitch.profiles import keyrings, tokens, tomledit
from ccswitch.profiles.schema import MAX_NAME_LENGTH, validate_profile_table
from ccswitch.profiles.store import (
    ProfilesFile,
    check_profiles_text,
    ensure_writable,
    save_profiles_text,
)
from ccswitch.redact import mask

ADD, REPLACE, UNCHANGED, CLASH, INVALID = "add", "replace", "unchanged", "clash", "invalid"


class Action:
    __slots__ = ("name", "entry", "status", "table", "secret", "reason")

    def __init__(self, name: str, entry: Entry, status: str, table: dict, secret: str | None, reason: str = "") -> None:
        self.name = name
        self.entry = entry
        self.status = status
        self.table = table  # as written to profiles.toml
        self.secret = secret  # what goes into the keyring under the profile's name, if anything
        self.reason = reason


class Plan:
    def __init__(self, found: Found, actions: list[Action], default: str | None) -> None:
        self.found = found
        self.actions = actions
        self.default = default  # set as `default` (the user had none)

    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.status in (ADD, REPLACE)]


def plan(found: Found, opened: ProfilesFile, *, prefix: str = "", force: bool = False, plain_text: bool = False,
         read_keyring=None) -> Plan:  # type: ignore[no-untyped-def]
    """Each entry's action. `read_keyring(entry)`: the stored secret, to tell an unchanged profile
    from one whose key changed (tokens.resolve_token by default)."""
    check_prefix(prefix)
    profile_set = opened.profile_set
    used: set[str] = set()
    actions = []
    for entry in found.entries:
        name = _unique(prefix + entry.name, used)
        table = dict(entry.table)
        secret = entry.secret
        if secret is not None:
            table["token"] = secret if plain_text else tokens.KEYRING_REF
        try:
            validate_profile_table(name, table, f"{found.tool} entry {entry.label!r}")
        except ProfileFileError as error:
            actions.append(Action(name, entry, INVALID, table, None, error.message))
            continue
        keyring_secret = None if plain_text else secret
        existing = profile_set.user.get(name)
        if existing is None:
            actions.append(Action(name, entry, ADD, table, keyring_secret))
        elif _same(existing, table) and (keyring_secret is None or _stored(name, read_keyring) == keyring_secret):
            actions.append(Action(name, entry, UNCHANGED, table, None))
        elif force:
            actions.append(Action(name, entry, REPLACE, table, keyring_secret))
        else:
            why = "its token differs from the one in the OS keyring" if _same(existing, table) else "it differs"
            actions.append(Action(name, entry, CLASH, table, None,
                                  f"a profile named {name!r} already exists and {why} (--force replaces it)"))
    default = None
    if profile_set.default is None:
        default = next((a.name for a in actions if a.entry.current and a.status in (ADD, REPLACE, UNCHANGED)), None)
    return Plan(found, actions, default)


def check_prefix(prefix: str) -> None:
    """`--prefix` becomes part of every name: a character no name may hold would make every entry
    invalid, and the import a list of refusals."""
    if prefix and not re.fullmatch(r"[A-Za-z0-9._-]{1,%d}" % (MAX_NAME_LENGTH // 2), prefix):
        raise UsageError(f"--prefix {prefix!r}: a prefix is part of every profile's name: up to "
                         f"{MAX_NAME_LENGTH // 2} letters, digits, '.', '_' and '-'")


def _unique(name: str, used: set[str]) -> str:
    candidate, number = name, 2
    while candidate in used:
        suffix = f"-{number}"
        candidate, number = name[: 64 - len(suffix)] + suffix, number + 1
    used.add(candidate)
    return candidate


def _same(existing: Mapping[str, object], table: Mapping[str, object]) -> bool:
    return {k: _plain(v) for k, v in existing.items()} == {k: _plain(v) for k, v in table.items()}


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _stored(name: str, read_keyring) -> str | None:  # type: ignore[no-untyped-def]
    try:
        if read_keyring is not None:
            return read_keyring(name)
        return tokens.resolve_token(tokens.KEYRING_REF, {}, name)
    except CcswitchError:
        return None


def new_text(result: Plan, opened: ProfilesFile) -> str:
    text = opened.text
    for action in result.writes():
        text = tomledit.add_profile(text, action.name, action.table)
    if result.default:
        text = tomledit.set_default(text, result.default)
    return text


def apply(result: Plan, opened: ProfilesFile, presets_directory: str) -> None:
    """Keys into the keyring, then profiles.toml; nothing stays behind if either fails."""
    text = new_text(result, opened)
    if text == opened.text:
        return
    check_profiles_text(opened, text, presets_directory)
    stored: list[str] = []
    secrets = [a for a in result.writes() if a.secret is not None]
    if secrets:
        check_keyring(result)
        ensure_writable(opened.path)  # a keyring entry must not outlive a write that fails
    try:
        for action in secrets:
            with _import_advice():
                tokens.keyring_set(action.name, action.secret)  # type: ignore[arg-type]
            stored.append(action.name)
        save_profiles_text(opened, text, presets_directory)
    except CcswitchError:
        for name in stored:
            try:
                tokens.keyring_delete(name)
            except CcswitchError:
                pass
        raise


PLAIN_TEXT_INSTEAD = "pass --plain-text to keep the keys in profiles.toml (0600) instead"


def check_keyring(result: Plan) -> None:
    """Refuse, as `apply` would, when a key is to go into a keyring that cannot take it: a dry run
    calls this too, so it never promises what the import then refuses."""
    first = next((a for a in result.writes() if a.secret is not None), None)
    if first is not None:
        with _import_advice():
            tokens.check_keyring_storable(first.name)


@contextmanager
def _import_advice() -> Iterator[None]:
    """The keyring's refusals, with the way out an import has: its own --plain-text (keys in
    profiles.toml), where `token set` would say env:/cmd: references."""
    try:
        yield
    except keyrings.PlainTextKeyring as error:
        raise keyrings.PlainTextKeyring(error.backend, what="no key was stored and nothing was written",
                                        instead=PLAIN_TEXT_INSTEAD) from None
    except tokens.KeyringUnavailable as error:
        reason = error.message.removesuffix(f"; {tokens.NO_BACKEND_HINT}")
        raise tokens.KeyringUnavailable(f"{reason}, so no key was stored and nothing was written; "
                                        f"{PLAIN_TEXT_INSTEAD}", error.exit_status) from None


def dry_run_text(result: Plan) -> str:
    """The tables an import would write, as TOML, any plain-text token masked."""
    chunks = []
    for action in result.writes():
        table = dict(action.table)
        if tokens.reference_kind(table.get("token")) == "literal":  # type: ignore[arg-type]
            table["token"] = mask(str(table["token"]))
        chunks.append(tomledit.render_profile(action.name, table))
    if result.default:
        chunks.insert(0, f"default = {tomledit.quote_string(result.default)}\n")
    return "\n".join(chunks)


def report_lines(result: Plan, *, dry_run: bool, plain_text: bool) -> list[str]:
    """What happened (or would), one line per profile, skipped entries counted by reason."""
    found = result.found
    would = "would be " if dry_run else ""
    refused = f", {len(found.refused)} not importable" if found.refused else ""
    lines = [f"{found.tool}: {found.path}: {len(found.entries)} to import{refused}, {len(found.skipped)} skipped",
             *found.notes]
    for action in result.actions:
        origin = f"from {action.entry.label!r}"
        if action.status in (ADD, REPLACE):
            verb = "added" if action.status == ADD else "replaced"
            token = _token_note(action, plain_text, "would go" if dry_run else "goes")
            lines.append(f"{action.name}: {would}{verb} ({origin}{token})")
        elif action.status == UNCHANGED:
            lines.append(f"{action.name}: unchanged ({origin})")
        else:
            lines.append(f"{action.name}: not imported ({origin}): {action.reason}")
    for verb, listed in (("not imported", found.refused), ("skipped", found.skipped)):
        by_reason: dict[str, list[str]] = {}
        for what, reason in listed:
            by_reason.setdefault(reason, []).append(what)
        for reason, whats in by_reason.items():
            lines.append(f"{verb} {len(whats)}: {reason}: {', '.join(whats)}")
    if result.default:
        lines.append(f"default: {would}set to {result.default!r}, the current provider in {found.tool}")
    return lines


def _token_note(action: Action, plain_text: bool, goes: str) -> str:
    ref = action.table.get("token")
    if action.secret is not None:
        return f"; its key {mask(action.secret)} {goes} into the OS keyring as {keyrings.KEYRING_SERVICE}/{action.name}"
    if plain_text and tokens.reference_kind(ref) == "literal":  # type: ignore[arg-type]
        return f"; its key {mask(str(ref))} in plain text in profiles.toml (--plain-text)"
    if ref:
        return f"; token = {ref}"
    return "; no key in the source"
