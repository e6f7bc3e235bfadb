"""The light front door answers the plain forms of the read-only commands exactly as the typer app
does (same output, same exit status), and leaves everything else to typer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.commands import front_door


@pytest.mark.parametrize("argv", [
    ["list"], ["list", "--json"], ["list", "--wide"], ["list", "-w"], ["presets"], ["presets", "--json"],
    ["show", "glm"], ["show", "--json", "glm"], ["which", "kimi-k2-0905-preview"], ["which", "gpt-9"],
    ["which", "sonnet"], ["show", "nope"], ["status"], ["current", "--json"], ["doctor"], ["restore", "--list"],
    ["restore", "--list", "--json"], ["--version"], ["pin"], ["usage"], ["usage", "--json", "--since", "7d"],
    ["usage", "--by=day", "--until", "2026-01-01"], ["usage", "--since", "3x"], ["usage", "--by", "week"],
])
def test_same_answer_as_typer(argv, capsys, monkeypatch, fake_claude):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("CCSWITCH_CLAUDE", str(fake_claude))
    status = front_door.main(argv)
    light = capsys.readouterr()
    typer_result = CliRunner().invoke(app, argv)
    assert status == typer_result.exit_code
    assert light.out == typer_result.stdout
    assert light.err == typer_result.stderr


@pytest.mark.parametrize("argv", [
    [], ["list", "--help"], ["list", "-h"], ["list", "extra"], ["list", "--jsn"], ["show"], ["show", "a", "b"],
    ["which"], ["restore"], ["restore", "ID"], ["restore", "--list", "--dry-run"], ["use", "glm"], ["doctor", "--"],
    ["status", "--scope", "user"], ["pin", "glm"], ["pin", "--clear"], ["usage", "--since"],
    ["usage", "--since", "--json"], ["usage", "--by", "day", "--by", "model"], ["usage", "extra"],
])
def test_everything_else_goes_to_typer(argv):
    assert front_door.parse(argv) is None
    assert front_door.main(argv) is None
