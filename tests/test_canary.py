"""One canary token, reachable through every kind of reference, run through every command that
exists, on stdout and stderr (with --json too): it must never appear. After each writing command,
profiles.toml is 0600 in a 0700 directory and no temp file is left behind."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import subprocess_env

CANARY = "sk-CANARY-5d41402abc4b2a76b9719d911017c592"
# The parts a careless mask could leak: a long prefix or suffix of the token.
FRAGMENTS = (CANARY, CANARY[:12], CANARY[-12:], "5d41402abc4b2a76")


def ccswitch(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccswitch", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=60,
    )


def assert_clean(result: subprocess.CompletedProcess[str], args: tuple[str, ...], *, crash: bool = False) -> None:
    for stream in (result.stdout, result.stderr):
        for fragment in FRAGMENTS:
            assert fragment not in stream, (args, result.stdout, result.stderr)
    if not crash:
        assert "Traceback" not in result.stderr, (args, result.stderr)


def assert_private(config_dir: Path) -> None:
    path = config_dir / "profiles.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert sorted(p.name for p in config_dir.iterdir()) == ["profiles.toml"]


@pytest.fixture
def canary_setup(profiles_file, file_keyring, tmp_path: Path):  # type: ignore[no-untyped-def]
    secret_file = tmp_path / "secret"
    secret_file.write_text(CANARY + "\n")
    secret_file.chmod(0o600)
    file_keyring.set_password("ccswitch", "viakeyring", CANARY)
    path = profiles_file(
        f"""\
# canary profiles
schema = 1
default = "viaenv"

[profiles.viaenv]
base_url = "https://gw.example.com/anthropic"
token = "env:CANARY_TOKEN"

[profiles.literal]   # plain text on purpose
extends = "viaenv"
token = "{CANARY}"

[profiles.viakeyring]
extends = "glm"
token = "keyring"

[profiles.viacmd]
base_url = "https://gw.example.com/anthropic"
auth = "x-api-key"
token = "cmd:cat {secret_file}"
"""
    )
    return path


def test_canary_never_printed(canary_setup: Path, tmp_path: Path) -> None:
    config_dir = canary_setup.parent
    env = {"CANARY_TOKEN": CANARY}
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import os, stat, sys\n"
        "p = sys.argv[1]\n"
        "assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, oct(os.stat(p).st_mode)\n"
        "assert stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode) == 0o700\n"
        "t = open(p).read()\n"
        "open(p, 'w').write(t.replace('# plain text on purpose', '# still plain text'))\n"
    )
    reading = [
        ("list",), ("list", "--json"), ("presets",), ("presets", "--json"),
        *[(cmd, name, *json) for name in ("viaenv", "literal", "viakeyring", "viacmd") for cmd in ("show",) for json in ((), ("--json",))],
        ("show", "nosuch"), ("--help",), ("add", "--help"), ("token", "set", "--help"),
    ]
    for args in reading:
        result = ccswitch(*args, **env)
        assert_clean(result, args)
        assert result.returncode in (0, 2), (args, result.stderr)

    writing: list[tuple[tuple[str, ...], str | None, int]] = [
        (("add", "piped", "--extends", "glm", "--token-stdin"), CANARY + "\n", 0),
        (("add", "plain", "--extends", "glm", "--token-stdin", "--plain-text"), CANARY + "\n", 0),
        (("add", "piped", "--extends", "glm", "--token-stdin"), CANARY + "\n", 2),  # exists: an error path
        (("add", "bad", "--base-url", "https://x.example.com/v1", "--token-stdin"), CANARY + "\n", 2),
        (("add", "cmdref", "--base-url", "https://x.example.com", "--token-cmd", f"cat {tmp_path / 'secret'}"), None, 0),
        (("edit", "literal"), None, 0),
        (("rename", "viakeyring", "keyring2"), None, 0),
        (("rename", "literal", "literal2"), None, 0),
        (("token", "set", "viaenv"), CANARY + "\n", 0),
        (("token", "set", "plain"), CANARY, 0),
        (("token", "rm", "plain"), None, 0),
        (("token", "rm", "plain"), None, 1),
        (("remove", "viaenv"), None, 2),  # the default: refused
        (("remove", "keyring2"), None, 0),
        (("remove", "piped"), None, 0),
    ]
    for args, stdin, status in writing:
        result = ccswitch(*args, stdin=stdin, EDITOR=f"{sys.executable} {editor}", **env)
        assert_clean(result, args)
        assert result.returncode == status, (args, result.stdout, result.stderr)
        assert_private(config_dir)
    for args in reading[:2] + [("show", "literal2"), ("show", "literal2", "--json"), ("show", "plain", "--json")]:
        assert_clean(ccswitch(*args, **env), args)
    text = canary_setup.read_text()
    assert "# still plain text" in text and "[profiles.literal2]" in text and "[profiles.keyring2]" not in text


def test_a_crash_report_shows_no_locals(tmp_path: Path) -> None:
    # A bug deep in `add` while the token sits in local variables: the traceback must not show them.
    code = (
        "import sys\n"
        "from ccswitch import manage\n"
        "from ccswitch.cli import app\n"
        "def crash(*args, **kwargs):\n"
        "    raise RuntimeError('simulated bug')\n"
        "manage.add_profile = crash\n"
        "sys.argv = ['ccswitch', 'add', 'x', '--extends', 'glm', '--token-stdin', '--plain-text']\n"
        "app(prog_name='ccswitch')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input=CANARY + "\n", capture_output=True, text=True, env=subprocess_env(COLUMNS="200"), timeout=60
    )
    assert result.returncode != 0
    assert "simulated bug" in result.stderr and "Traceback" in result.stderr
    assert_clean(result, ("crash",), crash=True)
