"""A `cmd:` token reaches where each command sends it, and its command runs once per invocation
(secrets.TokenResolver): `run` (the --settings file; masked in --dry-run), `env` (printed when
piped), `use` (settings.json) and `test` (the request's header)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic
from support.processes import subprocess_env
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.redact import mask

TOKEN = "sk-from-cmd-0123456789abcdef"


@pytest.fixture
def token_cmd(tmp_path: Path) -> tuple[str, Path]:
    """(a `cmd:` reference that prints TOKEN, the file counting how often it ran)."""
    secret = tmp_path / "secret"
    secret.write_text(TOKEN + "\n")
    count = tmp_path / "count"
    count.write_text("")
    return f"cmd:echo ran >> {count}; cat {secret}", count


def runs(count: Path) -> int:
    return len(count.read_text().splitlines())


def ccswitch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ccswitch", *args], capture_output=True, text=True,
                          env=subprocess_env(**env), timeout=60, stdin=subprocess.DEVNULL)


def test_run_puts_a_cmd_token_in_the_settings_file_and_masks_it_in_dry_run(profiles_file, token_cmd, tmp_path):
    ref, count = token_cmd
    profiles_file(f'[profiles.gw]\nbase_url = "http://127.0.0.1:9/api"\ntoken = "{ref}"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen.json"
    (bin_dir / "claude").write_text(f'#!/bin/sh\ncat "$2" > {seen}\n')  # argv: claude --settings FILE
    (bin_dir / "claude").chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    dry = ccswitch("run", "--dry-run", "gw", PATH=path)
    assert dry.returncode == 0, dry.stderr
    assert f'"ANTHROPIC_AUTH_TOKEN": "{mask(TOKEN)}"' in dry.stdout and TOKEN not in dry.stdout + dry.stderr
    assert runs(count) == 1

    real = ccswitch("run", "gw", PATH=path)
    assert real.returncode == 0, real.stderr
    assert json.loads(seen.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == TOKEN
    assert TOKEN not in real.stdout + real.stderr
    assert runs(count) == 2  # once per invocation


def test_env_prints_a_cmd_token_when_piped(profiles_file, token_cmd):
    ref, count = token_cmd
    profiles_file(f'[profiles.gw]\nbase_url = "http://127.0.0.1:9/api"\ntoken = "{ref}"\n')
    result = ccswitch("env", "gw", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert f"export ANTHROPIC_AUTH_TOKEN={TOKEN}" in result.stdout or f"export ANTHROPIC_AUTH_TOKEN='{TOKEN}'" in result.stdout
    assert runs(count) == 1


def test_use_writes_a_cmd_token_into_settings_json(profiles_file, token_cmd, isolated_home):
    ref, count = token_cmd
    profiles_file(f'[profiles.gw]\nbase_url = "http://127.0.0.1:9/api"\ntoken = "{ref}"\n')
    result = CliRunner().invoke(app, ["use", "gw"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    settings = isolated_home / ".claude" / "settings.json"
    assert json.loads(settings.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == TOKEN
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert runs(count) == 1


def test_test_sends_a_cmd_token_once_for_every_profile_that_shares_it(profiles_file, token_cmd, monkeypatch):
    ref, count = token_cmd
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with MockAnthropic() as server:
        profiles_file(
            f'[profiles.a]\nbase_url = "{server.url}"\ntoken = "{ref}"\n[profiles.a.models]\nopus = "m-1"\n'
            f'[profiles.b]\nbase_url = "{server.url}"\nauth = "x-api-key"\ntoken = "{ref}"\n[profiles.b.models]\nopus = "m-2"\n'
        )
        result = CliRunner().invoke(app, ["test", "a", "b"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    by_model = {r.model: r.headers for r in server.messages}
    assert by_model["m-1"]["authorization"] == f"Bearer {TOKEN}" and "x-api-key" not in by_model["m-1"]
    assert by_model["m-2"]["x-api-key"] == TOKEN and "authorization" not in by_model["m-2"]
    assert runs(count) == 1


def test_token_set_strips_a_windows_line_end_and_refuses_a_control_character(profiles_file, file_keyring):
    profiles_file('[profiles.gw]\nbase_url = "http://127.0.0.1:9/api"\ntoken = "keyring"\n')
    stored = CliRunner().invoke(app, ["token", "set", "gw"], input=TOKEN + "\r")
    assert stored.exit_code == 0, stored.output
    assert file_keyring.get_password("ccswitch", "gw") == TOKEN
    refused = CliRunner().invoke(app, ["token", "set", "gw"], input=TOKEN[:5] + "\x1b" + TOKEN[5:])
    assert refused.exit_code == 2
    assert "the token on stdin holds a control or non-ASCII character (character 6)" in refused.output
    assert TOKEN[:5] not in refused.output and TOKEN[6:] not in refused.output
    assert file_keyring.get_password("ccswitch", "gw") == TOKEN
