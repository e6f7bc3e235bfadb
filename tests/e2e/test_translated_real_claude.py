"""OpenAI-format profiles inside the real claude, through `ccswitch run` and the gateway's
translation, on CI's pinned release and on 2.1.197 (each installed by support.claude_client), in
`-p` mode and interactively: a whole tool loop through `openai-chat` and `openai-responses`
(arguments streamed in fragments, the tool run by claude, its result back as a `tool` message or a
`function_call_output`, the final answer shown), Gemini's base path and thought signatures, a
`routes` profile with an OpenAI-format tier and an Anthropic tier switched with `/model`, failover
across formats both ways, `ccswitch usage`, and a provider's 401. Every request that reaches an
OpenAI-format mock is checked against the `openai` package's own request types, unknown keys
refused (support.mock_openai). What was observed:
docs/translation.md, "Observed on the real claude"."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from support.claude_client import (
    CLAUDE_CODE_VERSION,
    skip_first_run,
)
from support.mock_anthropic import MockAnthropic
from support.mock_openai import INVALID_KEY, MAPPED, Fail, MockOpenAI, unauthorized
from support.mock_tool_turn import ToolTurnMock
from support.processes import ccswitch, subprocess_env, wait_until
from support.terminal import Terminal

TOKENS = {"GPT_T": "sk-proj-gpt-0123456789abcdef", "ANT_T": "ant-token-0123456789abcdef"}
PROMPT = "Read notes.txt and tell me the answer."
ANSWER = "The answer is 42, says the model."
MODELS = '[profiles.{0}.models]\nopus = "{0}-o"\nsonnet = "{0}-s"\nhaiku = "{0}-h"\n'


@pytest.fixture(params=[CLAUDE_CODE_VERSION, "2.1.197"])
def release(request, claude_release):
    return claude_release(request.param)  # installed into .cache/ as CI would (conftest.py)


def openai_profile(name: str, api: str, url: str, *, fallback: tuple[str, ...] = ()) -> str:
    return (f'[profiles.{name}]\napi = "{api}"\nbase_url = "{url}"\ntoken = "env:GPT_T"\n'
            f'fallback = {json.dumps(list(fallback))}\n' + MODELS.format(name)
            + f'[profiles.{name}.openai]\nreasoning_effort = ["low", "medium", "high"]\n')


def anthropic_profile(name: str, url: str, *, fallback: tuple[str, ...] = ()) -> str:
    return f'[profiles.{name}]\nbase_url = "{url}"\ntoken = "env:ANT_T"\nfallback = {json.dumps(list(fallback))}\n' \
        + MODELS.format(name)


@pytest.fixture
def setup(profiles_file, claude_env, project):
    (project / "notes.txt").write_text("the answer is 42\n")

    def make(release, profiles: str) -> dict[str, str]:
        profiles_file(profiles)
        return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(release), **TOKENS)

    return make


def run_p(name: str, env: dict[str, str], project, prompt: str = PROMPT):
    return ccswitch("run", name, "--", "claude", "-p", prompt, "--allowedTools", "Read", env=env, cwd=project)


def read_step(project) -> tuple[str, dict]:
    return "Read", {"file_path": str(project / "notes.txt")}


def assert_tool_loop(mock: MockOpenAI, project) -> None:
    """The request after the tool ran: the call as it was made, then its result, in the format's terms."""
    assert mock.problems == [] and mock.answered >= 2
    after = next(s.body for s in mock.seen if mock.results_in(s.body))
    if mock.api == "openai-chat":
        call, result = after["messages"][-2:]
        assert [c["id"] for c in call["tool_calls"]] == mock.calls
        assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == read_step(project)[1]
        assert result["role"] == "tool" and result["tool_call_id"] == mock.calls[0] and "the answer is 42" in result["content"]
    else:
        call, result = after["input"][-2:]
        assert call["type"] == "function_call" and [call["call_id"]] == mock.calls
        assert json.loads(call["arguments"]) == read_step(project)[1]
        assert result["type"] == "function_call_output" and "the answer is 42" in result["output"]


