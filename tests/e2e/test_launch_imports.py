"""The launch path (`ccswitch run`, `ccswitch env`) stays light: checked in a fresh interpreter.

A warm `run` (profile cache current) must not import typer, rich, click, pydantic, tomlkit, nor even
tomllib; see bench/startup.py for the figures this protects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.processes import subprocess_env

# httpx: a plain `run` sends no probe (only --fallback / fallback_check do).
HEAVY = {"typer", "rich", "click", "pydantic", "tomlkit", "platformdirs", "httpx", "httpcore"}

# Replaces os.execve so the interpreter reports its modules at the moment it would exec.
PROBE = """
import json, os, sys
def report(*args):
    print(json.dumps(sorted(sys.modules)))
    sys.exit(0)
os.execve = report
sys.argv = ["ccswitch", *sys.argv[1:]]
from ccswitch.__main__ import main
main()
"""

PROFILES = '[profiles.p]\nbase_url = "http://127.0.0.1:9"\ntoken = "env:P_TOKEN"\nmodel = "m"\nserves = ["m-*"]\n'


def modules_at_exec(*args: str, cwd) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=subprocess_env(P_TOKEN="t-0123456789abcdef"),
                            cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("command", [["true"], ["claude", "-p", "hi"]])
def test_run_imports_nothing_heavy(profiles_file, tmp_path, monkeypatch, command):
    profiles_file(PROFILES)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text("#!/bin/sh\n")
    (bin_dir / "claude").chmod(0o755)
    args = ["run", "p", "--", *command]
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cold = modules_at_exec(*args, cwd=tmp_path)
    warm = modules_at_exec(*args, cwd=tmp_path)
    assert not {m.split(".")[0] for m in cold} & HEAVY
    assert not {m.split(".")[0] for m in warm} & (HEAVY | {"tomllib", "tomli"})
    assert "tomllib" in cold  # the first run reads the TOML and fills the cache
    # Lighter ones that crept onto the path once (5-7 ms together): the host of a base URL is read
    # by hand, a settings file is deep-copied only by the commands that change one.
    assert not warm & {"urllib.parse", "ipaddress", "copy"}


def test_a_gateway_run_imports_no_http_stack_and_no_subprocess_in_the_launcher(profiles_file, tmp_path, monkeypatch):
    """The launcher of a `routes` profile plans, binds, forks the gateway (Linux) and execs: the
    gateway's own imports happen in the child; subprocess (4 ms: the gateway is forked, not
    started with Popen), ipaddress (a host given by hand only) and base64 stay out."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the gateway is forked on Linux only")
    profiles_file(PROFILES + '[profiles.q]\nextends = "p"\n[profiles.mix]\nroutes = { opus = "p", sonnet = "q" }\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text("#!/bin/sh\n")
    (bin_dir / "claude").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    args = ["run", "mix", "--", "claude", "-p", "hi"]
    modules_at_exec(*args, cwd=tmp_path)
    warm = modules_at_exec(*args, cwd=tmp_path)
    assert "ccswitch.gateway.spawn" in warm  # it did start a gateway
    assert not {m.split(".")[0] for m in warm} & (HEAVY | {"tomllib", "tomli", "aiohttp", "asyncio"})
    assert not warm & {"subprocess", "ipaddress", "base64"}


def test_routing_by_model_imports_nothing_heavy(profiles_file, tmp_path, monkeypatch):
    """Routing reads every preset's `serves`: from the profile cache, not with tomllib, once warm."""
    profiles_file(PROFILES)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text("#!/bin/sh\n")
    (bin_dir / "claude").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    args = ["run", "--", "claude", "-p", "hi", "--model", "m-routed"]
    modules_at_exec(*args, cwd=tmp_path)
    warm = modules_at_exec(*args, cwd=tmp_path)
    assert "ccswitch.profiles.routing" in warm  # it did route
    assert not {m.split(".")[0] for m in warm} & (HEAVY | {"tomllib", "tomli"})
    assert "ccswitch.launch.fallback" not in warm


def test_env_imports_nothing_heavy(profiles_file, tmp_path):
    profiles_file(PROFILES)
    code = "import sys, json; sys.argv=['ccswitch','env','p']\nfrom ccswitch.launch import front_door\nfront_door.main(sys.argv[1:])\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(P_TOKEN="t-0123456789abcdef"),
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not {m.split(".")[0] for m in json.loads(result.stdout.splitlines()[-1])} & HEAVY


def test_help_loads_no_command_core(tmp_path):
    """`--help` imports every module of the typer app, but not what only running a command needs:
    the launch core, the usage index's sqlite3, secrets and hashlib (bench/startup.py)."""
    code = ("import json, os, sys\nsys.argv = ['ccswitch', '--help']\nreal = os._exit\n"
            "os._exit = lambda status: (print(json.dumps(sorted(sys.modules)), file=sys.stderr, flush=True), real(status))\n"
            "from ccswitch.__main__ import main\nmain()")
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "Usage: ccswitch" in result.stdout, result.stderr
    loaded = set(json.loads(result.stderr.splitlines()[-1]))
    assert "ccswitch.cli.app" in loaded
    assert not loaded & {"ccswitch.launch.plan", "ccswitch.launch.front_door", "sqlite3", "secrets", "hashlib"}
