"""What surrounds the process, gone wrong: a reader that stops early (`ccswitch list | head -1`)
ends ccswitch quietly, as it ends `cat` or `git log`: no traceback, no "Exception ignored" at
shutdown, exit status 141 (128 + SIGPIPE, what a shell reports for coreutils and git in the same
pipe), on every door (the light read-only commands, the run/env launcher, the typer app). A full
disk under stdout, or a current directory deleted under the shell, is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.processes import subprocess_env

CLOSED_PIPE_STATUS = 141

PROFILES = '[profiles.mine]\nbase_url = "http://127.0.0.1:9"\ntoken = "env:MINE_TOKEN"\nmodel = "m"\nserves = ["m-*"]\n'

# Every command that writes to stdout, through each door: plain forms take the light front door,
# `--help` and other spellings the typer app, `env`/`run --dry-run` the launcher.
COMMANDS = [
    ["list"], ["list", "--json"], ["list", "--wide"], ["presets"], ["presets", "--json"], ["show", "mine"],
    ["show", "mine", "--json"], ["which", "m-1"], ["status"], ["status", "--json"], ["current"], ["doctor"],
    ["doctor", "--json"], ["restore", "--list", "--json"], ["pin"], ["usage", "--json"], ["--version"],
    ["env", "mine"], ["env", "mine", "--shell", "json"], ["run", "mine", "--dry-run", "--", "true"],
    ["--help"], ["list", "--help"], ["run", "--help"], ["list", "-w", "--json"], ["show", "--json", "mine"],
    ["which", "--json", "m-1"], ["token", "--help"], ["usage"],
]


def _closed_pipe_run(args: list[str], cwd) -> subprocess.CompletedProcess[str]:
    """ccswitch with stdout on a real pipe whose reader has already gone: every write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "ccswitch", *args], stdout=write_end, stderr=subprocess.PIPE,
                              env=subprocess_env(MINE_TOKEN="mine-token-0123456789", COLUMNS="80"), cwd=cwd,
                              text=True, timeout=60)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_pipe_ends_quietly(profiles_file, tmp_path, args):
    profiles_file(PROFILES)
    (tmp_path / ".ccswitch").write_text("mine\n")  # so that `pin` has something to print
    done = _closed_pipe_run(args, tmp_path)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert "Broken pipe" not in done.stderr, done.stderr
    assert done.returncode == CLOSED_PIPE_STATUS, (done.returncode, done.stderr)


def test_head_one_takes_the_first_line_and_ccswitch_ends_quietly(profiles_file, tmp_path):
    """The real thing: `ccswitch list | head -1` in a shell, with more rows than a pipe holds (64 KiB),
    so that ccswitch is still writing when head has gone."""
    rows = "".join(f'[profiles.p{i:04d}]\nbase_url = "http://127.0.0.1:9/{"x" * 40}"\n' for i in range(1500))
    profiles_file(rows)
    script = f'"{sys.executable}" -m ccswitch list --wide | head -1; echo "status ${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(["bash", "-c", script], env=subprocess_env(), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split()[:2] == ["name", "from"], done.stdout
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert f"status {CLOSED_PIPE_STATUS}" in done.stderr, done.stderr


def test_stderr_on_a_closed_pipe_ends_quietly_too(tmp_path):
    """An error message that cannot be written (`ccswitch show nope 2>&1 | head -0`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "ccswitch", "show", "nope"], stdout=write_end, stderr=write_end,
                              env=subprocess_env(), cwd=tmp_path, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == CLOSED_PIPE_STATUS


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("args", [["list"], ["list", "--wide"], ["show", "glm", "--json"], ["presets", "--help"]])
def test_a_full_disk_under_stdout_is_one_line(tmp_path, args):
    """`ccswitch list > /dev/full` says so in one line and exits 1, as `cat` does."""
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "ccswitch", *args], stdout=full, stderr=subprocess.PIPE,
                              env=subprocess_env(), cwd=tmp_path, text=True, timeout=60)
    assert done.stderr == "ccswitch: error: cannot write: No space left on device\n"
    assert done.returncode == 1


def test_a_deleted_current_directory_is_one_line(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f'cd "{gone}" && rmdir "{gone}" && for c in "list" "status" "run --dry-run -- true" "env glm" "pin mine" "doctor"; ' \
             f'do "{sys.executable}" -m ccswitch $c; echo "status $?"; done'
    done = subprocess.run(["sh", "-c", script], env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.split() == ["status", "2"] * 6
    assert done.stderr == "ccswitch: error: the current directory no longer exists (deleted?); cd to one that does\n" * 6


# main() ends with os._exit when a normal exit would do nothing more (no interpreter teardown: a
# quarter of `env`'s start, a fifth of `--help`'s); these hold it to "nothing more".
EXIT_PROBE = """\
import atexit, gc, json, os, sys, threading, time
sys.argv = ['ccswitch', *sys.argv[1:]]
real_exit = os._exit
def fast(status):
    print(json.dumps({"fast": status, "gc": gc.isenabled()}), file=sys.stderr, flush=True)
    real_exit(status)
os._exit = fast
if os.environ.get("PROBE_ATEXIT"):
    atexit.register(lambda: print("atexit ran", file=sys.stderr, flush=True))
if os.environ.get("PROBE_THREAD"):
    def late():  # still running when the command ends, however slow the machine is
        time.sleep(3)
        print("thread finished", file=sys.stderr, flush=True)
    threading.Thread(target=late).start()
from ccswitch.__main__ import main
main()
"""


def _probe(args: list[str], cwd, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", EXIT_PROBE, *args], env=subprocess_env(**extra), cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("args", "status"), [(["list", "--json"], 0), (["show", "nope"], 2), (["--help"], 0),
                                              (["env", "glm", "--shell", "json"], 0), (["doctor", "--json"], 1)])
def test_a_plain_exit_skips_the_teardown_with_the_same_status_and_all_output(tmp_path, args, status):
    done = _probe(args, tmp_path, ZHIPU_API_KEY="zk-0123456789abcdef", CCSWITCH_CLAUDE="/nonexistent/claude")
    assert done.returncode == status, done.stderr
    report = json.loads(done.stderr.splitlines()[-1])
    assert report == {"fast": status, "gc": True}  # the collector is back on for what the command allocates
    if "--json" in args or "json" in args:
        json.loads(done.stdout)  # whole: flushed before the process ended


@pytest.mark.parametrize("extra", [{"PROBE_ATEXIT": "1"}, {"PROBE_THREAD": "1"}])
def test_an_atexit_callback_or_a_running_thread_gets_a_normal_exit(tmp_path, extra):
    done = _probe(["list", "--json"], tmp_path, **extra)
    assert done.returncode == 0, done.stderr
    assert '"fast"' not in done.stderr
    assert ("atexit ran" if "PROBE_ATEXIT" in extra else "thread finished") in done.stderr
    json.loads(done.stdout)
