"""Every test runs in a private home: HOME, XDG dirs, CCSWITCH_HOME and Claude's config point into
tmp_path, and provider variables from the developer's shell are removed, so no test can read or
write the real ~/.claude or ~/.config/ccswitch, or pick up a real token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccswitch.claude.variables import CREDENTIAL_VARIABLES, MANAGED_VARIABLES

# Fixtures several folders share: the settings file `use` tests start from, claude's transcripts,
# the gateway's mock upstreams.
pytest_plugins = ("support.use_setup", "support.usage_lines", "support.gateway_fixtures")

E2E_DIR = Path(__file__).resolve().parent / "e2e"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """A run of the whole suite, or of a lane (`pytest`, `pytest -m "not e2e"`), goes on every core
    with pytest-xdist (the test extra installs it): about half the tests' time is spent waiting
    (timeouts, child processes, the real claude), and workers overlap those waits too. A run given
    paths stays in one process (no worker start-up for one test); `-n N` or `-p no:xdist` decide
    otherwise. Each worker has its own tmp_path and home (isolated_home), ports are the kernel's."""
    if (getattr(config.option, "numprocesses", False) is None and "PYTEST_XDIST_WORKER" not in os.environ
            and config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.collectonly):
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            config.option.dist = "worksteal"  # tests take from 1 ms to 20 s: idle workers take over queued ones


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
    # Output in a pipe fits $COLUMNS when it is set: a shell that exports it, or pytest-xdist's
    # workers (80), would change every table a test reads. A test that wants a width sets one.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
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


@pytest.fixture(scope="session")
def claude_release():
    """`claude_release("2.1.210")`: a release other than the pinned one, installed like it into
    .cache/ (each costs an npm install of about 380 MB: only for tests about a release boundary)."""
    from support.claude_client import ClaudeUnavailable, claude_binary

    def install(version: str) -> Path:
        try:
            return claude_binary(version)
        except ClaudeUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)

    return install


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
    """A keyring that works, standing in for the OS one: the tests' own backend, in a file inside
    the test's home (tests/support/keyring_backend.py), shared with child processes."""
    from support.keyring_backend import use_test_keyring

    return use_test_keyring(monkeypatch, isolated_home)
