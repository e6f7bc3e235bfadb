"""`ccswitch use` in several processes at once: they take turns on the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.processes import subprocess_env
from support.use_setup import ALPHA_TOKEN, BETA_TOKEN, FIXTURES

from ccswitch.switching.records import record_key


def test_parallel_use_processes_serialize(setup, isolated_home):
    env = subprocess_env(ALPHA_TOKEN=ALPHA_TOKEN, BETA_TOKEN=BETA_TOKEN)
    processes = [
        subprocess.Popen([sys.executable, "-m", "ccswitch", "use", "alpha" if i % 2 else "beta"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(10)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    data = json.loads(setup.read_text())
    assert data["permissions"] == json.loads((FIXTURES / "before.json").read_text())["permissions"]
    assert data["env"]["ANTHROPIC_BASE_URL"] in ("https://alpha.example.com/api/anthropic", "https://beta.example.com/anthropic")
    # Had two processes read the same old file, the second would have recorded the first's values
    # as the user's, and `off` would leave them behind.
    result = subprocess.run([sys.executable, "-m", "ccswitch", "off"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert setup.read_text() == (FIXTURES / "before.json").read_text()


def test_use_waits_for_the_lock_held_by_another_ccswitch(setup):
    import filelock

    state = Path(os.environ["CCSWITCH_HOME"]) / "state"
    (state / "locks").mkdir(parents=True)
    lock = filelock.FileLock(str(state / "locks" / f"{record_key(str(setup))}.lock"))
    env = subprocess_env(ALPHA_TOKEN=ALPHA_TOKEN, BETA_TOKEN=BETA_TOKEN, COLUMNS="300")
    with lock:
        process = subprocess.Popen([sys.executable, "-m", "ccswitch", "use", "alpha"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The child says it is waiting on this very lock: proof it is blocked there, not slow elsewhere.
        first_line = process.stderr.readline()
        assert "another ccswitch is changing it; waiting" in first_line and str(setup) in first_line, first_line
        assert process.poll() is None, "ccswitch went on while another held the lock"
        assert setup.read_text() == (FIXTURES / "before.json").read_text()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert json.loads(setup.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
