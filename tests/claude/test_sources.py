"""Which settings files a claude started in a folder reads, observed on 2.1.197 to 2.1.332
(docs/claude-code.md, "Where settings come from"): `.claude/settings.json` only in the working
directory, `.claude/settings.local.json` at the git root (2.1.211 and later) and in the working
directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ccswitch.claude import precedence
from ccswitch.claude.sources import settings_files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src" / "pkg").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def named(files: list[tuple[str, str]]) -> dict[str, str]:
    return {name: path for name, path in files}


def test_in_a_subfolder_settings_json_is_the_folders_and_both_local_files_count(repo):
    sub = repo / "src" / "pkg"
    files = named(settings_files(dict(os.environ), str(sub)))
    assert files["project-local"] == str(repo / ".claude" / "settings.local.json")
    assert files["folder-local"] == str(sub / ".claude" / "settings.local.json")
    assert files["project"] == str(sub / ".claude" / "settings.json")  # never the root's settings.json
    assert list(files) == ["managed", "project-local", "folder-local", "project", "user"]


def test_an_old_claude_in_a_subfolder_reads_only_the_folders_files(repo):
    sub = repo / "src" / "pkg"
    files = named(settings_files(dict(os.environ), str(sub), root_local=False))
    assert "project-local" not in files and files["folder-local"] == str(sub / ".claude" / "settings.local.json")


@pytest.mark.parametrize("root_local", [True, False])
def test_at_the_root_there_is_one_local_file_whatever_the_release(repo, root_local):
    files = named(settings_files(dict(os.environ), str(repo), root_local=root_local))
    assert files["project-local"] == str(repo / ".claude" / "settings.local.json") and "folder-local" not in files


def test_the_release_is_asked_only_when_a_project_file_could_be_ignored(repo, monkeypatch):
    asked = []

    def release():
        asked.append(True)
        return (2, 1, 197)

    sub = repo / "src" / "pkg"
    assert precedence.gather(dict(os.environ), str(sub), {}, release).notes == [] and not asked
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.local.json").write_text('{"env": {"ANTHROPIC_BASE_URL": "https://p.example"}}')
    situation = precedence.gather(dict(os.environ), str(sub), {}, release)
    [note] = situation.notes
    assert asked and note.code == "old-claude-project-scope" and "claude 2.1.197 ignores" in note.message
    assert "project-local" not in {s.name for s in situation.sources}
    assert precedence.gather(dict(os.environ), str(sub), {}, lambda: (2, 1, 211)).notes == []
    assert precedence.gather(dict(os.environ), str(sub), {}, lambda: None).notes == []  # unknown: no claim
