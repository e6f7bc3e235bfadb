"""What reaches a third-party provider is exactly what the profile says, on the real claude against
loopback mocks: only the profile's models (whatever tier claude picks, whatever model a settings
file left behind), no 1M context beta unless the profile's window is 1M, x-api-key profiles working
in interactive claude, and `use`/`off` through symlinks and modes."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic
from support.processes import subprocess_env
from support.terminal import Terminal

TOKEN = "p-token-0123456789abcdefXYZ"
STRAY = "claude-sonnet-4-5-20250929"
PROFILE_MODELS = {"p1-opus", "p1-sonnet", "p1-haiku"}
BETA_1M = "context-1m-2025-08-07"

PROFILES = """\
[profiles.p1]
base_url = "{url}"
token = "env:P_TOKEN"
[profiles.p1.models]
opus = "p1-opus"
sonnet = "p1-sonnet"
haiku = "p1-haiku"

[profiles.p3]
extends = "p1"
auth = "x-api-key"

[profiles.big]
extends = "p1"
context_window = 1000000
"""


@pytest.fixture
def server():
    with MockAnthropic(reply="pong") as mock:
        yield mock


@pytest.fixture
def env(claude_bin, claude_env, profiles_file, server) -> dict[str, str]:
    profiles_file(PROFILES.format(url=server.url))
    return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), P_TOKEN=TOKEN)


def ccswitch(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccswitch", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def claude(claude_bin: Path, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(claude_bin), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def sent(server: MockAnthropic) -> list[str]:
    return [r.model for r in server.messages]


def betas(server: MockAnthropic) -> set[str]:
    return {b.strip() for r in server.messages for b in r.headers.get("anthropic-beta", "").split(",") if b.strip()}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


# --- 1. model names --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["user", "project", "local", "config-dir"])
def test_run_replaces_a_stray_settings_model_the_profile_does_not_serve(env, server, project, isolated_home, tmp_path, where):
    files = {"user": isolated_home / ".claude" / "settings.json", "project": project / ".claude" / "settings.json",
             "local": project / ".claude" / "settings.local.json", "config-dir": tmp_path / "cfg" / "settings.json"}
    write_json(files[where], {"model": STRAY})
    if where == "config-dir":
        env = dict(env, CLAUDE_CONFIG_DIR=str(tmp_path / "cfg"))
    result = ccswitch("run", "p1", "--", "claude", "-p", "hi", env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sent(server) and set(sent(server)) <= PROFILE_MODELS and sent(server)[0] == "p1-opus"
    assert f"{files[where]} sets \"model\": '{STRAY}', which profile 'p1' does not serve" in result.stderr
    dry = ccswitch("run", "--dry-run", "p1", "--", "claude", "-p", "hi", env=env, cwd=project)
    assert str(files[where]) in dry.stdout and '"model": "opus"' in dry.stdout


def test_a_model_the_profile_serves_or_one_typed_explicitly_passes(env, server, project, isolated_home):
    write_json(isolated_home / ".claude" / "settings.json", {"model": "sonnet"})
    assert ccswitch("run", "p1", "--", "claude", "-p", "hi", env=env, cwd=project).returncode == 0
    assert sent(server)[0] == "p1-sonnet"  # an alias: it resolves through the profile's tiers
    server.requests.clear()
    assert ccswitch("run", "p1", "--", "claude", "-p", "hi", "--model", "exact-id-9", env=env, cwd=project).returncode == 0
    assert sent(server)[0] == "exact-id-9"  # typed by the user: theirs


def test_use_replaces_the_stray_model_and_status_names_a_file_use_cannot_fix(env, server, project, isolated_home,
                                                                             claude_bin, claude_env):
    user = isolated_home / ".claude" / "settings.json"
    write_json(user, {"model": STRAY, "permissions": {"allow": ["Bash(ls)"]}})
    result = ccswitch("use", "p1", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    assert json.loads(user.read_text())["model"] == "opus"
    plain = claude(claude_bin, "-p", "hi", env=claude_env, cwd=project)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert sent(server) and set(sent(server)) <= PROFILE_MODELS
    # A project file above the user settings: `use` cannot fix it; status and doctor name it.
    write_json(project / ".claude" / "settings.json", {"model": STRAY})
    status = json.loads(ccswitch("status", "--json", env=env, cwd=project).stdout)
    [stray] = [w for w in status["warnings"] if w["code"] == "stray-model"]
    assert str(project / ".claude" / "settings.json") in stray["message"]
    doctor = json.loads(ccswitch("doctor", "--json", env=env, cwd=project).stdout)
    assert any(c["name"] == "session model" and str(project / ".claude") in c["message"] for c in doctor["checks"])
    assert ccswitch("off", env=env, cwd=project).returncode == 0
    assert json.loads(user.read_text())["model"] == STRAY  # off gives back what was there


@pytest.mark.parametrize(("choice", "expected"), [
    ([], "p1-opus"), (["--model", "fable"], "p1-opus"), (["--model", "opusplan"], "p1-sonnet"),
    (["--model", "sonnet[1m]"], "p1-sonnet"), (["--model", "Haiku"], "p1-haiku"), (["--model", "opus[1m]"], "p1-opus"),
])
def test_every_alias_reaches_a_profile_model_without_the_1m_beta(env, server, project, choice, expected):
    result = ccswitch("run", "p1", "--", "claude", "-p", "hi", *choice, env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sent(server)[0] == expected and set(sent(server)) <= PROFILE_MODELS
    assert BETA_1M not in betas(server)
    assert "doesn't recognize the model" not in result.stdout + result.stderr  # it knows the window


def test_a_profile_with_a_1m_window_gets_the_beta(env, server, project):
    assert ccswitch("run", "big", "--", "claude", "-p", "hi", env=env, cwd=project).returncode == 0
    assert sent(server)[0] == "p1-opus" and BETA_1M in betas(server)


# --- 3. x-api-key profiles in interactive claude -----------------------------------------------


def interactive_reaches(env: dict[str, str], project: Path, server: MockAnthropic) -> str:
    argv = [sys.executable, "-m", "ccswitch", "run", "p3", "--", "claude"]
    with Terminal(argv, env, str(project)) as term:
        assert term.wait_for("❯", 60), term.text()[-2000:]
        term.type("hi")
        term.type("\r")
        for _ in range(300):
            if server.messages:
                break
            term.wait_for("pong", 0.1)
        return term.text()


@pytest.mark.parametrize("answered_no_before", [False, True])
def test_an_x_api_key_profile_works_in_interactive_claude_without_a_question(env, server, project, isolated_home,
                                                                            answered_no_before):
    state = {"projects": {str(project): {"hasTrustDialogAccepted": True}}}
    if answered_no_before:
        state["customApiKeyResponses"] = {"approved": [], "rejected": [TOKEN[-20:]]}
    write_json(isolated_home / ".claude.json", state)
    screen = interactive_reaches(env, project, server)
    assert "Detected a custom API key" not in screen and "Not logged in" not in screen
    assert server.messages, screen[-2000:]
    assert all(r.headers.get("x-api-key") == TOKEN and "authorization" not in r.headers for r in server.messages)
    responses = json.loads((isolated_home / ".claude.json").read_text())["customApiKeyResponses"]
    assert TOKEN[-20:] in responses["approved"] and TOKEN[-20:] not in responses["rejected"]


def test_no_onboarding_fix_leaves_the_question_to_claude(env, server, project, isolated_home):
    write_json(isolated_home / ".claude.json", {"hasCompletedOnboarding": True,
                                                 "projects": {str(project): {"hasTrustDialogAccepted": True}}})
    argv = [sys.executable, "-m", "ccswitch", "run", "--no-onboarding-fix", "p3", "--", "claude"]
    with Terminal(argv, env, str(project)) as term:
        assert term.wait_for("Detected a custom API key", 60), term.text()[-2000:]
    assert "customApiKeyResponses" not in json.loads((isolated_home / ".claude.json").read_text())


# --- 4. use/off through symlinks and modes -----------------------------------------------------


def holding_token(root: Path, skip: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and skip not in p.parents
            and TOKEN.encode() in p.read_bytes()]


def test_a_dangling_dotfiles_link_works_and_dangles_again_after_off(env, server, project, isolated_home, claude_bin,
                                                                    claude_env):
    link = isolated_home / ".claude" / "settings.json"
    link.parent.mkdir()
    target = isolated_home / "dotfiles" / "claude" / "settings.json"
    link.symlink_to(target)
    assert ccswitch("use", "p1", env=env, cwd=project).returncode == 0
    plain = claude(claude_bin, "-p", "hi", env=claude_env, cwd=project)
    assert plain.returncode == 0 and set(sent(server)) <= PROFILE_MODELS and sent(server)
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in server.messages)
    off = ccswitch("off", env=env, cwd=project)
    assert off.returncode == 0, off.stderr
    assert link.is_symlink() and not target.exists()
    assert holding_token(isolated_home, Path(env["CCSWITCH_HOME"])) == []


def test_a_settings_file_tracked_by_git_is_refused(env, project, isolated_home):
    repo = isolated_home / "dotfiles"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_json(repo / "settings.json", {"permissions": {}})
    subprocess.run(["git", "-C", str(repo), "add", "settings.json"], check=True)
    (isolated_home / ".claude").mkdir()
    (isolated_home / ".claude" / "settings.json").symlink_to(repo / "settings.json")
    result = ccswitch("use", "p1", env=env, cwd=project)
    assert result.returncode == 2 and f"tracked by the git repository {repo}" in result.stderr
    assert TOKEN not in (repo / "settings.json").read_text()


def test_off_gives_back_the_mode_and_says_what_it_kept(env, server, project, isolated_home, claude_bin, claude_env):
    user = isolated_home / ".claude" / "settings.json"
    write_json(user, {"permissions": {"allow": ["Bash(ls)"]}})
    user.chmod(0o644)
    assert ccswitch("use", "p1", env=env, cwd=project).returncode == 0
    assert stat.S_IMODE(user.stat().st_mode) == 0o600
    assert claude(claude_bin, "-p", "hi", env=claude_env, cwd=project).returncode == 0  # claude may rewrite the file
    data = json.loads(user.read_text())
    data["permissions"]["allow"].append("Bash(make)")
    user.write_text(json.dumps(data, indent=2) + "\n")
    off = ccswitch("off", env=env, cwd=project)
    assert off.returncode == 0 and "kept what changed there since" in " ".join(off.stderr.split())
    assert stat.S_IMODE(user.stat().st_mode) == 0o644 and TOKEN not in user.read_text()


# --- 5. the warning about settings that would win ----------------------------------------------


def test_after_use_a_run_of_the_same_profile_warns_of_nothing(env, project):
    assert ccswitch("use", "p1", env=env, cwd=project).returncode == 0
    result = ccswitch("run", "p1", "--", "sh", "-c", "true", env=env, cwd=project)
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    other = ccswitch("run", "p3", "--", "sh", "-c", "true", env=env, cwd=project)
    named = set(other.stderr.split(" sets ", 1)[1].split(": a claude", 1)[0].split(", "))
    descriptions = {f"ANTHROPIC_DEFAULT_{tier}_MODEL_DESCRIPTION" for tier in ("OPUS", "SONNET", "HAIKU", "FABLE")}
    assert named == {"ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", *descriptions}  # only what differs from p3
