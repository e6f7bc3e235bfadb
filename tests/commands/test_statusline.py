"""`ccswitch statusline`: the line from claude's JSON, read from the session's transcripts and the
index only; `--install`/`--uninstall` through the transaction of `use`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.processes import subprocess_env
from support.usage_lines import assistant, user
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.commands.statusline import statusline
from ccswitch.usage import index as usage_index
from ccswitch.usage.sessions import record_session

PROFILES = """
[profiles.one]
base_url = "http://127.0.0.1:9"
token = "one-token-0123456789"
models = { opus = "one-big", sonnet = "one-big", haiku = "one-small" }
quota = { window = "5h", prompts = 50 }
[profiles.one.prices."one-big"]
input = 2.0
output = 10.0
cache_read = 0.5
cache_write = 2.0
currency = "EUR"

[profiles.two]
base_url = "http://127.0.0.1:8"
token = "two-token-0123456789"
models = { opus = "two-big", sonnet = "two-big", haiku = "two-big" }
[profiles.two.prices."two-big"]
input = 1.0
output = 1.0
cache_read = 1.0
cache_write = 1.0
currency = "EUR"

[profiles.mix]
routes = { opus = "one", sonnet = "two", haiku = "two" }
"""
S = "11111111-2222-4333-8444-555555555555"


def stamp(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - seconds_ago))


def payload(transcript: Path, model: str, session: str = S, cwd: str = "/p") -> str:
    return json.dumps({"session_id": session, "transcript_path": str(transcript), "cwd": cwd,
                       "model": {"id": model, "display_name": model}, "version": "2.1.330"})


@pytest.fixture
def world(profiles_file, write_transcript, state_dir):
    profiles_file(PROFILES)
    record_session(str(state_dir), S, "one", time.time() - 3600)
    transcript = write_transcript(f"{S}.jsonl", [
        user("hi", sessionId=S),
        assistant("m1", "r1", session=S, model="one-big", ts=stamp(600), input=1000, output=100, cache_read=0,
                  cache_write=0),
        user("more", sessionId=S),
        assistant("m2", "r2", session=S, model="one-big", ts=stamp(300), input=2000, output=200, cache_read=0,
                  cache_write=0),
    ])
    other = write_transcript("other.jsonl", [assistant("m9", "r9", session="s-other", model="two-big", ts=stamp(200),
                                                       input=500, output=500, cache_read=0, cache_write=0)])
    return transcript, other, state_dir


def test_the_line_has_profile_model_session_cost_todays_cost_and_the_quota_window(world):
    transcript, other, state_dir = world
    line = statusline(payload(transcript, "one-big"), dict(os.environ))
    session_cost = (3000 * 2.0 + 300 * 10.0) / 1e6
    assert line.startswith(f"one · one-big · 3.3k tok €{session_cost:,.2f} · today €{session_cost:,.2f}")
    assert line.split(" · ")[-1].startswith("5h 2/50 prompts, resets ")
    db = usage_index.open_index(str(state_dir))
    indexed = [path for (path,) in db.execute("SELECT path FROM files")]
    db.close()
    assert indexed == [str(transcript)]  # the session's transcript only: no scan
    with open(transcript, "a", encoding="utf-8") as handle:  # the next message
        handle.write(assistant("m3", "r3", session=S, model="one-big", ts=stamp(10), input=1000, output=0, cache_read=0,
                               cache_write=0) + "\n")
    assert " · 4.3k tok " in statusline(payload(transcript, "one-big"), dict(os.environ))


def test_the_quota_window_says_1_request_not_1_requests(profiles_file, write_transcript, state_dir):
    profiles_file(PROFILES.replace('quota = { window = "5h", prompts = 50 }', 'quota = { window = "5h" }'))
    record_session(str(state_dir), S, "one", time.time() - 3600)
    transcript = write_transcript(f"{S}.jsonl", [
        assistant("m1", "r1", session=S, model="one-big", ts=stamp(600), input=1, output=1, cache_read=0, cache_write=0)])
    line = statusline(payload(transcript, "one-big"), dict(os.environ))
    assert line.split(" · ")[-1].startswith("5h 1 request, resets "), line


def test_a_routes_profile_shows_the_provider_behind_the_current_model(world, state_dir):
    transcript, _, _ = world
    record_session(str(state_dir), "s-mix", "mix", time.time() - 60)
    line = statusline(payload(transcript, "two::two-big", session="s-mix"), dict(os.environ))
    assert line.startswith("mix→two · two-big · 0 tok ")
    assert statusline(payload(transcript, "opus", session="s-mix"), dict(os.environ)).startswith("mix→one · opus · ")


def test_a_plain_session_uses_the_login_for_a_claude_model_and_bad_input_is_one_line(world, capsys, monkeypatch):
    transcript, _, _ = world
    line = statusline(payload(transcript, "claude-opus-4-6", session="s-plain"), dict(os.environ))
    assert line.startswith("anthropic · claude-opus-4-6 · 0 tok $0.00 · today €")
    from ccswitch.commands import statusline as module

    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("{not json"))
    assert module.main() == 0
    assert capsys.readouterr().out == "ccswitch: statusline: stdin is not JSON (claude's statusLine setting runs this command)\n"
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("[" * 100_000))  # RecursionError was a traceback
    assert module.main() == 0
    assert capsys.readouterr().out == "ccswitch: statusline: stdin is not JSON (claude's statusLine setting runs this command)\n"
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO('{"model": {"id": "m\\udc00"}}'))  # UnicodeEncodeError
    assert module.main() == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "m?" in out


def test_the_plain_statusline_command_imports_neither_typer_nor_rich(world):
    transcript, _, _ = world
    # An atexit callback (which also keeps main() from skipping the interpreter's teardown) reports.
    code = ("import atexit, sys; sys.argv = ['ccswitch', 'statusline']; from ccswitch.__main__ import main\n"
            "atexit.register(lambda: print(sorted(m for m in ('typer', 'rich', 'click', 'tomlkit', 'typing', 'dataclasses')"
            " if m in sys.modules)))\n"
            "main()\n")
    for _ in range(2):  # the second with the profile cache warm (a cold one reads TOML with tomllib)
        done = subprocess.run([sys.executable, "-c", code], input=payload(transcript, "one-big"), capture_output=True,
                              text=True, env=subprocess_env(), timeout=60)
    first, modules = done.stdout.splitlines()
    assert first.startswith("one · one-big · ") and modules == "[]"


def ccswitch(*args: str):
    return CliRunner().invoke(app, list(args))


def test_install_and_uninstall_put_back_what_statusline_held(isolated_home, monkeypatch):
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    original = '{\n  "statusLine": {"type": "command", "command": "my-line"},\n  "theme": "dark"\n}\n'
    settings.write_text(original)
    dry = ccswitch("statusline", "--install", "--dry-run")
    assert dry.exit_code == 0 and '"command":' in dry.stdout and settings.read_text() == original
    result = ccswitch("statusline", "--install")
    assert result.exit_code == 0, result.output
    installed = json.loads(settings.read_text())
    assert installed["theme"] == "dark" and installed["statusLine"]["command"].endswith("statusline")
    assert "backup " in result.stderr
    assert ccswitch("off").exit_code == 0 and json.loads(settings.read_text()) == installed  # off leaves it
    dry = ccswitch("statusline", "--uninstall", "--dry-run")  # shows the bytes it gives back, in their order
    changed = [line for line in dry.stdout.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert dry.exit_code == 0 and '+    "command": "my-line"' in changed and not any("theme" in line for line in changed)
    result = ccswitch("statusline", "--uninstall")
    assert result.exit_code == 0, result.output
    assert json.loads(settings.read_text()) == json.loads(original)
    assert "nothing to undo" in ccswitch("statusline", "--uninstall").stderr


def test_uninstall_leaves_a_status_line_changed_since_and_local_scope_goes_to_settings_local(
        isolated_home, tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    assert ccswitch("statusline", "--install", "--scope", "local").exit_code == 0
    local = project / ".claude" / "settings.local.json"
    assert json.loads(local.read_text())["statusLine"]["type"] == "command"
    local.write_text(json.dumps({"statusLine": {"type": "command", "command": "theirs"}}))
    result = ccswitch("statusline", "--uninstall", "--scope", "local")
    assert result.exit_code == 0 and "left as it is" in result.stderr
    assert json.loads(local.read_text())["statusLine"]["command"] == "theirs"
    assert ccswitch("statusline", "--scope", "local").exit_code == 2  # --scope goes with --install


def test_install_into_no_file_creates_it_and_uninstall_removes_it(isolated_home):
    settings = isolated_home / ".claude" / "settings.json"
    assert ccswitch("statusline", "--install").exit_code == 0
    assert json.loads(settings.read_text())["statusLine"]["padding"] == 0
    assert ccswitch("statusline", "--uninstall").exit_code == 0
    assert not settings.exists()


def test_uninstall_gives_back_the_exact_bytes_when_nothing_else_changed(isolated_home):
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    original = '{"permissions": {"allow": ["Bash(ls)", "Read"]},   "theme": "dark"}'  # one line, no newline
    settings.write_text(original)
    assert ccswitch("statusline", "--install").exit_code == 0
    assert settings.read_text() != original
    assert ccswitch("statusline", "--uninstall").exit_code == 0
    assert settings.read_text() == original
    # Something else changed meanwhile: that change is kept, in the file's style.
    assert ccswitch("statusline", "--install").exit_code == 0
    data = json.loads(settings.read_text())
    settings.write_text(json.dumps({**data, "theme": "light"}, indent=2))
    assert ccswitch("statusline", "--uninstall").exit_code == 0
    assert json.loads(settings.read_text()) == {"permissions": {"allow": ["Bash(ls)", "Read"]}, "theme": "light"}


def test_uninstall_at_project_scope_removes_the_claude_directory_install_created(isolated_home, tmp_path, monkeypatch):
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    monkeypatch.chdir(project)
    assert ccswitch("statusline", "--install", "--scope", "project").exit_code == 0
    assert (project / ".claude" / "settings.json").exists()
    assert ccswitch("statusline", "--uninstall", "--scope", "project").exit_code == 0
    assert sorted(p.name for p in project.iterdir()) == [".git"]
    # A `.claude/` that holds something else by then stays.
    assert ccswitch("statusline", "--install", "--scope", "project").exit_code == 0
    (project / ".claude" / "agents").mkdir()
    assert ccswitch("statusline", "--uninstall", "--scope", "project").exit_code == 0
    assert sorted(p.name for p in (project / ".claude").iterdir()) == ["agents"]


def test_subagents_count_and_their_replays_of_the_parent_do_not(world, write_transcript):
    transcript, _, _ = world
    write_transcript(f"{S}/subagents/agent-1.jsonl", [
        assistant("m2", "r-replay", session=S, model="one-big", ts=stamp(290), input=2000, output=200, cache_read=0,
                  cache_write=0, sidechain=True),  # the parent's m2 again, under another request id
        assistant("m7", "r7", session=S, model="one-big", ts=stamp(280), input=700, output=0, cache_read=0,
                  cache_write=0, sidechain=True),
    ])
    assert " · 4.0k tok " in statusline(payload(transcript, "one-big"), dict(os.environ))  # 3.3k + m7's 700


def test_install_while_use_is_active_keeps_no_copy_of_the_token(isolated_home, profiles_file, monkeypatch):
    """`use` puts a token in settings.json; install's record must not copy it (it would outlive
    `off`). Uninstall then gives the file back in its own layout."""
    token = "sk-use-token-0123456789abcdef"
    profiles_file('[profiles.k]\nbase_url = "https://k.example/anthropic"\ntoken = "env:K_T"\nmodel = "k-1"\n')
    monkeypatch.setenv("K_T", token)
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"theme": "dark"}')
    assert ccswitch("use", "k").exit_code == 0 and token in settings.read_text()
    assert ccswitch("statusline", "--install").exit_code == 0
    assert ccswitch("off").exit_code == 0
    (record,) = (Path(os.environ["CCSWITCH_HOME"]) / "state" / "statusline").glob("*.json")
    assert token not in record.read_text() and "installed" in json.loads(record.read_text())
    assert ccswitch("statusline", "--uninstall").exit_code == 0
    assert json.loads(settings.read_text()) == {"theme": "dark"}
