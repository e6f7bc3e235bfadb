"""`ccswitch test` end to end against the loopback mock: table and JSON for each outcome."""

from __future__ import annotations

import json
import threading

import pytest
from support.mock_anthropic import MockAnthropic, closed_port_url
from typer.testing import CliRunner

from ccswitch.claude.variables import NO_TOKEN
from ccswitch.cli.app import app

TOKEN = "sk-test-secret-0123456789"
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TEST_GATEWAY_KEY", TOKEN)


def profile(name: str, url: str, models: str = 'opus = "big-1"\nsonnet = "big-1"\nhaiku = "small-1"', extra: str = "") -> str:
    return f'[profiles.{name}]\nbase_url = "{url}"\ntoken = "env:TEST_GATEWAY_KEY"\n{extra}\n[profiles.{name}.models]\n{models}\n'


def run(*args: str):
    return runner.invoke(app, ["test", *args], catch_exceptions=False)


def run_json(*args: str):
    result = run(*args, "--json")
    return result, json.loads(result.stdout)


def test_ok_table_tests_each_distinct_model(profiles_file):
    with MockAnthropic() as server:
        profiles_file(profile("gw", server.url))
        result = run("gw")
    assert result.exit_code == 0, result.output
    assert sorted(r.model for r in server.messages) == ["big-1", "small-1"]
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["profile", "model", "result", "reason"]
    assert "big-1 (opus, sonnet)" in lines[1] and "OK" in lines[1] and "200" in lines[1] and " ms" in lines[1]
    assert "small-1 (haiku)" in lines[2]
    assert TOKEN not in result.output


def test_ok_json(profiles_file):
    with MockAnthropic() as server:
        profiles_file(profile("gw", server.url, extra='model = "full-model-2"'))
        result, data = run_json("gw")
    assert result.exit_code == 0
    assert data["passed"] is True and data["stream"] is False
    rows = data["results"]
    assert [(r["model"], r["tiers"], r["result"], r["reason"], r["http_status"]) for r in rows] == [
        ("big-1", ["opus", "sonnet"], "ok", "ok", 200),
        ("small-1", ["haiku"], "ok", "ok", 200),
        ("full-model-2", ["model"], "ok", "ok", 200),
    ]
    assert all(isinstance(r["total_ms"], float) and isinstance(r["connect_ms"], float) for r in rows)
    assert TOKEN not in result.stdout


@pytest.mark.parametrize(
    ("status", "reason"),
    [(401, "auth rejected"), (403, "auth rejected"), (404, "model not found"), (429, "rate limited"), (500, "server error")],
)
def test_http_failures_table_and_json(profiles_file, status, reason):
    with MockAnthropic(status=status) as server:
        profiles_file(profile("gw", server.url, models='sonnet = "m-1"'))
        table = run("gw")
        result, data = run_json("gw")
    assert table.exit_code == 1 and result.exit_code == 1
    assert f"FAIL    {reason}: mock {status}" in table.stdout
    assert f" {status} " in table.stdout
    assert data["passed"] is False
    [row] = data["results"]
    assert (row["result"], row["reason"], row["http_status"], row["detail"]) == ("fail", reason, status, f"mock {status}")


def test_slow_answer_past_the_timeout(profiles_file):
    with MockAnthropic(delay=3) as server:
        profiles_file(profile("slow", server.url, models='sonnet = "m-1"'))
        table = run("slow", "--timeout", "0.5")
        result, data = run_json("slow", "--timeout", "0.5")
    assert table.exit_code == 1 and "FAIL    timeout" in table.stdout
    [row] = data["results"]
    assert (row["result"], row["reason"], row["http_status"]) == ("fail", "timeout", None)


def test_refused_port_and_later_models_not_tried(profiles_file):
    profiles_file(profile("down", closed_port_url()))
    table = run("down")
    result, data = run_json("down")
    assert table.exit_code == 1 and "FAIL    refused" in table.stdout
    assert [(r["model"], r["reason"]) for r in data["results"]] == [("big-1", "refused"), ("small-1", "refused")]
    assert data["results"][1]["detail"] == "not tried: the endpoint already failed"


def test_streaming(profiles_file):
    with MockAnthropic() as server:
        profiles_file(profile("gw", server.url, models='sonnet = "m-1"'))
        table = run("gw", "--stream")
        result, data = run_json("gw", "--stream")
    assert table.exit_code == 0 and "OK" in table.stdout
    assert all(r.body["stream"] is True for r in server.messages)
    assert data["stream"] is True
    [row] = data["results"]
    assert row["result"] == "ok" and row["stream"] is True and row["first_byte_ms"] is not None


class BarrierMock(MockAnthropic):
    """Answers only once every profile's request has arrived: proves they are sent concurrently."""

    barrier: threading.Barrier

    @property
    def delay(self) -> float:  # read by the mock's handler before it answers
        try:
            self.barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            self.status = 500
        return 0.0

    @delay.setter
    def delay(self, value: float) -> None:
        pass


