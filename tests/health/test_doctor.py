"""`ccswitch doctor` on crafted homes: one test per check."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccswitch.claude.precedence import Effective
from ccswitch.claude.sources import SHELL, Source
from ccswitch.cli.app import app
from ccswitch.findings import FAIL, OK, WARN, Finding
from ccswitch.health import doctor
from ccswitch.health.doctor import conflict_checks

runner = CliRunner()


# --------------------------------------------------------------------------------------------
# helpers


def script(path: Path, output: str, status: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{output}'\nexit {status}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch) -> Path:
    """A PATH holding only a working `claude` (not from npm)."""
    bin_dir = tmp_path / "bin"
    script(bin_dir / "claude", "2.1.330 (Claude Code)")
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def checks_named(name: str, env: dict | None = None) -> list[Finding]:
    env = dict(os.environ) if env is None else env
    from ccswitch.profiles.presets import presets_dir

    return [c for c in doctor.run_doctor(env, os.getcwd(), presets_dir()) if c.check == name]


def one(name: str) -> Finding:
    [check] = checks_named(name)
    return check


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def user_settings(home: Path) -> Path:
    return home / ".claude" / "settings.json"


def managed_settings() -> Path:
    return Path(os.environ["CCSWITCH_MANAGED_SETTINGS"])


# --------------------------------------------------------------------------------------------
# claude and node


def test_claude_missing_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    check = one("claude")
    assert check.level == FAIL and "not found on PATH" in check.message and "npm install" in check.fix


def test_claude_on_path_with_version(fake_bin):
    check = one("claude")
    assert check.level == OK and check.message.endswith(": 2.1.330 (Claude Code)")
    assert checks_named("node") == []  # not an npm install: node is not claude's business


def test_ccswitch_claude_override_runs_the_real_binary(claude_bin, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CCSWITCH_CLAUDE", str(claude_bin))
    check = one("claude")
    assert check.level == OK and "(from $CCSWITCH_CLAUDE)" in check.message and "2.1.330" in check.message


def test_claude_version_failing(tmp_path, monkeypatch):
    script(tmp_path / "bin" / "claude", "claude native binary not installed", status=1)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    check = one("claude")
    assert check.level == FAIL and "exit status 1: claude native binary not installed" in check.message


@pytest.fixture
def npm_claude(tmp_path, monkeypatch) -> Path:
    package = script(tmp_path / "lib" / "node_modules" / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe", "2.1.330 (Claude Code)")
    bin_dir = tmp_path / "npmbin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(package)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def package_json(npm_claude: Path, engines: dict | None) -> None:
    package = (npm_claude / "claude").resolve().parent.parent / "package.json"
    data = {"name": "@anthropic-ai/claude-code", "version": "2.1.330", "bin": {"claude": "bin/claude.exe"}}
    if engines is not None:
        data["engines"] = engines
    package.write_text(json.dumps(data))


@pytest.mark.parametrize(("version", "engines", "status", "says"), [
    ("v20.20.2", {"node": ">=22.0.0"}, WARN, "below what claude 2.1.330 declares (package.json engines: node >=22.0.0)"),
    ("v22.3.0", {"node": ">=22.0.0"}, OK, "node v22.3.0 (claude 2.1.330 asks for >=22.0.0)"),
    ("v20.20.2", {"node": ">=18.0.0"}, OK, "node v20.20.2 (claude 2.1.330 asks for >=18.0.0)"),
    ("v20.20.2", {"node": "^20.19.0 || >=22.12.0"}, OK, "asks for ^20.19.0 || >=22.12.0"),
    ("v20.18.0", {"node": "^20.19.0 || >=22.12.0"}, WARN, "engines: node ^20.19.0 || >=22.12.0"),
    ("v20.20.2", None, OK, "node v20.20.2"),
])
def test_node_is_checked_against_the_installed_packages_engines(npm_claude, version, engines, status, says):
    """claude 2.1.330 installs and runs on Node 20 (npm only warns): the check reads the package's
    own `engines` instead of a version remembered in ccswitch."""
    script(npm_claude / "node", version)
    package_json(npm_claude, engines)
    check = one("node")
    assert check.level == status and says in check.message, check.message
    assert "2.1.197" not in check.message
    if status == WARN:
        assert check.fix == f"upgrade Node.js to {engines['node']}"


@pytest.mark.parametrize(("version", "spec", "expected"), [
    ("v22.0.0", ">=22.0.0", True), ("v21.9.9", ">=22.0.0", False), ("v18.4.1", "18.x", True),
    ("v19.0.0", "18.x", False), ("v20.1.0", "~20.1.0", True), ("v20.2.0", "~20.1.0", False),
    ("v20.5.0", ">=18 <21", True), ("v21.0.0", ">=18 <21", False), ("v20.0.0", "latest", None),
])
def test_engines_ranges(version, spec, expected):
    from ccswitch.health.doctor import satisfies

    assert satisfies(version, spec) is expected


def test_node_missing_for_npm_claude(npm_claude):
    check = one("node")
    assert check.level == WARN and "node is not on PATH" in check.message


# --------------------------------------------------------------------------------------------
# the profiles file


def test_no_profiles_file_is_fine(fake_bin):
    check = one("profiles file")
    assert check.level == OK and "not present" in check.message


def test_a_profiles_file_symlink_loop_fails(fake_bin, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "profiles.toml").symlink_to("profiles.toml")
    check = one("profiles file")
    assert check.level == FAIL and check.message == f"{config_dir / 'profiles.toml'}: cannot read: a symlink loop"


def test_profiles_file_syntax_error_fails_with_line(fake_bin, profiles_file):
    path = profiles_file('[profiles.a]\nbase_url = "http://x"\nauth = \n')
    check = one("profiles file")
    assert check.level == FAIL and check.message.startswith(f"{path}:3: invalid TOML")
    assert checks_named("extends") == []


def test_profiles_file_unknown_key_fails(fake_bin, profiles_file):
    profiles_file('[profiles.a]\nbase_ur = "http://x"\n')
    check = one("profiles file")
    assert check.level == FAIL and 'unknown key \'base_ur\' (did you mean "base_url"?)' in check.message


def test_private_profiles_file_is_ok(fake_bin, profiles_file):
    profiles_file('[profiles.a]\nextends = "glm"\n').parent.chmod(0o700)
    assert one("profiles private").level == OK


def test_readable_profiles_file_warns(fake_bin, profiles_file):
    path = profiles_file('[profiles.a]\nextends = "glm"\n')
    path.parent.chmod(0o700)
    path.chmod(0o644)
    check = one("profiles private")
    assert check.level == WARN and "is 644" in check.message and check.fix == f"chmod 600 {path}"


def test_readable_file_with_plain_token_fails(fake_bin, profiles_file):
    path = profiles_file('[profiles.a]\nextends = "glm"\ntoken = "sk-plain-0123456789"\n')
    path.parent.chmod(0o755)
    check = one("profiles private")
    assert check.level == FAIL and "plain-text tokens" in check.message and f"chmod 700 {path.parent}" in check.fix
    assert "sk-plain" not in check.message + check.fix


def test_unknown_extends_fails(fake_bin, profiles_file):
    profiles_file('[profiles.a]\nextends = "glmm"\n')
    [check] = checks_named("extends")
    assert check.level == FAIL and "extends: unknown profile 'glmm'" in check.message and '"glm"' in check.message


def test_unknown_default_fails(fake_bin, profiles_file):
    profiles_file('default = "nope"\n[profiles.a]\nextends = "glm"\n')
    [check] = checks_named("extends")
    assert check.level == FAIL and "default: no profile named 'nope'" in check.message


def test_extends_ok(fake_bin, profiles_file):
    profiles_file('[profiles.a]\nextends = "glm"\n[profiles.b]\nextends = "a"\n')
    assert one("extends").level == OK


def test_missing_token_variable_warns_and_fails_for_the_default(fake_bin, profiles_file, monkeypatch):
    monkeypatch.delenv("ZHIPU_API_KEY", raising=False)
    profiles_file('[profiles.a]\nextends = "glm"\n')
    check = one("token")
    assert check.level == WARN and "profile 'a': token missing (ZHIPU_API_KEY is not set)" == check.message
    profiles_file('default = "a"\n[profiles.a]\nextends = "glm"\n')
    assert one("token").level == FAIL
    monkeypatch.setenv("ZHIPU_API_KEY", "sk-0123456789abcdef")
    assert one("token").level == OK


def test_keyring_check_only_when_a_profile_uses_it(fake_bin, profiles_file, monkeypatch):
    profiles_file('[profiles.a]\nextends = "glm"\n')
    assert checks_named("keyring") == []
    profiles_file('[profiles.a]\nextends = "glm"\ntoken = "keyring:ccswitch/a"\n')
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails
    check = one("keyring")
    assert check.level == FAIL and "keyring package is missing" in check.message


def test_keyring_backend_reported(fake_bin, profiles_file, monkeypatch, file_keyring, isolated_home):
    import keyring
    from keyring.backends import fail, null
    from support.keyring_backend import use_test_keyring

    profiles_file('[profiles.a]\nextends = "glm"\ntoken = "keyring:ccswitch/a"\n')
    check = one("keyring")
    assert (check.level, check.message) == (OK, "backend support.keyring_backend.FileKeyring")
    keyring.set_keyring(fail.Keyring())
    check = one("keyring")
    assert check.level == FAIL and "its backend (keyring.backends.fail.Keyring) is no keyring at all" in check.message
    assert "Secret Service" in check.fix and "env:VAR" in check.fix
    keyring.set_keyring(null.Keyring())
    assert "(keyring.backends.null.Keyring) stores nothing" in one("keyring").message
    plain = use_test_keyring(monkeypatch, isolated_home, "PlaintextKeyring")  # as keyrings.alt's is named
    check = one("keyring")
    assert check.level == WARN and check.message == (
        f"the keyring backend support.keyring_backend.PlaintextKeyring keeps tokens in plain text (not encrypted) in "
        f"{plain.file_path}: anyone who can read it can use them")
    assert "pip uninstall keyrings.alt" in check.fix


# --------------------------------------------------------------------------------------------
# Claude's settings files


@pytest.mark.parametrize("label", ["user", "project", "local", "managed"])
def test_each_settings_file_must_parse(fake_bin, isolated_home, tmp_path, label):
    path = {
        "user": user_settings(isolated_home),
        "project": tmp_path / ".claude" / "settings.json",
        "local": tmp_path / ".claude" / "settings.local.json",
        "managed": managed_settings(),
    }[label]
    write_json(path, '{\n  "env": {\n    "A": "1",\n  }\n}\n')
    check = one(f"{label} settings")
    assert check.level == FAIL and check.message.startswith(f"{path}: line 4, column 3: invalid JSON")
    write_json(path, {"env": {"A": "1"}})
    assert one(f"{label} settings").level == OK


def test_settings_env_must_be_an_object(fake_bin, isolated_home):
    write_json(user_settings(isolated_home), {"env": ["ANTHROPIC_BASE_URL"]})
    check = one("user settings")
    assert check.level == FAIL and '"env" must be an object' in check.message


def test_home_as_project_reports_the_user_file_once(fake_bin, isolated_home, monkeypatch):
    from ccswitch.profiles.presets import presets_dir

    monkeypatch.chdir(isolated_home)
    names = [c.check for c in doctor.run_doctor(dict(os.environ), str(isolated_home), presets_dir())]
    assert names.count("user settings") == 1 and "project settings" not in names


# --------------------------------------------------------------------------------------------
# conflicts (pure: parsed settings and env in)


SOURCE_NAMES = {"local": "project-local"}  # doctor's check labels -> claude.sources names


def source(label: str, env: dict) -> Source:
    return Source(SOURCE_NAMES.get(label, label), f"/{label}/settings.json", {"env": env})


def test_no_conflicts_is_one_ok():
    [check] = conflict_checks([source("user", {"ANTHROPIC_MODEL": "x"})], {}, {})
    assert (check.check, check.level) == ("conflicts", OK)


def test_shell_variable_overridden_by_settings():
    checks = conflict_checks([source("user", {"ANTHROPIC_BASE_URL": "https://a.example"})], {"ANTHROPIC_BASE_URL": "https://b.example"}, None)
    [check] = [c for c in checks if c.check == "shell vs settings"]
    assert check.level == WARN and "$ANTHROPIC_BASE_URL from your shell is overridden: user settings (/user/settings.json)" in check.message


def test_shell_variable_blanked_by_settings_and_same_value_is_fine():
    blanked = conflict_checks([source("project", {"ANTHROPIC_AUTH_TOKEN": ""})], {"ANTHROPIC_AUTH_TOKEN": "t"}, None)
    assert "blanks it" in blanked[0].message
    same = conflict_checks([source("user", {"ANTHROPIC_MODEL": "m"})], {"ANTHROPIC_MODEL": "m"}, None)
    assert [c.check for c in same] == ["conflicts"]


def test_both_auth_variables_set_anywhere():
    checks = conflict_checks([source("user", {"ANTHROPIC_AUTH_TOKEN": "sk-a-0123456789"})], {"ANTHROPIC_API_KEY": "sk-b-0123456789"}, None)
    [check] = [c for c in checks if c.check == "auth variables"]
    assert check.level == FAIL
    assert "ANTHROPIC_AUTH_TOKEN (user settings (/user/settings.json)) and ANTHROPIC_API_KEY (shell)" in check.message
    assert "sk-" not in check.message
    # Blanked by a higher file: not a conflict.
    checks = conflict_checks([source("local", {"ANTHROPIC_API_KEY": ""}), source("user", {"ANTHROPIC_AUTH_TOKEN": "t"})],
                             {"ANTHROPIC_API_KEY": "k"}, None)
    assert not [c for c in checks if c.check == "auth variables"]


def test_managed_settings_override():
    checks = conflict_checks([source("managed", {"ANTHROPIC_BASE_URL": "https://corp.example", "OTHER": "1"})], {}, None)
    [check] = [c for c in checks if c.check == "managed override"]
    assert check.level == WARN and "sets ANTHROPIC_BASE_URL:" in check.message and "OTHER" not in check.message


def test_stale_small_fast_model():
    checks = conflict_checks([source("user", {"ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air"})], {}, None)
    [check] = [c for c in checks if c.check == "small fast model"]
    assert check.level == WARN and "claude-3-5-haiku" in check.message and "glm-4.5-air" in check.message
    same = conflict_checks([source("user", {"ANTHROPIC_SMALL_FAST_MODEL": "h", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "h"})], {}, None)
    assert [c.check for c in same] == ["conflicts"]


def test_base_url_ending_in_v1():
    checks = conflict_checks([], {"ANTHROPIC_BASE_URL": "https://gw.example/api/v1/"}, None)
    [check] = [c for c in checks if c.check == "base URL"]
    assert check.level == FAIL and "(shell) ends in /v1" in check.message and "your shell" in check.fix


def test_saved_login_beside_gateway_token():
    state = {"oauthAccount": {"emailAddress": "me@example.com"}, "hasCompletedOnboarding": True}
    checks = conflict_checks([source("user", {"ANTHROPIC_AUTH_TOKEN": "t", "ANTHROPIC_BASE_URL": "https://gw.example"})], {}, state)
    [check] = [c for c in checks if c.check == "saved login"]
    assert check.level == WARN and "oauthAccount" in check.message and "me@example.com" not in check.message
    assert [c.check for c in conflict_checks([], {}, state)] == ["conflicts"]
    assert [c.check for c in conflict_checks([], {"ANTHROPIC_API_KEY": "k"}, {"primaryApiKey": "x"})] == ["saved login"]


def test_effective_environment_precedence():
    sources = [source("managed", {}), source("local", {"ANTHROPIC_MODEL": "local"}), source("user", {"ANTHROPIC_MODEL": "user", "ANTHROPIC_BASE_URL": ""})]
    shell = Source(SHELL, None, {"ANTHROPIC_MODEL": "shell", "ANTHROPIC_BASE_URL": "https://shell.example"})
    effective = Effective([*sources, shell])
    assert (effective.value("ANTHROPIC_MODEL"), effective.winner("ANTHROPIC_MODEL").where()) == (
        "local", "project settings.local.json (/local/settings.json)")
    assert effective.value("ANTHROPIC_BASE_URL") == ""  # blanked by a settings file


def test_conflicts_read_from_crafted_home(fake_bin, isolated_home, monkeypatch):
    write_json(user_settings(isolated_home), {"env": {"ANTHROPIC_BASE_URL": "https://gw.example/v1"}})
    write_json(managed_settings(), {"env": {"ANTHROPIC_API_KEY": "k"}})
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "t")
    from ccswitch.profiles.presets import presets_dir

    names = {c.check: c.level for c in doctor.run_doctor(dict(os.environ), os.getcwd(), presets_dir())}
    assert names["base URL"] == FAIL and names["managed override"] == WARN and names["managed settings"] == OK and names["auth variables"] == FAIL


# --------------------------------------------------------------------------------------------
# onboarding


def test_onboarding_missing_warns(fake_bin, isolated_home):
    check = one("onboarding")
    assert check.level == WARN and "first-run screens" in check.message and "hasCompletedOnboarding" in check.fix


def test_onboarding_done(fake_bin, isolated_home):
    write_json(isolated_home / ".claude.json", {"hasCompletedOnboarding": True})
    assert one("onboarding").level == OK


def test_onboarding_in_claude_config_dir(fake_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cc"))
    write_json(tmp_path / "cc" / ".claude.json", {"hasCompletedOnboarding": False})
    check = one("onboarding")
    assert check.level == WARN and "is not set" in check.message


# --------------------------------------------------------------------------------------------
# the command


def test_doctor_command_table_and_exit_status(fake_bin, isolated_home):
    write_json(isolated_home / ".claude.json", {"hasCompletedOnboarding": True})
    result = runner.invoke(app, ["doctor"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0].split()
    assert first[:2] == ["OK", "claude"]
    write_json(user_settings(isolated_home), {"env": {"ANTHROPIC_BASE_URL": "https://gw.example/v1"}})
    result = runner.invoke(app, ["doctor"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "FAIL  base URL" in result.stdout and "fix: drop the trailing /v1 in user settings" in result.stdout


def test_doctor_json(fake_bin, isolated_home):
    write_json(user_settings(isolated_home), "{broken")
    result = runner.invoke(app, ["doctor", "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    statuses = {c["name"]: c["status"] for c in data["checks"]}
    assert statuses["user settings"] == FAIL and statuses["claude"] == OK and statuses["onboarding"] == WARN
    assert all(set(c) == {"name", "status", "message", "fix"} for c in data["checks"])


def test_doctor_never_prints_a_token(fake_bin, isolated_home, monkeypatch):
    secret = "sk-very-secret-0123456789"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    write_json(user_settings(isolated_home), {"env": {"ANTHROPIC_AUTH_TOKEN": secret + "x"}})
    result = runner.invoke(app, ["doctor", "--json"], catch_exceptions=False)
    assert "auth variables" in result.stdout and secret not in result.stdout



# --------------------------------------------------------------------------------------------
# token references of every kind (secrets.reference_kind: `keyring`, `keyring:ENTRY`, `cmd:`)


@pytest.mark.parametrize("ref", ["keyring", "keyring:shared-entry"])
def test_keyring_check_for_bare_and_named_keyring_references(fake_bin, profiles_file, monkeypatch, ref):
    profiles_file(f'[profiles.a]\nextends = "glm"\ntoken = "{ref}"\n')
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails
    check = one("keyring")
    assert check.level == FAIL and "profiles a use the keyring" in check.message


@pytest.mark.parametrize("ref", ["keyring", "cmd:pass show a"])
def test_keyring_and_cmd_tokens_are_neither_missing_nor_plain_text(fake_bin, profiles_file, tmp_path, ref):
    marker = tmp_path / "ran"
    path = profiles_file(f'default = "a"\n[profiles.a]\nextends = "glm"\ntoken = "{ref}"\n'.replace("pass show a", f"touch {marker}"))
    path.chmod(0o644)
    assert one("token").level == OK
    assert one("profiles private").level == WARN  # untidy, but no token in the file
    assert not marker.exists()  # doctor never runs a token command


def test_an_env_token_no_header_can_carry_is_reported_without_its_value(fake_bin, profiles_file, monkeypatch):
    monkeypatch.setenv("ZHIPU_API_KEY", "sk-0123456789\x07abcdef")
    profiles_file('default = "a"\n[profiles.a]\nextends = "glm"\n')
    check = one("token")
    assert check.level == FAIL and check.message == (
        "profile 'a': token unusable ($ZHIPU_API_KEY holds a control or non-ASCII character)")
    monkeypatch.setenv("ZHIPU_API_KEY", "sk-0123456789abcdef\r")  # a Windows line end is stripped, as claude does
    assert one("token").level == OK


def test_a_price_usage_cannot_read_fails_naming_the_line(fake_bin, profiles_file):
    profiles_file('[profiles.a]\nextends = "glm"\n')
    assert checks_named("prices") == []  # no prices of yours: not even looked at
    path = profiles_file('[profiles.a]\nextends = "glm"\n[profiles.a.prices."m-1"]\ninput = "cheap"\noutput = 1\n'
                         'currency = "USD"\n')
    check = one("prices")
    assert check.level == FAIL and check.message == (f"{path}:3: [profiles.a] prices.\"m-1\": input must be a number "
                                                     ">= 0, not 'cheap'")
    profiles_file('[profiles.a]\nextends = "glm"\n[profiles.a.prices."m-1"]\ninput = 1\noutput = 2\ncurrency = "USD"\n')
    assert one("prices").level == OK
