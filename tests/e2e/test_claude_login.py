"""claude sends the user's own claude.ai login (its OAuth access token, from ~/.claude/.credentials.json)
to whatever ANTHROPIC_BASE_URL names when no token variable holds a value, blank ones included
(docs/claude-code.md, "Credentials and requests"). A profile of a third-party endpoint that sends no
token of its own (`auth = "none"`, or no `token` at all) therefore makes claude send a placeholder:
the user's login must never reach that endpoint, through `run` or `use`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.claude_client import CLAUDE_CODE_VERSION, skip_first_run
from support.mock_anthropic import MockAnthropic
from support.processes import ccswitch, subprocess_env
from support.terminal import Terminal

from ccswitch.claude.variables import NO_TOKEN

LOGIN = "sk-ant-oat01-LOGIN-CANARY-0123456789"


def logged_in(home: Path) -> None:
    """A claude.ai login as claude keeps it (fake, valid for an hour; it is never checked offline)."""
    (home / ".claude").mkdir(exist_ok=True)
    credentials = home / ".claude" / ".credentials.json"
    credentials.write_text(json.dumps({"claudeAiOauth": {
        "accessToken": LOGIN, "refreshToken": "sk-ant-ort01-REFRESH-CANARY", "expiresAt": int(time.time() * 1000) + 3_600_000,
        "scopes": ["user:inference", "user:profile"], "subscriptionType": "pro"}}))
    credentials.chmod(0o600)


def claude(claude_bin: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(claude_bin), "-p", "hi", "--model", "m"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def sent_credentials(server: MockAnthropic) -> set[str]:
    return {r.headers.get("authorization", "") + r.headers.get("x-api-key", "") for r in server.messages}


@pytest.fixture(params=[CLAUDE_CODE_VERSION, "2.1.197"])
def release(request, claude_release):
    return claude_release(request.param)  # installed into .cache/ as CI would (conftest.py)


def test_claude_itself_sends_its_login_to_a_base_url_when_no_token_variable_is_set(release, claude_env, isolated_home,
                                                                                    project):
    """The fact the placeholder rests on; a blank variable does not stop it."""
    logged_in(isolated_home)
    with MockAnthropic() as server:
        env = {**claude_env, "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_AUTH_TOKEN": "", "ANTHROPIC_API_KEY": ""}
        result = claude(release, env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sent_credentials(server) == {f"Bearer {LOGIN}"}


@pytest.mark.parametrize("auth", ['auth = "none"\n', ""])  # an endpoint that takes none; a token never set
def test_run_and_use_never_send_the_users_login_to_a_profile_without_a_token(
        auth, release, claude_env, isolated_home, project, profiles_file):
    logged_in(isolated_home)
    with MockAnthropic() as server:
        profiles_file(f'[profiles.local]\nbase_url = "{server.url}"\n{auth}model = "m"\n')
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(release))
        ran = ccswitch("run", "local", "--", "claude", "-p", "hi", env=env, cwd=project)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert sent_credentials(server) == {f"Bearer {NO_TOKEN}"}
        used = ccswitch("use", "local", env=env, cwd=project)
        assert used.returncode == 0, used.stdout + used.stderr
        after_use = claude(release, claude_env, project)  # a plain claude, on what `use` wrote
        assert after_use.returncode == 0, after_use.stdout + after_use.stderr
        assert sent_credentials(server) == {f"Bearer {NO_TOKEN}"} and len(server.messages) >= 2
    assert LOGIN not in ran.stdout + ran.stderr + used.stdout + used.stderr


@pytest.mark.parametrize("auth,sent", [("none", f"Bearer {NO_TOKEN}"), ("login", f"Bearer {LOGIN}")])
def test_interactive_claude_through_run_sends_the_placeholder_or_with_auth_login_the_login(
        claude_bin, claude_env, isolated_home, project, profiles_file, auth, sent):
    """The -p tests' interactive twins: a profile without a token sends only the placeholder, and
    `auth = "login"` (the opt-in) only the user's own login."""
    logged_in(isolated_home)
    skip_first_run(isolated_home, project)
    with MockAnthropic(reply="from-endpoint") as server:
        model = 'model = "m"\n' if auth == "none" else ""  # `login`: claude's own models
        profiles_file(f'[profiles.p]\nbase_url = "{server.url}"\nauth = "{auth}"\n{model}')
        env = subprocess_env(**{**claude_env, "TERM": "xterm-256color"}, CCSWITCH_CLAUDE=str(claude_bin))
        with Terminal([sys.executable, "-m", "ccswitch", "run", "p"], env, str(project)) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            term.type("hello there\r")
            assert term.wait_for("from-endpoint", 60), term.text()[-2000:]
        assert sent_credentials(server) == {sent}


def test_auth_login_is_the_opt_in_that_sends_claudes_own_login_and_nothing_else_takes_it(
        release, claude_env, isolated_home, project, profiles_file):
    """A proxy in front of Anthropic that expects the user's login: `auth = "login"` lets claude send
    it; `test` does not probe it (it has no token to send) and the gateway refuses it (it cannot pass
    the login on)."""
    logged_in(isolated_home)
    with MockAnthropic() as server:
        profiles_file(f'[profiles.proxy]\nbase_url = "{server.url}"\nauth = "login"\n'
                      '[profiles.mix]\nroutes = { opus = "proxy", sonnet = "proxy", haiku = "proxy" }\n')
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(release))
        ran = ccswitch("run", "proxy", "--", "claude", "-p", "hi", env=env, cwd=project)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert sent_credentials(server) == {f"Bearer {LOGIN}"}
        tested = ccswitch("test", "proxy", env=env, cwd=project)
        assert tested.returncode == 0 and "not tested: uses claude's own login" in tested.stdout
        routed = ccswitch("run", "mix", "--", "claude", "-p", "hi", env=env, cwd=project)
        assert routed.returncode == 2 and "cannot be reached through the gateway" in routed.stderr
        assert len(server.messages) == 1  # only the run above
    assert LOGIN not in ran.stdout + ran.stderr + tested.stdout + routed.stderr
