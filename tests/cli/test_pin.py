"""`ccswitch pin`: a `.ccswitch` file with a profile name that `run` and `env` pick up; and the
typer side of `run`/`env` (help, and the same core)."""

from __future__ import annotations

import subprocess
import sys

from support.processes import subprocess_env
from typer.testing import CliRunner

from ccswitch.cli.app import app

runner = CliRunner()


def test_pin_writes_shows_and_clears(profiles_file, tmp_path, monkeypatch):
    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9"\n')
    result = runner.invoke(app, ["pin", "mine"], catch_exceptions=False)
    assert result.exit_code == 0
    assert (tmp_path / ".ccswitch").read_text() == "mine\n"
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    shown = runner.invoke(app, ["pin"], catch_exceptions=False)
    assert shown.exit_code == 0 and shown.stdout.strip() == f"mine\t{tmp_path / '.ccswitch'}"
    refused = runner.invoke(app, ["pin", "--clear"], catch_exceptions=False)
    assert refused.exit_code == 2 and f"the pin that applies is {tmp_path / '.ccswitch'}" in refused.stderr
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["pin", "--clear"], catch_exceptions=False).exit_code == 0
    assert not (tmp_path / ".ccswitch").exists()


def test_pin_refuses_an_unknown_profile_and_writes_nothing(tmp_path):
    result = runner.invoke(app, ["pin", "glmm"], catch_exceptions=False)
    assert result.exit_code == 2 and "did you mean \"glm\"" in result.stderr
    assert not (tmp_path / ".ccswitch").exists()


def test_run_and_env_use_the_pin(profiles_file, tmp_path):
    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9/pinned"\n')
    (tmp_path / ".ccswitch").write_text("mine\n")
    sub = tmp_path / "deep"
    sub.mkdir()
    dry = subprocess.run([sys.executable, "-m", "ccswitch", "run", "--dry-run", "--", "sh", "-c", "true"], cwd=sub,
                         env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert f"profile: mine (pinned in {tmp_path / '.ccswitch'})" in dry.stdout
    env = subprocess.run([sys.executable, "-m", "ccswitch", "env", "--shell", "bash"], cwd=sub,
                         env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert "export ANTHROPIC_BASE_URL='http://127.0.0.1:9/pinned'" in env.stdout


def test_run_help_comes_from_the_typer_app():
    result = subprocess.run([sys.executable, "-m", "ccswitch", "run", "--help"], env=subprocess_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Example: ccswitch run glm -- claude" in result.stdout


def test_typer_run_and_env_call_the_same_core(profiles_file, tmp_path, monkeypatch):
    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9/x"\ntoken = "env:MINE_TOKEN"\n')
    monkeypatch.setenv("MINE_TOKEN", "mine-token-0123456789")
    result = runner.invoke(app, ["run", "--dry-run", "mine", "sh", "-c", "true"], catch_exceptions=False)
    assert result.exit_code == 0 and "command: sh -c true" in result.stdout
    assert "mine-token-0123456789" not in result.stdout
    missing = runner.invoke(app, ["env", "nope"], catch_exceptions=False)
    assert missing.exit_code == 2 and "no profile named 'nope'" in missing.stderr
    exported = runner.invoke(app, ["env", "mine", "--shell", "json"], catch_exceptions=False)
    assert exported.exit_code == 0 and '"ANTHROPIC_BASE_URL": "http://127.0.0.1:9/x"' in exported.stdout


def test_pin_in_a_directory_that_cannot_be_written_is_one_line(profiles_file, tmp_path, monkeypatch):
    """As in a read-only directory (root ignores permission bits, so the refusal is injected where
    the file system would answer)."""
    import tempfile

    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9"\n')

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = runner.invoke(app, ["pin", "mine"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr == f"ccswitch: error: cannot write {tmp_path / '.ccswitch'}: Permission denied; nothing was changed\n"
    assert not (tmp_path / ".ccswitch").exists()


def test_pin_clear_that_cannot_remove_is_one_line(tmp_path, monkeypatch):
    (tmp_path / ".ccswitch").write_text("mine\n")

    def refuse(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("os.unlink", refuse)
    result = runner.invoke(app, ["pin", "--clear"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr == f"ccswitch: error: cannot remove {tmp_path / '.ccswitch'}: Permission denied; nothing was changed\n"
    assert (tmp_path / ".ccswitch").read_text() == "mine\n"


def test_pin_where_a_directory_has_the_pin_s_name_is_one_line(profiles_file, tmp_path):
    profiles_file('[profiles.mine]\nbase_url = "http://127.0.0.1:9"\n')
    (tmp_path / ".ccswitch").mkdir()
    result = runner.invoke(app, ["pin", "mine"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.count("\n") == 1 and "is a directory; a pin is a file holding a profile name" in result.stderr
    assert (tmp_path / ".ccswitch").is_dir()

