"""Token references: where a profile's token comes from, whether it is there, and how to show it.

A reference is one of:
- `env:VAR`       read from the environment;
- `keyring`       the OS keychain through the `keyring` library (service "ccswitch", user = the
                  profile's name); `keyring:ENTRY` names another entry;
- `cmd:COMMAND`   run a password-manager command through the shell; its stdout is the token;
- anything else   the token itself, in plain text in the profiles file.

`token` may also be a key pool, an array of references (`["env:KEY_A", "keyring:team-b"]`): a
launch without the gateway uses the first key that resolves; the gateway gets every key that
resolves, with its index in the array (`TokenResolver.resolve_pool`).

Resolving happens only when a command needs the token, at most once per invocation (`TokenResolver`);
describing never resolves anything: it reads no keychain and runs no command. A resolved token is
stripped of surrounding whitespace, as claude strips it
(docs/claude-code.md, "Credentials and requests"), and one that still holds a character no HTTP
header can carry is an error naming the profile and where the token came from: no library
downstream ever gets to quote it back.

On the launch path of `ccswitch run`: imports only the standard library; `keyring` (~120 ms) and
`subprocess` are imported when a reference of that kind is resolved.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ccswitch.errors import CcswitchError, UsageError
from ccswitch.profiles.keyrings import KEYRING_SERVICE

ENV_PREFIX = "env:"
CMD_PREFIX = "cmd:"
KEYRING_REF = "keyring"
KEYRING_PREFIX = "keyring:"
# A password manager may wait for a passphrase or a fingerprint; a hung command must still end.
CMD_TIMEOUT_SECONDS = 60.0
ENV_CMD_TIMEOUT = "CCSWITCH_TOKEN_CMD_TIMEOUT"
UNUSABLE = "unusable"  # how a TokenStatus's detail starts for a token that is there but cannot be sent


def reference_kind(ref: str | list[str] | tuple[str, ...] | None) -> str:
    """"none", "env", "keyring", "cmd", "literal", or "pool" for an array of references."""
    if not ref:
        return "none"
    if not isinstance(ref, str):
        return "pool"
    if ref.startswith(ENV_PREFIX):
        return "env"
    if ref == KEYRING_REF or ref.startswith(KEYRING_PREFIX):
        return "keyring"
    if ref.startswith(CMD_PREFIX):
        return "cmd"
    return "literal"


def keyring_entry(ref: str, profile_name: str) -> str:
    """The keyring user name a `keyring` reference reads: the profile's name unless given."""
    if ref.startswith(KEYRING_PREFIX) and ref[len(KEYRING_PREFIX) :]:
        return ref[len(KEYRING_PREFIX) :]
    return profile_name


class TokenStatus:
    """What `list`/`show` may say about a token: where it comes from and whether it is found.

    `found` is None when finding out would mean reading the keychain or running a command.
    """

    __slots__ = ("kind", "source", "found", "detail", "members")

    def __init__(self, kind: str, source: str, found: bool | None, detail: str,
                 members: list[TokenStatus] | None = None) -> None:
        self.kind = kind  # "env" | "keyring" | "cmd" | "literal" | "none" | "pool"
        self.source = source  # e.g. "$ZHIPU_API_KEY", "keyring ccswitch/glm", "command", "profiles file", ""
        self.found = found
        self.detail = detail  # human text, never the value
        self.members = members  # a pool's keys, in order

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind, "source": self.source, "found": self.found, "detail": self.detail}
        if self.members is not None:
            data["pool"] = [member.as_dict() for member in self.members]
        return data


def describe_token(ref: str | list[str] | tuple[str, ...] | None, env: Mapping[str, str],
                   profile_name: str | None = None) -> TokenStatus:
    kind = reference_kind(ref)
    if kind == "none":
        return TokenStatus("none", "", False, "none configured")
    if kind == "pool":
        return _describe_pool(token_references(ref), env, profile_name)
    assert ref is not None
    if kind == "env":
        var = ref[len(ENV_PREFIX) :]
        value = (env.get(var) or "").strip()
        if value and unsendable_at(value) is not None:
            return TokenStatus("env", f"${var}", False, f"{UNUSABLE} (${var} holds a control or non-ASCII character)")
        if value:
            return TokenStatus("env", f"${var}", True, f"found in ${var}")
        return TokenStatus("env", f"${var}", False, f"missing ({var} is {'empty' if env.get(var) else 'not set'})")
    if kind == "keyring":
        # Not looked up: reading a keychain item can pop up an unlock or access dialog (macOS
        # Keychain, Secret Service), and `list` must stay silent and fast.
        entry = keyring_entry(ref, profile_name or "?")
        return TokenStatus("keyring", f"keyring {KEYRING_SERVICE}/{entry}", None, f"in the OS keyring as {KEYRING_SERVICE}/{entry} (not checked)")
    if kind == "cmd":
        return TokenStatus("cmd", "command", None, "from command (not run)")
    return TokenStatus("literal", "profiles file", True, "plain text in the profiles file")


