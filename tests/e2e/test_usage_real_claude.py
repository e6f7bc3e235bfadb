"""`ccswitch usage` after the real claude ran through `ccswitch run` against loopback mocks: the
usage the mock reported shows up under the profile that served it, priced from that profile, and a
gateway session is counted once although both its transcript and the gateway's records describe it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.claude_client import CLAUDE_CODE_VERSION
from support.mock_anthropic import MockAnthropic
from support.processes import subprocess_env

USAGE = {"input_tokens": 1234, "output_tokens": 56, "cache_read_input_tokens": 700, "cache_creation_input_tokens": 30}

# Both profiles map the same model name: attribution by name alone would say "unknown".
TWINS = """\
[profiles.one]
base_url = "{url}"
token = "env:ONE_T"
models = {{ opus = "shared-model", sonnet = "shared-model", haiku = "shared-model" }}
[profiles.one.prices."shared-model"]
input = 2.0
output = 10.0
cache_read = 0.2
cache_write = 2.5
currency = "EUR"

[profiles.two]
extends = "one"
"""

ROUTED = """\
[profiles.a]
base_url = "{a}"
token = "env:ONE_T"
models = {{ opus = "a-opus", sonnet = "a-sonnet", haiku = "a-haiku" }}

[profiles.b]
base_url = "{b}"
token = "env:ONE_T"
models = {{ opus = "b-opus", sonnet = "b-sonnet", haiku = "b-haiku" }}

[profiles.mix]
routes = {{ opus = "a", sonnet = "b", haiku = "b" }}
"""


def ccswitch(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccswitch", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def transcript_responses(home: Path) -> set[str]:
    """The mock's message ids that claude wrote into its transcripts."""
    found: set[str] = set()
    for path in (home / ".claude" / "projects").rglob("*.jsonl"):
        found.update(re.findall(r'"id":"(msg_mock_\d+)"', path.read_text()))
    return found


def test_a_run_session_is_attributed_to_its_profile_and_priced_by_it(profiles_file, claude_bin, claude_env,
                                                                     project, isolated_home):
    with MockAnthropic(usage=USAGE) as server:
        profiles_file(TWINS.format(url=server.url))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), ONE_T="one-token-0123456789")
        result = ccswitch("run", "one", "--", "claude", "-p", "hi", env=env, cwd=project)
        assert result.returncode == 0, result.stderr
    responses = transcript_responses(isolated_home)
    assert responses, "claude wrote no response into its transcript"
    report = ccswitch("usage", "--json", env=env, cwd=project)
    assert report.returncode == 0 and report.stderr == "", report.stderr
    data = json.loads(report.stdout)
    (row,) = data["rows"]
    n = len(responses)
    assert (row["profile"], row["model"], row["requests"]) == ("one", "shared-model", n)
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"], row["cache_write_tokens"]) == (
        1234 * n, 56 * n, 700 * n, 30 * n)
    assert row["currency"] == "EUR"
    assert row["cost"] == pytest.approx(n * (1234 * 2.0 + 56 * 10.0 + 700 * 0.2 + 30 * 2.5) / 1e6)


def test_a_gateway_session_counts_each_response_once_under_the_profile_that_served_it(
        profiles_file, claude_bin, claude_env, project, isolated_home):
    with MockAnthropic(usage=USAGE) as a, MockAnthropic(usage=USAGE) as b:
        profiles_file(ROUTED.format(a=a.url, b=b.url))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), ONE_T="one-token-0123456789")
        result = ccswitch("run", "mix", "--", "claude", "-p", "hi", "--model", "sonnet", env=env, cwd=project)
        assert result.returncode == 0, result.stderr
        served = len(a.messages) + len(b.messages)
    records = Path(env["XDG_STATE_HOME"]) / "ccswitch" / "gateway.sqlite3"
    assert records.exists(), "the gateway recorded nothing"
    responses = transcript_responses(isolated_home)
    data = json.loads(ccswitch("usage", "--json", env=env, cwd=project).stdout)
    by_profile = {row["profile"]: row for row in data["rows"]}
    assert set(by_profile) <= {"a", "b"} and "b" in by_profile  # never "unknown", never "mix"
    # every response the providers answered, once: the transcript's ones and the gateway-only ones
    assert len(responses) <= data["totals"]["requests"] <= served
    assert data["totals"]["input_tokens"] == 1234 * data["totals"]["requests"]



