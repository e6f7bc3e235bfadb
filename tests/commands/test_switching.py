"""`status` and `restore --list` as people read them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ccswitch.cli.app import app


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_status_after_the_active_profile_was_removed_says_so(setup):
    assert invoke("use", "alpha").exit_code == 0
    assert invoke("remove", "alpha", "--force").exit_code == 0
    result = invoke("status")
    assert result.exit_code == 0
    user_line = next(line for line in result.stdout.splitlines() if line.startswith("user scope:"))
    assert "alpha (no such profile any more)" in user_line
    assert "profile 'alpha' from `ccswitch use`, but no profile of that name exists any more" in result.stderr
    assert "`ccswitch off` takes its values out" in result.stderr
    data = json.loads(invoke("status", "--json").stdout)
    assert data["missing_profiles"] == ["alpha"]
    assert any(w["code"] == "active-profile-gone" for w in data["warnings"])


def test_status_of_an_existing_active_profile_has_no_such_warning(setup):
    assert invoke("use", "alpha").exit_code == 0
    result = invoke("status")
    assert "no such profile" not in result.stdout + result.stderr


def test_doctor_names_a_removed_active_profile_too(setup, fake_claude, monkeypatch):
    monkeypatch.setenv("CCSWITCH_CLAUDE", str(fake_claude))
    assert invoke("use", "alpha").exit_code == 0
    assert invoke("remove", "alpha", "--force").exit_code == 0
    checks = json.loads(invoke("doctor", "--json").stdout)["checks"]
    gone = [c for c in checks if c["name"] == "active profile"]
    assert len(gone) == 1 and gone[0]["status"] == "warn" and "'alpha'" in gone[0]["message"]


def test_settings_nested_too_deeply_are_reported_not_a_traceback(setup, isolated_home):
    """Python's json reads nesting recursively; claude's JSON.parse reads far deeper. A file (user
    settings, claude's own .claude.json) nested past Python's limit is reported, and `use` leaves it."""
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    setup.write_text(deep)
    status = CliRunner().invoke(app, ["status"])
    assert status.exception is None or isinstance(status.exception, SystemExit), status.exception
    assert "nested too deeply" in status.stdout + status.stderr
    use = CliRunner().invoke(app, ["use", "alpha"])
    assert use.exit_code == 2 and isinstance(use.exception, SystemExit), use.exception
    assert use.stderr == f"ccswitch: error: {setup}: invalid JSON: objects or arrays nested too deeply to read\n"
    assert setup.read_text() == deep
    setup.write_text("{}")
    (isolated_home / ".claude.json").write_text(deep)
    use = CliRunner().invoke(app, ["use", "alpha"])
    assert use.exit_code == 0 and "not valid JSON" in use.stderr, use.stderr
    assert (isolated_home / ".claude.json").read_text() == deep


def test_status_shows_no_credential_written_into_a_url(isolated_home):
    # Not from a profile (the profiles file refuses one): a settings file another tool wrote.
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://user:sk-CANARY-0123456789@127.0.0.1:9/x"}}))
    for args in (["status"], ["status", "--json"], ["doctor"], ["doctor", "--json"]):
        result = invoke(*args)
        assert "CANARY" not in result.stdout + result.stderr, args
    assert "http://***@127.0.0.1:9/x" in invoke("status").stdout


def test_list_says_a_token_that_cannot_be_sent_is_unusable_not_unset(profiles_file, monkeypatch):
    profiles_file('[profiles.x]\nbase_url = "http://127.0.0.1:9"\ntoken = "env:XT"\n')
    monkeypatch.setenv("XT", "sk-0123\x01456789abcdef")
    row = next(line for line in invoke("list", "--wide").stdout.splitlines() if line.startswith("x "))
    assert row.endswith("unusable ($XT)") and "unset" not in row
