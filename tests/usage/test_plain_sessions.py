"""Plain claude sessions (not started by `ccswitch run`) go to the profile `use` had made active
where and when they ran, else to claude's own login for a Claude model; `run` beats `use`.
Built through the real `use`/`off` commands with a fixed clock, then `ccswitch usage --json`."""

from __future__ import annotations

import calendar
import json
import os
import shutil
from pathlib import Path

import pytest
from support.usage_lines import assistant
from support.use_setup import ALPHA_TOKEN, BETA_TOKEN, FIXTURES
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.commands import front_door
from ccswitch.switching import transaction
from ccswitch.usage.sessions import record_session

PRICES = """
[profiles.alpha.prices."alpha-large"]
input = 1.0
output = 2.0
currency = "EUR"
[profiles.beta.prices."beta-coder"]
input = 3.0
output = 6.0
currency = "CNY"
"""


def at(hour: int, minute: int = 0) -> float:
    return float(calendar.timegm((2026, 11, 30, hour, minute, 0)))


def iso(hour: int, minute: int = 0) -> str:
    return f"2026-11-30T{hour:02d}:{minute:02d}:00.000Z"


class Clock:
    now = 0.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def world(profiles_file, isolated_home, monkeypatch, tmp_path):
    profiles_file((FIXTURES / "profiles.toml").read_text() + PRICES)
    monkeypatch.setenv("ALPHA_TOKEN", ALPHA_TOKEN)
    monkeypatch.setenv("BETA_TOKEN", BETA_TOKEN)
    (isolated_home / ".claude").mkdir()
    shutil.copy(FIXTURES / "before.json", isolated_home / ".claude" / "settings.json")
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    clock = Clock()
    monkeypatch.setattr(transaction, "time", clock)
    return isolated_home, project, clock, monkeypatch


def switch(world, hour: int, *args: str) -> None:
    home, project, clock, monkeypatch = world
    clock.now = at(hour)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


def transcript(home: Path, name: str, lines: list[str]) -> None:
    path = home / ".claude" / "projects" / "-p" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def line(mid: str, session: str, model: str, hour: int, cwd: str, minute: int = 30) -> str:
    text = assistant(mid, "r" + mid, session=session, model=model, ts=iso(hour, minute), input=1000, output=100,
                     cache_read=0, cache_write=0)
    return text.replace('"cwd":"/p"', f'"cwd":{json.dumps(cwd)}')


def test_plain_sessions_follow_use_periods_by_project_and_time_and_run_beats_use(world, capsys):
    home, project, clock, _ = world
    switch(world, 10, "use", "alpha")                          # user scope from 10:00
    switch(world, 11, "use", "beta", "--scope", "project")     # the project from 11:00
    switch(world, 12, "off")                                   # user scope ends at 12:00
    switch(world, 13, "off", "--scope", "project")             # the project's ends at 13:00
    elsewhere, inside = "/elsewhere", str(project / "sub")
    transcript(home, "a.jsonl", [
        line("m1", "s1", "claude-sonnet-4-5", 9, elsewhere),   # before any use: claude's login
        line("m2", "s1", "alpha-large", 10, elsewhere),        # user period: alpha
        line("m3", "s1", "claude-opus-4-6", 12, elsewhere),    # after off: the login
        line("m4", "s2", "alpha-large", 10, inside),           # the project had no use yet: alpha
        line("m5", "s2", "beta-coder", 11, inside),            # project beats user: beta
        line("m6", "s2", "beta-coder", 12, inside),            # user off, project still on: beta
        line("m7", "s2", "claude-opus-4-6", 13, inside),       # both off: the login
    ])
    record_session(str(home / ".local" / "state" / "ccswitch"), "s3", "alpha", at(11))
    transcript(home, "b.jsonl", [line("m8", "s3", "beta-coder", 11, inside, minute=45)])  # run beats use
    status = front_door.main(["usage", "--json", "--by", "profile"])
    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    rows = {(r["profile"], r["currency"]): r for r in json.loads(out)["rows"]}
    assert {k: r["requests"] for k, r in rows.items()} == {
        ("alpha", "EUR"): 2, ("alpha", None): 1, ("beta", "CNY"): 2, ("anthropic", "USD"): 3}
    assert rows[("alpha", "EUR")]["cost"] == pytest.approx(2 * (1000 * 1.0 + 100 * 2.0) / 1e6)
    assert rows[("alpha", None)]["cost"] is None  # alpha has no price for beta-coder
    assert rows[("beta", "CNY")]["cost"] == pytest.approx(2 * (1000 * 3.0 + 100 * 6.0) / 1e6)
    # claude's login at Anthropic's list prices: sonnet 4.5 $3/$15, opus 4.6 $5/$25 per million
    assert rows[("anthropic", "USD")]["cost"] == pytest.approx((1000 * 3 + 100 * 15 + 2 * (1000 * 5 + 100 * 25)) / 1e6)
    history = (Path(os.environ["CCSWITCH_HOME"]) / "state" / "use-history.jsonl").read_text().splitlines()
    assert [json.loads(h)["profile"] for h in history] == ["alpha", "beta", None, None]
    assert oct((Path(os.environ["CCSWITCH_HOME"]) / "state" / "use-history.jsonl").stat().st_mode & 0o777) == "0o600"


def test_a_use_made_before_the_history_existed_counts_from_its_record(world, capsys):
    home, project, clock, _ = world
    switch(world, 10, "use", "alpha")
    (Path(os.environ["CCSWITCH_HOME"]) / "state" / "use-history.jsonl").unlink()  # an older ccswitch kept none
    record = next((Path(os.environ["CCSWITCH_HOME"]) / "state" / "records").glob("*.json"))
    data = json.loads(record.read_text())
    data["applied_at"] = "2026-11-30T10:00:00+00:00"
    record.write_text(json.dumps(data))
    transcript(home, "a.jsonl", [line("m1", "s1", "alpha-large", 9, "/x"), line("m2", "s1", "alpha-large", 10, "/x")])
    front_door.main(["usage", "--json", "--by", "profile"])
    rows = {r["profile"]: r["requests"] for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows == {"alpha": 2}  # 09:30 has no period, but alpha maps alpha-large: the name decides
    transcript(home, "a.jsonl", [line("m1", "s1", "claude-haiku-4-5", 9, "/x"),
                                 line("m2", "s1", "claude-haiku-4-5", 10, "/x")])
    front_door.main(["usage", "--json", "--by", "profile"])
    rows = {r["profile"]: r["requests"] for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows == {"anthropic": 1, "alpha": 1}  # 10:30 is in alpha's period, seeded from the record