RESUMED = TWINS + """
[profiles.two.prices."shared-model"]
input = 10.0
output = 50.0
cache_read = 1.0
cache_write = 12.5
currency = "CNY"
"""


def test_a_session_resumed_on_another_profile_bills_each_profile_its_own_turns(
        profiles_file, claude_bin, claude_env, project, isolated_home):
    with MockAnthropic(usage=USAGE) as server:
        profiles_file(RESUMED.format(url=server.url))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), ONE_T="one-token-0123456789")
        first = ccswitch("run", "one", "--", "claude", "-p", "hi", env=env, cwd=project)
        assert first.returncode == 0, first.stderr
        launches = (Path(env["XDG_STATE_HOME"]) / "ccswitch" / "sessions.jsonl").read_text().splitlines()
        session = json.loads(launches[0])["session"]
        served_first = len(server.messages)
        again = ccswitch("run", "two", "--", "claude", "-p", "again", "--resume", session, env=env, cwd=project)
        assert again.returncode == 0, again.stderr
        served_second = len(server.messages) - served_first
        more = ccswitch("run", "one", "--", "claude", "-p", "and more", "-c", env=env, cwd=project)
        assert more.returncode == 0, more.stderr
        served_third = len(server.messages) - served_first - served_second
    records = [json.loads(line) for line in
               (Path(env["XDG_STATE_HOME"]) / "ccswitch" / "sessions.jsonl").read_text().splitlines()]
    # Each resume is recorded twice, by `run` and a moment later by its SessionStart hook (source
    # "resume", which also catches an in-session /resume), with the same profile.
    launched = [(r["session"], r["profile"]) for r in records]
    assert [pair for i, pair in enumerate(launched) if i == 0 or launched[i - 1] != pair] == [
        (session, "one"), (session, "two"), (session, "one")]
    assert len(launched) == 5
    transcripts = list((isolated_home / ".claude" / "projects").rglob("*.jsonl"))
    assert len(transcripts) == 1  # claude appended every turn to the one transcript
    data = json.loads(ccswitch("usage", "--json", "--by", "profile", env=env, cwd=project).stdout)
    rows = {row["profile"]: row for row in data["rows"]}
    assert set(rows) == {"one", "two"}
    assert rows["one"]["requests"] == served_first + served_third and rows["two"]["requests"] == served_second
    assert rows["one"]["prompts"] == 2 and rows["two"]["prompts"] == 1
    assert (rows["one"]["currency"], rows["two"]["currency"]) == ("EUR", "CNY")
    assert rows["two"]["cost"] == pytest.approx(served_second * (1234 * 10.0 + 56 * 50.0 + 700 * 1.0 + 30 * 12.5) / 1e6)


