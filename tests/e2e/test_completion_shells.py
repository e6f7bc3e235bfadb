"""Shell completion as a person gets it: `ccswitch --install-completion` (from bash, fish, zsh) in a fresh home, then
bash's own completion machinery calls `ccswitch` on each Tab; the answers (commands, options, option
values, profile names) and the imports behind them (no typer, no rich) are checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.processes import subprocess_env

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")

PROFILES = '[profiles.work-gw]\nbase_url = "https://gw.example.com"\ntoken = "env:W"\n'

# Type the line, press Tab: bash splits it into COMP_WORDS as it does for `complete -F`.
TAB = r'''
source "$1"
line="$2"
read -ra COMP_WORDS <<< "$line"
[[ "$line" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$line"; COMP_POINT=${#line}
_ccswitch_completion ccswitch
printf '%s\n' "${COMPREPLY[@]}"
'''


@pytest.fixture
def installed(tmp_path: Path, isolated_home: Path, profiles_file) -> tuple[Path, dict[str, str]]:
    profiles_file(PROFILES)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "ccswitch"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ccswitch "$@"\n')
    launcher.chmod(0o755)
    env = subprocess_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", SHELL="/bin/bash")
    # typer finds the shell to install for from the process tree: run it from bash, as a person would.
    done = subprocess.run(["bash", "--norc", "-c", "ccswitch --install-completion && true"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    script = isolated_home / ".bash_completions" / "ccswitch.sh"
    assert script.is_file() and f"source '{script}'" in (isolated_home / ".bashrc").read_text()
    return script, env


def tab(installed: tuple[Path, dict[str, str]], line: str) -> list[str]:
    script, env = installed
    done = subprocess.run(["bash", "--norc", "-c", TAB, "tab", str(script), line], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("line,expected", [
    ("ccswitch ", ["list", "show", "presets", "which", "run", "env", "pin", "test", "gateway", "doctor", "add", "remove",
                   "rename", "edit", "use", "off", "restore", "status", "current", "token", "import", "export", "usage", "statusline"]),
    ("ccswitch re", ["remove", "rename", "restore"]),
    ("ccswitch run work", ["work-gw"]),
    ("ccswitch use --scope ", ["user", "project"]),
    ("ccswitch env --shell p", ["powershell"]),
    ("ccswitch list --w", ["--wide"]),
    ("ccswitch token set z", ["zai"]),
    ("ccswitch rename work-gw ", []),
    ("ccswitch run glm -- ", []),
])
def test_bash_completes_commands_options_and_profile_names(installed, line, expected):
    assert tab(installed, line) == expected


# main() ends the process with os._exit when nothing is left to do at exit (ccswitch.__main__):
# the modules are reported there, or on SystemExit when it exits the usual way.
MODULES_AT_EXIT = """\
import json, os, sys
sys.argv = ['ccswitch', *ARGV]
def report():
    print(json.dumps(sorted(sys.modules)), file=sys.stderr, flush=True)
real_exit = os._exit
os._exit = lambda status: (report(), real_exit(status))
from ccswitch.__main__ import main
try:
    main()
except SystemExit:
    report()
"""


@pytest.mark.parametrize("command", ["run", "use", "show", "test", "env", "pin", "remove", "rename", "edit"])
def test_every_command_taking_a_profile_completes_its_name(installed, command):
    assert tab(installed, f"ccswitch {command} work-") == ["work-gw"]


def test_a_tab_imports_neither_typer_nor_rich(installed, tmp_path):
    _, env = installed
    code = MODULES_AT_EXIT.replace("ARGV", "[]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**env, "_CCSWITCH_COMPLETE": "complete_bash", "COMP_WORDS": "ccswitch\nrun\n",
                               "COMP_CWORD": "2"})
    assert "work-gw" in done.stdout.split()
    modules = {name.split(".")[0] for name in json.loads(done.stderr.splitlines()[-1])}
    assert not modules & {"typer", "rich", "click", "pydantic", "tomlkit"}


@pytest.mark.parametrize("argv", [["list"], ["show", "glm"], ["which", "glm-5.1"], ["status"], ["presets"],
                                  ["restore", "--list"], ["list", "--json"]])
def test_read_only_commands_in_a_pipe_import_neither_typer_nor_rich(installed, argv):
    _, env = installed
    code = MODULES_AT_EXIT.replace("ARGV", "sys.argv[1:]")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, env=env)
    modules = {name.split(".")[0] for name in json.loads(done.stderr.splitlines()[-1])}
    assert not modules & {"typer", "rich", "click", "pydantic", "tomlkit"}, argv


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_after_install(installed):
    _, env = installed
    done = subprocess.run(["fish", "-c", "ccswitch --install-completion && true"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    asked = subprocess.run(["fish", "-c", "complete -C 'ccswitch ru'; complete -C 'ccswitch use work'"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert [line.split("\t")[0] for line in asked.stdout.splitlines()] == ["run", "work-gw"], asked.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_function_answers(installed, isolated_home):
    _, env = installed
    done = subprocess.run(["zsh", "-c", "ccswitch --install-completion && true"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    function = isolated_home / ".zfunc" / "_ccswitch"
    # compinit's helpers stubbed: what the function hands to _arguments is what zsh would offer.
    script = (f"compdef() {{ : }}; _arguments() {{ print -rl -- \"$@\" }}; _files() {{ print _files }}\n"
              f"source {function}\nwords=(ccswitch use work); CURRENT=3; _ccswitch_completion")
    asked = subprocess.run(["zsh", "-f", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert asked.stdout.strip() == '*: :(("work-gw"))', asked.stderr