@pytest.mark.parametrize("api", ["openai-chat", "openai-responses"])
def test_a_tool_loop_in_print_mode_and_usage_in_anthropic_terms(release, setup, project, api):
    with MockOpenAI(api, steps=[read_step(project)], final_text=ANSWER, reasoning=True) as gpt:
        env = setup(release, openai_profile("gpt", api, gpt.url))
        result = run_p("gpt", env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ANSWER in result.stdout
    assert_tool_loop(gpt, project)
    assert gpt.fragment < len(json.dumps(read_step(project)[1])) // 5  # the arguments came in many pieces
    assert all(s.path == gpt.path and s.model == "gpt-o" for s in gpt.seen)
    # Of claude's headers only its User-Agent went along (docs/translation.md, "Headers").
    for seen in gpt.seen:
        assert set(seen.headers) <= {"accept", "accept-encoding", "authorization", "content-length", "content-type",
                                     "host", "user-agent"}, seen.headers
        assert seen.headers["user-agent"].startswith("claude-cli/") and seen.headers["authorization"] == f"Bearer {TOKENS['GPT_T']}"
    for item in gpt.reasoning_back:  # Responses: claude 2.1.330 sends its thinking back; 2.1.197 does not
        assert item == {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Let me think."}],
                        "encrypted_content": "enc-1"}
    if api == "openai-responses" and CLAUDE_CODE_VERSION in str(release):
        assert gpt.reasoning_back
    usage = json.loads(ccswitch("usage", "--json", env=env, cwd=project).stdout)
    [row] = usage["rows"]
    n = gpt.answered
    assert (row["profile"], row["model"], row["requests"]) == ("gpt", "gpt-o", n)
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"], row["cache_write_tokens"]) == (
        MAPPED["input_tokens"] * n, MAPPED["cache_read_input_tokens"] * n, MAPPED["output_tokens"] * n, 0)


def interactive_question(term: Terminal, question: str, answer: str) -> None:
    term.type(question + "\r")
    for _ in range(3):  # a tool that asks first: allow it
        if term.wait_for(answer, 20):
            return
        if "Do you want to proceed" in term.text():
            term.type("\r")
    assert term.wait_for(answer, 30), term.text()[-3000:]


@pytest.mark.parametrize("api", ["openai-chat", "openai-responses"])
def test_a_tool_loop_interactively_then_context(release, setup, project, isolated_home, api):
    """…and `/context`, whose dozens of count_tokens requests the gateway answers itself: no 404
    storm, nothing sent upstream, and no request added to `ccswitch usage`."""
    with MockOpenAI(api, steps=[read_step(project)], final_text=ANSWER) as gpt:
        env = setup(release, openai_profile("gpt", api, gpt.url))
        skip_first_run(isolated_home, project)
        with Terminal([sys.executable, "-m", "ccswitch", "run", "gpt", "--", "claude"], env, str(project)) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            interactive_question(term, PROMPT, ANSWER)
            term.type("/context")
            time.sleep(1)
            term.type("\r")
            assert term.wait_for("Free space", 60), term.text()[-3000:]  # ("Context usage" on 2.1.330, "Usage" on 2.1.197)
    assert_tool_loop(gpt, project)
    assert {s.path for s in gpt.seen} == {gpt.path}
    # The gateway writes its records in batches, the last when it sees claude gone: wait for /context's
    # dozens, not for the first batch (it held one under load, and the count was read then).
    records = Path(env["XDG_STATE_HOME"]) / "ccswitch" / "gateway.sqlite3"
    assert wait_until(lambda: sum(row[2] for row in count_tokens_rows(records)) >= 5, 30), count_tokens_rows(records)
    counted = count_tokens_rows(records)
    assert len(counted) == 1 and counted[0][:2] == ("local", 200), counted
    usage = json.loads(ccswitch("usage", "--json", env=env, cwd=project).stdout)
    assert usage["totals"]["requests"] == gpt.answered


def count_tokens_rows(path: Path) -> list[tuple]:
    """(outcome, status, how many) of the gateway's count_tokens records, once there are any."""
    try:
        records = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return records.execute("SELECT outcome, status, count(*) FROM requests WHERE path LIKE '%count_tokens' "
                                   "GROUP BY outcome, status").fetchall()
        finally:
            records.close()
    except sqlite3.Error:
        return []


