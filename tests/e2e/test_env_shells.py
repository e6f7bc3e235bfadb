"""`ccswitch env`: every shell's output, evaluated in that shell, sets exactly the profile's values.

Tokens full of quotes, `$(...)`, backticks and newlines must come out literally and run nothing.
zsh, fish and pwsh are tested only where installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.processes import subprocess_env

from ccswitch.errors import UsageError
from ccswitch.launch import front_door, shells
from ccswitch.launch.plan import prepare_env

NASTY = [
    "it's",
    "a'b\"c",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}$HOME",
    "line1\nline2\n",
    "back\\slash\\",
    "; touch pwned #",
    "\u2019 ; touch pwned ; \u2018",
    "'; touch pwned; echo '",
    "%PATH%!x!^&|<>",
]

PROFILES = """\
[profiles.p]
base_url = "http://127.0.0.1:9/api"
token = "env:P_TOKEN"
model = "m-1"
[profiles.p.headers]
X-One = "1"
X-Two = "two"
"""

# How to source a file in each shell and print one variable without a trailing newline.
SHELL_RUNNERS = {
    "bash": ("bash", lambda f, v: ["bash", "--norc", "--noprofile", "-c", f'. "{f}"; printf %s "${v}"']),
    "sh": ("bash", lambda f, v: ["sh", "-c", f'. "{f}"; printf %s "${v}"']),
    "zsh": ("zsh", lambda f, v: ["zsh", "-f", "-c", f'. "{f}"; printf %s "${v}"']),
    "fish": ("fish", lambda f, v: ["fish", "--no-config", "-c", f"source {f}; printf %s \"${v}\""]),
    "pwsh": ("powershell", lambda f, v: ["pwsh", "-NoProfile", "-Command", f". '{f}'; [Console]::Out.Write($env:{v})"]),
}


def evaluate(shell: str, text: str, variable: str, tmp_path: Path, extra_env: dict[str, str] | None = None) -> str:
    script = tmp_path / "env.out"
    script.write_text(text, encoding="utf-8")
    _, command = SHELL_RUNNERS[shell]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "LANG": "C.UTF-8", **(extra_env or {})}
    result = subprocess.run(command(str(script), variable), cwd=tmp_path, env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "pwned").exists(), "the output ran code"
    return result.stdout.decode("utf-8")


def available(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here")


@pytest.mark.parametrize("shell", list(SHELL_RUNNERS))
@pytest.mark.parametrize("token", NASTY)
def test_each_shell_takes_the_token_literally(shell, token, tmp_path):
    available(shell)
    text = shells.render({"ANTHROPIC_AUTH_TOKEN": token, "ANTHROPIC_API_KEY": ""}, SHELL_RUNNERS[shell][0])
    assert evaluate(shell, text, "ANTHROPIC_AUTH_TOKEN", tmp_path) == token
    assert evaluate(shell, text, "ANTHROPIC_API_KEY", tmp_path, {"ANTHROPIC_API_KEY": "stray"}) == ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1))
def test_bash_quoting_holds_for_any_text(tmp_path, token):
    text = shells.render({"ANTHROPIC_AUTH_TOKEN": token}, "bash")
    assert evaluate("bash", text, "ANTHROPIC_AUTH_TOKEN", tmp_path) == token


def test_env_end_to_end_in_bash(profiles_file, tmp_path):
    """`eval "$(ccswitch env p)"`, for real: the profile's values in, the stray provider variables out."""
    profiles_file(PROFILES)
    # Every character a header can carry that a shell would act on (a newline cannot be a token:
    # profiles.tokens refuses it; render() still quotes one, above).
    token = "tok'$(touch pwned)`touch pwned`;\"end\\ $HOME ! # ~"
    result = subprocess.run([sys.executable, "-m", "ccswitch", "env", "p", "--shell", "bash"], cwd=tmp_path,
                            env=subprocess_env(P_TOKEN=token), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert evaluate("bash", result.stdout, "ANTHROPIC_AUTH_TOKEN", tmp_path) == token
    assert evaluate("bash", result.stdout, "ANTHROPIC_CUSTOM_HEADERS", tmp_path) == "X-One: 1\nX-Two: two"
    assert evaluate("bash", result.stdout, "ANTHROPIC_MODEL", tmp_path) == "m-1"
    assert evaluate("bash", result.stdout, "ANTHROPIC_API_KEY", tmp_path, {"ANTHROPIC_API_KEY": "stray"}) == ""
    assert result.stderr == ""


def test_default_shell_comes_from_SHELL():
    assert shells.default_shell({"SHELL": "/usr/bin/fish"}) == "fish"
    assert shells.default_shell({"SHELL": "/bin/dash"}) == "bash"
    assert shells.default_shell({"SHELL": "/opt/weird"}) == "bash"
    assert shells.default_shell({}, windows=True) == "powershell"


def test_powershell_doubles_every_kind_of_single_quote():
    assert shells.powershell_quote("a'b\u2019c") == "'a''b\u2019\u2019c'"


def test_cmd_refuses_what_it_cannot_quote_and_names_the_variable():
    assert shells.render({"A": "x y&z", "B": ""}, "cmd") == 'set "A=x y&z"\nset "B="\n'
    with pytest.raises(UsageError, match=r"^TOKEN_VAR: its value contains a character cmd cannot take literally"):
        shells.render({"TOKEN_VAR": "100%"}, "cmd")


def test_json_and_dotenv():
    env = {"A": "it's", "B": ""}
    assert json.loads(shells.render(env, "json")) == {"A": "it's", "B": None}
    assert shells.render(env, "dotenv") == "A='it\\'s'\nB=\n"


def test_unknown_shell_is_refused():
    with pytest.raises(UsageError, match="--shell 'tcsh': choose one of bash, zsh"):
        shells.normalize_shell("tcsh")


def test_terminal_output_masks_the_token(profiles_file, tmp_path):
    profiles_file(PROFILES)
    env = dict(os.environ, P_TOKEN="tok-0123456789abcdef")
    text, _ = prepare_env("p", "bash", profile_set=front_door.load_profiles(env), env=env, cwd=str(tmp_path),
                                 reveal=False)
    assert "tok-0123456789abcdef" not in text and "export ANTHROPIC_AUTH_TOKEN='tok…cdef'" in text


def test_warns_when_a_settings_file_would_beat_the_exports(profiles_file, tmp_path):
    profiles_file(PROFILES)
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.local.json").write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://x"}}))
    result = subprocess.run([sys.executable, "-m", "ccswitch", "env", "p"], cwd=project,
                            env=subprocess_env(P_TOKEN="t-0123456789abcdef"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "settings.local.json sets ANTHROPIC_BASE_URL in its env, which beats exported variables" in result.stderr
