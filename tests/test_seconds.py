"""A number of seconds from the user: every option and variable that sets a wait goes through one
parser with bounds, and no value reaches a timer that cannot hold it."""

from __future__ import annotations

import os

import pytest
from support.mock_anthropic import MockAnthropic
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.errors import UsageError
from ccswitch.launch import front_door
from ccswitch.launch.gateway import timeouts_from
from ccswitch.seconds import parse_seconds, seconds_from

BAD = ["inf", "-inf", "1e308", "nan", "0", "-1", "soon", "0x10", "86401"]


@pytest.mark.parametrize("text", BAD)
def test_what_no_timer_can_hold_is_one_line(text):
    with pytest.raises(UsageError, match=rf"^--timeout {text}: must be a number of seconds from 0.1 to 86400$"):
        parse_seconds(text, f"--timeout {text}")


def test_good_values_and_the_default():
    assert parse_seconds(" 2.5 ", "x") == 2.5 and parse_seconds("86400", "x") == 86400.0
    assert seconds_from({}, "V", 3.0) == 3.0 and seconds_from({"V": " "}, "V", 3.0) == 3.0
    assert seconds_from({"V": "0"}, "V", 30.0, minimum=0) == 0.0  # a cache lifetime of 0: no cache


@pytest.mark.parametrize("text", ["inf", "1e308", "nan", "0"])
def test_test_timeout(profiles_file, text):
    profiles_file('[profiles.pa]\nbase_url = "http://127.0.0.1:9"\ntoken = "sk-pa-0123456789"\n')
    result = CliRunner().invoke(app, ["test", "pa", "--timeout", text])
    assert (result.exit_code, result.stderr) == (2, f"ccswitch: error: --timeout {text}: must be a number of seconds "
                                                    "from 0.1 to 86400\n")


@pytest.mark.parametrize("text", ["inf", "1e308", "nan", "0"])
def test_probe_timeout(profiles_file, fake_claude, monkeypatch, capsys, text):
    with MockAnthropic() as server:
        profiles_file(f'[profiles.pa]\nbase_url = "{server.url}"\ntoken = "sk-pa-0123456789"\n')
        monkeypatch.setenv("PATH", f"{fake_claude.parent}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("CCSWITCH_PROBE_TIMEOUT", text)
        monkeypatch.setattr(front_door, "exec_program", lambda *a: pytest.fail("launched"))  # not this process
        assert front_door.main(["run", "pa", "--fallback", "--", "claude"]) == 2
        assert server.requests == []
    assert capsys.readouterr().err == (f"ccswitch: error: CCSWITCH_PROBE_TIMEOUT='{text}': must be a number of "
                                       "seconds from 0.1 to 86400\n")


@pytest.mark.parametrize("text", ["inf", "1e308", "nan", "0"])
def test_token_command_timeout(profiles_file, monkeypatch, capsys, text):
    profiles_file('[profiles.x]\nbase_url = "http://127.0.0.1:9"\ntoken = "cmd:echo sk-x-0123456789"\n')
    monkeypatch.setenv("CCSWITCH_TOKEN_CMD_TIMEOUT", text)
    assert front_door.main(["env", "x"]) == 2
    assert capsys.readouterr().err == (f"ccswitch: error: CCSWITCH_TOKEN_CMD_TIMEOUT='{text}': must be a number of "
                                       "seconds from 0.1 to 86400\n")


@pytest.mark.parametrize("variable", ["CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT", "CCSWITCH_GATEWAY_IDLE_TIMEOUT"])
def test_gateway_timeouts(variable):
    for text in BAD:
        with pytest.raises(UsageError, match=f"^{variable}='{text}': must be a number of seconds from 0.1 to 86400$"):
            timeouts_from({variable: text})
