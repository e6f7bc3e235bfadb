"""`ccswitch add`: answers checked as they are typed, and what to do on a machine without a keyring."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccswitch.cli import manage as cli_manage
from ccswitch.cli.app import app
from ccswitch.profiles.adding import add_command

CANARY = "sk-canary-0a1b2c3d4e5f6789"


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_a_bad_base_url_is_asked_again_and_nothing_typed_is_lost(monkeypatch, config_dir: Path, file_keyring):
    monkeypatch.setattr(cli_manage, "_stdin_is_terminal", lambda: True)
    # preset: a typo, then none; base URL: ends in /v1, then not a URL, then right; three models; the token
    answers = ["glmm", "", "https://gw.example.com/anthropic/v1", "gw.example.com", "https://gw.example.com/anthropic",
               "big", "mid", "small", CANARY]
    result = invoke("add", "gw", input="".join(a + "\n" for a in answers))
    assert result.exit_code == 0, result.output
    assert "no preset or profile named 'glmm'" in result.output and 'did you mean "glm"' in result.output
    assert "ends in /v1, but claude appends /v1/messages itself" in result.output
    assert "'gw.example.com' is not an http(s) URL" in result.output
    assert result.output.count("Base URL") == 3
    text = (config_dir / "profiles.toml").read_text()
    for line in ('base_url = "https://gw.example.com/anthropic"', 'opus = "big"', 'sonnet = "mid"', 'haiku = "small"',
                 'token = "keyring"'):
        assert line in text
    assert file_keyring.get_password("ccswitch", "gw") == CANARY
    assert CANARY not in result.output


def test_no_keyring_says_what_works_here_with_the_exact_commands(config_dir: Path):
    """The conftest keyring is the failing backend, as on a headless box without Secret Service."""
    result = invoke("add", "myglm", "--extends", "glm", "--opus", "glm-5.1", "--token-stdin", input=CANARY + "\n")
    assert result.exit_code == 1
    message = result.stderr
    assert message.count("\n") == 1 and "Traceback" not in message and CANARY not in result.output
    assert "no OS keyring is available here" in message and "nothing was written" in message
    base = "ccswitch add myglm --extends glm --opus glm-5.1"
    assert f"`{base} --token-env MYGLM_API_KEY`" in message
    assert f"`{base} --token-cmd 'pass show myglm'`" in message
    assert f"`pass show myglm | {base} --token-stdin --plain-text`" in message
    assert not (config_dir / "profiles.toml").exists()
    # ... and the first suggestion works as given on this very machine.
    suggested = shlex.split(f"{base} --token-env MYGLM_API_KEY")[1:]
    assert invoke(*suggested).exit_code == 0


@pytest.mark.parametrize("table,expected", [
    ({"extends": "glm"}, "ccswitch add n --extends glm"),
    ({"base_url": "https://x.example/a b", "models": {"opus": "o"}, "env": {"K": "v w"}},
     "ccswitch add n --base-url 'https://x.example/a b' --opus o --env 'K=v w'"),
])
def test_add_command_rebuilds_the_options(table, expected):
    assert shlex.join(add_command("n", table)) == expected