def test_several_profiles_at_once_and_one_slow_endpoint(profiles_file):
    barrier = threading.Barrier(2)
    with BarrierMock() as one, BarrierMock() as two, MockAnthropic(status=401) as bad, MockAnthropic(delay=4) as slow:
        one.barrier = two.barrier = barrier
        profiles_file(
            profile("one", one.url, models='sonnet = "m-1"')
            + profile("two", two.url, models='sonnet = "m-2"')
            + profile("bad", bad.url, models='sonnet = "m-3"')
            + profile("slow", slow.url, models='sonnet = "m-4"')
        )
        result, data = run_json("one", "two", "bad", "slow", "--timeout", "1")
    assert result.exit_code == 1
    assert [(r["profile"], r["result"], r["reason"]) for r in data["results"]] == [
        ("one", "ok", "ok"), ("two", "ok", "ok"), ("bad", "fail", "auth rejected"), ("slow", "fail", "timeout"),
    ]


def test_cloud_presets_and_claude_login_are_not_tested(profiles_file):
    result, data = run_json("bedrock", "vertex", "foundry", "anthropic")
    assert result.exit_code == 0
    assert [(r["profile"], r["result"], r["reason"]) for r in data["results"]] == [
        ("bedrock", "skipped", "not tested: Amazon Bedrock uses AWS credentials"),
        ("vertex", "skipped", "not tested: Google Vertex AI uses Google credentials"),
        ("foundry", "skipped", "not tested: Microsoft Foundry uses Azure credentials"),
        ("anthropic", "skipped", "not tested: uses claude's own login"),
    ]
    table = run("bedrock")
    assert "SKIP    not tested: Amazon Bedrock uses AWS credentials" in table.stdout


def test_missing_token_fails_without_a_request(profiles_file, monkeypatch):
    monkeypatch.delenv("ZHIPU_API_KEY", raising=False)
    result, data = run_json("glm")
    assert result.exit_code == 1
    [row] = data["results"]
    assert (row["result"], row["reason"], row["detail"]) == ("fail", "token missing", "$ZHIPU_API_KEY is not set")


def test_default_profile_and_usage_errors(profiles_file):
    with MockAnthropic() as server:
        profiles_file('default = "gw"\n' + profile("gw", server.url, models='sonnet = "m-1"'))
        assert run().exit_code == 0
        assert len(server.messages) == 1
    profiles_file(profile("gw", "http://127.0.0.1:1"))
    result = run()
    assert result.exit_code == 2 and "no default profile" in result.stderr
    result = run("gw", "--all")
    assert result.exit_code == 2 and "not both" in result.stderr
    result = run("nosuch")
    assert result.exit_code == 2 and "no profile named 'nosuch'" in result.stderr


def test_all_is_your_profiles_and_presets_with_a_token(profiles_file, monkeypatch):
    from ccswitch.cli.common import load_profiles
    from ccswitch.health import endpoint_checks

    profiles_file(profile("gw", "http://127.0.0.1:1", models='sonnet = "m-1"'))
    monkeypatch.setenv("DEEPSEEK_API_KEY", TOKEN)
    assert endpoint_checks.configured_profiles(load_profiles(), {"DEEPSEEK_API_KEY": TOKEN}) == ["gw", "deepseek"]
    with MockAnthropic() as server:
        profiles_file(profile("gw", server.url, models='sonnet = "m-1"'))
        monkeypatch.delenv("DEEPSEEK_API_KEY")
        result, data = run_json("--all")
    assert result.exit_code == 0
    assert [r["profile"] for r in data["results"]] == ["gw"]


def test_all_with_nothing_set_up_is_a_usage_error():
    result = run("--all")
    assert result.exit_code == 2 and "--all found nothing to test" in result.stderr


def test_routes_profile_tests_the_profiles_it_routes_to_each_once(profiles_file):
    with MockAnthropic() as first, MockAnthropic() as second:
        profiles_file(profile("a", first.url) + profile("b", second.url, 'opus = "b-1"')
                      + '[profiles.mix]\nroutes = { opus = "b", sonnet = "a" }\n')
        result, data = run_json("mix", "a")
    assert result.exit_code == 0, result.output
    assert [(row["profile"], row["model"]) for row in data["results"]] == [
        ("b", "b-1"), ("a", "big-1"), ("a", "small-1")]
    assert len(first.requests) == 2 and len(second.requests) == 1


def test_a_token_that_is_there_but_cannot_be_sent_is_invalid_not_missing(profiles_file, monkeypatch):
    monkeypatch.setenv("ZHIPU_API_KEY", "sk-0123\x01456789abcdef")
    result, data = run_json("glm")
    [row] = data["results"]
    assert result.exit_code == 1 and (row["result"], row["reason"]) == ("fail", "token invalid")
    assert row["detail"].startswith("profile 'glm': the token from $ZHIPU_API_KEY holds a control or non-ASCII")


def test_a_profile_without_a_token_is_tested_with_the_credential_claude_sends(profiles_file):
    """claude.variables.NO_TOKEN, as `run` gives claude (docs/claude-code.md, "Credentials and requests")."""
    with MockAnthropic() as server:
        profiles_file(f'[profiles.local]\nbase_url = "{server.url}"\nauth = "none"\nmodel = "m"\n')
        result = run("local")
    assert result.exit_code == 0, result.output
    assert {r.headers.get("authorization") for r in server.messages} == {f"Bearer {NO_TOKEN}"}
