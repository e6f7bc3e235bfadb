"""add, edit, remove, rename, token: end to end through the CLI, with the files they leave."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccswitch.cli import manage as cli_manage
from ccswitch.cli.app import app

CANARY = "sk-canary-0a1b2c3d4e5f6789"

COMMENTED = """\
# my profiles, hand-written
schema = 1

# the gateway at work
[profiles.work]   # keep me
base_url = "https://gw.example.com/anthropic"
token = "env:WORK_KEY"   # exported in .zshrc

[profiles.work.models]
opus = "big"
"""


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private(path: Path) -> None:
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


# -- add ------------------------------------------------------------------------------------------


def test_add_with_flags_writes_a_private_file(config_dir: Path) -> None:
    result = invoke(
        "add", "gw", "--base-url", "https://gw.example.com", "--auth", "x-api-key", "--token-env", "GW_KEY",
        "--model", "sonnet", "--opus", "o", "--sonnet", "s", "--haiku", "h", "--env", "API_TIMEOUT_MS=600000",
    )
    assert result.exit_code == 0, result.output
    path = config_dir / "profiles.toml"
    assert path.read_text() == (
        'schema = 1\n\n[profiles.gw]\nbase_url = "https://gw.example.com"\nauth = "x-api-key"\n'
        'token = "env:GW_KEY"\nmodel = "sonnet"\n\n[profiles.gw.models]\nopus = "o"\nsonnet = "s"\nhaiku = "h"\n\n'
        '[profiles.gw.env]\nAPI_TIMEOUT_MS = "600000"\n'
    )
    assert_private(path)
    assert "added profile 'gw'" in result.stderr


def test_add_keeps_comments_byte_for_byte(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    assert invoke("add", "mine", "--extends", "glm", "--token-cmd", "pass show zhipu").exit_code == 0
    assert path.read_text().startswith(COMMENTED)
    assert path.read_text().endswith('[profiles.mine]\nextends = "glm"\ntoken = "cmd:pass show zhipu"\n')


def test_add_token_stdin_goes_to_the_keyring(config_dir: Path, file_keyring) -> None:  # type: ignore[no-untyped-def]
    result = invoke("add", "mine", "--preset", "glm", "--token-stdin", input=CANARY + "\n")
    assert result.exit_code == 0, result.output
    assert 'token = "keyring"' in (config_dir / "profiles.toml").read_text()
    assert file_keyring.get_password("ccswitch", "mine") == CANARY
    assert CANARY not in result.output + result.stderr


def test_add_token_stdin_plain_text(config_dir: Path) -> None:
    result = invoke("add", "mine", "--preset", "glm", "--token-stdin", "--plain-text", input=CANARY + "\n")
    assert result.exit_code == 0, result.output
    path = config_dir / "profiles.toml"
    assert f'token = "{CANARY}"' in path.read_text()
    assert_private(path)
    listed = invoke("list")
    assert "plain text" in listed.stdout and CANARY not in listed.stdout


def test_add_without_a_keyring_backend_fails_cleanly_and_writes_nothing(config_dir: Path) -> None:
    result = invoke("add", "mine", "--preset", "glm", "--token-stdin", input=CANARY + "\n")
    assert result.exit_code == 1
    assert "no OS keyring is available" in result.stderr and "--token-env MINE_API_KEY" in result.stderr
    assert not (config_dir / "profiles.toml").exists()


def test_add_refuses_an_existing_name_unless_forced(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    result = invoke("add", "work", "--extends", "glm")
    assert result.exit_code == 2
    assert "profile 'work' already exists" in result.stderr and "--force" in result.stderr
    assert path.read_text() == COMMENTED
    assert invoke("add", "work", "--extends", "glm", "--force").exit_code == 0
    assert path.read_text() == '# my profiles, hand-written\nschema = 1\n\n[profiles.work]\nextends = "glm"\n'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "https://gw.example.com/v1"], "ends in /v1"),
        (["--base-url", "ftp://x"], "is not an http(s) URL"),
        (["--extends", "nosuch"], "unknown profile 'nosuch'"),
        (["--extends", "glm", "--auth", "basic"], "--auth 'basic'"),
        (["--extends", "glm", "--env", "NOEQUALS"], "NAME=VALUE"),
        (["--extends", "glm", "--env", "ANTHROPIC_API_KEY=x"], "put credentials in the profile's `token` field"),
        (["--extends", "glm", "--token-env", "A", "--token-cmd", "b"], "only one of"),
        ([], "give --extends PRESET"),
        (["--base-url", "http://h.example.com", "--token-env", "A B"], "token: 'env:A B' does not name an environment variable"),
        (["--extends", "glm", "--token-env", ""], "--token-env is empty"),
        (["--extends", "glm", "--token-cmd", ""], "--token-cmd is empty"),
        (["--extends", "glm", "--token-cmd", "  "], "--token-cmd is empty"),
        (["--extends", "glm", "--opus", ""], "--opus is empty"),
        (["--extends", "glm", "--model", ""], "--model is empty"),
        (["--extends", ""], "--extends is empty"),
        (["--base-url", ""], "--base-url is empty"),
        (["--extends", "glm", "--description", ""], "--description is empty"),
    ],
)
def test_add_rejects_bad_input_and_writes_nothing(profiles_file, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    result = invoke("add", "new", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_text() == COMMENTED


def test_add_bad_name() -> None:
    result = invoke("add", "bad name", "--extends", "glm")
    assert result.exit_code == 2 and "bad profile name" in result.stderr


def test_malformed_file_is_never_rewritten(profiles_file) -> None:  # type: ignore[no-untyped-def]
    broken = COMMENTED + "\n[profiles.bad]\nbase_url = 3\n"
    path = profiles_file(broken)
    for args in (["add", "x", "--extends", "glm"], ["remove", "work"], ["rename", "work", "w2"], ["edit", "work"]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "base_url: must be a string" in result.stderr
        assert path.read_text() == broken


def test_add_prompts_in_a_terminal(monkeypatch: pytest.MonkeyPatch, config_dir: Path, file_keyring) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli_manage, "_stdin_is_terminal", lambda: True)
    # preset (none), base URL, opus, sonnet, haiku, then the hidden token
    result = invoke("add", "gw", input=f"\nhttps://gw.example.com\nbig\nmid\n\n{CANARY}\n")
    assert result.exit_code == 0, result.output
    text = (config_dir / "profiles.toml").read_text()
    assert 'base_url = "https://gw.example.com"' in text and 'opus = "big"' in text and "haiku" not in text
    assert 'token = "keyring"' in text
    assert file_keyring.get_password("ccswitch", "gw") == CANARY
    assert CANARY not in result.output


# -- remove -------------------------------------------------------------------------------------


def test_remove_keeps_the_other_profiles_comments(profiles_file) -> None:  # type: ignore[no-untyped-def]
    other = '\n# my own glm\n[profiles.myglm]  # mine\nextends = "glm"\n'
    path = profiles_file(COMMENTED + other)
    result = invoke("remove", "work")
    assert result.exit_code == 0, result.output
    assert path.read_text() == '# my profiles, hand-written\nschema = 1\n\n# my own glm\n[profiles.myglm]  # mine\nextends = "glm"\n'
    assert_private(path)


def test_remove_refuses_the_default_unless_forced(profiles_file) -> None:  # type: ignore[no-untyped-def]
    text = COMMENTED.replace("schema = 1\n", 'schema = 1\ndefault = "work"\n')
    path = profiles_file(text)
    result = invoke("remove", "work")
    assert result.exit_code == 2
    assert "profile 'work' is active (it is the default in profiles.toml)" in result.stderr
    assert path.read_text() == text
    result = invoke("remove", "work", "--force")
    assert result.exit_code == 0, result.output
    assert "default" not in path.read_text() and "there is no default now" in result.stderr


def test_remove_refuses_a_profile_pinned_above_the_cwd(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    project = tmp_path / "project"
    (project / "src" / "deep").mkdir(parents=True)
    (project / ".ccswitch").write_text("work\n")
    monkeypatch.chdir(project / "src" / "deep")
    result = invoke("remove", "work")
    assert result.exit_code == 2
    assert f"{project / '.ccswitch'} pins it" in result.stderr
    assert path.read_text() == COMMENTED


@pytest.mark.parametrize("scope", ["user", "project"])
def test_remove_refuses_a_profile_that_use_made_active(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scope: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WORK_KEY", "sk-work-0123456789abcdef")
    (tmp_path / ".git").mkdir()  # a project root for --scope project (no git needed: nothing is tracked)
    path = profiles_file(COMMENTED)
    assert invoke("use", "work", "--scope", scope).exit_code == 0
    # `list` and `remove` read the same record: both say where it is active.
    [row] = [r for r in json.loads(invoke("list", "--json").stdout) if r["name"] == "work"]
    assert row["active"] == [scope]
    result = invoke("remove", "work")
    assert result.exit_code == 2
    assert f"profile 'work' is active (`ccswitch use` made it active ({scope}))" in result.stderr
    assert "--force" in result.stderr
    assert path.read_text() == COMMENTED
    result = invoke("remove", "work", "--force")
    assert result.exit_code == 0, result.output
    assert "[profiles.work]" not in path.read_text()


def test_remove_after_off_needs_no_force(profiles_file, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WORK_KEY", "sk-work-0123456789abcdef")
    path = profiles_file(COMMENTED)
    assert invoke("use", "work").exit_code == 0
    assert invoke("off").exit_code == 0
    assert [r["active"] for r in json.loads(invoke("list", "--json").stdout) if r["name"] == "work"] == [[]]
    result = invoke("remove", "work")
    assert result.exit_code == 0, result.output
    assert "[profiles.work]" not in path.read_text()


def test_remove_refuses_a_profile_others_extend(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED + '\n[profiles.child]\nextends = "work"\n')
    result = invoke("remove", "work", "--force")
    assert result.exit_code == 2 and "'child' extends it" in result.stderr
    assert "child" in path.read_text()


FALLBACK = '\n[profiles.fb]\nextends = "glm"\nfallback = ["qwen", "work"]\n'


def test_remove_refuses_a_profile_others_fall_back_to(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED + FALLBACK)
    for args in (("remove", "work"), ("remove", "work", "--force")):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert "profile 'work' cannot be removed: 'fb' lists it in `fallback`" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert path.read_text() == COMMENTED + FALLBACK


def test_remove_an_override_others_fall_back_to(profiles_file) -> None:  # type: ignore[no-untyped-def]
    # The preset stays behind the override, so the fallback still names a profile.
    path = profiles_file(COMMENTED + FALLBACK.replace('"qwen"', '"glm"') + '\n[profiles.glm]\nextends = "glm"\nmodel = "m"\n')
    result = invoke("remove", "glm")
    assert result.exit_code == 0, result.output
    assert "[profiles.glm]" not in path.read_text()


def test_remove_a_preset_or_unknown(profiles_file) -> None:  # type: ignore[no-untyped-def]
    profiles_file(COMMENTED)
    assert "built-in preset" in invoke("remove", "glm").stderr
    result = invoke("remove", "wrok")
    assert result.exit_code == 2 and 'did you mean "work"' in result.stderr


def test_remove_deletes_the_keyring_entry(profiles_file, file_keyring) -> None:  # type: ignore[no-untyped-def]
    profiles_file('schema = 1\n[profiles.k]\nextends = "glm"\ntoken = "keyring"\n')
    file_keyring.set_password("ccswitch", "k", CANARY)
    result = invoke("remove", "k")
    assert result.exit_code == 0, result.output
    assert file_keyring.get_password("ccswitch", "k") is None
    assert "removed its token from the OS keyring" in result.stderr


def test_remove_an_override_of_a_preset_takes_its_keyring_entry(config_dir: Path, file_keyring) -> None:  # type: ignore[no-untyped-def]
    assert invoke("token", "set", "glm", input=CANARY).exit_code == 0
    result = invoke("remove", "glm")
    assert result.exit_code == 0, result.output
    assert "now the built-in preset again" in result.stderr
    assert file_keyring.get_password("ccswitch", "glm") is None
    assert "[profiles.glm]" not in (config_dir / "profiles.toml").read_text()


# -- rename -------------------------------------------------------------------------------------


def test_rename_moves_default_extends_and_keyring(profiles_file, file_keyring) -> None:  # type: ignore[no-untyped-def]
    text = COMMENTED.replace("schema = 1\n", 'schema = 1\ndefault = "work"  # mine\n').replace(
        'token = "env:WORK_KEY"', 'token = "keyring"'
    ) + '\n[profiles.child]\nextends = "work"\n'
    path = profiles_file(text)
    file_keyring.set_password("ccswitch", "work", CANARY)
    result = invoke("rename", "work", "job")
    assert result.exit_code == 0, result.output
    assert path.read_text() == text.replace('"work"', '"job"').replace("profiles.work", "profiles.job")
    assert file_keyring.get_password("ccswitch", "job") == CANARY
    assert file_keyring.get_password("ccswitch", "work") is None
    assert_private(path)


def test_rename_follows_fallback_lists(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED + FALLBACK)
    result = invoke("rename", "work", "job")
    assert result.exit_code == 0, result.output
    assert path.read_text() == (COMMENTED + FALLBACK).replace("profiles.work", "profiles.job").replace('"work"]', '"job"]')


def test_rename_refuses_an_existing_target(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED + '\n[profiles.b]\nextends = "glm"\n')
    result = invoke("rename", "work", "b")
    assert result.exit_code == 2 and "'b' already exists" in result.stderr
    assert "profiles.work" in path.read_text()



MYGLM = '\n[profiles.myglm]\nextends = "glm"\ntoken = "env:ZHIPU_KEY"\n'


def test_rename_refuses_a_preset_name_that_others_extend(profiles_file) -> None:  # type: ignore[no-untyped-def]
    # Under the preset's name, work would become what myglm inherits: myglm's Zhipu token would go
    # to work's gateway.
    path = profiles_file(COMMENTED + MYGLM)
    result = invoke("rename", "work", "glm")
    assert result.exit_code == 2, result.output
    assert "'glm' is a built-in preset that 'myglm' extends" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_text() == COMMENTED + MYGLM


def test_rename_to_a_preset_name_nobody_extends_makes_an_override(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED + '\n[profiles.mykimi]\nextends = "kimi"\n')
    result = invoke("rename", "work", "glm")
    assert result.exit_code == 0, result.output
    assert "[profiles.glm]" in path.read_text()


def test_add_refuses_a_preset_name_that_others_extend(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED + MYGLM)
    result = invoke("add", "glm", "--base-url", "http://h.example.com", "--token-env", "H_KEY")
    assert result.exit_code == 2, result.output
    assert "'glm' is a built-in preset that 'myglm' extends" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_text() == COMMENTED + MYGLM
    # An override that already exists is what myglm inherits today: replacing it stays possible.
    path.write_text(COMMENTED + MYGLM + '\n[profiles.glm]\nextends = "glm"\n')
    assert invoke("add", "glm", "--extends", "glm", "--model", "m", "--force").exit_code == 0


# -- token --------------------------------------------------------------------------------------


def test_token_set_on_a_preset_makes_an_override(config_dir: Path, file_keyring) -> None:  # type: ignore[no-untyped-def]
    result = invoke("token", "set", "glm", input=CANARY + "\n")
    assert result.exit_code == 0, result.output
    assert file_keyring.get_password("ccswitch", "glm") == CANARY
    path = config_dir / "profiles.toml"
    assert path.read_text() == 'schema = 1\n\n[profiles.glm]\nextends = "glm"\ntoken = "keyring"\n'
    assert_private(path)
    assert CANARY not in result.output + result.stderr
    assert invoke("token", "rm", "glm").exit_code == 0
    assert file_keyring.get_password("ccswitch", "glm") is None
    again = invoke("token", "rm", "glm")
    assert again.exit_code == 1 and "no token for 'glm' in the OS keyring" in again.stderr


def test_token_set_switches_a_user_profile_keeping_comments(profiles_file, file_keyring) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    assert invoke("token", "set", "work", input=CANARY).exit_code == 0
    assert path.read_text() == COMMENTED.replace('token = "env:WORK_KEY"', 'token = "keyring"')


def test_token_set_without_backend(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    result = invoke("token", "set", "work", input=CANARY)
    assert result.exit_code == 1 and "no OS keyring is available" in result.stderr
    assert path.read_text() == COMMENTED


NO_TOKEN = COMMENTED + """
[profiles.mix]
routes = { opus = "work" }

