"""The history of `use`: one line each time the profile in force in a settings file changes; the
periods usage attributes plain sessions to."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.switching.history import UsePeriod, load_periods
from ccswitch.switching.records import all_records


def ccswitch(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def state() -> Path:
    return Path(os.environ["CCSWITCH_HOME"]) / "state"


def events() -> list[tuple[str | None, str]]:
    lines = (state() / "use-history.jsonl").read_text().splitlines()
    return [(json.loads(line)["profile"], json.loads(line)["scope"]) for line in lines]


def test_use_switch_restore_and_off_each_end_a_period_and_a_repeat_writes_nothing(setup):
    ccswitch("use", "alpha")
    ccswitch("use", "alpha")  # nothing changes: no line
    ccswitch("use", "beta")
    ccswitch("restore")  # the backup taken before `use beta`: alpha again
    ccswitch("off")
    assert events() == [("alpha", "user"), ("beta", "user"), ("alpha", "user"), (None, "user")]
    periods, bad = load_periods(str(state()))
    assert bad == 0 and [(p.profile, p.end is not None) for p in periods] == [
        ("alpha", True), ("beta", True), ("alpha", True)]
    assert oct((state() / "use-history.jsonl").stat().st_mode & 0o777) == "0o600"


def test_a_project_scope_period_belongs_to_its_project_and_a_record_older_than_the_history_seeds_one(
        setup, tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    monkeypatch.chdir(project)
    ccswitch("use", "beta", "--scope", "project")
    ccswitch("use", "alpha")
    (state() / "use-history.jsonl").unlink()  # as if `use` had run before the history existed
    with open(state() / "use-history.jsonl", "w") as handle:
        handle.write("{not json\n")
    periods, bad = load_periods(str(state()), all_records(str(state())))
    assert bad == 1
    assert sorted((p.scope, p.root, p.profile, p.end) for p in periods) == [
        ("project", str(project), "beta", None), ("user", None, "alpha", None)]
    assert all(isinstance(p, UsePeriod) and p.start > 0 for p in periods)
