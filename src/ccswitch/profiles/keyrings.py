"""Which backend the `keyring` library would use, and whether it really keeps a secret.

`keyring` picks the backend with the highest priority among those installed (or the one
PYTHON_KEYRING_BACKEND or keyringrc.cfg names). On a headless Linux box the only one installed may
be keyrings.alt's PlaintextKeyring (priority 0.5), which keeps secrets base64-encoded in
`keyring_pass.cfg`: a plain-text file that calls itself a keyring. The null backend stores nothing,
the fail backend refuses. ccswitch names each of them instead of saying "stored in the OS keyring"
(docs/keyring.md).

Imports `keyring` only inside `current_backend` (~120 ms): never on the launch path.
"""

from __future__ import annotations

import os

from ccswitch.errors import CcswitchError, ExitStatus

KEYRING_SERVICE = "ccswitch"  # the service every ccswitch secret is stored under: ccswitch/ENTRY
OS = "os"  # a real keychain: macOS Keychain, Secret Service, KWallet, Windows Credential Locker, ...
PLAIN_TEXT = "plain-text"
NULL = "null"  # stores nothing, finds nothing
NONE = "none"  # the fail backend: no keyring at all, every call raises NoKeyringError

ENV_BACKEND = "PYTHON_KEYRING_BACKEND"
NULL_BACKEND = "keyring.backends.null.Keyring"
FAIL_BACKEND = "keyring.backends.fail.Keyring"
WHAT_TO_DO = ("use an OS keyring (Secret Service: gnome-keyring or KeePassXC; KWallet; macOS Keychain), "
              'or token = "env:VAR" / "cmd:COMMAND" references')


class Backend:
    """The backend a secret would be written to: its class name, its kind, and for a plain-text
    one the file it writes (when the backend says)."""

    __slots__ = ("name", "kind", "file")

    def __init__(self, name: str, kind: str, file: str | None = None) -> None:
        self.name = name
        self.kind = kind
        self.file = file

    def __repr__(self) -> str:
        return f"Backend({self.name!r}, {self.kind!r}, {self.file!r})"

    def where(self) -> str:
        """Where a secret stored through this backend ends up, in words."""
        if self.kind == PLAIN_TEXT:
            return f"in plain text (not encrypted) in {self.file or 'a file'}, by the keyring backend {self.name}"
        return f"in the OS keyring ({self.name})"


class PlainTextKeyring(CcswitchError):
    """The keyring backend is a plain-text file: nothing is stored without `--plain-text`. What
    `--plain-text` then does is the command's own (`instead`): `token set` stores into that file,
    `add` and `import` keep the key in profiles.toml."""

    def __init__(self, backend: Backend, *, instead: str = "pass --plain-text to store it there anyway",
                 what: str = "the token was not stored") -> None:
        super().__init__(f"the keyring backend here ({backend.name}) keeps secrets in plain text"
                         f"{f' in {backend.file}' if backend.file else ''}, so {what}; {WHAT_TO_DO}, or {instead}",
                         ExitStatus.USAGE)
        self.backend = backend


def where_entry_is(entry: str) -> str:
    """Where the secret ccswitch/ENTRY is kept, in words, by the backend in force (not read)."""
    try:
        backend = current_backend()
    except BackendNotLoaded as error:
        return f"read from the keyring as {KEYRING_SERVICE}/{entry}, but {error.problem}"
    if backend.kind in (NULL, NONE):
        return f"read from the keyring as {KEYRING_SERVICE}/{entry}, but the backend here ({backend.name}) keeps nothing"
    return f"as {KEYRING_SERVICE}/{entry} {backend.where()}"


def qualified_name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def describe_backend(backend: object) -> Backend:
    """What `backend` (a keyring backend object) does with a secret. A chainer stores into the
    first of the backends it chains, so that one is judged."""
    chained = getattr(backend, "backends", None)
    if qualified_name(backend) == "keyring.backends.chainer.ChainerBackend" and chained:
        inner = describe_backend(chained[0])
        return Backend(f"{qualified_name(backend)} -> {inner.name}", inner.kind, inner.file)
    name = qualified_name(backend)
    if name == NULL_BACKEND:
        return Backend(name, NULL)
    if name == FAIL_BACKEND:
        return Backend(name, NONE)
    # keyrings.alt.file.PlaintextKeyring and keyrings.alt.pyfs.PlaintextKeyring: the name says it.
    if "plaintext" in name.lower():
        try:
            file = getattr(backend, "file_path", None)  # keyrings.alt's file backends say where they write
        except Exception:  # the backend's own property failed: then no file is named
            file = None
        return Backend(name, PLAIN_TEXT, str(file) if file else None)
    return Backend(name, OS)


def current_backend() -> Backend:
    """The backend `keyring` uses in this process (the keyring library must be importable)."""
    return describe_backend(loaded_backend())


class BackendNotLoaded(CcswitchError):
    """The backend PYTHON_KEYRING_BACKEND or keyringrc.cfg names cannot be loaded (not installed,
    misspelt, not viable here): one line naming that setting, instead of keyring's traceback."""

    def __init__(self, message: str, *, problem: str, fix: str) -> None:
        super().__init__(message)
        self.problem, self.fix = problem, fix


def loaded_backend():  # -> a keyring.backend.KeyringBackend
    """The backend `keyring` uses, loaded now (keyring loads it on its first call, and any error
    of a backend's own import or set-up would come out of that call as a traceback)."""
    import keyring

    try:
        return keyring.get_keyring()
    except Exception as error:  # a third-party module's import and set-up: anything may come out
        import configparser  # the error path only

        detail = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
        if isinstance(error, configparser.Error):
            problem = f"the keyring's configuration {_config_file() or 'keyringrc.cfg'} cannot be read ({detail})"
            fix = "correct that file, or remove it to use the OS keyring"
        else:
            problem = f"the keyring backend {_named_by()} cannot be loaded ({detail})"
            fix = f"install it into the environment ccswitch runs from, or {_unset_hint()}"
        raise BackendNotLoaded(f"{problem}; {fix}", problem=problem, fix=fix) from None


def _named_by() -> str:
    # keyring reads its own process's environment and config file, so this is read the same way.
    value = os.environ.get(ENV_BACKEND)
    if value is not None:
        return f"{ENV_BACKEND}={value}"
    config = _config_file()
    return f"named in {config} (default-keyring)" if config else "named in keyringrc.cfg (default-keyring)"


def _unset_hint() -> str:
    if os.environ.get(ENV_BACKEND) is not None:
        return f"unset {ENV_BACKEND} to use the OS keyring"
    return "remove that line to use the OS keyring"


def _config_file() -> str | None:
    try:
        from keyring.util import platform_

        return str(platform_.config_root() / "keyringrc.cfg")
    except Exception:  # keyring's own layout: the message then names the file without its folder
        return None