def test_the_status_line_shows_in_interactive_claude_with_the_sessions_profile_and_cost(
        profiles_file, claude_bin, claude_env, project, isolated_home):
    import time

    from support.terminal import Terminal

    big = {"input_tokens": 400_000, "output_tokens": 20_000, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    with MockAnthropic(usage=big, reply="pong-from-one") as server:
        profiles_file(TWINS.format(url=server.url))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), ONE_T="one-token-0123456789")
        installed = ccswitch("statusline", "--install", env=env, cwd=project)
        assert installed.returncode == 0, installed.stderr
        settings = json.loads((isolated_home / ".claude" / "settings.json").read_text())
        assert settings["statusLine"]["command"].endswith("statusline")
        (isolated_home / ".claude.json").write_text(json.dumps({"projects": {str(project): {"hasTrustDialogAccepted": True}}}))
        argv = [sys.executable, "-m", "ccswitch", "run", "one", "--", "claude"]
        with Terminal(argv, env, str(project), cols=140) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            # drawn at the start, whole: the run's profile, its model, nothing spent yet in its currency
            assert term.wait_for("one · shared-model · 0 tok €0.00 · today €0.00", 30), term.text()[-2000:]
            term.type("hello there")
            time.sleep(0.5)
            term.type("\r")
            assert term.wait_for("pong-from-one", 60), term.text()[-2000:]
            served = len(server.messages)
            tokens = f"{420 * served}k tok" if served < 3 else "M tok"
            # claude redraws only what changed: the new token count and cost are on screen
            assert term.wait_for(tokens, 30), term.text()[-2500:]
            assert term.wait_for(f"{served:,}.00 · today", 30) or term.wait_for(".00 · today €", 5), term.text()[-2500:]
    line = subprocess.run([sys.executable, "-m", "ccswitch", "statusline"], env=env, cwd=project, capture_output=True,
                          text=True, input=json.dumps({"session_id": json.loads(
                              (Path(env["XDG_STATE_HOME"]) / "ccswitch" / "sessions.jsonl").read_text().splitlines()[0])["session"],
                              "model": {"id": "shared-model"}, "cwd": str(project)})).stdout
    per = (400_000 * 2.0 + 20_000 * 10.0) / 1e6
    assert line.startswith(f"one · shared-model · {420 * served}k tok €{per * served:,.2f} · today €{per * served:,.2f}")
    removed = ccswitch("statusline", "--uninstall", env=env, cwd=project)
    settings_file = isolated_home / ".claude" / "settings.json"
    assert removed.returncode == 0
    assert not settings_file.exists() or "statusLine" not in json.loads(settings_file.read_text())  # install made it


@pytest.mark.parametrize("version", [CLAUDE_CODE_VERSION, "2.1.197"])
def test_a_session_cleared_inside_a_run_is_billed_to_the_runs_profile(
        version, claude_release, profiles_file, claude_env, project, isolated_home):
    """`/clear` starts a new session (new id, new transcript) inside the same claude: run's
    SessionStart hook records it. Without it, its turns would be "unknown" here (two profiles map
    the model name)."""
    import time

    from support.claude_client import skip_first_run
    from support.terminal import Terminal

    sessions_file = Path(claude_env["XDG_STATE_HOME"]) / "ccswitch" / "sessions.jsonl"
    with MockAnthropic(usage=USAGE, reply="pong-from-one") as server:
        profiles_file(TWINS.format(url=server.url))
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_release(version)), ONE_T="one-token-0123456789")
        skip_first_run(isolated_home, project)
        with Terminal([sys.executable, "-m", "ccswitch", "run", "one", "--", "claude"], env, str(project)) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            term.type("first question")
            time.sleep(0.5)
            term.type("\r")
            assert term.wait_for("pong-from-one", 60), term.text()[-2000:]
            term.type("/clear")
            time.sleep(0.5)
            term.type("\r")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(sessions_file.read_text().splitlines()) < 2:
                time.sleep(0.2)
            served = len(server.messages)
            term.type("second question")
            time.sleep(0.5)
            term.type("\r")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(transcripts_with_responses(isolated_home)) < 2:
                time.sleep(0.2)
            assert len(server.messages) > served, term.text()[-2000:]
    first, cleared = (json.loads(line) for line in sessions_file.read_text().splitlines())
    assert (first["profile"], cleared["profile"]) == ("one", "one") and first["session"] != cleared["session"]
    assert set(transcripts_with_responses(isolated_home)) == {first["session"], cleared["session"]}
    data = json.loads(ccswitch("usage", "--json", "--by", "session", env=env, cwd=project).stdout)
    assert {(row["session"], row["profile"]) for row in data["rows"]} == {(first["session"], "one"),
                                                                         (cleared["session"], "one")}


def transcripts_with_responses(home: Path) -> list[str]:
    """The session ids of the transcripts holding a response of the mock."""
    return [path.stem for path in (home / ".claude" / "projects").glob("*/*.jsonl") if "msg_mock_" in path.read_text()]
