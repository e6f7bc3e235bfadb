"""Where `use` writes: the scope's file, and what it says about it."""

from __future__ import annotations

import json
import subprocess

from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.switching.records import outside_git_note, target_for


def ccswitch(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_project_scope_outside_a_git_work_tree_says_where_it_wrote_and_why(setup, tmp_path, monkeypatch):
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = ccswitch("use", "alpha", "--scope", "project")
    assert result.exit_code == 0, result.output
    written = folder / ".claude" / "settings.local.json"
    assert json.loads(written.read_text())["env"]["ANTHROPIC_BASE_URL"]
    assert (f"{folder} is not inside a git work tree, so the project is this directory: the settings go to "
            f"{written}, which claude reads when started here") in " ".join(result.stderr.split())


def test_inside_a_git_work_tree_there_is_no_such_note(tmp_path):
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert outside_git_note(target_for("project", str(tmp_path / "user.json"), str(repo / "sub"))) is None
    assert outside_git_note(target_for("user", str(tmp_path / "user.json"), str(tmp_path))) is None
