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
