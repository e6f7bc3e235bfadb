"""Every test runs in a private home: HOME, XDG dirs, CCSWITCH_HOME and Claude's config point into
tmp_path, and provider variables from the developer's shell are removed, so no test can read or
write the real ~/.claude or ~/.config/ccswitch, or pick up a real token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccswitch.claude.variables import CREDENTIAL_VARIABLES, MANAGED_VARIABLES

# Fixtures several folders share: the settings file `use` tests start from, claude's transcripts.
pytest_plugins = ("support.use_setup", "support.usage_lines")

E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e/ (child processes, the real claude, real shells) is the slow lane:
    `pytest -m "not e2e"` runs the rest."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_RUNTIME_DIR", "run")):
        monkeypatch.setenv(var, str(home / sub))
    (home / "run").mkdir(mode=0o700)  # a session's runtime dir exists, as logind makes it
    monkeypatch.setenv("CCSWITCH_HOME", str(home / ".config" / "ccswitch"))
    monkeypatch.setenv("CCSWITCH_MANAGED_SETTINGS", str(tmp_path / "managed-settings.json"))  # never the real /etc one
    for var in ("CLAUDE_CONFIG_DIR", "CCSWITCH_CLAUDE_SETTINGS", "CCSWITCH_CLAUDE", *MANAGED_VARIABLES, *CREDENTIAL_VARIABLES):
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.endswith("_API_KEY") or var.endswith("_AUTH_TOKEN"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    yield home


@pytest.fixture
def config_dir(isolated_home: Path) -> Path:
    return Path(os.environ["CCSWITCH_HOME"])


@pytest.fixture
def profiles_file(config_dir: Path):
    """Write profiles.toml (private, like ccswitch would) and return its path."""

    def write(text: str) -> Path:
        config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = config_dir / "profiles.toml"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        return path

    return write


@pytest.fixture
def fake_claude(tmp_path: Path) -> Path:
    """A `claude` that does nothing, for tests of what ccswitch would start."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text("#!/bin/sh\nexit 0\n")
    claude.chmod(0o755)
    return claude


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory for claude that is not HOME (in HOME claude reads user settings twice)."""
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    from support.claude_client import ClaudeUnavailable, claude_binary

    try:
        return claude_binary()
    except ClaudeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def claude_env(isolated_home: Path) -> dict[str, str]:
    """A clean environment for running the real claude: isolated home, no retries, no probes."""
    env = {
        "HOME": str(isolated_home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "CCSWITCH_HOME", "LANG", "TERM"):
        if var in os.environ:
            env[var] = os.environ[var]
    return env


@pytest.fixture(autouse=True)
def no_real_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may read or write the developer's real keychain: the keyring is the failing backend
    (as on a headless system) unless a test asks for `file_keyring`."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        yield
        return
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def file_keyring(no_real_keyring: None, isolated_home: Path, monkeypatch: pytest.MonkeyPatch):
    """A real keyring backend (keyrings.alt's plain file) inside the test's home, shared with
    child processes through PYTHON_KEYRING_BACKEND."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    backend = PlaintextKeyring()
    assert str(backend.file_path).startswith(str(isolated_home)), backend.file_path
    keyring.set_keyring(backend)
    return backend
