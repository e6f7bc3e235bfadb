"""`ccswitch use`, `off`, `restore` end to end through the CLI: golden before/after files, dry runs,
modes, symlinks, backups, injected write failures, malformed input, parallel writers, project scope."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from support.use_setup import ALPHA_TOKEN, BETA_TOKEN, FIXTURES
from typer.testing import CliRunner

from ccswitch import fsutil
from ccswitch.claude import settings as claude_settings
from ccswitch.claude.variables import NO_TOKEN
from ccswitch.cli.app import app
from ccswitch.switching import backups as backups_module
from ccswitch.switching import transaction
from ccswitch.switching.backups import list_backups, new_backup_id, write_backup


def ccswitch(*args: str):
    return CliRunner().invoke(app, list(args))


def state_files(home: Path) -> dict[str, bytes]:
    config = Path(os.environ["CCSWITCH_HOME"])
    return {str(p): p.read_bytes() for p in sorted(config.rglob("*")) if p.is_file() and p.suffix != ".lock"}


def test_golden_use_switch_off(setup):
    result = ccswitch("use", "alpha")
    assert result.exit_code == 0, result.output
    assert setup.read_text() == (FIXTURES / "after-use-alpha.json").read_text()
    result = ccswitch("use", "beta")
    assert result.exit_code == 0, result.output
    assert setup.read_text() == (FIXTURES / "after-switch-beta.json").read_text()
    result = ccswitch("off")
    assert result.exit_code == 0, result.output
    assert setup.read_text() == (FIXTURES / "before.json").read_text()


def test_off_restores_after_the_user_and_claude_edited_the_file(setup):
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    data["permissions"]["allow"].append("Bash(git status)")  # the user, in between
    data = {"theme": "dark", **data}  # claude adds a key and reorders
    data["env"]["NEW_USER_VAR"] = "x"
    data["model"] = "opus[1m]"  # claude's model migration of a key we set
    setup.write_text(json.dumps(data, indent=2))
    assert ccswitch("use", "beta").exit_code == 0
    result = ccswitch("off")
    assert result.exit_code == 0, result.output
    expected = json.loads((FIXTURES / "before.json").read_text())
    expected["permissions"]["allow"].append("Bash(git status)")
    expected = {"theme": "dark", **expected}
    expected["env"]["NEW_USER_VAR"] = "x"
    assert json.loads(setup.read_text()) == expected
    assert list(json.loads(setup.read_text())) == list(expected)


def test_off_reports_keys_changed_since_use(setup):
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    data["model"] = "sonnet"
    setup.write_text(json.dumps(data, indent=2))
    result = ccswitch("off")
    assert "changed since `use`" in result.stderr and "model" in result.stderr
    assert json.loads(setup.read_text())["model"] == "opus[1m]"


def test_use_twice_writes_once(setup):
    assert ccswitch("use", "alpha").exit_code == 0
    result = ccswitch("use", "alpha")
    assert "already active" in result.stderr
    assert len(list_backups(str(Path(os.environ["CCSWITCH_HOME"]) / "backups"))) == 1


def test_dry_run_prints_a_masked_diff_and_writes_nothing(setup, isolated_home):
    before_state = state_files(isolated_home)
    before = setup.read_bytes()
    result = ccswitch("use", "alpha", "--dry-run")
    assert result.exit_code == 0, result.output
    assert setup.read_bytes() == before
    assert state_files(isolated_home) == before_state
    assert '+    "ANTHROPIC_AUTH_TOKEN": "alp…cdef",' in result.stdout
    assert '-    "ANTHROPIC_API_KEY": "sk-…0000",' in result.stdout
    assert ALPHA_TOKEN not in result.output and "sk-ant-user-own-key" not in result.output
    assert '-  "model": "opus[1m]",' in result.stdout and '+  "model": "opus",' in result.stdout
    assert not (isolated_home / ".claude.json").exists()


def test_off_dry_run_and_off_without_use(setup):
    result = ccswitch("off")
    assert result.exit_code == 0 and "nothing to undo" in result.stderr
    assert ccswitch("use", "alpha").exit_code == 0
    after_use = setup.read_bytes()
    result = ccswitch("off", "--dry-run")
    assert result.exit_code == 0
    assert '+    "ANTHROPIC_API_KEY": "sk-…0000",' in result.stdout
    assert setup.read_bytes() == after_use


def test_a_token_file_ends_0600_and_a_new_file_is_0600_in_a_0700_dir(setup, isolated_home):
    setup.chmod(0o644)
    assert ccswitch("use", "alpha").exit_code == 0
    assert stat.S_IMODE(setup.stat().st_mode) == 0o600
    setup.unlink()
    setup.parent.rmdir()
    assert ccswitch("use", "beta").exit_code == 0
    assert stat.S_IMODE(setup.stat().st_mode) == 0o600
    assert stat.S_IMODE(setup.parent.stat().st_mode) == 0o700
    config = Path(os.environ["CCSWITCH_HOME"])
    for path in (config / "state" / "records").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (config / "state", config / "backups", config / "state" / "records"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_symlinked_settings_file_stays_a_symlink(setup, isolated_home):
    dotfiles = isolated_home / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "claude-settings.json"
    shutil.move(setup, real)
    setup.symlink_to(real)
    assert ccswitch("use", "alpha").exit_code == 0
    assert setup.is_symlink() and os.readlink(setup) == str(real)
    assert json.loads(real.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
    assert ccswitch("off").exit_code == 0
    assert setup.is_symlink()
    assert real.read_text() == (FIXTURES / "before.json").read_text()


def holds_token(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and ALPHA_TOKEN.encode() in p.read_bytes()]


def test_a_dangling_dotfiles_link_dangles_again_after_off(setup, isolated_home):
    setup.unlink()
    target = isolated_home / "dotfiles" / "claude" / "settings.json"  # neither the file nor its directory exists
    setup.symlink_to(target)
    result = ccswitch("use", "alpha")
    assert result.exit_code == 0, result.output
    assert setup.is_symlink() and json.loads(target.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
    result = ccswitch("off")
    assert result.exit_code == 0, result.output
    assert "removed" in result.stderr and "as it was" not in result.stderr
    assert setup.is_symlink() and os.readlink(setup) == str(target) and not target.exists()
    assert not (isolated_home / "dotfiles" / "claude").exists()  # the directory `use` made for it goes too
    assert holds_token(isolated_home) == [p for p in holds_token(isolated_home) if "ccswitch" in str(p)]  # only our 0600 records


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_a_settings_link_into_a_tracked_dotfiles_repo_is_refused_unless_forced(setup, isolated_home):
    repo = isolated_home / "dotfiles"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    real = repo / "claude-settings.json"
    shutil.move(setup, real)
    git("add", "claude-settings.json", cwd=repo)
    setup.symlink_to(real)
    before = real.read_bytes()
    result = ccswitch("use", "alpha")
    assert result.exit_code == 2
    assert f"is tracked by the git repository {repo}" in result.stderr and "--force" in result.stderr
    assert real.read_bytes() == before and not (Path(os.environ["CCSWITCH_HOME"]) / "state" / "records").exists()
    assert ccswitch("use", "alpha", "--force").exit_code == 0
    assert ALPHA_TOKEN in real.read_text()


def test_a_tracked_file_is_fine_when_the_profile_writes_no_token(setup, isolated_home, profiles_file):
    git("init", "-q", cwd=setup.parent)
    git("add", "settings.json", cwd=setup.parent)
    assert ccswitch("use", "anthropic").exit_code == 0
    # ccswitch-no-token (a local server without a key) is no secret: no refusal, the file's mode kept
    profiles_file('[profiles.local]\nbase_url = "http://127.0.0.1:11434"\nauth = "none"\nmodel = "m"\n')
    setup.chmod(0o644)
    assert ccswitch("use", "local").exit_code == 0
    assert json.loads(setup.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == NO_TOKEN
    assert stat.S_IMODE(setup.stat().st_mode) == 0o644


def test_off_gives_back_the_file_mode_once_no_token_is_in_it(setup):
    setup.write_text(json.dumps({"permissions": {"allow": ["Bash(ls)"]}, "env": {"MY_TOOL_HOME": "/opt"}}, indent=2) + "\n")
    setup.chmod(0o644)
    assert ccswitch("use", "alpha").exit_code == 0
    assert stat.S_IMODE(setup.stat().st_mode) == 0o600
    assert ccswitch("off").exit_code == 0
    assert stat.S_IMODE(setup.stat().st_mode) == 0o644
    # Also when others changed the file meanwhile (not the exact original bytes).
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    data["permissions"]["allow"].append("Bash(make)")
    setup.write_text(json.dumps(data, indent=2) + "\n")
    assert ccswitch("off").exit_code == 0
    assert stat.S_IMODE(setup.stat().st_mode) == 0o644
    # A file that held a token of the user's own before `use` stays private.
    setup.write_text(json.dumps({"env": {"ANTHROPIC_API_KEY": "sk-users-own-0123456789"}}) + "\n")
    setup.chmod(0o644)
    assert ccswitch("use", "alpha").exit_code == 0 and ccswitch("off").exit_code == 0
    assert stat.S_IMODE(setup.stat().st_mode) == 0o600


def test_off_says_what_it_kept_when_the_file_changed_since_use(setup):
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    data["permissions"]["allow"].append("Bash(make)")
    data["env"]["MY_OWN"] = "1"
    setup.write_text(json.dumps(data, indent=2) + "\n")
    result = ccswitch("off")
    assert result.exit_code == 0
    assert "as it was before" not in result.stderr
    assert "kept what changed there since: permissions, env.MY_OWN" in " ".join(result.stderr.split())


def test_onboarding_key_is_set_for_gateway_profiles_only(setup, isolated_home, profiles_file):
    assert ccswitch("use", "anthropic").exit_code == 0
    assert not (isolated_home / ".claude.json").exists()
    assert ccswitch("use", "alpha").exit_code == 0
    assert json.loads((isolated_home / ".claude.json").read_text()) == {"hasCompletedOnboarding": True}


def test_missing_token_changes_nothing(setup, isolated_home, monkeypatch):
    monkeypatch.delenv("ALPHA_TOKEN")
    before = setup.read_bytes()
    before_state = state_files(isolated_home)
    result = ccswitch("use", "alpha")
    assert result.exit_code == 2
    assert "ALPHA_TOKEN is not set" in result.stderr
    assert setup.read_bytes() == before
    assert state_files(isolated_home) == before_state


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{\n  "env": {\n    "A": 1\n  }\n}\n', "settings.json:3:10: env.A: must be a string, not a number"),
        ('{"env": []}', "settings.json:1:9: env: must be an object, not an array"),
        ("[]", "settings.json:1:1: must be a JSON object, not an array"),
        ('{\n  "a": 1,\n}', "settings.json:3:1: invalid JSON"),
        ('{"a": 1, "a": 2}', "settings.json:1:10: duplicate key 'a'"),
    ],
)
@pytest.mark.parametrize("command", [("use", "alpha"), ("off",), ("use", "beta", "--dry-run")])
def test_malformed_settings_are_refused_and_left_alone(setup, isolated_home, text, fragment, command):
    setup.write_text(text)
    before_state = state_files(isolated_home)
    result = ccswitch(*command)
    if command == ("off",):  # no record: nothing of ours to undo, and the file is not even parsed
        assert result.exit_code == 0
    else:
        assert result.exit_code == 2, result.output
        assert fragment in result.stderr
        assert result.stderr.count("\n") == 1
    assert setup.read_text() == text
    assert state_files(isolated_home) == before_state


def test_malformed_settings_refused_by_off_after_use(setup, isolated_home):
    assert ccswitch("use", "alpha").exit_code == 0
    setup.write_text('{"env": "oops"}')
    result = ccswitch("off")
    assert result.exit_code == 2 and ":1:9: env: must be an object" in result.stderr
    assert setup.read_text() == '{"env": "oops"}'


def test_non_utf8_settings_are_refused(setup):
    setup.write_bytes(b'{"a": "\xff"}')
    result = ccswitch("use", "alpha")
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    assert setup.read_bytes() == b'{"a": "\xff"}'


def test_bom_and_crlf_survive_use_and_off(setup):
    original = "\ufeff" + (FIXTURES / "before.json").read_text().replace("\n", "\r\n")
    setup.write_bytes(original.encode("utf-8"))
    assert ccswitch("use", "alpha").exit_code == 0
    raw = setup.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert ccswitch("off").exit_code == 0
    assert setup.read_bytes() == original.encode("utf-8")


# Laid out by hand, as json.dumps never would: one-line arrays, 4-space indent, aligned values,
# CRLF, a space before a colon, no final newline.
HAND_FORMATTED = (
    '{\r\n'
    '    "permissions": { "allow": ["Bash(ls)", "Read(*)"], "deny": [] },\r\n'
    '    "env"        : { "MY_VAR": "1", "ANTHROPIC_API_KEY": "sk-ant-user-own-key-0000" },\r\n'
    '    "hooks"      : {},\r\n'
    '    "model"      : "opus[1m]"\r\n'
    '}'
)


@pytest.mark.parametrize("switch_first", [False, True])
def test_use_then_off_gives_back_a_hand_formatted_file_byte_for_byte(setup, switch_first):
    setup.write_bytes(HAND_FORMATTED.encode("utf-8"))
    assert ccswitch("use", "alpha").exit_code == 0
    assert setup.read_bytes() != HAND_FORMATTED.encode("utf-8")
    if switch_first:
        assert ccswitch("use", "beta").exit_code == 0
    result = ccswitch("off")
    assert result.exit_code == 0, result.output
    assert setup.read_bytes() == HAND_FORMATTED.encode("utf-8")


def test_off_after_the_user_changed_something_restores_only_its_keys(setup):
    setup.write_bytes(HAND_FORMATTED.encode("utf-8"))
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    data["permissions"]["deny"].append("Bash(rm)")  # the user, in between
    setup.write_bytes(claude_settings.dump(data, claude_settings.Style.of(setup.read_text())).encode("utf-8"))
    changed = setup.read_bytes()
    assert ccswitch("off").exit_code == 0
    expected = json.loads(HAND_FORMATTED)
    expected["permissions"]["deny"] = ["Bash(rm)"]
    assert json.loads(setup.read_text()) == expected
    # Written in the file's current style, as before: the user's change is kept, not the old bytes.
    assert setup.read_bytes() == claude_settings.dump(expected, claude_settings.Style.of(changed.decode())).encode("utf-8")


# --- injected write failures ---------------------------------------------------------------------


def _fd_name(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pytest.skip("needs /proc to tell which file a descriptor belongs to")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def replace_failing_for(target: Path):
    """os.replace that fails with a full disk when renaming onto `target`, and works otherwise."""
    real_replace = os.replace

    def failing_replace(src, dst, *a, **k):
        if os.path.realpath(dst) == str(target):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *a, **k)

    return failing_replace


@pytest.mark.parametrize("step", ["write", "fsync", "chmod", "replace", "record", "backup"])
def test_injected_write_failure_leaves_everything_as_it_was(setup, isolated_home, monkeypatch, step):
    assert ccswitch("use", "beta").exit_code == 0
    before = setup.read_bytes()
    before_state = {k: v for k, v in state_files(isolated_home).items() if "/backups/" not in k}
    failing_replace = replace_failing_for(setup)

    # A context of its own: undoing the test's monkeypatch would also undo the isolated HOME.
    with monkeypatch.context() as patch:
        if step == "replace":
            patch.setattr(fsutil.os, "replace", failing_replace)
        elif step == "fsync":
            real_fsync = os.fsync

            def failing_fsync(fd):
                if ".settings.json." in _fd_name(fd):
                    raise OSError(5, "Input/output error")
                return real_fsync(fd)

            patch.setattr(fsutil.os, "fsync", failing_fsync)
        elif step == "chmod":
            real_chmod = os.chmod

            def failing_chmod(path, mode, *a, **k):
                if os.path.basename(str(path)).startswith(".settings.json."):
                    raise OSError(1, "Operation not permitted")
                return real_chmod(path, mode, *a, **k)

            patch.setattr(fsutil.os, "chmod", failing_chmod)
        elif step in ("record", "backup"):  # both are written before the settings file
            real_mkstemp = tempfile.mkstemp

            def failing_mkstemp(*a, prefix="", **k):
                is_backup = "-" in prefix  # backup ids hold dashes, record names are hex
                if prefix.endswith(".json.") and "settings" not in prefix and is_backup == (step == "backup"):
                    raise OSError(28, "No space left on device")
                return real_mkstemp(*a, prefix=prefix, **k)

            patch.setattr(tempfile, "mkstemp", failing_mkstemp)
        else:
            real_fdopen = os.fdopen

            class Full:
                def __init__(self, handle):
                    self.handle = handle

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    self.handle.close()

                def write(self, text):
                    raise OSError(28, "No space left on device")

            def failing_fdopen(fd, *a, **k):
                handle = real_fdopen(fd, *a, **k)
                return Full(handle) if ".settings.json." in _fd_name(fd) else handle

            patch.setattr(fsutil.os, "fdopen", failing_fdopen)
        result = ccswitch("use", "alpha")
        assert result.exit_code == 1, result.output
        assert "the file is unchanged" in result.stderr or "nothing changed" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
        assert setup.read_bytes() == before
        assert sorted(p.name for p in setup.parent.iterdir()) == ["settings.json"]  # no temp file left
        after_state = {k: v for k, v in state_files(isolated_home).items() if "/backups/" not in k}
        assert after_state == before_state  # the record still describes the file as it is
    assert ccswitch("off").exit_code == 0
    assert setup.read_text() == (FIXTURES / "before.json").read_text()


# --- backups and restore -------------------------------------------------------------------------


def test_backups_are_unique_private_pruned_and_restorable(setup, isolated_home, monkeypatch):
    monkeypatch.setattr(backups_module, "BACKUPS_KEPT", 5)
    for index in range(8):
        assert ccswitch("use", "alpha" if index % 2 == 0 else "beta").exit_code == 0
    backups = Path(os.environ["CCSWITCH_HOME"]) / "backups"
    files = sorted(backups.iterdir())
    assert len(files) == 5
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    ids = [new_backup_id() for _ in range(1000)]
    assert len(set(ids)) == 1000

    result = ccswitch("restore", "--list", "--json")
    listed = json.loads(result.stdout)
    assert [b["reason"] for b in listed] == ["use beta", "use alpha", "use beta", "use alpha", "use beta"]
    assert ALPHA_TOKEN not in ccswitch("restore", "--list").output

    # the newest backup is the file as it was before the last `use beta`: alpha active
    result = ccswitch("restore")
    assert result.exit_code == 0, result.output
    assert json.loads(setup.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
    # ... and ccswitch's record came back with it, so `off` still restores the original
    assert ccswitch("off").exit_code == 0
    assert setup.read_text() == (FIXTURES / "before.json").read_text()


def test_restore_by_id_brings_back_the_file_before_the_first_use(setup):
    assert ccswitch("use", "alpha").exit_code == 0
    assert ccswitch("use", "beta").exit_code == 0
    first = json.loads(ccswitch("restore", "--list", "--json").stdout)[-1]
    assert first["reason"] == "use alpha"
    result = ccswitch("restore", first["id"][:18])
    assert result.exit_code == 0, result.output
    assert setup.read_text() == (FIXTURES / "before.json").read_text()
    assert "no ccswitch profile" in ccswitch("status").stdout.split("\n")[0]
    assert ccswitch("restore", "nope").exit_code == 2


def test_restore_repairs_a_file_broken_after_use(setup):
    assert ccswitch("use", "alpha").exit_code == 0
    setup.write_text('{"env": {')  # an editor crash, a bad hand edit
    assert ccswitch("off").exit_code == 2
    result = ccswitch("restore", "--dry-run")
    assert result.exit_code == 0 and setup.read_text() == '{"env": {'
    # the newest backup is the one taken before `use alpha`
    assert ccswitch("restore").exit_code == 0
    assert setup.read_text() == (FIXTURES / "before.json").read_text()
    backups = json.loads(ccswitch("restore", "--list", "--json").stdout)
    assert backups[0]["reason"].startswith("restore ")
    newest = Path(os.environ["CCSWITCH_HOME"]) / "backups" / f"{backups[0]['id']}.json"
    assert json.loads(newest.read_text())["text"] == '{"env": {'  # even the broken file is kept
    assert ccswitch("off").stderr.startswith("no profile is active")


def test_a_failed_restore_leaves_the_file_and_the_record_as_they_were(setup, isolated_home, monkeypatch):
    assert ccswitch("use", "alpha").exit_code == 0
    assert ccswitch("use", "beta").exit_code == 0
    before = setup.read_bytes()
    records = {k: v for k, v in state_files(isolated_home).items() if "/records/" in k}
    failing_replace = replace_failing_for(setup)

    with monkeypatch.context() as patch:
        patch.setattr(fsutil.os, "replace", failing_replace)
        result = ccswitch("restore")
    assert result.exit_code == 1
    assert "cannot write (No space left on device); the file is unchanged" in result.stderr
    assert setup.read_bytes() == before
    assert {k: v for k, v in state_files(isolated_home).items() if "/records/" in k} == records
    assert not [p for p in setup.parent.iterdir() if p.name.endswith(".tmp")]


def test_restore_of_a_file_that_did_not_exist_removes_it(setup):
    setup.unlink()
    assert ccswitch("use", "alpha").exit_code == 0
    assert ccswitch("restore").exit_code == 0
    assert not setup.exists()


def test_off_removes_a_file_that_use_created_and_nothing_else_wrote_to(setup):
    setup.unlink()
    assert ccswitch("use", "alpha").exit_code == 0
    assert ccswitch("use", "beta").exit_code == 0  # a switch keeps "there was no file before"
    assert ccswitch("off").exit_code == 0
    assert not setup.exists()


def test_off_keeps_a_created_file_that_others_wrote_to(setup):
    setup.unlink()
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    data["permissions"] = {"allow": ["Bash(ls)"]}  # e.g. claude saved a permission meanwhile
    setup.write_text(json.dumps(data))
    assert ccswitch("off").exit_code == 0
    assert json.loads(setup.read_text()) == {"permissions": {"allow": ["Bash(ls)"]}}


# --- parallel writers ----------------------------------------------------------------------------




# --- project scope -------------------------------------------------------------------------------


def test_project_scope_writes_settings_local_at_the_git_root_and_git_ignores_it(setup, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo / "sub")
    user_before = setup.read_bytes()
    result = ccswitch("use", "alpha", "--scope", "project")
    assert result.exit_code == 0, result.output
    local = repo / ".claude" / "settings.local.json"
    assert json.loads(local.read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    assert setup.read_bytes() == user_before
    assert not (repo / ".claude" / "settings.json").exists()
    ignored = subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", ".claude/settings.local.json"])
    assert ignored.returncode == 0
    assert subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    listing = ccswitch("list", "--json")
    assert [r["active"] for r in json.loads(listing.stdout) if r["name"] == "alpha"] == [["project"]]
    assert ccswitch("off", "--scope", "project").exit_code == 0
    assert not local.exists()  # there was none before the first `use`


def test_off_takes_away_the_claude_dir_that_use_created_and_leaves_the_exclude_line(setup, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo)
    assert ccswitch("use", "alpha", "--scope", "project").exit_code == 0
    assert (repo / ".claude").is_dir()
    exclude = (repo / ".git" / "info" / "exclude").read_text()
    assert "/.claude/settings.local.json" in exclude
    assert ccswitch("use", "beta", "--scope", "project").exit_code == 0  # a switch keeps "use made the dir"
    assert ccswitch("off", "--scope", "project").exit_code == 0
    assert not (repo / ".claude").exists()
    # Left alone: it ignores a file that is gone, and protects the next `use`.
    assert (repo / ".git" / "info" / "exclude").read_text() == exclude


def test_off_keeps_a_claude_dir_that_was_there_or_holds_other_files(setup, tmp_path, monkeypatch):
    for case in ("existed", "others"):
        repo = tmp_path / case
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        monkeypatch.chdir(repo)
        if case == "existed":
            (repo / ".claude").mkdir()
        assert ccswitch("use", "alpha", "--scope", "project").exit_code == 0
        if case == "others":
            (repo / ".claude" / "commands").mkdir()  # e.g. the user adds a slash command meanwhile
        assert ccswitch("off", "--scope", "project").exit_code == 0
        assert not (repo / ".claude" / "settings.local.json").exists()
        assert (repo / ".claude").is_dir(), case


def test_project_scope_refuses_a_tracked_local_file(setup, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".claude").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    local = repo / ".claude" / "settings.local.json"
    local.write_text("{}\n")
    subprocess.run(["git", "-C", str(repo), "add", "-f", ".claude/settings.local.json"], check=True)
    monkeypatch.chdir(repo)
    result = ccswitch("use", "alpha", "--scope", "project")
    assert result.exit_code == 2 and "tracked by git" in result.stderr
    assert local.read_text() == "{}\n"


def test_bad_scope_is_a_usage_error(setup):
    result = ccswitch("use", "alpha", "--scope", "global")
    assert result.exit_code == 2
    assert setup.read_text() == (FIXTURES / "before.json").read_text()


def test_list_marks_the_active_profile(setup):
    assert ccswitch("use", "beta").exit_code == 0
    rows = {r["name"]: r["active"] for r in json.loads(ccswitch("list", "--json").stdout)}
    assert rows["beta"] == ["user"] and rows["alpha"] == []
    beta = next(line for line in ccswitch("list").stdout.splitlines() if line.startswith("beta "))
    assert beta.split()[1:3] == ["active:", "user"]


def test_a_write_by_claude_during_use_is_kept_not_overwritten(setup, monkeypatch):
    real_backup = write_backup
    calls = {"n": 0}

    def backup_then_claude_writes(*args, **kwargs):
        result = real_backup(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:  # claude rewrites the file between our read and our write
            data = json.loads(setup.read_text())
            data["permissions"]["allow"].append("Bash(make)")
            setup.write_text(json.dumps(data, indent=2) + "\n")
        return result

    monkeypatch.setattr(transaction, "write_backup", backup_then_claude_writes)
    assert ccswitch("use", "alpha").exit_code == 0
    data = json.loads(setup.read_text())
    assert "Bash(make)" in data["permissions"]["allow"]
    assert data["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
    assert calls["n"] == 2


def test_claude_config_dir_is_the_user_scope(setup, isolated_home, monkeypatch, tmp_path):
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    assert ccswitch("use", "alpha").exit_code == 0
    assert json.loads((config / "settings.json").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == ALPHA_TOKEN
    assert json.loads((config / ".claude.json").read_text()) == {"hasCompletedOnboarding": True}
    assert setup.read_text() == (FIXTURES / "before.json").read_text()
    assert ccswitch("off").exit_code == 0
    assert not (config / "settings.json").exists()  # there was none before the first `use`




@pytest.mark.parametrize("name", ["bedrock", "vertex"])
def test_onboarding_key_is_set_for_cloud_profiles_as_run_does(setup, isolated_home, name):
    # No base_url, but no claude.ai login either: the first-run screens would only be in the way.
    # `use` and `run` decide this with the same function (profiles.environment.prepare_claude_state).
    assert ccswitch("use", name).exit_code == 0
    assert json.loads((isolated_home / ".claude.json").read_text()) == {"hasCompletedOnboarding": True}


def test_use_of_an_x_api_key_profile_approves_its_key_for_interactive_claude(setup, isolated_home):
    state = isolated_home / ".claude.json"
    state.write_text(json.dumps({"customApiKeyResponses": {"approved": [], "rejected": [BETA_TOKEN[-20:]]}}))
    assert ccswitch("use", "beta").exit_code == 0
    responses = json.loads(state.read_text())["customApiKeyResponses"]
    assert responses == {"approved": [BETA_TOKEN[-20:]], "rejected": []}
    state.write_text("{}")
    assert ccswitch("use", "alpha").exit_code == 0  # a bearer profile: no key to approve
    assert "customApiKeyResponses" not in json.loads(state.read_text())


def test_claude_state_holding_a_lone_surrogate_is_left_alone_with_a_line(setup, isolated_home):
    """~/.claude.json is claude's: one "\\udc00" in it made `use` of an x-api-key profile end in a
    traceback after the settings were written; its key approval is now skipped with a warning."""
    state = isolated_home / ".claude.json"
    state.write_text('{"x": "\\udc00"}')
    result = ccswitch("use", "beta")
    assert result.exit_code == 0 and "escape without its pair; left alone" in result.stderr, result.output
    assert state.read_text() == '{"x": "\\udc00"}'


def test_a_lone_surrogate_in_the_settings_is_one_line_and_nothing_changes(setup, isolated_home):
    """JSON reads "\\ud800" and no UTF-8 file can hold it: `use` wrote its record, then failed to
    write the settings with a traceback, and `status` said the profile was in force."""
    setup.write_text('{"env": {"X": "\\ud800"}}')
    before = state_files(isolated_home)
    for args in (["use", "alpha"], ["use", "alpha", "--dry-run"]):
        result = ccswitch(*args)
        assert result.exit_code == 2 and "escape without its pair" in result.stderr, result.output
        assert result.stderr.count("\n") == 1
    assert state_files(isolated_home) == before and setup.read_text() == '{"env": {"X": "\\ud800"}}'
