"""The hint interactive claude prints on exit, typed as it is a week later, resumes the conversation
on the same profile: with the real claude on a pseudo-terminal, after the settings file `run` gave
it has been pruned (simulated aging through the real cleanup)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
from support.claude_client import skip_first_run
from support.mock_anthropic import MockAnthropic, closed_port_url
from support.processes import subprocess_env, wait_until
from support.profiles_data import PA_PB
from support.terminal import Terminal

from ccswitch import paths
from ccswitch.launch.settings_file import PRUNE_AFTER_SECONDS, prune_settings_files

TOKEN = "pa-token-0123456789"
HINT = re.compile(r"Resume this session with:\s*(\S[^\n]*?--resume [0-9a-f-]{36})")


# 250 columns: wide enough for claude to print its --settings FILE; mix: a gateway session, whose
# settings file and gateway are gone as soon as it ends.
@pytest.mark.parametrize(("profile", "columns"), [("pa", 120), ("pa", 250), ("mix", 250)])
def test_the_printed_resume_hint_still_works_after_the_settings_file_is_pruned(
        profile, columns, claude_bin, claude_env, profiles_file, project, isolated_home):
    # `ccswitch` and `claude` on PATH, as a user has them: the hint names one of them.
    user_path = os.pathsep.join([os.path.dirname(sys.executable), str(claude_bin.parent), claude_env["PATH"]])
    with MockAnthropic(reply="from-pa") as pa:
        profiles_file(PA_PB.format(pa=pa.url, pb=closed_port_url()))
        env = subprocess_env(**{**claude_env, "PATH": user_path}, CCSWITCH_CLAUDE=str(claude_bin), PA_T=TOKEN,
                             PB_T="pb-token-0123456789")
        skip_first_run(isolated_home, project)
        with Terminal([sys.executable, "-m", "ccswitch", "run", profile, "--", "claude"], env, str(project),
                      cols=columns) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            term.type("first question\r")
            assert term.wait_for("from-pa", 60), term.text()[-2000:]
            time.sleep(1)
            term.type("/exit")
            time.sleep(1)
            term.type("\r")
            assert wait_until(lambda: HINT.search(term.text()), 30), term.text()[-2000:]
            hint = " ".join(HINT.search(term.text())[1].split())

        # A week and a day later: the cleanup of every later `run` removes the settings file.
        run_dir = Path(paths.run_settings_dir(env))
        old = time.time() - PRUNE_AFTER_SECONDS - 86400
        for path in run_dir.iterdir() if run_dir.exists() else ():
            os.utime(path, (old, old))
        prune_settings_files(str(run_dir), keep="")
        assert not run_dir.exists() or list(run_dir.iterdir()) == []

        pa.requests.clear()
        with Terminal(["sh", "-c", hint], env, str(project), cols=columns) as term:
            assert term.wait_for("❯", 60), f"{hint!r}: {term.text()[-2000:]}"
            term.type("second question\r")
            assert wait_until(lambda: pa.messages, 60), f"{hint!r}: {term.text()[-2000:]}"
        sent = json.dumps(pa.messages[-1].body)
        assert "first question" in sent and "second question" in sent  # the same conversation, resumed
        assert {m.headers["authorization"] for m in pa.messages} == {f"Bearer {TOKEN}"}
    assert hint.startswith("ccswitch --resume ")
