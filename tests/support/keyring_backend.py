"""The tests' keyring: a `keyring` backend in a JSON file inside the test's isolated home.

It stands in for an OS keyring (macOS Keychain, Secret Service) and is chosen only inside the tests:
`keyring.set_keyring` in the test process, and for child processes PYTHON_KEYRING_BACKEND plus
this folder on PYTHONPATH (the `file_keyring` fixture in tests/conftest.py). It is never installed,
so the user's keyring stays what it was (the README's test command once installed keyrings.alt
into the same virtualenv, and keyring then kept the user's tokens in a plain-text file).

`PlaintextKeyring` has the name of keyrings.alt's plain-text backend, for the tests of what
ccswitch says about such a backend.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_VARIABLE = "CCSWITCH_TEST_KEYRING_FILE"  # set by use_test_keyring; without it the backend has no file
TESTS_DIR = Path(__file__).resolve().parents[1]


def use_test_keyring(monkeypatch, home: Path, class_name: str = "FileKeyring"):  # a pytest.MonkeyPatch
    """Make this module's backend the keyring, in the test's process and in its child processes
    (their PYTHON_KEYRING_BACKEND names it, PYTHONPATH finds it); its file is in the test's home."""
    import keyring

    monkeypatch.setenv(FILE_VARIABLE, str(home / "test-keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"support.keyring_backend.{class_name}")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")])))
    backend = globals()[class_name]()
    keyring.set_keyring(backend)
    return backend


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]  # chosen by name only, never detected (no entry point)

    @property
    def file_path(self) -> str:
        path = os.environ.get(FILE_VARIABLE)
        if not path:
            raise RuntimeError(f"{FILE_VARIABLE} is not set: the tests' keyring has no file")
        return path

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            with open(self.file_path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        fd = os.open(self.file_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError("no such password")
        del data[service][username]
        self._save(data)


class PlaintextKeyring(FileKeyring):
    """Named like keyrings.alt.file.PlaintextKeyring, the backend `doctor` and `token set` must call plain text."""
