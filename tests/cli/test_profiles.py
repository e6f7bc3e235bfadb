"""`list`, `show`, `presets`, `--version`, `--help` end to end through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from support.profiles_data import EXAMPLE, REQUIRED_PRESETS
from typer.testing import CliRunner

from ccswitch import __version__
from ccswitch.cli.app import app

TOKEN = "sk-canary-0123456789abcdef"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0 and result.stdout == f"ccswitch {__version__}\n"


def test_help_lists_commands_with_examples(runner):
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    for command in ("list", "show", "presets"):
        assert command in result.stdout
    for command in ("list", "show", "presets"):
        sub = invoke(runner, command, "--help")
        assert sub.exit_code == 0 and "Example:" in sub.stdout


def test_every_command_has_help_with_an_example(runner):
    import typer.main

    def walk(command, path):
        children = getattr(command, "commands", None)
        if not children:
            yield path
            return
        for name, child in children.items():
            yield from walk(child, [*path, name])

    commands = list(walk(typer.main.get_command(app), []))
    assert len(commands) >= 19  # list … status, current, token set/rm
    for path in commands:
        result = invoke(runner, *path, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout, path


def test_list_without_config_shows_every_preset(runner):
    result = invoke(runner, "list")
    assert result.exit_code == 0
    for name in REQUIRED_PRESETS:
        assert f"\n{name} " in result.stdout or result.stdout.startswith(f"{name} ")
    assert "missing ($ZHIPU_API_KEY unset)" in result.stdout


def test_list_json_reports_token_status_never_the_value(runner, profiles_file, monkeypatch):
    profiles_file(EXAMPLE + '\n[profiles.lit]\nbase_url = "https://x.example"\ntoken = "' + TOKEN + '"\n')
    monkeypatch.setenv("MY_ZHIPU_KEY", TOKEN)
    result = invoke(runner, "list", "--json")
    assert result.exit_code == 0
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["myglm"]["from"] == "user extends glm"
    assert rows["myglm"]["token"] == {"kind": "env", "source": "$MY_ZHIPU_KEY", "found": True, "detail": "found in $MY_ZHIPU_KEY"}
    assert rows["work"]["token"]["detail"] == "missing (WORK_GATEWAY_KEY is not set)"
    assert rows["lit"]["token"]["kind"] == "literal"
    assert rows["glm"]["default"] is True and rows["work"]["default"] is False
    assert rows["work"]["endpoint"] == "gateway.example.com"
    assert rows["work"]["models"]["haiku"] == "glm-4.5-air"
    assert rows["bedrock"]["endpoint"] == "Amazon Bedrock"
    assert list(rows)[:3] == ["work", "myglm", "lit"]  # the user's own first, in the file's order


def test_list_wide_shows_origin_and_plain_text_warning(runner, profiles_file):
    profiles_file(EXAMPLE + '\n[profiles.lit]\nbase_url = "https://x.example"\ntoken = "' + TOKEN + '"\n')
    result = invoke(runner, "list", "--wide")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("myglm"))
    assert "user extends glm" in line and "open.bigmodel.cn" in line and "glm-4.5-air" in line
    lit = next(line for line in result.stdout.splitlines() if line.startswith("lit "))
    assert "plain text" in lit and TOKEN not in result.stdout


def test_show_masks_the_token_and_prints_the_environment(runner, monkeypatch):
    monkeypatch.setenv("ZHIPU_API_KEY", TOKEN)
    result = invoke(runner, "show", "glm")
    assert result.exit_code == 0
    assert TOKEN not in result.stdout
    assert "ANTHROPIC_AUTH_TOKEN=sk-…cdef" in result.stdout
    assert "ANTHROPIC_BASE_URL=https://open.bigmodel.cn/api/anthropic" in result.stdout
    assert "ANTHROPIC_DEFAULT_HAIKU_MODEL=glm-4.5-air" in result.stdout
    assert "\n  ANTHROPIC_API_KEY=\n" in result.stdout  # blanked: never both auth variables


def test_show_json(runner, profiles_file, monkeypatch):
    profiles_file(EXAMPLE)
    monkeypatch.setenv("MY_ZHIPU_KEY", TOKEN)
    result = invoke(runner, "show", "myglm", "--json")
    assert result.exit_code == 0 and TOKEN not in result.stdout
    data = json.loads(result.stdout)
    assert data["chain"] == [{"name": "myglm", "origin": "user"}, {"name": "glm", "origin": "preset"}]
    assert data["environment"]["ANTHROPIC_AUTH_TOKEN"] == "sk-…cdef"
    assert data["environment"]["ANTHROPIC_API_KEY"] == ""
    assert data["token_ref"] == "env:MY_ZHIPU_KEY"
    assert data["docs_url"].startswith("https://")


def test_show_literal_token_is_masked_everywhere(runner, profiles_file):
    profiles_file('[profiles.lit]\nbase_url = "https://x.example"\ntoken = "' + TOKEN + '"\n')
    result = invoke(runner, "show", "lit", "--json")
    assert TOKEN not in result.stdout
    assert json.loads(result.stdout)["token_ref"] == "plain text (sk-…cdef)"


def test_show_unknown_name_suggests_and_exits_2(runner):
    result = invoke(runner, "show", "glmm")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no profile named 'glmm' (did you mean \"glm\"?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_error_is_one_line_exit_2_and_file_unchanged(runner, profiles_file):
    path = profiles_file('[profiles.kimi]\nbase_ur = "https://x.example"\n')
    before = path.read_bytes()
    for command in (["list"], ["show", "kimi"], ["presets"]):
        result = invoke(runner, *command)
        assert result.exit_code == 2
        assert result.stderr.strip().count("\n") == 0
        assert f"{path}:2: [profiles.kimi]: unknown key 'base_ur' (did you mean \"base_url\"?)" in result.stderr
    assert path.read_bytes() == before


def test_presets_lists_description_and_docs(runner):
    result = invoke(runner, "presets", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(REQUIRED_PRESETS) <= set(rows)
    assert rows["glm"]["docs_url"].startswith("https://") and rows["glm"]["description"]
    table = invoke(runner, "presets")
    assert "Zhipu GLM (China mainland)" in table.stdout


def test_python_dash_m_entry_point(tmp_path):
    import subprocess
    import sys

    from support.processes import subprocess_env

    result = subprocess.run([sys.executable, "-m", "ccswitch", "--version"], capture_output=True, text=True, env=subprocess_env())
    assert result.returncode == 0 and result.stdout.strip() == f"ccswitch {__version__}"


ROUTED = f"""
[profiles.a]
base_url = "http://127.0.0.1:9/a"
token = "{TOKEN}"
models = {{ opus = "a-big", sonnet = "a-mid", haiku = "a-small" }}

