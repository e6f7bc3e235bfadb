"""The SessionStart hook `run` gives claude: a session started inside a launch (`/clear`, `/resume`)
is recorded under the launch's profile, the hook's own command line works as claude runs it, and
nothing it is handed makes it print (claude adds a SessionStart hook's stdout to the conversation)
or fail."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from ccswitch.interpreter import module_command
from ccswitch.usage import session_start
from ccswitch.usage.sessions import last_launch, load_sessions, profile_at

CLEARED = "9f1c7d4e-0000-4000-8000-00000000c1ea"


def event(session: object = CLEARED, source: str = "clear") -> str:
    return json.dumps({"session_id": session, "transcript_path": f"/p/{session}.jsonl", "cwd": "/p",
                       "hook_event_name": "SessionStart", "source": source})


def test_a_cleared_session_is_recorded_under_the_launchs_profile_from_then_on(tmp_path):
    state = str(tmp_path / "state")
    assert session_start.main([state, "glm"], event(), 1000.0) == 0
    assert session_start.main([state, "mix", "--gateway"], event("another"), 1001.0) == 0
    launches, picked, bad = load_sessions(state)
    assert launches == {CLEARED: [(1000.0, "glm")], "another": [(1001.0, "mix")]} and (picked, bad) == ([], 0)
    assert profile_at(launches, CLEARED, 1000.5) == "glm" and profile_at(launches, CLEARED, 999.0) is None
    assert last_launch(state, "another") == ("mix", True)  # `ccswitch --resume` brings its gateway back
    assert (tmp_path / "state" / "sessions.jsonl").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("args, stdin", [
    (["STATE", "glm"], "not json"),
    (["STATE", "glm"], "[]"),
    (["STATE", "glm"], json.dumps({"source": "clear"})),
    (["STATE", "glm"], event(session=42)),
    (["STATE", "glm"], event(session="")),
    (["STATE", "glm"], event(session="x" * 201)),
    (["STATE"], event()),
    (["STATE", "glm", "--gatewy"], event()),
])
def test_anything_else_records_nothing_and_still_ends_quietly(tmp_path, args, stdin):
    state = tmp_path / "state"
    args = [str(state) if a == "STATE" else a for a in args]
    assert session_start.main(args, stdin, 1000.0) == 0
    assert not state.exists()


def test_an_unwritable_state_dir_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert session_start.main([str(blocker / "state"), "glm"], event(), 1000.0) == 0


def test_the_hooks_command_line_runs_as_claude_runs_it_and_prints_nothing(tmp_path):
    state = tmp_path / "state with space's"
    from ccswitch.launch.shells import posix_quote

    argv = session_start.hook_argv(module_command(session_start.MODULE), str(state), "glm", gateway=False)
    entry = session_start.hooks_entry(" ".join(posix_quote(arg) for arg in argv))
    assert entry["matcher"] == "clear|resume"
    (hook,) = entry["hooks"]
    before = time.time()
    done = subprocess.run(hook["command"], shell=True, input=event(), capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    ((started, profile),) = load_sessions(str(state))[0][CLEARED]
    assert profile == "glm" and before <= started <= time.time()


def test_the_users_own_session_start_hooks_stay_beside_it():
    entry = session_start.hooks_entry("python -m ccswitch.usage.session_start /state glm")
    mine = {"matcher": "startup", "hooks": [{"type": "command", "command": "echo mine"}]}
    merged = session_start.with_hook({"hooks": {"SessionStart": [mine], "Stop": []}, "model": "x"}, entry)
    assert merged == {"hooks": {"SessionStart": [mine, entry], "Stop": []}, "model": "x"}
    assert session_start.with_hook({}, entry) == {"hooks": {"SessionStart": [entry]}}
    odd = {"hooks": {"SessionStart": "not a list"}}
    assert session_start.with_hook(odd, entry) is odd  # not the documented shape: left for claude to judge


def test_a_project_that_shadows_a_module_changes_nothing(tmp_path):
    """claude runs hooks in the project: `python -m` alone would import the project's json.py
    (whose print would reach the conversation) or its `ccswitch/` instead of ours."""
    from ccswitch.launch.shells import posix_quote

    project = tmp_path / "project"
    (project / "ccswitch").mkdir(parents=True)
    (project / "json.py").write_text("print('INJECTED-BY-PROJECT')\nfrom json import *\n")
    (project / "ccswitch" / "__init__.py").write_text("print('INJECTED-BY-PROJECT')\n")
    state = tmp_path / "state"
    argv = session_start.hook_argv(module_command(session_start.MODULE), str(state), "glm", gateway=False)
    done = subprocess.run(" ".join(posix_quote(arg) for arg in argv), shell=True, cwd=project, input=event(),
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert CLEARED in load_sessions(str(state))[0]
