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