[profiles.mix]
routes = {{ opus = "a", sonnet = "glm" }}
"""


def test_show_routes_profile_names_each_tiers_profile_model_and_token_source(runner, profiles_file):
    profiles_file(ROUTED)
    result = invoke(runner, "show", "mix")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  opus   -> a: a-big at 127.0.0.1:9, token plain text in the profiles file" in lines
    assert "  sonnet -> glm: glm-5.1 at open.bigmodel.cn, token missing (ZHIPU_API_KEY is not set)" in lines
    # haiku is not routed: like the gateway, it goes where sonnet goes, with that profile's haiku model
    assert "  haiku  -> glm: glm-4.5-air at open.bigmodel.cn, token missing (ZHIPU_API_KEY is not set)" in lines
    assert TOKEN not in result.stdout
    data = json.loads(invoke(runner, "show", "mix", "--json").stdout)
    assert data["routes"]["sonnet"]["profile"] == "glm" and data["routes"]["sonnet"]["token"]["found"] is False
    assert data["endpoint"] == "gateway: a, glm"


@pytest.mark.parametrize("command", [["use", "mix"], ["env", "mix"]])
def test_use_and_env_refuse_a_routes_profile_and_change_nothing(runner, profiles_file, isolated_home, command):
    profiles_file(ROUTED)
    invoke(runner, "list")  # the profiles cache is written by any command; it is not what this is about
    before = sorted(p.relative_to(isolated_home) for p in isolated_home.rglob("*"))
    result = invoke(runner, *command)
    assert result.exit_code == 2
    assert f"`{command[0]}` cannot start" in result.stderr and "ccswitch run mix" in result.stderr
    assert sorted(p.relative_to(isolated_home) for p in isolated_home.rglob("*")) == before


@pytest.mark.parametrize("command", ["use", "env"])
def test_use_and_env_refuse_an_openai_format_profile_before_looking_for_its_token(runner, profiles_file, monkeypatch,
                                                                                   command):
    profiles_file('[profiles.gpt]\nbase_url = "http://127.0.0.1:9/v1"\napi = "openai-chat"\ntoken = "env:GPT_T"\n'
                  'models = { opus = "g-big", sonnet = "g-mid", haiku = "g-small" }\n')
    monkeypatch.delenv("GPT_T", raising=False)
    result = invoke(runner, command, "gpt")
    # The real reason first: with the token set it would still be refused, for the format.
    assert result.exit_code == 2 and "translating gateway" in result.stderr, result.stderr
    assert "GPT_T" not in result.stderr and "ccswitch run gpt" in result.stderr


def test_show_names_the_quota_windows_in_force_and_the_plan(runner, profiles_file):
    profiles_file('[profiles.plan]\nbase_url = "https://plan.example.com/anthropic"\ntoken = "env:PLAN_T"\nplan = "pro"\n'
                  '[[profiles.plan.quota]]\nwindow = "5h"\nprompts = 600\nplan = "pro"\n'
                  '[[profiles.plan.quota]]\nwindow = "5h"\nprompts = 120\nplan = "lite"\n'
                  '[[profiles.plan.quota]]\nwindow = "1w"\nrequests = 9000\nreset = "fixed"\n'
                  '[profiles.plan.models]\nopus = "p-opus"\n')
    line = [row for row in invoke(runner, "show", "plan").stdout.splitlines() if row.strip().startswith("quota")]
    assert line == ["  quota          600 prompts/5h (rolling)  9000 requests/1w (fixed)  plan pro"]
    data = json.loads(invoke(runner, "show", "plan", "--json").stdout)
    assert data["plan"] == "pro" and data["quota"]["plans"] == ["lite", "pro"]
    assert [q["window"] for q in data["quota"]["in_force"]] == ["5h", "1w"]
    unset = [row for row in invoke(runner, "show", "qwen-coding").stdout.splitlines() if row.strip().startswith("quota")]
    assert unset == ["  quota          set plan = one of lite, pro for its limits"]
