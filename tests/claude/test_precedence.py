"""precedence.analyze (pure) and `ccswitch status`/`current`: which source wins, and the conflict warnings."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from ccswitch.claude import settings as claude_settings
from ccswitch.claude.precedence import analyze
from ccswitch.claude.sources import Source
from ccswitch.cli.app import app

TOKEN = "gw-token-0123456789abcdef"


def src(name, env=None, **top):
    data = dict(top)
    if env is not None:
        data["env"] = env
    return Source(name, f"/{name}.json", data)


def shell(**env):
    return Source("shell", None, env)


def messages(result):
    return [w["message"] for w in result["warnings"]]


def row(result, name):
    return next(r for r in result["variables"] if r["name"] == name)


def test_highest_source_wins_and_blank_counts():
    result = analyze(
        [
            src("managed"),
            src("project-local", {"ANTHROPIC_BASE_URL": "https://local.example"}),
            src("project", {"ANTHROPIC_BASE_URL": "https://project.example", "ANTHROPIC_API_KEY": ""}),
            src("user", {"ANTHROPIC_AUTH_TOKEN": TOKEN}),
            shell(ANTHROPIC_API_KEY="sk-shell-0123456789", ANTHROPIC_MODEL="m"),
        ],
        {},
    )
    assert row(result, "ANTHROPIC_BASE_URL")["source"] == "project-local"
    assert row(result, "ANTHROPIC_BASE_URL")["shadowed"] == [{"source": "project", "value": "https://project.example"}]
    api_key = row(result, "ANTHROPIC_API_KEY")
    assert (api_key["source"], api_key["set"], api_key["value"]) == ("project", False, "")
    token = row(result, "ANTHROPIC_AUTH_TOKEN")
    assert token["value"] == "gw-…cdef" and TOKEN not in json.dumps(result)
    assert row(result, "ANTHROPIC_MODEL")["source"] == "shell"
    assert result["model"] == {"value": "m", "source": "shell environment ANTHROPIC_MODEL"}
    assert row(result, "CLAUDE_CODE_USE_VERTEX")["source"] is None


def test_session_model_comes_from_the_highest_model_key_when_no_variable():
    result = analyze([src("project", model="project-model"), src("user", model="user-model"), shell()], {})
    assert result["model"] == {"value": "project-model", "source": 'project settings.json "model"'}


def _active(profile_env, model=None):
    settings, record = claude_settings.apply({}, profile_env, model, None, "glm")
    record.update(settings_path="/user.json", applied_at="t")
    return settings, record


def test_a_project_file_overriding_the_active_profile_is_flagged():
    user, record = _active({"ANTHROPIC_BASE_URL": "https://glm.example", "ANTHROPIC_AUTH_TOKEN": TOKEN}, "opus")
    result = analyze(
        [src("managed", {"ANTHROPIC_AUTH_TOKEN": "corp-token-000000000"}), src("project", {"ANTHROPIC_BASE_URL": "https://x"}, model="m"),
         Source("user", "/user.json", user), shell()],
        {"user": record},
    )
    warnings = "\n".join(messages(result))
    assert "managed settings overrides the active profile 'glm' (user settings) for ANTHROPIC_AUTH_TOKEN" in warnings
    assert "project settings.json overrides the active profile 'glm' (user settings) for ANTHROPIC_BASE_URL" in warnings
    assert "project settings.json \"model\" sets the model to 'm'" in warnings
    assert result["active"]["user"] == {"profile": "glm", "path": "/user.json", "since": "t", "changed": []}


def test_no_warnings_for_a_clean_active_profile():
    user, record = _active({"ANTHROPIC_BASE_URL": "https://glm.example", "ANTHROPIC_AUTH_TOKEN": TOKEN, "ANTHROPIC_API_KEY": ""})
    result = analyze([src("managed"), Source("user", "/user.json", user), shell()], {"user": record})
    assert messages(result) == []


def test_shell_api_key_beside_a_token():
    sent = analyze([src("user", {"ANTHROPIC_AUTH_TOKEN": TOKEN}), shell(ANTHROPIC_API_KEY="sk-shell-0123456789")], {})
    assert any("from your shell is sent beside" in w for w in messages(sent))
    assert any("claude will send both auth headers" in w for w in messages(sent))
    blanked = analyze([src("user", {"ANTHROPIC_AUTH_TOKEN": TOKEN, "ANTHROPIC_API_KEY": ""}),
                       shell(ANTHROPIC_API_KEY="sk-shell-0123456789")], {})
    assert [w for w in messages(blanked) if "shell" in w] == [
        "your shell exports ANTHROPIC_API_KEY, but user settings blanks it for claude; other tools still see it (unset it if it is stale)"
    ]


def test_both_auth_variables_in_one_source():
    result = analyze([src("project", {"ANTHROPIC_AUTH_TOKEN": TOKEN, "ANTHROPIC_API_KEY": "sk-0123456789abc"}), shell()], {})
    assert "project settings.json sets both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY: keep only one" in messages(result)


def test_stale_small_fast_model_and_v1_base_url():
    result = analyze([src("user", {"ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
                                   "ANTHROPIC_BASE_URL": "https://gw.example/v1/"}), shell()], {})
    warnings = "\n".join(messages(result))
    assert "ANTHROPIC_SMALL_FAST_MODEL=claude-3-5-haiku (from user settings) is deprecated" in warnings
    assert "ahead of ANTHROPIC_DEFAULT_HAIKU_MODEL=glm-4.5-air" in warnings
    assert "ends in /v1" in warnings
    same = analyze([src("user", {"ANTHROPIC_SMALL_FAST_MODEL": "h", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "h"}), shell()], {})
    assert messages(same) == []


def test_saved_login_beside_a_gateway_token():
    sources = [src("user", {"ANTHROPIC_BASE_URL": "https://gw.example", "ANTHROPIC_AUTH_TOKEN": TOKEN}), shell()]
    result = analyze(sources, {}, {"oauthAccount": {"emailAddress": "a@b"}}, "/home/.claude.json")
    assert any("/home/.claude.json holds a saved claude.ai login (oauthAccount)" in w for w in messages(result))
    assert messages(analyze(sources, {}, {"hasCompletedOnboarding": True}, "/x")) == []


def test_saved_login_beside_a_base_url_use_wrote_for_auth_login_is_the_users_choice():
    user, record = _active({"ANTHROPIC_BASE_URL": "https://proxy.corp.example", "ANTHROPIC_AUTH_TOKEN": ""})
    login = {"oauthAccount": {"emailAddress": "a@b"}}
    assert messages(analyze([Source("user", "/user.json", user), shell()], {"user": record}, login, "/h")) == []
    by_hand = [src("user", {"ANTHROPIC_BASE_URL": "https://proxy.corp.example"}), shell()]
    assert [w["code"] for w in analyze(by_hand, {}, login, "/h")["warnings"]] == ["saved-login"]


def test_a_broken_file_is_reported_not_fatal():
    result = analyze([Source("project", "/p.json", None, "/p.json:1:2: invalid JSON"), shell()], {})
    assert messages(result) == ["project settings.json: /p.json:1:2: invalid JSON (claude cannot use this file as it is)"]


# --- the command ---------------------------------------------------------------------------------


def test_status_command_end_to_end(isolated_home, profiles_file, monkeypatch, tmp_path):
    monkeypatch.setenv("GW_TOKEN", TOKEN)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-shell-0123456789")
    profiles_file('[profiles.gw]\nbase_url = "https://gw.example/api"\ntoken = "env:GW_TOKEN"\nmodel = "opus"\n'
                  '[profiles.gw.models]\nopus = "big"\n')
    runner = CliRunner()
    assert runner.invoke(app, ["use", "gw"]).exit_code == 0
    managed = Path(os.environ["CCSWITCH_MANAGED_SETTINGS"])
    managed.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://corp.example"}}))
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "user scope: gw since" in result.stdout
    assert "ANTHROPIC_BASE_URL" in result.stdout and "https://corp.example" in result.stdout and "managed settings" in result.stdout
    assert "gw-…cdef" in result.stdout and TOKEN not in result.output
    assert "model (session)" in result.stdout and "opus" in result.stdout
    assert "managed settings overrides the active profile 'gw'" in result.stderr
    assert "your shell exports ANTHROPIC_API_KEY, but user settings blanks it" in result.stderr
    data = json.loads(runner.invoke(app, ["current", "--json"]).stdout)
    assert data["active"]["user"]["profile"] == "gw"
    assert {w["code"] for w in data["warnings"]} == {"override", "shell-api-key"}
    assert next(r for r in data["variables"] if r["name"] == "ANTHROPIC_BASE_URL")["source"] == "managed"
    # `use` itself warns when something higher overrides what it just set
    use = runner.invoke(app, ["use", "gw"])
    assert "managed settings overrides the active profile 'gw'" in use.stderr


# --- one analysis for status and doctor ------------------------------------------------------------


def test_a_shell_export_a_settings_file_beats_is_flagged():
    result = analyze([src("user", {"ANTHROPIC_BASE_URL": "https://a.example"}), shell(ANTHROPIC_BASE_URL="https://b.example")], {})
    assert [(w["code"], w["level"]) for w in result["warnings"]] == [("shell-overridden", "warn")]
    assert "$ANTHROPIC_BASE_URL from your shell is overridden: user settings (/user.json) sets another value" in messages(result)


def test_saved_login_beside_an_api_key_without_a_gateway_url():
    # Interactive claude asks whether to use the key and defaults to "No": the saved login wins.
    result = analyze([src("user"), shell(ANTHROPIC_API_KEY="sk-0123456789abcdef")], {}, {"primaryApiKey": "x"}, "/h/.claude.json")
    assert [w["code"] for w in result["warnings"]] == ["saved-login"]


def test_managed_settings_are_named_once():
    user, record = _active({"ANTHROPIC_BASE_URL": "https://glm.example", "ANTHROPIC_AUTH_TOKEN": TOKEN})
    managed = src("managed", {"ANTHROPIC_BASE_URL": "https://corp.example", "API_TIMEOUT_MS": "1"})
    result = analyze([managed, Source("user", "/user.json", user), shell()], {"user": record})
    assert [w["code"] for w in result["warnings"]] == ["override"]  # ANTHROPIC_BASE_URL: already in the override warning
    alone = analyze([managed, shell()], {})
    assert [w["code"] for w in alone["warnings"]] == ["managed"]
    assert "/managed.json sets ANTHROPIC_BASE_URL:" in messages(alone)[0]


def test_status_and_doctor_report_the_same_conflicts(isolated_home, profiles_file, monkeypatch, tmp_path):
    from ccswitch.health import doctor
    from ccswitch.profiles.presets import presets_dir

    monkeypatch.setenv("GW_TOKEN", TOKEN)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-shell-0123456789")
    monkeypatch.setenv("ANTHROPIC_SMALL_FAST_MODEL", "claude-3-5-haiku")
    profiles_file('[profiles.gw]\nbase_url = "https://gw.example/api"\ntoken = "env:GW_TOKEN"\n')
    runner = CliRunner()
    assert runner.invoke(app, ["use", "gw"]).exit_code == 0
    project = tmp_path / ".claude" / "settings.json"
    project.parent.mkdir()
    project.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://other.example/v1"}}))
    (isolated_home / ".claude.json").write_text(json.dumps({"oauthAccount": {"emailAddress": "a@b"}}))
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    checks = doctor.run_doctor(dict(os.environ), os.getcwd(), presets_dir())
    conflicts = {c.message for c in checks if c.check in set(doctor.CHECK_NAMES.values()) and c.level != "ok"}
    assert conflicts == {w["message"] for w in status["warnings"]}
    assert {w["code"] for w in status["warnings"]} == {"override", "shell-api-key", "shell-overridden", "base-url-v1", "saved-login"}
    assert any(m.startswith("$ANTHROPIC_SMALL_FAST_MODEL from your shell is overridden: user settings (") and m.endswith(") blanks it")
               for m in conflicts)
    [active] = [c for c in checks if c.check == "active profile"]
    assert "project settings.json overrides the active profile 'gw' (user settings) for ANTHROPIC_BASE_URL" in active.message
    assert TOKEN not in json.dumps(status) + repr(checks)


def test_the_same_model_in_a_higher_file_is_not_an_override():
    env = {"ANTHROPIC_BASE_URL": "https://glm.example", "ANTHROPIC_AUTH_TOKEN": TOKEN}
    user, record = _active(env, "sonnet")
    project = src("project-local", env, model="sonnet")  # e.g. `use glm --scope project` too
    assert not [w for w in messages(analyze([project, Source("user", "/user.json", user), shell()], {"user": record}))
                if "sets the model" in w]
    other = src("project-local", env, model="opus")
    assert [w for w in messages(analyze([other, Source("user", "/user.json", user), shell()], {"user": record}))
            if "sets the model to 'opus'" in w]


def test_saved_login_names_the_source_of_each_variable():
    sources = [src("project", {"ANTHROPIC_BASE_URL": "https://gw.example"}), src("user", {"ANTHROPIC_AUTH_TOKEN": TOKEN}), shell()]
    [warning] = messages(analyze(sources, {}, {"oauthAccount": {"emailAddress": "a@b"}}, "/home/.claude.json"))
    assert "ANTHROPIC_AUTH_TOKEN from user settings" in warning
    assert "ANTHROPIC_BASE_URL from project settings.json" in warning


def test_nan_in_a_settings_file_is_reported_like_claude_would(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"env": {}, "x": NaN}')
    data, problem, exists = claude_settings.read_object(str(path))
    assert data is None and exists and "NaN is not a JSON value" in problem


def test_a_rejected_api_key_is_reported():
    key = "sk-ant-0123456789abcdefghijXYZ"
    sources = [src("user", {"ANTHROPIC_API_KEY": key}), shell()]
    result = analyze(sources, {}, {"customApiKeyResponses": {"approved": [], "rejected": [key[-20:]]}}, "/h/.claude.json")
    [warning] = [w for w in result["warnings"] if w["code"] == "rejected-api-key"]
    assert warning["level"] == "fail" and "/h/.claude.json" in warning["message"] and key not in warning["message"]
    approved = analyze(sources, {}, {"customApiKeyResponses": {"approved": [key[-20:]], "rejected": []}}, "/x")
    assert not [w for w in approved["warnings"] if w["code"] == "rejected-api-key"]


def test_an_approved_key_wins_over_a_rejection_as_in_claude():
    key = "sk-ant-0123456789abcdefghijXYZ"
    both = {"customApiKeyResponses": {"approved": [key[-20:]], "rejected": [key[-20:]]}}
    result = analyze([src("user", {"ANTHROPIC_API_KEY": key}), shell()], {}, both, "/x")
    assert not [w for w in result["warnings"] if w["code"] == "rejected-api-key"]