[profiles.open]
base_url = "http://127.0.0.1:9"
auth = "none"
"""


@pytest.mark.parametrize(("name", "why"), [
    ("mix", "routes its tiers to other profiles (work), each with its own token, and sends none itself"),
    ("anthropic", "uses claude's own login (auth = \"none\") and sends no token"),
    ("bedrock", "uses Amazon Bedrock with AWS credentials (auth = \"none\") and sends no token"),
    ("open", "has auth = \"none\" and sends no token (set `auth` first: ccswitch edit open)"),
])
def test_token_set_refuses_a_profile_that_sends_no_token(profiles_file, file_keyring, name, why) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(NO_TOKEN)
    result = invoke("token", "set", name, input=CANARY + "\n")
    assert (result.exit_code, result.stderr) == (2, f"ccswitch: error: profile {name!r} {why}: a stored token would "
                                                    "never be used; nothing stored or changed\n")
    assert path.read_text() == NO_TOKEN and file_keyring.get_password("ccswitch", name) is None


def test_add_refuses_a_token_for_a_profile_that_sends_none(config_dir: Path, file_keyring) -> None:  # type: ignore[no-untyped-def]
    result = invoke("add", "mybed", "--extends", "bedrock", "--token-stdin", input=CANARY + "\n")
    assert result.exit_code == 2 and "profile 'mybed' uses Amazon Bedrock with AWS credentials" in result.stderr
    assert not (config_dir / "profiles.toml").exists() and file_keyring.get_password("ccswitch", "mybed") is None
    assert invoke("add", "mybed", "--extends", "bedrock").exit_code == 0  # without a token: fine


# -- edit ---------------------------------------------------------------------------------------


def fake_editor(tmp_path: Path, *steps: str) -> str:
    """An $EDITOR that, on its Nth run, replaces `old` with `new` (steps are "old=>new")."""
    script = tmp_path / "editor.py"
    counter = tmp_path / "editor-runs"
    script.write_text(
        "import sys, pathlib\n"
        f"counter = pathlib.Path({str(counter)!r})\n"
        "n = int(counter.read_text()) if counter.exists() else 0\n"
        "counter.write_text(str(n + 1))\n"
        f"steps = {list(steps)!r}\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text()\n"
        "pathlib.Path(str(counter) + '.seen' + str(n)).write_text(text)\n"
        "if n < len(steps):\n"
        "    old, new = steps[n].split('=>')\n"
        "    text = text.replace(old, new)\n"
        "path.write_text(text)\n"
    )
    return f"{sys.executable} {script}"


def test_edit_changes_only_that_profile(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    other = '\n# keep\n[profiles.myglm]\nextends = "glm"\n'
    path = profiles_file(COMMENTED + other)
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, '"big"=>"bigger"'))
    result = invoke("edit", "work")
    assert result.exit_code == 0, result.output
    assert path.read_text() == (COMMENTED + other).replace('"big"', '"bigger"')
    assert_private(path)
    seen = (tmp_path / "editor-runs.seen0").read_text()
    assert seen.startswith("# the gateway at work\n[profiles.work]") and "myglm" not in seen


def test_edit_without_changes_writes_nothing(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    before = path.stat().st_mtime_ns
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path))
    result = invoke("edit", "work")
    assert result.exit_code == 0 and "no changes" in result.stderr
    assert path.stat().st_mtime_ns == before


def test_edit_reopens_with_the_error_then_saves(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, 'opus = "big"=>opsu = "big"', 'opsu = "big"=>opus = "huge"'))
    result = invoke("edit", "work", input="y\n")
    assert result.exit_code == 0, result.output
    assert "unknown model tier 'opsu'" in result.stderr
    second = (tmp_path / "editor-runs.seen1").read_text()
    assert second.startswith("# ccswitch: ") and "opsu" in second.splitlines()[0]
    assert path.read_text() == COMMENTED.replace('"big"', '"huge"')


def test_edit_given_up_keeps_the_old_file(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    path = profiles_file(COMMENTED)
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "https://=>ftp://"))
    scratch = tmp_path / "tmp"  # this test's own: another test may be editing a `work` at the same moment
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = invoke("edit", "work", input="n\n")
    assert result.exit_code == 1
    assert "is not an http(s) URL" in result.stderr and "kept" in result.stderr
    assert path.read_text() == COMMENTED
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("[profiles.work]=>[profiles.job]", "expected only [profiles.work]"),
        ("# the gateway at work=>default = 'x'", "only [profiles.work] belongs here"),
        ("base_url = =>base_url = = ", "invalid TOML"),
        ('opus = "big"=>opus = ' + "[" * 3000 + "]" * 3000, "invalid TOML: arrays or tables nested too deeply to read"),
    ],
)
def test_edit_rejects_what_does_not_belong(profiles_file, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, step))
    result = invoke("edit", "work", input="n\n")
    assert result.exit_code == 1 and message in result.stderr
    assert path.read_text() == COMMENTED


def test_edit_a_preset_creates_an_override(config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, '# model = "opus"=>model = "sonnet"'))
    result = invoke("edit", "glm")
    assert result.exit_code == 0, result.output
    text = (config_dir / "profiles.toml").read_text()
    assert text.startswith("schema = 1\n\n") and '[profiles.glm]\nextends = "glm"\n' in text and '\nmodel = "sonnet"' in text
    assert invoke("show", "glm", "--json").stdout.count('"sonnet"') >= 1


def test_edit_editor_failure_keeps_file(profiles_file, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    monkeypatch.setenv("EDITOR", "false")
    result = invoke("edit", "work")
    assert result.exit_code == 1 and "editor exited with status 1" in result.stderr
    assert path.read_text() == COMMENTED


# -- names every command can handle ---------------------------------------------------------------


def test_a_name_longer_than_64_characters_is_refused_everywhere(profiles_file, config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    long = "n" * 230
    result = invoke("add", long, "--extends", "glm", "--token-env", "X")
    assert result.exit_code == 2
    assert "is 230 characters long; at most 64" in result.stderr and "Traceback" not in result.output
    assert not (config_dir / "profiles.toml").exists()
    path = profiles_file('[profiles.ok]\nextends = "glm"\n')
    result = invoke("rename", "ok", "m" * 65)
    assert result.exit_code == 2 and "at most 64" in result.stderr
    assert path.read_text() == '[profiles.ok]\nextends = "glm"\n'
    profiles_file(f'[profiles.ok]\nextends = "glm"\n\n[profiles.{long}]\nextends = "glm"\n')
    result = invoke("list")
    assert result.exit_code == 2 and "profiles.toml:4:" in result.stderr and "at most 64" in result.stderr


def test_a_64_character_name_works_with_run(profiles_file, fake_claude, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    name = "x" * 64
    assert invoke("add", name, "--extends", "glm", "--token-env", "LONG_NAME_TOKEN").exit_code == 0
    from ccswitch.launch import front_door

    monkeypatch.setenv("LONG_NAME_TOKEN", "t-0123456789abcdef")
    monkeypatch.setenv("CCSWITCH_CLAUDE", str(fake_claude))
    monkeypatch.setattr("ccswitch.launch.front_door.exec_program", lambda path, argv, env: 0)
    assert front_door.main(["run", name]) == 0  # the settings file named after it was written


def test_rename_to_the_same_name_says_so(profiles_file) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED)
    result = invoke("rename", "work", "work")
    assert result.exit_code == 2
    assert result.stderr == "ccswitch: error: rename: 'work' is already called 'work'; nothing to do\n"
    assert path.read_text() == COMMENTED


# -- a config directory that cannot be written ----------------------------------------------------


@pytest.fixture
def unwritable(monkeypatch):  # type: ignore[no-untyped-def]
    """As a config directory without write permission behaves (root ignores permission bits, so the
    refusal is the file system's answer itself)."""
    import tempfile

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


@pytest.mark.parametrize("args", [
    ["add", "x", "--extends", "glm", "--token-env", "X"],
    ["add", "k", "--extends", "glm", "--token-stdin"],
    ["rename", "work", "job"],
    ["remove", "work"],
])
def test_an_unwritable_config_dir_is_one_line_and_nothing_changes(profiles_file, config_dir, file_keyring, unwritable,
                                                                  args) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file(COMMENTED.replace('token = "env:WORK_KEY"', 'token = "keyring"'))
    file_keyring.set_password("ccswitch", "work", CANARY)
    before = sorted(os.listdir(config_dir))
    result = invoke(*args, input=CANARY + "\n")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"ccswitch: error: cannot write {path}: Permission denied")
    assert result.stderr.endswith("nothing was changed\n")
    assert path.read_text() == COMMENTED.replace('token = "env:WORK_KEY"', 'token = "keyring"')
    assert sorted(os.listdir(config_dir)) == before
    assert file_keyring.get_password("ccswitch", "work") == CANARY
    for other in ("x", "k", "job"):
        assert file_keyring.get_password("ccswitch", other) is None
