"""A direct run's settings file holds the profile's token; claude reads it when it starts. The next
`run` deletes it once that claude has ended, so a later session's command (a tool claude runs, a
prompt-injected `grep`) finds no token of a session that is over; while that claude runs, its file
stays (launch.settings_file). And the fact this rests on, on the real claude: a --settings file
deleted while claude runs changes nothing (docs/claude-code.md, "Resuming a session")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.claude_client import skip_first_run
from support.mock_anthropic import MockAnthropic, closed_port_url
from support.processes import subprocess_env, wait_until
from support.profiles_data import PA_PB

from ccswitch import paths

PA_TOKEN = "pa-token-lifetime-0123456789"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="exec and pids: POSIX")


@pytest.fixture
def setup(profiles_file, tmp_path: Path):
    profiles_file(PA_PB.format(pa=closed_port_url(), pb=closed_port_url()))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text('#!/bin/sh\n[ -n "$SLEEP" ] && exec sleep "$SLEEP"\nexit 0\n')
    claude.chmod(0o755)
    needle = tmp_path / "needle.txt"  # outside every directory searched
    needle.write_text(PA_TOKEN + "\n")
    env = subprocess_env(PA_T=PA_TOKEN, PB_T="pb-token-lifetime-0123456789", CCSWITCH_CLAUDE=str(claude),
                         PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return env, needle


def ccswitch(args, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "ccswitch", *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, **kwargs)


def files_holding_the_token(env, needle) -> str:
    dirs = " ".join(f'"{env[v]}"' for v in ("XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CACHE_HOME") if v in env)
    found = ccswitch(["run", "mix", "--", "sh", "-c", f"grep -rlF -f {needle} {dirs}; true"], env)
    assert found.returncode == 0, found.stderr
    return found.stdout


def test_a_later_session_finds_no_token_of_a_claude_that_has_ended(setup):
    env, needle = setup
    assert ccswitch(["run", "pa", "--", "claude", "-p", "hi"], env).returncode == 0
    run_dir = Path(paths.run_settings_dir(env))
    assert [p.name for p in run_dir.iterdir()][0].startswith("pa-")  # it was there, for that claude
    assert files_holding_the_token(env, needle) == ""
    assert list(run_dir.iterdir()) == []


def test_the_file_of_a_claude_that_still_runs_is_kept(setup):
    env, needle = setup
    running = subprocess.Popen([sys.executable, "-m", "ccswitch", "run", "pa", "--", "claude"],
                               env={**env, "SLEEP": "60"}, stdin=subprocess.DEVNULL)
    try:
        run_dir = Path(paths.run_settings_dir(env))
        written = lambda: [p for p in run_dir.glob("pa-*.json")] if run_dir.exists() else []  # noqa: E731
        assert wait_until(written)
        (mine,) = written()
        assert mine.name.endswith(f"-pid{running.pid}.json")
        assert ccswitch(["run", "pb", "--", "claude", "-p", "hi"], env).returncode == 0
        assert mine.exists()  # that claude may still read it (it does not, but nothing here can know)
    finally:
        running.kill()
        running.wait()
    assert ccswitch(["run", "pb", "--", "true"], env).returncode == 0
    assert not mine.exists()


def test_claude_keeps_its_settings_when_the_file_is_deleted_while_it_runs(claude_bin, claude_env, project,
                                                                         isolated_home, tmp_path):
    from support.terminal import Terminal

    skip_first_run(isolated_home, project)
    settings = tmp_path / "settings.json"
    with MockAnthropic(reply="from-a") as a, MockAnthropic(reply="from-b") as b:
        settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": a.url, "ANTHROPIC_AUTH_TOKEN": "tok-a-0123456789",
                                                "ANTHROPIC_MODEL": "m"}}))
        env = {**claude_env, "ANTHROPIC_BASE_URL": b.url, "ANTHROPIC_AUTH_TOKEN": "tok-b-0123456789"}
        with Terminal([str(claude_bin), "--settings", str(settings)], env, str(project)) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            term.type("first question\r")
            assert term.wait_for("from-a", 60), term.text()[-2000:]
            settings.unlink()
            time.sleep(3)  # time for a watcher to notice, had claude one for this file
            term.type("second question\r")
            asked = lambda server: any("second question" in json.dumps(m.body) for m in server.messages)  # noqa: E731
            assert wait_until(lambda: asked(a) or asked(b), 60), term.text()[-2000:]
        assert b.messages == [] and asked(a)
        assert {m.headers["authorization"] for m in a.messages} == {"Bearer tok-a-0123456789"}
