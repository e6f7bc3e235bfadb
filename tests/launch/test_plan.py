"""`ccswitch run` without a real claude: profile choice, argv, settings file, environment, exec."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import sys
from pathlib import Path

import pytest

from ccswitch import paths
from ccswitch.claude.variables import MANAGED_VARIABLES
from ccswitch.errors import CcswitchError, ConfigError, UnknownProfileError, UsageError
from ccswitch.launch import front_door
from ccswitch.launch.choice import choose_profile
from ccswitch.launch.plan import prepare, prepare_env, write_settings_file
from ccswitch.launch.program import exec_program
from ccswitch.launch.settings_file import PRUNE_AFTER_SECONDS
from ccswitch.profiles.environment import profile_environment

PROFILES = """\
default = "gw"

[profiles.gw]
base_url = "http://127.0.0.1:9/api"
token = "env:GW_TOKEN"
model = "gw-main"
[profiles.gw.models]
opus = "gw-opus"
[profiles.gw.env]
API_TIMEOUT_MS = "1000"

[profiles.other]
base_url = "http://127.0.0.1:9/other"
auth = "x-api-key"
token = "env:OTHER_TOKEN"
"""

TOKEN = "gw-secret-token-0123456789"


@pytest.fixture
def env(profiles_file, fake_claude: Path) -> dict[str, str]:
    profiles_file(PROFILES)
    environ = dict(os.environ)
    environ["PATH"] = f"{fake_claude.parent}{os.pathsep}{environ.get('PATH', '')}"
    environ["GW_TOKEN"] = TOKEN
    environ["OTHER_TOKEN"] = "other-secret-token-987654"
    return environ


def plan_for(env, command=("claude", "-p", "hi"), name="gw", cwd=None, **kw):
    return prepare(name, list(command), profile_set=front_door.load_profiles(env), env=env,
                          cwd=cwd or os.getcwd(), **kw)


# --- which profile -----------------------------------------------------------------------------

def test_name_beats_pin_beats_default(env, tmp_path):
    project = tmp_path / "project" / "sub"
    project.mkdir(parents=True)
    profile_set = front_door.load_profiles(env)
    assert choose_profile(None, str(project), profile_set)[0] == "gw"  # default
    (tmp_path / "project" / ".ccswitch").write_text("# pinned for this repo\nother\n")
    name, reason = choose_profile(None, str(project), profile_set)
    assert (name, reason) == ("other", f"pinned in {tmp_path / 'project' / '.ccswitch'}")
    assert choose_profile("gw", str(project), profile_set)[0] == "gw"


def test_no_name_no_pin_no_default_is_a_clear_error(profiles_file, tmp_path):
    profiles_file("[profiles.x]\nbase_url = \"http://h\"\n")
    with pytest.raises(UsageError, match=r"no profile named, no \.ccswitch pin .* and no `default`"):
        choose_profile(None, str(tmp_path), front_door.load_profiles(dict(os.environ)))


@pytest.mark.parametrize(("content", "message"), [("", "empty"), ("bad name!\n", "is not a profile name")])
def test_bad_pin_file_names_the_file(env, tmp_path, content, message):
    (tmp_path / ".ccswitch").write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        choose_profile(None, str(tmp_path), front_door.load_profiles(env))
    assert str(tmp_path / ".ccswitch") in info.value.message


def test_pinned_unknown_profile_says_where_the_pin_is(env, tmp_path):
    (tmp_path / ".ccswitch").write_text("glmm\n")
    with pytest.raises(UnknownProfileError, match=r"did you mean \"glm\"\?.*pinned in .*\.ccswitch"):
        plan_for(env, name=None, cwd=str(tmp_path))


# --- claude: argv, settings, environment -------------------------------------------------------

def test_claude_gets_settings_and_model_and_never_the_token_on_argv(env, fake_claude):
    plan = plan_for(dict(env, ANTHROPIC_API_KEY="stray-key", ANTHROPIC_MODEL="stray-model"))
    assert plan.is_claude and plan.path == str(fake_claude)
    assert plan.argv == ["claude", "--settings", plan.settings_path, "--model", "gw-main", "--session-id", plan.session,
                         "-p", "hi"]
    assert all(TOKEN not in arg for arg in plan.argv)
    profile = front_door.load_profiles(env).get("gw")
    hook = {"matcher": "clear|resume", "hooks": [{"type": "command", "command": " ".join(
        f"'{arg}'" for arg in [sys.executable, "-P", "-m", "ccswitch.usage.session_start", paths.user_state_dir(env), "gw"])}]}
    assert plan.settings == {"env": profile_environment(profile, TOKEN, include_model=False),
                             "hooks": {"SessionStart": [hook]}}
    assert plan.settings["env"]["ANTHROPIC_AUTH_TOKEN"] == TOKEN
    assert plan.settings["env"]["ANTHROPIC_API_KEY"] == "" and plan.settings["env"]["ANTHROPIC_MODEL"] == ""
    # Inherited provider variables are dropped from the child; the settings file decides them all.
    assert not set(MANAGED_VARIABLES) & set(plan.env)
    assert plan.env["GW_TOKEN"] == TOKEN  # anything else is inherited as is


@pytest.mark.parametrize("model_args", [["--model", "sonnet"], ["--model=sonnet"]])
def test_users_own_model_wins(env, model_args):
    plan = plan_for(env, ["claude", *model_args, "-p", "hi"])
    assert plan.argv.count("--model") + sum(a.startswith("--model=") for a in plan.argv) == 1
    assert plan.argv[-3:] == [*model_args, "-p", "hi"][-3:]


def test_users_settings_file_is_merged_and_the_profile_wins(env, tmp_path):
    user = tmp_path / "mine.json"
    user.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://decoy", "MY_VAR": "1"}, "permissions": {"allow": ["Bash"]}}))
    plan = plan_for(env, ["claude", "--settings", str(user), "-p", "hi"])
    assert plan.argv.count("--settings") == 1
    assert plan.settings["permissions"] == {"allow": ["Bash"]}
    assert plan.settings["env"]["MY_VAR"] == "1"
    assert plan.settings["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/api"


def test_users_inline_settings_are_merged(env):
    plan = plan_for(env, ["claude", '--settings={"env": {"MY_VAR": "2"}, "model": "x"}'])
    assert plan.argv.count("--settings") == 1 and plan.settings["env"]["MY_VAR"] == "2"
    assert plan.settings["model"] == "x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--settings", "a.json", "--settings", "b.json"], "more than once"),
        (["--settings", "missing.json"], "missing.json: cannot read"),
        (["--settings", "[1, 2]"], "must be a JSON object"),
        (["--settings"], "needs a value"),
        # Too deep for Python's json: read as a path, named in short (it was a RecursionError).
        (["--settings", "[" * 5000], r"^--settings \[{60}…: cannot read \(File name too long\)$"),
    ],
)
def test_bad_user_settings_are_refused(env, args, message):
    with pytest.raises(UsageError, match=message):
        plan_for(env, ["claude", *args])


def test_managed_settings_that_override_the_profile_are_named(env, tmp_path):
    managed = Path(env["CCSWITCH_MANAGED_SETTINGS"])
    managed.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://corp", "UNRELATED": "1"}}))
    plan = plan_for(env)
    assert [w.message for w in plan.warnings] == [
        f"{managed} sets ANTHROPIC_BASE_URL: managed settings beat every other source, so profile 'gw' does not decide it"
    ]


def test_claude_not_found_names_the_npm_install(env):
    with pytest.raises(CcswitchError, match=r"claude not found \(PATH\); install it with `npm install -g @anthropic-ai/claude-code`"):
        plan_for(dict(env, PATH="/nonexistent"))


def test_ccswitch_claude_points_at_a_binary(env, tmp_path):
    other = tmp_path / "my-claude"
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    plan = plan_for(dict(env, CCSWITCH_CLAUDE=str(other)))
    assert plan.is_claude and plan.path == str(other)
    with pytest.raises(CcswitchError, match="CCSWITCH_CLAUDE=/nope"):
        plan_for(dict(env, CCSWITCH_CLAUDE="/nope"))


def test_missing_token_is_an_error_naming_profile_and_variable(env):
    del env["GW_TOKEN"]
    with pytest.raises(CcswitchError, match="profile 'gw': token: GW_TOKEN is not set"):
        plan_for(env)


# --- other commands ----------------------------------------------------------------------------

def test_other_commands_get_the_profile_in_their_environment(env, tmp_path):
    (Path(env["HOME"]) / ".claude").mkdir()
    (Path(env["HOME"]) / ".claude" / "settings.json").write_text(json.dumps({"env": {"ANTHROPIC_MODEL": "x"}}))
    plan = plan_for(dict(env, ANTHROPIC_API_KEY="stray"), ["sh", "-c", "true"])
    assert not plan.is_claude and plan.settings is None and plan.argv == ["sh", "-c", "true"]
    assert plan.env["ANTHROPIC_AUTH_TOKEN"] == TOKEN and plan.env["ANTHROPIC_MODEL"] == "gw-main"
    assert plan.env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "gw-opus" and plan.env["API_TIMEOUT_MS"] == "1000"
    assert "ANTHROPIC_API_KEY" not in plan.env
    [warning] = plan.warnings
    assert "settings.json sets ANTHROPIC_MODEL: a claude started inside this command would use that" in warning.message


def test_project_settings_are_found_at_the_git_root_like_claude_does(env, tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".claude").mkdir()
    local = root / ".claude" / "settings.local.json"
    local.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9/elsewhere"}}))
    subdir = root / "pkg" / "sub"
    subdir.mkdir(parents=True)
    plan = plan_for(env, ["sh", "-c", "true"], cwd=str(subdir))
    assert [w for w in plan.warnings if str(local) in w.message and "ANTHROPIC_BASE_URL" in w.message]
    _, warnings = prepare_env("gw", "bash", profile_set=front_door.load_profiles(env), env=env, cwd=str(subdir))
    assert [w for w in warnings if str(local) in w.message]


def test_unknown_command_is_an_error(env):
    with pytest.raises(CcswitchError, match="no-such-tool: command not found"):
        plan_for(env, ["no-such-tool"])


# --- the settings file -------------------------------------------------------------------------

def test_settings_file_is_private_and_reused(env):
    plan = plan_for(env)
    path = write_settings_file(plan)
    assert path == plan.settings_path and path.startswith(os.environ["XDG_RUNTIME_DIR"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert json.loads(Path(path).read_text()) == plan.settings
    os.utime(path, (1, 1))
    inode = os.stat(path).st_ino
    again = plan_for(env)
    assert write_settings_file(again) == path
    assert os.stat(path).st_ino == inode and os.stat(path).st_mtime > 1  # reused, mtime refreshed
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_settings_file_without_runtime_dir_goes_to_the_state_dir(env):
    del env["XDG_RUNTIME_DIR"]
    path = write_settings_file(plan_for(env))
    assert path.startswith(os.path.join(os.environ["XDG_STATE_HOME"], "ccswitch", "run"))


def test_a_missing_runtime_dir_is_not_used(env, tmp_path):
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "no-such-dir")  # e.g. left over after `su` or in a container
    path = write_settings_file(plan_for(env))
    assert path.startswith(os.path.join(os.environ["XDG_STATE_HOME"], "ccswitch", "run"))


def test_an_unwritable_settings_dir_is_one_clear_error(env, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    del env["XDG_RUNTIME_DIR"]
    env["XDG_STATE_HOME"] = str(blocker)  # the state dir cannot be made under a file
    with pytest.raises(CcswitchError, match=r"cannot write the settings file for claude"):
        write_settings_file(plan_for(env))
    for var in ("PATH", "GW_TOKEN", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, env[var])
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    code = front_door.main(["run", "gw", "--", "claude", "-p", "hi"])
    assert code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "cannot write the settings file" in err


def test_a_changed_profile_gets_a_new_file_and_old_ones_are_pruned(env):
    first = write_settings_file(plan_for(env))
    second = write_settings_file(plan_for(dict(env, GW_TOKEN="rotated-token-0123456789")))
    assert first != second and os.path.exists(first)  # a running claude may still use the first
    now = os.stat(second).st_mtime + PRUNE_AFTER_SECONDS + 10
    os.utime(second, (now, now))  # the second was used recently, the first long ago
    write_settings_file(plan_for(dict(env, GW_TOKEN="rotated-token-0123456789")), now=now)
    assert not os.path.exists(first) and os.path.exists(second)


def test_a_checksum_collision_never_overwrites_another_file(env):
    plan = plan_for(env)
    os.makedirs(os.path.dirname(plan.settings_path), mode=0o700)
    Path(plan.settings_path).write_text("someone else's content")
    first = plan.settings_path
    path = write_settings_file(plan)
    assert path == first.replace(f"-pid{os.getpid()}.json", f"-1-pid{os.getpid()}.json") != first
    assert plan.argv[plan.argv.index("--settings") + 1] == path
    assert Path(first).read_text() == "someone else's content"


# --- exec --------------------------------------------------------------------------------------

def test_posix_execs_with_argv_and_env():
    calls = []
    exec_program("/bin/x", ["x", "a"], {"K": "V"}, windows=False, execve=lambda *a: calls.append(a))
    assert calls == [("/bin/x", ["x", "a"], {"K": "V"})]


def test_windows_spawns_waits_returns_the_code_and_ignores_ctrl_c():
    seen = []

    def spawn(path, argv, env):
        seen.append((path, argv, env, signal.getsignal(signal.SIGINT)))
        return 3

    before = signal.getsignal(signal.SIGINT)
    assert exec_program("C:/claude.exe", ["claude", "-p"], {"K": "V"}, windows=True, spawn=spawn) == 3
    assert seen == [("C:/claude.exe", ["claude", "-p"], {"K": "V"}, signal.SIG_IGN)]
    assert signal.getsignal(signal.SIGINT) is before


def test_exec_failure_is_a_clear_error():
    def fail(*args):
        raise PermissionError(13, "Permission denied")

    with pytest.raises(CcswitchError, match="cannot run x: Permission denied"):
        exec_program("/bin/x", ["x"], {}, windows=False, execve=fail)


# --- the launcher: run end to end with a fake exec ---------------------------------------------

@pytest.fixture
def execs(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "execve", lambda *a: calls.append(a))
    return calls


def run_cli(args, env, monkeypatch):
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return front_door.main(["run", *args])


def test_run_sets_onboarding_for_a_gateway_profile(env, execs, monkeypatch):
    assert run_cli(["gw", "--", "claude", "-p", "hi"], env, monkeypatch) == 0
    [(path, argv, child_env)] = execs
    state = Path(env["HOME"]) / ".claude.json"
    assert json.loads(state.read_text()) == {"hasCompletedOnboarding": True}
    assert json.loads(Path(argv[2]).read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == TOKEN


def test_onboarding_goes_to_claude_config_dir_and_keeps_other_keys(env, execs, monkeypatch, tmp_path):
    config = tmp_path / "claude-config"
    config.mkdir()
    (config / ".claude.json").write_text(json.dumps({"projects": {"/x": {}}, "hasCompletedOnboarding": False}))
    assert run_cli(["gw"], dict(env, CLAUDE_CONFIG_DIR=str(config)), monkeypatch) == 0
    assert json.loads((config / ".claude.json").read_text()) == {"projects": {"/x": {}}, "hasCompletedOnboarding": True}
    assert not (Path(env["HOME"]) / ".claude.json").exists()


def test_no_onboarding_fix_and_anthropic_login_leave_claude_json_alone(env, execs, monkeypatch):
    assert run_cli(["--no-onboarding-fix", "gw"], env, monkeypatch) == 0
    assert run_cli(["anthropic"], env, monkeypatch) == 0
    assert len(execs) == 2
    assert not (Path(env["HOME"]) / ".claude.json").exists()


def test_malformed_claude_json_is_left_alone_with_a_warning(env, execs, monkeypatch, capsys):
    state = Path(env["HOME"]) / ".claude.json"
    state.write_text("{not json")
    assert run_cli(["gw"], env, monkeypatch) == 0
    assert state.read_text() == "{not json"
    assert "ccswitch: warning:" in capsys.readouterr().err and execs


def test_dry_run_masks_the_token_and_writes_nothing(env, execs, monkeypatch, capsys):
    assert run_cli(["--dry-run", "gw", "--", "claude", "-p", "hi"], env, monkeypatch) == 0
    out = capsys.readouterr().out
    assert TOKEN not in out and "gw-…6789" in out
    assert "command: claude --settings " in out and re.search(r"--model gw-main --session-id [0-9a-f-]{36} -p hi", out)
    assert not execs and not os.path.exists(os.path.join(env["XDG_RUNTIME_DIR"], "ccswitch"))
    assert not (Path(env["HOME"]) / ".claude.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gw", "claude"], "unexpected argument 'claude': put the command after --"),
        (["--model", "x"], "unknown option '--model' (options for claude go after --)"),
        (["nope"], "no profile named 'nope'"),
    ],
)
def test_run_usage_errors_are_one_line_and_exit_2(env, monkeypatch, capsys, args, message):
    assert run_cli(args, env, monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("ccswitch: error: ") and message in err and "Traceback" not in err


def test_run_and_env_read_managed_settings_where_status_and_doctor_do(env, execs, monkeypatch, capsys):
    # paths.managed_settings_file(env): the same file for every command ($CCSWITCH_MANAGED_SETTINGS in tests).
    managed = Path(env["CCSWITCH_MANAGED_SETTINGS"])
    managed.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://corp.example"}}))
    assert run_cli(["--dry-run", "gw"], env, monkeypatch) == 0
    assert f"warning: {managed} sets ANTHROPIC_BASE_URL: managed settings beat every other source" in capsys.readouterr().out
    assert front_door.main(["env", "gw", "--shell", "bash"]) == 0
    assert f"{managed} sets ANTHROPIC_BASE_URL" in capsys.readouterr().err


def test_a_1m_alias_asks_only_for_the_tier_when_the_profile_has_no_1m_window(env):
    plan = plan_for(env, ["claude", "-p", "hi", "--model", "sonnet[1m]", "--model=Opus[1M]", "--", "--model", "x[1m]"])
    assert plan.argv[plan.argv.index("--model") + 1] == "sonnet" and "--model=Opus" in plan.argv
    assert plan.argv[-2:] == ["--model", "x[1m]"]  # after `--` it is not claude's option


@pytest.mark.parametrize("args", [["-p", "hi"], ["--print", "x"], []])
def test_run_names_a_new_claude_session(env, args):
    plan = plan_for(env, ["claude", *args])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", plan.session)
    assert plan.argv[plan.argv.index("--session-id") + 1] == plan.session


@pytest.mark.parametrize("args", [["--resume", "abc"], ["-c", "-p", "hi"], ["mcp", "list"], ["--continue"],
                                  ["--session-id", "11111111-2222-4333-8444-555555555555"]])
def test_a_session_the_user_names_or_continues_is_left_alone(env, args):
    plan = plan_for(env, ["claude", *args])
    assert plan.argv.count("--session-id") == args.count("--session-id")
    assert plan.session == (args[1] if args[0] == "--session-id" else None)


S1 = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize("args", [["--resume", S1], ["-r", S1, "-p", "again"], [f"--resume={S1}"]])
def test_a_resume_by_id_is_recorded_under_that_id(env, args):
    plan = plan_for(env, ["claude", *args])
    assert plan.session == S1 and "--session-id" not in plan.argv and plan.picked_in is None


def test_a_fork_gets_its_own_session_id(env):
    plan = plan_for(env, ["claude", "--resume", S1, "--fork-session"])
    assert plan.session != S1 and plan.argv[plan.argv.index("--session-id") + 1] == plan.session


def test_continue_is_recorded_under_the_transcript_claude_continues(env, tmp_path, monkeypatch):
    from ccswitch.claude.transcripts import project_dir

    cwd = tmp_path / "work"
    cwd.mkdir()
    folder = Path(project_dir(env, str(cwd)))
    folder.mkdir(parents=True)
    (folder / f"{S1}.jsonl").write_text("{}\n")
    later = "99999999-2222-4333-8444-555555555555"
    (folder / f"{later}.jsonl").write_text("{}\n")
    os.utime(folder / f"{later}.jsonl", (1e9, 1e9))  # older mtime: not the one claude continues
    plan = plan_for(env, ["claude", "-c", "-p", "more"], cwd=str(cwd))
    assert plan.session == S1 and "--session-id" not in plan.argv
    assert folder.name == re.sub(r"[^A-Za-z0-9]", "-", str(cwd.resolve()))  # docs/claude-code.md, "Sessions and transcripts"


def test_continue_looks_in_claudes_own_config_dir_taken_whole(env, tmp_path):
    """claude reads CLAUDE_CONFIG_DIR as one path (the comma list is ccusage's reading, for usage
    only): `--continue` is recorded under the transcript in that very folder."""
    from ccswitch.claude.transcripts import project_dir

    config = tmp_path / "cc,one"
    env = dict(env, CLAUDE_CONFIG_DIR=str(config))
    folder = Path(project_dir(env, str(tmp_path)))
    assert folder.parent == config / "projects"
    folder.mkdir(parents=True)
    (folder / f"{S1}.jsonl").write_text("{}\n")
    assert plan_for(env, ["claude", "-c"], cwd=str(tmp_path)).session == S1


def test_a_resume_through_the_picker_records_the_project(env, execs, monkeypatch, tmp_path):
    from ccswitch.claude.transcripts import project_dir
    from ccswitch.usage.sessions import load_sessions

    assert run_cli(["gw", "--", "claude", "--resume"], env, monkeypatch) == 0
    assert run_cli(["gw", "--", "claude", "--resume", S1], env, monkeypatch) == 0
    assert run_cli(["gw", "--", "claude", "mcp", "list"], env, monkeypatch) == 0
    launches, picked, bad = load_sessions(str(Path(env["HOME"]) / ".local" / "state" / "ccswitch"))
    assert bad == 0 and [profile for _, profile in launches[S1]] == ["gw"] and len(launches) == 1
    [(started, project, profile)] = picked
    assert (project, profile) == (project_dir(env, os.getcwd()), "gw")


def test_dry_run_shows_the_plan_when_claude_is_not_installed(profiles_file, monkeypatch, tmp_path, capsys):
    profiles_file("")
    monkeypatch.setenv("ZHIPU_API_KEY", "zhipu-0123456789abcdef")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no claude anywhere
    assert front_door.main(["run", "--dry-run", "glm"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("profile: glm (named on the command line)\ncommand: claude --settings ")
    assert "note: claude not found (PATH); install it with `npm install -g @anthropic-ai/claude-code`" in out
    assert '"ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic"' in out
    assert not list((tmp_path / "home").rglob("glm-*.json"))  # a dry run writes no settings file
    # A real run still stops, with the same words.
    assert front_door.main(["run", "glm"]) == 1
    assert "claude not found (PATH)" in capsys.readouterr().err
