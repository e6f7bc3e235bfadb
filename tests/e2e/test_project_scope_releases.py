"""`use --scope project` writes the git root's `.claude/settings.local.json`. claude reads it from a
subfolder only since 2.1.211 (bisected over the npm releases, docs/claude-code.md): on the two
releases either side of that boundary, installed like the pinned one, a claude started in a
subfolder reaches the project's endpoint or the user's, and `use`, `status` and `doctor` say which."""

from __future__ import annotations

import json
import subprocess

import pytest
from support.mock_anthropic import MockAnthropic
from support.processes import ccswitch, subprocess_env

PROFILES = """\
[profiles.p]
base_url = "{url}"
token = "env:P_TOKEN"
[profiles.p.models]
opus = "p-opus"
sonnet = "p-sonnet"
haiku = "p-haiku"
"""


@pytest.mark.parametrize(("version", "reads_root"), [("2.1.210", False), ("2.1.211", True)])
def test_use_status_and_doctor_say_whether_claude_reads_the_project_file_from_a_subfolder(
        version, reads_root, claude_release, claude_env, profiles_file, isolated_home, tmp_path):
    claude = claude_release(version)
    root = tmp_path / "repo"
    sub = root / "src" / "pkg"
    sub.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    with MockAnthropic(reply="from-project") as project, MockAnthropic(reply="from-user") as user:
        profiles_file(PROFILES.format(url=project.url))
        user_file = isolated_home / ".claude" / "settings.json"
        user_file.parent.mkdir()
        user_file.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": user.url, "ANTHROPIC_AUTH_TOKEN": "user-token-0123456"}}))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude), P_TOKEN="p-token-0123456789")

        used = ccswitch("use", "p", "--scope", "project", env=env, cwd=sub)
        assert used.returncode == 0, used.stderr
        local = root / ".claude" / "settings.local.json"
        assert local.exists()
        plain = subprocess.run([str(claude), "-p", "hi"], cwd=sub, env=claude_env, capture_output=True, text=True,
                               timeout=120, stdin=subprocess.DEVNULL)
        assert plain.returncode == 0, plain.stdout + plain.stderr
        assert plain.stdout.strip() == ("from-project" if reads_root else "from-user")  # what claude really did

        status = json.loads(ccswitch("status", "--json", env=env, cwd=sub).stdout)
        doctor = json.loads(ccswitch("doctor", "--json", env=env, cwd=sub).stdout)
        notes = [w for w in status["warnings"] if w["code"] == "old-claude-project-scope"]
        checks = [c for c in doctor["checks"] if c["name"] == "project scope"]
        [base_url] = [v for v in status["variables"] if v["name"] == "ANTHROPIC_BASE_URL"]
        if reads_root:
            assert "claude 2.1" not in used.stderr and notes == [] and checks == []
            assert base_url["value"] == project.url and base_url["source"] == "project-local"
        else:
            said = f"claude 2.1.210 ignores {local} (where `ccswitch use --scope project` writes) when started in a " \
                   f"subfolder of {root}"
            assert said in used.stderr and "npm install -g @anthropic-ai/claude-code@latest" in used.stderr
            [note] = notes
            assert note["message"].startswith(said) and note["fix"].endswith(f"or start claude in {root}")
            assert [(c["status"], c["message"]) for c in checks] == [("warn", note["message"])]
            assert base_url["value"] == user.url and base_url["source"] == "user"  # status tells what claude uses
            at_root = json.loads(ccswitch("status", "--json", env=env, cwd=root).stdout)
            [note] = [w for w in at_root["warnings"] if w["code"] == "old-claude-project-scope"]
            assert "only when started in" in note["message"] and "not from a subfolder" in note["message"]


def test_no_release_reads_the_roots_settings_json_from_a_subfolder_and_status_says_so(
        claude_bin, claude_env, profiles_file, isolated_home, tmp_path):
    """Observed on every release tried (2.1.197 to 2.1.332): `.claude/settings.json` counts only in
    the folder claude starts in. status named the root's file from a subfolder; claude ignored it."""
    root = tmp_path / "repo"
    sub = root / "src"
    sub.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    with MockAnthropic(reply="from-root") as at_root, MockAnthropic(reply="from-user") as user:
        profiles_file(PROFILES.format(url=at_root.url))
        for path, url in ((root / ".claude" / "settings.json", at_root.url), (isolated_home / ".claude" / "settings.json", user.url)):
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": "tok-0123456789"}}))
        plain = subprocess.run([str(claude_bin), "-p", "hi"], cwd=sub, env=claude_env, capture_output=True, text=True,
                               timeout=120, stdin=subprocess.DEVNULL)
        assert plain.stdout.strip() == "from-user", plain.stdout + plain.stderr
        status = json.loads(ccswitch("status", "--json", env=subprocess_env(**claude_env), cwd=sub).stdout)
        [base_url] = [v for v in status["variables"] if v["name"] == "ANTHROPIC_BASE_URL"]
        assert base_url["value"] == user.url and base_url["source"] == "user"
        assert str(root / ".claude" / "settings.json") not in [s["path"] for s in status["sources"]]
        assert str(sub / ".claude" / "settings.json") in [s["path"] for s in status["sources"]]
