"""`ccswitch import`: cc-switch, ccs, claude-code-router and claude's own settings, read from files
in each tool's own format (support/import_sources.py), written to profiles.toml with keys in the
OS keyring; other apps' entries skipped and counted; no key ever in profiles.toml or any output."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from support import import_sources as src
from typer.testing import CliRunner

from ccswitch import paths
from ccswitch.claude.variables import NO_TOKEN
from ccswitch.cli.app import app
from ccswitch.importing import cc_switch, ccr, ccs
from ccswitch.profiles.cache import load_profiles
from ccswitch.profiles.keyrings import KEYRING_SERVICE


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["import", *args])
    return result.exit_code, result.stdout, result.stderr


def profiles_text() -> str:
    path = Path(paths.profiles_file(dict(os.environ)))
    return path.read_text() if path.exists() else ""


def assert_no_key_anywhere(*outputs: str) -> None:
    cache = Path(paths.profiles_cache_file(dict(os.environ)))
    places = [profiles_text(), cache.read_text() if cache.exists() else "", *outputs]
    for key in src.KEYS:
        for place in places:
            assert key not in place


@pytest.fixture
def keyring_file(file_keyring):
    return file_keyring


def test_cc_switch_imports_claude_providers_with_keys_in_the_keyring(isolated_home: Path, keyring_file) -> None:
    src.cc_switch_home(isolated_home)
    code, out, err = run("cc-switch")
    assert code == 0, err
    profile_set = load_profiles(dict(os.environ))
    glm = profile_set.get("glm-5.1-zhipu")
    assert (glm.base_url, glm.auth, glm.token, glm.model) == ("https://open.bigmodel.cn/api/anthropic", "bearer",
                                                             "keyring", "glm-5.1")
    assert glm.models == {"opus": "glm-5.1", "sonnet": "glm-5.1", "haiku": "glm-4.5-air"}
    assert glm.env == {"API_TIMEOUT_MS": "3000000"}
    assert glm.description == "imported from cc-switch: GLM 5.1 (Zhipu) (the current provider in cc-switch)"
    kimi = profile_set.get("kimi-for-coding")
    assert (kimi.base_url, kimi.auth, kimi.token) == ("https://api.kimi.com/coding", "x-api-key", "keyring")
    # The keys are in the keyring under the profiles' names, and nowhere else.
    assert keyring_file.get_password(KEYRING_SERVICE, "glm-5.1-zhipu") == src.GLM_KEY
    assert keyring_file.get_password(KEYRING_SERVICE, "kimi-for-coding") == src.KIMI_KEY
    # settings.json's currentProviderClaude (not the database's is_current) is the current one: the default.
    assert profile_set.default == "glm-5.1-zhipu"
    assert "skipped 4: an entry for another app" not in err  # counted by app below
    assert "skipped 2: an entry for another app (codex): OpenAI Official (codex), Codex relay (codex)" in err
    assert "skipped 1: an entry for another app (gemini): Google Official (gemini)" in err
    assert "skipped 1: uses claude's own login" in err
    assert_no_key_anywhere(out, err)
    os.stat(paths.profiles_file(dict(os.environ)))  # written
    assert oct(os.stat(paths.profiles_file(dict(os.environ))).st_mode & 0o777) == "0o600"


def test_a_second_import_changes_nothing_and_a_clash_is_reported_not_overwritten(isolated_home: Path, keyring_file) -> None:
    src.cc_switch_home(isolated_home)
    assert run("cc-switch")[0] == 0
    before = profiles_text()
    mtime = os.stat(paths.profiles_file(dict(os.environ))).st_mtime_ns
    code, out, err = run("cc-switch")
    assert code == 0 and profiles_text() == before
    assert os.stat(paths.profiles_file(dict(os.environ))).st_mtime_ns == mtime
    assert "glm-5.1-zhipu: unchanged" in err and "kimi-for-coding: unchanged" in err
    # The user changed a profile: a new import reports the clash and leaves it; --force replaces it.
    edited = before.replace('model = "kimi-for-coding"', 'model = "my-own-choice"')
    Path(paths.profiles_file(dict(os.environ))).write_text(edited)
    code, out, err = run("cc-switch")
    assert code == 0 and profiles_text() == edited
    assert "kimi-for-coding: not imported (from 'Kimi For Coding'): a profile named 'kimi-for-coding' already " \
           "exists and it differs (--force replaces it)" in err
    code, out, err = run("cc-switch", "--force")
    assert code == 0 and 'model = "my-own-choice"' not in profiles_text()
    assert "kimi-for-coding: replaced" in err
    # A key rotated in the source is a change too.
    keyring_file.set_password(KEYRING_SERVICE, "glm-5.1-zhipu", "sk-old-key-0000000000")
    code, out, err = run("cc-switch")
    assert "its token differs from the one in the OS keyring" in err
    assert_no_key_anywhere(out, err)


def test_dry_run_prints_what_would_be_written_masked_and_changes_nothing(isolated_home: Path, keyring_file) -> None:
    src.cc_switch_home(isolated_home)
    code, out, err = run("cc-switch", "--dry-run", "--prefix", "cs-")
    assert code == 0
    assert not Path(paths.profiles_file(dict(os.environ))).exists()
    assert keyring_file.get_password(KEYRING_SERVICE, "cs-glm-5.1-zhipu") is None
    assert out.startswith('default = "cs-glm-5.1-zhipu"\n')
    assert "[profiles.\"cs-glm-5.1-zhipu\"]" in out and 'token = "keyring"' in out
    assert "cs-glm-5.1-zhipu: would be added (from 'GLM 5.1 (Zhipu)'; its key sk-…cdef would go into the OS keyring" in err
    # --plain-text: the literal would be written, and the dry run shows it masked.
    code, out, err = run("cc-switch", "--dry-run", "--plain-text")
    assert 'token = "sk-…cdef"' in out
    assert_no_key_anywhere(out, err)


def test_plain_text_keeps_keys_in_the_private_file(isolated_home: Path) -> None:
    src.cc_switch_home(isolated_home)
    code, out, err = run("cc-switch", "--plain-text")
    assert code == 0
    assert f'token = "{src.GLM_KEY}"' in profiles_text()
    assert src.GLM_KEY not in out + err


def test_without_a_keyring_nothing_is_written(isolated_home: Path) -> None:
    src.cc_switch_home(isolated_home)  # the autouse fixture leaves only the failing keyring backend
    code, out, err = run("cc-switch")
    assert code != 0 and "no OS keyring is available here" in err and len(err.strip().splitlines()) == 1
    assert not Path(paths.profiles_file(dict(os.environ))).exists()


def _claude_settings_with_a_key(home: Path) -> None:
    user = Path(paths.claude_user_settings(dict(os.environ)))
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic",
                                        "ANTHROPIC_AUTH_TOKEN": src.GLM_KEY}}))


SOURCES_WITH_A_KEY = {"cc-switch": src.cc_switch_home, "ccs": src.ccs_home, "ccr": src.ccr_home,
                      "claude": _claude_settings_with_a_key}


@pytest.mark.parametrize("backend", ["fail", "null"])
@pytest.mark.parametrize("source", sorted(SOURCES_WITH_A_KEY))
def test_a_dry_run_refuses_a_missing_keyring_as_the_import_does(isolated_home: Path, source: str, backend: str) -> None:
    import keyring
    from keyring.backends import fail, null

    keyring.set_keyring(fail.Keyring() if backend == "fail" else null.Keyring())  # the autouse fixture restores fail
    SOURCES_WITH_A_KEY[source](isolated_home)
    dry = run(source, "--dry-run")
    real = run(source)
    assert dry[0] == real[0] != 0
    assert dry[2] == real[2] and len(real[2].strip().splitlines()) == 1
    # The way out an import has is its own option, not the env:/cmd: advice of `token set`.
    assert "no OS keyring is available here" in real[2] and "so no key was stored and nothing was written" in real[2]
    assert real[2].rstrip().endswith("pass --plain-text to keep the keys in profiles.toml (0600) instead")
    assert not Path(paths.profiles_file(dict(os.environ))).exists()
    code, out, err = run(source, "--dry-run", "--plain-text")
    assert code == 0, err
    assert_no_key_anywhere(out, err)


def test_the_user_default_is_kept(isolated_home: Path, keyring_file, profiles_file) -> None:
    profiles_file('default = "glm"\n')
    src.cc_switch_home(isolated_home)
    assert run("cc-switch")[0] == 0
    assert load_profiles(dict(os.environ)).default == "glm"


def test_openai_format_entries_map_to_openai_chat_profiles() -> None:
    """The intended output for OpenAI-format providers (written once profiles have `api`)."""
    row = {"name": "OpenAI GPT", "settings_config": json.dumps(src.CC_SWITCH_ROWS[3][3]),
           "meta": json.dumps({"apiFormat": "openai_chat"})}
    entry, reason = cc_switch._entry(row, False)
    assert reason is None and entry.secret == src.OPENAI_KEY
    assert entry.table == {"api": "openai-chat", "base_url": "https://api.openai.com/v1", "model": "gpt-5.2",
                           "models": {"opus": "gpt-5.2", "sonnet": "gpt-5.2", "haiku": "gpt-5-mini"},
                           "description": "imported from cc-switch: OpenAI GPT"}
    found = ccr.read(str(src_ccr(Path(os.environ["HOME"]))))
    deepseek = ccr._entry({"name": "deepseek", "api_base_url": "https://api.deepseek.com/chat/completions",
                           "api_key": "$DEEPSEEK_API_KEY", "models": ["deepseek-chat", "deepseek-reasoner"]},
                          {"default": ("zai", "glm-5.1"), "think": ("deepseek", "deepseek-reasoner")}, False)
    assert deepseek.table == {"api": "openai-chat", "base_url": "https://api.deepseek.com", "model": "deepseek-chat",
                              "models": {"opus": "deepseek-reasoner", "sonnet": "deepseek-chat", "haiku": "deepseek-chat"},
                              "token": "env:DEEPSEEK_API_KEY", "description": "imported from claude-code-router: deepseek"}
    assert found.tool == "claude-code-router"


def src_ccr(home: Path) -> Path:
    return src.ccr_home(home) / "config.json"


def test_ccr_anthropic_providers_env_references_and_the_router_default(isolated_home: Path, keyring_file) -> None:
    src.ccr_home(isolated_home)
    code, out, err = run("ccr")
    assert code == 0, err
    profile_set = load_profiles(dict(os.environ))
    zai = profile_set.get("zai")
    assert (zai.base_url, zai.auth, zai.token, zai.model) == ("https://api.z.ai/api/anthropic", "bearer", "keyring", "glm-5.1")
    assert zai.models == {"opus": "glm-5.1", "sonnet": "glm-5.1", "haiku": "glm-4.5-air"}
    kimi = profile_set.get("kimi")
    # `${MOONSHOT_API_KEY}` stays a reference; the Anthropic transformer without UseBearer is x-api-key.
    assert (kimi.base_url, kimi.auth, kimi.token) == ("https://api.moonshot.ai/anthropic", "x-api-key", "env:MOONSHOT_API_KEY")
    assert profile_set.default == "zai"
    assert keyring_file.get_password(KEYRING_SERVICE, "zai") == src.CCR_KEY
    assert keyring_file.get_password(KEYRING_SERVICE, "kimi") is None
    assert "ccr-local-server-key" not in profiles_text()
    assert_no_key_anywhere(out, err)


def test_ccs_unified_config(isolated_home: Path, keyring_file) -> None:
    src.ccs_home(isolated_home)
    code, out, err = run("ccs")
    assert code == 0, err
    profile_set = load_profiles(dict(os.environ))
    assert profile_set.get("glm").base_url == "https://api.z.ai/api/anthropic"
    assert profile_set.get("glm").origin == "user" and profile_set.default == "glm"
    assert (profile_set.get("km").auth, profile_set.get("km").token) == ("x-api-key", "keyring")
    assert "skipped 1: an entry for another app (droid): profile droid-glm" in err
    assert "skipped 1: an OAuth account through ccs's CLIProxy" in err
    assert "skipped 1: a separate claude login" in err
    entry = ccs._entry("dashscope-openai", "~/.ccs/dashscope-openai.settings.json", False, os.environ, str(isolated_home))[0]
    assert entry.table["api"] == "openai-chat"
    assert entry.table["base_url"] == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert_no_key_anywhere(out, err)


def test_ccs_legacy_config_json_and_a_newer_config_version(isolated_home: Path, keyring_file) -> None:
    directory = src.ccs_home(isolated_home, legacy=True)
    code, out, err = run("ccs")
    assert code == 0, err
    assert {"glm", "km"} <= set(load_profiles(dict(os.environ)).user)
    assert "skipped 1: claude's own settings.json" in err
    (directory / "config.json").unlink()
    src.ccs_home(isolated_home, version=14)
    code, out, err = run("ccs", "--dry-run")
    assert code == 0
    assert f"{directory / 'config.yaml'}: config version 14 is newer than the 13 ccswitch was checked against" in err


def test_claude_imports_the_env_block_in_force(isolated_home: Path, keyring_file, project: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    user = Path(paths.claude_user_settings(dict(os.environ)))
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic",
                                        "ANTHROPIC_AUTH_TOKEN": src.GLM_KEY, "ANTHROPIC_MODEL": "deepseek-v4-pro"}}))
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.local.json").write_text(json.dumps({"env": {"ANTHROPIC_MODEL": "deepseek-v4-flash"}}))
    monkeypatch.chdir(project)
    code, out, err = run("claude")
    assert code == 0, err
    profile = load_profiles(dict(os.environ)).get("claude-env")
    # The local file's model wins over the user file's, as in claude.
    assert (profile.base_url, profile.model, profile.token) == ("https://api.deepseek.com/anthropic", "deepseek-v4-flash", "keyring")
    assert profile.description == "imported from claude's settings (project settings.local.json, user settings): the env block in force"
    assert_no_key_anywhere(out, err)


def test_ccswitchs_own_placeholder_is_imported_as_no_token(isolated_home: Path, keyring_file) -> None:
    """An env block `use` wrote for a profile without a token holds claude.variables.NO_TOKEN: no key."""
    user = Path(paths.claude_user_settings(dict(os.environ)))
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9/x", "ANTHROPIC_AUTH_TOKEN": NO_TOKEN,
                                        "ANTHROPIC_MODEL": "m"}}))
    code, out, err = run("claude")
    assert code == 0, err
    profile = load_profiles(dict(os.environ)).get("claude-env")
    assert (profile.auth, profile.token) == ("none", None) and NO_TOKEN not in profiles_text()
    assert keyring_file.get_password(KEYRING_SERVICE, "claude-env") is None


def test_unreadable_locked_and_newer_sources_get_one_line_each(isolated_home: Path, keyring_file) -> None:
    directory = src.cc_switch_home(isolated_home, user_version=18)
    code, out, err = run("cc-switch")
    assert code != 0 and err.strip().splitlines() == [
        f"ccswitch: error: {directory / 'cc-switch.db'}: cc-switch database schema 18 is newer than the 17 this "
        "ccswitch reads; nothing imported (update ccswitch)"]
    (directory / "cc-switch.db").unlink()
    src.cc_switch_home(isolated_home)
    holder = sqlite3.connect(directory / "cc-switch.db", timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, out, err = run("cc-switch")
    finally:
        holder.rollback()
        holder.close()
    assert code != 0 and len(err.strip().splitlines()) == 1 and "is locked by another program" in err
    ccr_dir = src.ccr_home(isolated_home)
    (ccr_dir / "config.json").write_text('{"Providers": [ {"name": ')
    code, out, err = run("ccr")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "not JSON ccswitch can read" in err
    if sys.platform != "win32" and os.geteuid() != 0:
        (ccr_dir / "config.json").chmod(0)
        code, out, err = run("ccr")
        assert code != 0 and "cannot read" in err
    code, out, err = run("ccs", str(isolated_home / "nowhere"))
    assert code != 0 and len(err.strip().splitlines()) == 1 and "no ccs config here" in err
    assert not Path(paths.profiles_file(dict(os.environ))).exists()


@pytest.mark.parametrize("prefix", ["bad/", "a b", "x" * 33, "é-"])
def test_a_prefix_no_name_can_hold_is_one_line_and_nothing_is_imported(isolated_home: Path, keyring_file, prefix) -> None:
    src.ccr_home(isolated_home)
    code, out, err = run("ccr", "--prefix", prefix)
    assert (code, out) == (2, "") and err == (f"ccswitch: error: --prefix {prefix!r}: a prefix is part of every "
                                              "profile's name: up to 32 letters, digits, '.', '_' and '-'\n")
    assert profiles_text() == ""


def test_ccr_providers_with_no_endpoint_ccswitch_speaks_are_refused_and_the_import_fails(
        isolated_home: Path, keyring_file) -> None:
    """Gemini's own API (ccr's gemini transformer), no models for an OpenAI endpoint, a key mixing text
    and variables: each named with its reason, the others imported, exit 1 (the README's promise)."""
    config = src.ccr_home(isolated_home) / "config.json"
    data = json.loads(ccr._plain_json(config.read_text()))  # the JSON5 fixture as plain JSON
    data["Providers"] += [
        {"name": "gem", "api_base_url": "https://generativelanguage.googleapis.com/v1beta/models/",
         "api_key": "$GEMINI_API_KEY", "models": ["gemini-2.5-pro"], "transformer": {"use": ["gemini"]}},
        {"name": "empty", "api_base_url": "https://api.example.com/v1/chat/completions", "api_key": "$X_KEY",
         "models": []},
        {"name": "mixed", "api_base_url": "https://api.example.com/v1/chat/completions", "api_key": "sk-${X_KEY}",
         "models": ["m"]},
    ]
    config.write_text(json.dumps(data))
    code, out, err = run("ccr", "--dry-run")
    assert code == 1 and "3 to import, 3 not importable" in err
    assert "not imported 1: uses ccr's gemini transformer (Gemini's own API)" in err and "provider gem" in err
    assert "not imported 1: no models: claude would send its own model names" in err and "provider empty" in err
    assert "not imported 1: its api_key mixes text and variables" in err and "provider mixed" in err
    assert profiles_text() == ""  # a dry run
    code, _, err = run("ccr")
    assert code == 1 and set(load_profiles(dict(os.environ)).user) == {"deepseek", "zai", "kimi"}


def test_an_entry_that_cannot_be_a_profile_makes_the_import_fail(isolated_home: Path, keyring_file) -> None:
    home = src.ccr_home(isolated_home)
    config = home / "config.json"
    config.write_text(config.read_text().replace("https://", "https://user:pw@", 1))
    code, _, err = run("ccr")
    assert code == 1 and "not imported" in err and "holds a user name or password" in err and ":pw@" not in err


def run_whole(*args: str) -> tuple[int, str, str]:
    """run(), failing on any exception the command let through (CliRunner catches them)."""
    result = CliRunner().invoke(app, ["import", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_other_tools_files_of_unexpected_shapes_are_lines_not_tracebacks(isolated_home: Path, keyring_file) -> None:
    """Edited or damaged files of the other tools: a ccs `cliproxy: x` (AttributeError), `accounts: 5`
    (TypeError), a ccr provider's `"models": 5` (TypeError), a cc-switch apiFormat of [1] (unhashable),
    and JSON nested past Python's recursion (RecursionError) were tracebacks."""
    ccs_dir = src.ccs_home(isolated_home)
    config = (ccs_dir / "config.yaml").read_text()
    for extra in ("cliproxy: x\n", "cliproxy: [1]\n", "cliproxy:\n  variants: 5\n", "accounts: 5\n"):
        (ccs_dir / "config.yaml").write_text(config + extra)
        code, out, err = run_whole("ccs", "--dry-run")
        assert code in (0, 1), (extra, err)
    (ccs_dir / "config.yaml").write_text(config)
    (ccs_dir / "glm.settings.json").write_text("[" * 100_000)
    code, out, err = run_whole("ccs", "--dry-run")
    assert "glm.settings.json cannot be read" in out + err
    ccr_dir = src.ccr_home(isolated_home)
    config_json = (ccr_dir / "config.json").read_text()
    (ccr_dir / "config.json").write_text(config_json.replace('"models": ["kimi-k2.5"]', '"models": 5'))
    code, out, err = run_whole("ccr", "--dry-run")
    assert "kimi" in out + err
    (ccr_dir / "config.json").write_text("[" * 100_000)
    code, out, err = run_whole("ccr", "--dry-run")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "not JSON ccswitch can read" in err
    directory = src.cc_switch_home(isolated_home)
    db = sqlite3.connect(directory / "cc-switch.db")
    db.execute("UPDATE providers SET meta = ?", (json.dumps({"apiFormat": [1]}),))
    db.execute("UPDATE providers SET settings_config = ? WHERE rowid = 1", ("[" * 100_000,))
    db.commit()
    db.close()
    code, out, err = run_whole("cc-switch", "--dry-run")
    assert not Path(paths.profiles_file(dict(os.environ))).exists()


def test_a_key_or_name_no_utf8_file_can_hold_is_refused_not_a_traceback(isolated_home: Path) -> None:
    """json reads "\\udc00" without its pair: `import --plain-text` failed writing the profiles file."""
    ccr_dir = src.ccr_home(isolated_home)
    text = (ccr_dir / "config.json").read_text().replace('"api_key": "$DEEPSEEK_API_KEY"',
                                                          '"api_key": "sk-refused-canary\\udc00"')
    (ccr_dir / "config.json").write_text(text)
    code, out, err = run_whole("ccr", "--plain-text")
    assert code == 1 and "deepseek" in err and "without its pair" in err, err
    written = Path(paths.profiles_file(dict(os.environ))).read_text()
    assert "\udc00" not in written and "refused-canary" not in written + out + err  # the refused key goes nowhere
