"""Token references: where a profile's token comes from, whether it is there, and how to show it.

A reference is one of:
- `env:VAR`       read from the environment;
- `keyring`       the OS keychain through the `keyring` library (service "ccswitch", user = the
                  profile's name); `keyring:ENTRY` names another entry;
- `cmd:COMMAND`   run a password-manager command through the shell; its stdout is the token;
- anything else   the token itself, in plain text in the profiles file.

Resolving happens only when a command needs the token, at most once per invocation (`TokenResolver`);
describing never resolves anything: it reads no keychain and runs no command.

On the launch path of `ccswitch run`: imports only the standard library; `keyring` (~120 ms) and
`subprocess` are imported when a reference of that kind is resolved.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ccswitch.errors import CcswitchError, UsageError

ENV_PREFIX = "env:"
CMD_PREFIX = "cmd:"
KEYRING_REF = "keyring"
KEYRING_PREFIX = "keyring:"
KEYRING_SERVICE = "ccswitch"
# A password manager may wait for a passphrase or a fingerprint; a hung command must still end.
CMD_TIMEOUT_SECONDS = 60.0
ENV_CMD_TIMEOUT = "CCSWITCH_TOKEN_CMD_TIMEOUT"


def reference_kind(ref: str | None) -> str:
    """"none", "env", "keyring", "cmd" or "literal"."""
    if not ref:
        return "none"
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

    __slots__ = ("kind", "source", "found", "detail")

    def __init__(self, kind: str, source: str, found: bool | None, detail: str) -> None:
        self.kind = kind  # "env" | "keyring" | "cmd" | "literal" | "none"
        self.source = source  # e.g. "$ZHIPU_API_KEY", "keyring ccswitch/glm", "command", "profiles file", ""
        self.found = found
        self.detail = detail  # human text, never the value

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "source": self.source, "found": self.found, "detail": self.detail}


def describe_token(ref: str | None, env: Mapping[str, str], profile_name: str | None = None) -> TokenStatus:
    kind = reference_kind(ref)
    if kind == "none":
        return TokenStatus("none", "", False, "none configured")
    assert ref is not None
    if kind == "env":
        var = ref[len(ENV_PREFIX) :]
        if env.get(var):
            return TokenStatus("env", f"${var}", True, f"found in ${var}")
        return TokenStatus("env", f"${var}", False, f"missing ({var} is not set)")
    if kind == "keyring":
        # Not looked up: reading a keychain item can pop up an unlock or access dialog (macOS
        # Keychain, Secret Service), and `list` must stay silent and fast.
        entry = keyring_entry(ref, profile_name or "?")
        return TokenStatus("keyring", f"keyring {KEYRING_SERVICE}/{entry}", None, f"in the OS keyring as {KEYRING_SERVICE}/{entry} (not checked)")
    if kind == "cmd":
        return TokenStatus("cmd", "command", None, "from command (not run)")
    return TokenStatus("literal", "profiles file", True, "plain text in the profiles file")


def resolve_token(
    ref: str | None,
    env: Mapping[str, str],
    profile_name: str,
    *,
    timeout: float | None = None,
) -> str | None:
    """The token's value, or a CcswitchError naming the profile (never the value nor a command's output)."""
    kind = reference_kind(ref)
    if kind == "none":
        return None
    assert ref is not None
    if kind == "env":
        var = ref[len(ENV_PREFIX) :]
        value = env.get(var)
        if not value:
            raise UsageError(
                f"profile {profile_name!r}: token: {var} is not set (export it, or change the profile's token)")
        return value
    if kind == "keyring":
        return _from_keyring(keyring_entry(ref, profile_name), profile_name)
    if kind == "cmd":
        return _from_command(ref[len(CMD_PREFIX) :], env, profile_name, timeout)
    return ref


class TokenResolver:
    """Resolves each reference at most once per invocation: a password manager prompts once, a
    keychain is unlocked once. Create one per command and pass it where tokens are needed."""

    def __init__(self, env: Mapping[str, str], *, timeout: float | None = None) -> None:
        self._env = env
        self._timeout = timeout
        self._done: dict[tuple[str, str], str | None] = {}
        self._failed: dict[tuple[str, str], CcswitchError] = {}

    def resolve(self, ref: str | None, profile_name: str) -> str | None:
        if not ref:
            return None
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


NO_BACKEND_HINT = 'use token = "env:VAR" or token = "cmd:COMMAND" instead'


class KeyringUnavailable(CcswitchError):
    """No OS keyring here (a headless Linux box without Secret Service): `add` answers it with the
    commands that do work (profiles.adding.no_keyring_message)."""


def _keyring_module(profile_name: str | None):
    """The keyring library, or a CcswitchError when it (or a backend) is missing."""
    try:
        import keyring  # ~120 ms: only when a keyring reference is resolved
        import keyring.errors  # noqa: F401  (used by the callers)
    except ImportError:
        where = f"profile {profile_name!r}: " if profile_name else ""
        raise CcswitchError(
            f"{where}the keyring library is not installed (pip install keyring); {NO_BACKEND_HINT}") from None
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


def keyring_set(entry: str, secret: str) -> None:
    keyring = _keyring_module(entry)
    try:
        keyring.set_password(KEYRING_SERVICE, entry, secret)
    except keyring.errors.KeyringError as error:
        raise _keyring_failure(error, entry, "write to") from None


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
    text = strip_one_newline(text)
    if not text.strip():
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


def strip_one_newline(text: str) -> str:
    """A secret as printed by a tool or piped in: without the one line end that closes it."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def _timeout_from(env: Mapping[str, str]) -> float:
    raw = env.get(ENV_CMD_TIMEOUT, "").strip()
    if not raw:
        return CMD_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{ENV_CMD_TIMEOUT}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise UsageError(f"{ENV_CMD_TIMEOUT}={raw!r} must be more than 0 seconds")
    return value