def unsendable_at(token: str) -> int | None:
    """The 1-based position of the first character an HTTP header value cannot carry (a control
    character, or anything but printable ASCII: httpx sends headers as ASCII, and no provider issues
    other tokens), or None."""
    for index, char in enumerate(token):
        if not " " <= char <= "~":
            return index + 1
    return None


class InvalidToken(UsageError):
    """A token that is there but cannot be sent (a control or non-ASCII character): not "missing"."""


def clean_token(value: str, where: str) -> str:
    """`value` as it can go into a header: surrounding whitespace stripped; a character that
    stripping cannot fix is a UsageError saying `where` (e.g. "profile 'glm': the token from $VAR"),
    never the value."""
    token = value.strip()
    position = unsendable_at(token)
    if position is not None:
        raise InvalidToken(f"{where} holds a control or non-ASCII character (character {position}), which no HTTP "
                           "header can carry; copy the token again")
    return token


def token_source(ref: str, profile_name: str) -> str:
    """Where a reference's token comes from, in words for an error: "$VAR", "the OS keyring (ccswitch/glm)"..."""
    kind = reference_kind(ref)
    if kind == "env":
        return f"${ref[len(ENV_PREFIX):]}"
    if kind == "keyring":
        return f"the OS keyring ({KEYRING_SERVICE}/{keyring_entry(ref, profile_name)})"
    if kind == "cmd":
        return "its token command's output"
    return "the profiles file"


def resolve_token(
    ref: str | list[str] | tuple[str, ...] | None,
    env: Mapping[str, str],
    profile_name: str,
    *,
    timeout: float | None = None,
) -> str | None:
    """The token's value (a pool's first key that resolves), stripped (clean_token), or a
    CcswitchError naming the profile (never the value nor a command's output)."""
    kind = reference_kind(ref)
    if kind == "none":
        return None
    if kind == "pool":
        return TokenResolver(env, timeout=timeout).resolve(ref, profile_name)
    assert ref is not None
    if kind == "env":
        var = ref[len(ENV_PREFIX) :]
        value = env.get(var)
        if not value or not value.strip():
            state = "is empty" if value else "is not set"
            raise UsageError(
                f"profile {profile_name!r}: token: {var} {state} (export it, or change the profile's token)")
    elif kind == "keyring":
        value = _from_keyring(keyring_entry(ref, profile_name), profile_name)
    elif kind == "cmd":
        value = _from_command(ref[len(CMD_PREFIX) :], env, profile_name, timeout)
    else:
        value = ref
    return clean_token(value, f"profile {profile_name!r}: the token from {token_source(ref, profile_name)}")


class TokenResolver:
    """Resolves each reference at most once per invocation: a password manager prompts once, a
    keychain is unlocked once. Create one per command and pass it where tokens are needed."""

    def __init__(self, env: Mapping[str, str], *, timeout: float | None = None) -> None:
        self._env = env
        self._timeout = timeout
        self._done: dict[tuple[str, str], str | None] = {}
        self._failed: dict[tuple[str, str], CcswitchError] = {}

    def resolve(self, ref: str | list[str] | tuple[str, ...] | None, profile_name: str) -> str | None:
        """The token; for a key pool, the first key that resolves."""
        if not ref:
            return None
        if not isinstance(ref, str):
            return self.resolve_pool(ref, profile_name, first_only=True)[0][1]
        # Keyring entries default to the profile's name, so the same reference means different
        # secrets for different profiles; env and cmd references do not depend on the profile.
        key = (ref, profile_name if reference_kind(ref) == "keyring" else "")
        if key in self._failed:
            raise self._failed[key]
        if key not in self._done:
            try:
                self._done[key] = resolve_token(ref, self._env, profile_name, timeout=self._timeout)
            except CcswitchError as error:
                self._failed[key] = error
                raise
        return self._done[key]

    def resolve_profile(self, profile: object) -> str | None:
        return self.resolve(getattr(profile, "token"), getattr(profile, "name"))

    def resolve_pool(self, ref: str | list[str] | tuple[str, ...] | None, profile_name: str, *,
                     first_only: bool = False) -> list[tuple[int, str]]:
        """(index in the pool, value) of every key that resolves, in order (a single reference is a
        pool of one); a CcswitchError when none does. A key that does not resolve is left out: the
        others still serve, and its index keeps naming the same key in records."""
        refs = token_references(ref)
        if not refs:
            return []
        found: list[tuple[int, str]] = []
        errors: list[tuple[int, CcswitchError]] = []
        for index, member in enumerate(refs):
            try:
                value = self.resolve(member, profile_name)
            except CcswitchError as error:
                errors.append((index, error))
                continue
            if value:
                found.append((index, value))
                if first_only:
                    break
        if not found:
            if len(refs) == 1 and errors:
                raise errors[0][1]
            prefix = f"profile {profile_name!r}: "
            reasons = "; ".join(f"key {index}: {error.message.removeprefix(prefix)}" for index, error in errors)
            raise UsageError(f"profile {profile_name!r}: token: no key of its pool of {len(refs)} resolves ({reasons})")
        return found