def test_gemini_base_path_and_thought_signatures_across_turns(release, setup, project):
    (project / "more.txt").write_text("and 43\n")
    steps = [read_step(project), ("Read", {"file_path": str(project / "more.txt")})]
    with MockOpenAI(prefix="/v1beta/openai", steps=steps, final_text=ANSWER, gemini=True) as gemini:
        env = setup(release, openai_profile("gem", "openai-chat", gemini.url))
        result = run_p("gem", env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ANSWER in result.stdout and gemini.problems == []
    assert {s.path for s in gemini.seen} == {"/v1beta/openai/chat/completions"}
    # turn 2 carried the first call's signature back, turn 3 both calls'
    assert gemini.signatures_back >= 3 and len(gemini.signatures) == 2


def switch_model(term: Terminal, model: str) -> None:
    """`/model MODEL`, confirming the question claude asks when a conversation is cached for the
    current model (a new one each time: the screen keeps the earlier ones)."""
    asked = term.text().count("Switch model?")
    term.type(f"/model {model}")
    time.sleep(1)
    term.type("\r")
    if wait_until(lambda: term.text().count("Switch model?") > asked, 5):
        time.sleep(0.5)
        term.type("\r")
    assert wait_until(lambda: "Set model to" in term.text().rsplit(f"/model {model}", 1)[-1], 15), term.text()[-2000:]
    time.sleep(1)


def test_routes_with_an_openai_tier_and_an_anthropic_tier_switched_with_slash_model(release, setup, project, isolated_home):
    with MockOpenAI(final_text="from-gpt") as gpt, MockAnthropic(reply="from-ant") as ant:
        env = setup(release, openai_profile("gpt", "openai-chat", gpt.url) + anthropic_profile("ant", ant.url)
                    + '[profiles.mix]\nroutes = { opus = "gpt", sonnet = "ant", haiku = "ant" }\n')
        skip_first_run(isolated_home, project)
        with Terminal([sys.executable, "-m", "ccswitch", "run", "mix", "--", "claude"], env, str(project)) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            interactive_question(term, "first question", "from-gpt")
            switch_model(term, "sonnet")
            asked = len(ant.messages)
            term.type("second question\r")
            assert wait_until(lambda: any(m.model == "ant-s" for m in ant.messages[asked:]), 60), term.text()[-3000:]
            assert term.wait_for("from-ant", 30)
            switch_model(term, "opus")
            seen = len(gpt.seen)
            term.type("third question\r")
            assert wait_until(lambda: any("third question" in json.dumps(s.body) for s in gpt.seen[seen:]), 60), \
                term.text()[-3000:]
    assert gpt.problems == []
    third = next(s.body for s in gpt.seen[seen:] if "third question" in json.dumps(s.body))
    assert third["model"] == "gpt-o" and any(m["role"] == "assistant" and "from-ant" in (m.get("content") or "")
                                             for m in third["messages"])  # the Anthropic tier's answer, in the history


def test_failover_from_an_openai_profile_to_an_anthropic_one_and_back(release, setup, project):
    with MockOpenAI(steps=[read_step(project)]) as gpt, ToolTurnMock([], final_text="from-ant") as ant:
        gpt.script(None, Fail(500))  # the tool call, then down
        env = setup(release, openai_profile("gpt", "openai-chat", gpt.url, fallback=("ant",)) + anthropic_profile("ant", ant.url))
        result = run_p("gpt", env, project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-ant" in result.stdout and gpt.problems == []
    history = ant.messages()[-1]["messages"]  # gpt's call and claude's result, now in Anthropic's format
    blocks = [b for m in history if isinstance(m["content"], list) for b in m["content"]]
    assert {"type": "tool_use", "id": "call_mock_1", "name": "Read", "input": read_step(project)[1]} in blocks
    assert any(b["type"] == "tool_result" and b["tool_use_id"] == "call_mock_1" for b in blocks)

    with ToolTurnMock([read_step(project)], fail_from=1) as ant, MockOpenAI(final_text="from-gpt") as gpt:
        env = setup(release, anthropic_profile("ant", ant.url, fallback=("gpt",)) + openai_profile("gpt", "openai-chat", gpt.url))
        # (a plain Anthropic profile launches claude straight at its endpoint: failover in a session is the gateway's)
        result = ccswitch("run", "ant", "--gateway", "--", "claude", "-p", PROMPT, "--allowedTools", "Read", env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-gpt" in result.stdout and gpt.problems == []
    messages = gpt.seen[-1].body["messages"]
    assert messages[-2]["tool_calls"][0]["id"] == "toolu_mock_1" and messages[-1]["tool_call_id"] == "toolu_mock_1"
    assert gpt.seen[-1].model == "gpt-o"


def test_an_upstream_401_shows_the_providers_own_message(release, setup, project):
    with MockOpenAI() as gpt:
        gpt.script(*[unauthorized()] * 10)
        env = setup(release, openai_profile("gpt", "openai-chat", gpt.url))
        result = run_p("gpt", env, project, prompt="hi")
    assert result.returncode == 1
    assert INVALID_KEY in result.stdout, result.stdout + result.stderr
    assert "401" in result.stdout
    assert not any(token in result.stdout + result.stderr for token in TOKENS.values())


def test_ccswitch_test_probes_each_format_at_its_own_path(setup, project, claude_bin):
    with MockOpenAI(final_text="OK") as gpt, MockOpenAI("openai-responses", final_text="OK") as resp:
        env = setup(claude_bin, openai_profile("gpt", "openai-chat", gpt.url) + openai_profile("resp", "openai-responses", resp.url))
        for stream in ((), ("--stream",)):
            result = ccswitch("test", "gpt", "resp", "--json", *stream, env=env, cwd=project)
            assert result.returncode == 0, result.stdout + result.stderr
            rows = json.loads(result.stdout)
            rows = rows.get("results", rows) if isinstance(rows, dict) else rows
            assert {(r["profile"], r["result"]) for r in rows} == {("gpt", "ok"), ("resp", "ok")}
    assert gpt.problems == [] and resp.problems == []  # the probes are valid requests in each format
    assert {s.path for s in gpt.seen} == {gpt.path} and {s.path for s in resp.seen} == {resp.path}
    assert {s.body.get("stream", False) for s in gpt.seen + resp.seen} == {False, True}


def test_the_foreground_gateway_serves_openai_format_profiles(setup, project, claude_bin, claude_env):
    import signal
    import subprocess

    from support.processes import free_port

    with MockOpenAI(final_text="from-gpt") as gpt, MockOpenAI("openai-responses", final_text="from-resp") as resp:
        env = setup(claude_bin, openai_profile("gpt", "openai-chat", gpt.url) + openai_profile("resp", "openai-responses", resp.url))
        port = free_port()
        gateway = subprocess.Popen([sys.executable, "-m", "ccswitch", "gateway", "gpt", "--port", str(port)], cwd=project,
                                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            banner = gateway.stderr.readline()
            assert f"ccswitch gateway on http://127.0.0.1:{port} for gpt" in banner and "resp" in banner, banner
            key = (Path(env["XDG_STATE_HOME"]) / "ccswitch" / "gateway.key").read_text().strip()
            plain = dict(claude_env, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}", ANTHROPIC_AUTH_TOKEN=key)
            answers = [subprocess.run([str(claude_bin), "-p", "hi", *model], cwd=project, capture_output=True, text=True,
                                      timeout=120, stdin=subprocess.DEVNULL, env=plain)
                       for model in ((), ("--model", "resp::resp-s"))]
            gateway.send_signal(signal.SIGTERM)
            assert gateway.wait(timeout=10) == 0
        finally:
            gateway.kill()
    assert [a.returncode for a in answers] == [0, 0], [a.stdout + a.stderr for a in answers]
    assert "from-gpt" in answers[0].stdout and "from-resp" in answers[1].stdout
    assert gpt.seen[0].model == "gpt-o" and resp.seen[0].model == "resp-s"
    assert gpt.problems == [] and resp.problems == []