def token_references(ref: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """A token field as a tuple of references: () for none, one for a single reference, a pool's in order."""
    if not ref:
        return ()
    if isinstance(ref, str):
        return (ref,)
    return tuple(ref)


def _describe_pool(refs: tuple[str, ...], env: Mapping[str, str], profile_name: str | None) -> TokenStatus:
    """A pool described key by key, without resolving any (as describe_token)."""
    members = [describe_token(ref, env, profile_name) for ref in refs]
    states = [member.found for member in members]
    found = True if True in states else (None if None in states else False)
    usable = sum(1 for state in states if state)
    parts = "; ".join(f"{index}: {member.detail}" for index, member in enumerate(members))
    detail = f"pool of {len(refs)} keys, {usable} found ({parts})"
    return TokenStatus("pool", ", ".join(member.source for member in members), found, detail, members)


NO_BACKEND_HINT = 'use token = "env:VAR" or token = "cmd:COMMAND" instead'


class KeyringUnavailable(CcswitchError):
    """No OS keyring here (a headless Linux box without Secret Service): `add` answers it with the
    commands that do work (profiles.adding.no_keyring_message)."""


def _keyring_module(profile_name: str | None):
    """The keyring library with its backend loaded, or a CcswitchError when either is missing."""
    where = f"profile {profile_name!r}: " if profile_name else ""
    try:
        import keyring  # ~120 ms: only when a keyring reference is resolved
        import keyring.errors  # noqa: F401  (used by the callers)
    except ImportError:
        raise CcswitchError(
            f"{where}the keyring library is not installed (pip install keyring); {NO_BACKEND_HINT}") from None
    # As keyring itself: only when a keyring is used.
    from ccswitch.profiles import keyrings

    try:
        keyrings.loaded_backend()
    except keyrings.BackendNotLoaded as error:
        raise CcswitchError(f"{where}{error.message}") from None
    return keyring


def _keyring_failure(error: Exception, profile_name: str | None, action: str) -> CcswitchError:
    import keyring.errors  # as above: only on the keyring's error path

    where = f"profile {profile_name!r}: " if profile_name else ""
    if isinstance(error, keyring.errors.NoKeyringError):
        return KeyringUnavailable(
            f"{where}no OS keyring is available here (headless system?); {NO_BACKEND_HINT}")
    # The backend's message is about the backend (locked, denied), never the secret.
    return CcswitchError(f"{where}cannot {action} the OS keyring: {type(error).__name__}: {error}")


def _from_keyring(entry: str, profile_name: str) -> str:
    keyring = _keyring_module(profile_name)
    try:
        value = keyring.get_password(KEYRING_SERVICE, entry)
    except keyring.errors.KeyringError as error:
        raise _keyring_failure(error, profile_name, "read") from None
    if not value:
        raise UsageError(
            f"profile {profile_name!r}: no token in the OS keyring under {KEYRING_SERVICE}/{entry} "
            f"(store one with `ccswitch token set {entry}`)")
    return value


def check_keyring_storable(entry: str, *, plain_text: bool = False):  # -> keyrings.Backend
    """Raise what `keyring_set(entry, ..., plain_text=plain_text)` would raise for the backend
    itself, without storing anything: a dry run refuses what the real run would refuse."""
    return _storing_backend(entry, plain_text)[1]


def _storing_backend(entry: str, plain_text: bool):  # -> (the keyring module, keyrings.Backend)
    # Imported here, as `keyring` itself: only when a secret is stored (or a dry run checks it could be).
    from ccswitch.profiles import keyrings

    keyring = _keyring_module(entry)
    backend = keyrings.current_backend()
    if backend.kind == keyrings.NULL:
        raise KeyringUnavailable(f"profile {entry!r}: no OS keyring is available here ({backend.name} stores nothing); "
                                 f"{NO_BACKEND_HINT}")
    if backend.kind == keyrings.NONE:  # the fail backend: set_password would raise NoKeyringError
        raise KeyringUnavailable(f"profile {entry!r}: no OS keyring is available here (headless system?); "
                                 f"{NO_BACKEND_HINT}")
    if backend.kind == keyrings.PLAIN_TEXT and not plain_text:
        raise keyrings.PlainTextKeyring(backend)
    return keyring, backend


def keyring_set(entry: str, secret: str, *, plain_text: bool = False):  # -> keyrings.Backend
    """Store `secret` as ccswitch/ENTRY and return the backend it went to (profiles.keyrings). A
    backend that keeps nothing is KeyringUnavailable; one that keeps it in a plain-text file is
    keyrings.PlainTextKeyring, unless `plain_text` (the user said so)."""
    keyring, backend = _storing_backend(entry, plain_text)
    try:
        keyring.set_password(KEYRING_SERVICE, entry, secret)
    except keyring.errors.KeyringError as error:
        raise _keyring_failure(error, entry, "write to") from None
    return backend


def keyring_delete(entry: str) -> bool:
    """Remove the entry; False when there was none."""
    keyring = _keyring_module(entry)
    try:
        keyring.delete_password(KEYRING_SERVICE, entry)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as error:
        raise _keyring_failure(error, entry, "delete from") from None
    return True


def _from_command(command: str, env: Mapping[str, str], profile_name: str, timeout: float | None) -> str:
    import subprocess  # a cmd: token only; `run` with an env: token never pays for it

    where = f"profile {profile_name!r}: token command"
    if not command.strip():
        raise UsageError(f"{where}: empty (write token = \"cmd:pass show NAME\")")
    if timeout is None:
        timeout = _timeout_from(env)
    try:
        returncode, output = _run_command(command, env, timeout)
    except subprocess.TimeoutExpired:
        raise CcswitchError(
            f"{where} did not finish within {timeout:g} s (set {ENV_CMD_TIMEOUT} to wait longer)") from None
    except OSError as error:
        raise CcswitchError(f"{where} could not start: {error.strerror or error}") from None
    if returncode != 0:
        raise CcswitchError(f"{where} failed with exit status {returncode}")
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise CcswitchError(f"{where} printed something that is not UTF-8 text") from None
    text = text.strip()  # the line end, and a Windows key file's \r
    if not text:
        raise CcswitchError(f"{where} printed nothing")
    if "\n" in text or "\r" in text:
        raise CcswitchError(
            f"{where} printed more than one line; make it print only the token (e.g. append `| head -n 1`)")
    return text


def _run_command(command: str, env: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """(exit status, stdout) of the command run by the user's shell; on a timeout everything it
    started is killed too, so no helper of a password manager outlives the error."""
    import subprocess  # cmd: tokens only (see _from_command)

    # The command line is the user's own reference, never the token. stdin and stderr stay the
    # user's terminal so that a password manager can ask for its passphrase and show its errors
    # (hence no new session or process group: it would lose the terminal).
    process = subprocess.Popen(command, shell=True, env=dict(env), stdout=subprocess.PIPE)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process)
        raise
    return process.returncode, output


def _kill_tree(process) -> None:  # a subprocess.Popen; not imported on the launch path
    import signal  # cmd: tokens only (see _from_command)
    import subprocess

    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True, check=False)
    else:
        # Snapshot the tree first: once the shell is dead its children belong to init, not to it.
        for pid in (process.pid, *_descendants(process.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _descendants(root: int) -> list[int]:
    import subprocess  # cmd: tokens only (see _from_command)

    try:
        listing = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid="], capture_output=True, text=True,
                                 check=False).stdout
    except OSError:
        return []
    children: dict[int, list[int]] = {}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(fields[0]))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), ()):
            found.append(child)
            queue.append(child)
    return found


def _timeout_from(env: Mapping[str, str]) -> float:
    from ccswitch.seconds import seconds_from  # cmd: tokens only (see _from_command)

    return seconds_from(env, ENV_CMD_TIMEOUT, CMD_TIMEOUT_SECONDS)
