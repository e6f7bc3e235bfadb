"""`ccswitch run` through the per-session gateway, with the real claude and three loopback upstreams:
each tier reaches its own provider with its own token, failures fail over, a profile-qualified model
switches provider, the session key is required, no upstream token leaves the gateway, and nothing
is left behind when the session ends (SIGKILL included)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic, closed_port_url
from support.processes import free_port, subprocess_env

TOKENS = {"kimi": "kimi-token-0123456789aa", "glm": "glm-token-0123456789bb", "deep": "deep-token-0123456789cc"}

PROFILES = """\
[profiles.kimi]
base_url = "{kimi}"
token = "env:KIMI_T"
fallback = ["deep"]
[profiles.kimi.models]
opus = "k-opus"
sonnet = "k-sonnet"
haiku = "k-haiku"

[profiles.glm]
base_url = "{glm}"
token = "env:GLM_T"
auth = "x-api-key"
fallback = ["deep"]
[profiles.glm.models]
opus = "g-opus"
sonnet = "g-sonnet"
haiku = "g-haiku"

[profiles.deep]
base_url = "{deep}"
token = "env:DEEP_T"
[profiles.deep.models]
opus = "d-opus"
sonnet = "d-sonnet"
haiku = "d-haiku"

[profiles.mix]
routes = {{ opus = "kimi", sonnet = "glm", haiku = "deep" }}
"""


@pytest.fixture
def mocks():
    with MockAnthropic(reply="from-kimi") as kimi, MockAnthropic(reply="from-glm") as glm, \
            MockAnthropic(reply="from-deep") as deep:
        yield {"kimi": kimi, "glm": glm, "deep": deep}


def setup(profiles_file, claude_bin, claude_env, urls: dict[str, str], **extra: str) -> dict[str, str]:
    profiles_file(PROFILES.format(**urls))
    return subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), KIMI_T=TOKENS["kimi"], GLM_T=TOKENS["glm"],
                          DEEP_T=TOKENS["deep"], **extra)


@pytest.fixture
def env(profiles_file, claude_bin, claude_env, mocks) -> dict[str, str]:
    return setup(profiles_file, claude_bin, claude_env, {name: m.url for name, m in mocks.items()})


def run(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccswitch", "run", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def wait_until(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def gateway_processes(cwd: Path) -> list[str]:
    """This test's gateways (started in its project directory): other sessions may run their own."""
    listing = subprocess.run(["ps", "-A", "-o", "pid=,comm=,args="], capture_output=True, text=True).stdout
    found = []
    for line in listing.splitlines():
        pid, comm, args = (line.split(None, 2) + ["", ""])[:3]
        if comm == "ccswitch-gw" or "ccswitch.gateway" in args:  # forked (Linux) or exec'd
            try:
                if os.readlink(f"/proc/{pid}/cwd") == str(cwd):
                    found.append(line)
            except OSError:
                pass
    return found


@pytest.mark.parametrize(("model", "upstream", "sent"), [
    ([], "kimi", "k-opus"), (["--model", "sonnet"], "glm", "g-sonnet"), (["--model", "haiku"], "deep", "d-haiku"),
])
def test_each_tier_reaches_its_own_provider_with_its_own_token(env, mocks, project, model, upstream, sent):
    result = run("mix", "--", "claude", "-p", "hi", *model, env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"from-{upstream}" in result.stdout
    [request, *_] = mocks[upstream].messages
    assert request.model == sent
    credential = request.headers.get("x-api-key") if upstream == "glm" else request.headers.get("authorization")
    assert credential == (TOKENS[upstream] if upstream == "glm" else f"Bearer {TOKENS[upstream]}")
    assert all(not m.messages for name, m in mocks.items() if name != upstream)


def test_a_profile_qualified_model_switches_provider(env, mocks, project):
    result = run("mix", "--", "claude", "-p", "hi", "--model", "glm::g-custom", env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [m.model for m in mocks["glm"].messages] == ["g-custom"] and not mocks["kimi"].messages


@pytest.mark.parametrize("failure", ["529", "429", "refused", "first-byte timeout"])
def test_a_failing_provider_fails_over_to_its_fallback(profiles_file, claude_bin, claude_env, project, failure):
    with MockAnthropic(reply="from-deep") as deep, MockAnthropic(reply="from-glm") as glm, \
            MockAnthropic(status={"529": 529, "429": 429}.get(failure, 200),
                          delay=5.0 if failure == "first-byte timeout" else 0.0) as kimi:
        kimi_url = closed_port_url() if failure == "refused" else kimi.url
        env = setup(profiles_file, claude_bin, claude_env, {"kimi": kimi_url, "glm": glm.url, "deep": deep.url},
                    CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT="1")
        result = run("mix", "--", "claude", "-p", "hi", env=env, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "from-deep" in result.stdout
        assert [m.model for m in deep.messages][:1] == ["d-opus"]  # the fallback's own model for the tier
        assert deep.messages[0].headers["authorization"] == f"Bearer {TOKENS['deep']}"


def test_a_stream_that_goes_silent_ends_with_an_error_event_and_claudes_retry_reaches_the_fallback(
        profiles_file, claude_bin, claude_env, project):
    with MockAnthropic(reply="from-kimi", stall=90.0) as kimi, MockAnthropic(reply="from-glm") as glm, \
            MockAnthropic(reply="from-deep") as deep:
        env = setup(profiles_file, claude_bin, claude_env, {"kimi": kimi.url, "glm": glm.url, "deep": deep.url},
                    CCSWITCH_GATEWAY_IDLE_TIMEOUT="2")
        started = time.monotonic()
        result = run("mix", "--", "claude", "-p", "hi", env=env, cwd=project)
        took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-deep" in result.stdout and took < 60  # not after claude's own 300 s
    assert [m.body.get("stream") for m in kimi.messages] == [True]  # kimi went silent once, and was left alone
    assert [bool(m.body.get("stream")) for m in deep.messages] == [False]  # claude's retry, not streaming
    assert deep.messages[0].model == "d-opus"


def test_run_gateway_with_a_model_no_tier_maps_reaches_its_profile(profiles_file, claude_bin, claude_env, project, mocks):
    env = setup(profiles_file, claude_bin, claude_env, {name: m.url for name, m in mocks.items()})
    profiles_file(PROFILES.format(**{name: m.url for name, m in mocks.items()}) +
                  '\n[profiles.air]\nextends = "glm"\nmodel = "g-air"\n')
    result = run("air", "--gateway", "--", "claude", "-p", "hi", env=env, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-glm" in result.stdout
    assert [m.model for m in mocks["glm"].messages] == ["g-air"]
    assert mocks["glm"].messages[0].headers["x-api-key"] == TOKENS["glm"]


PROBE = """
import json, os, sys, urllib.request, urllib.error
base, key = os.environ["ANTHROPIC_BASE_URL"], os.environ["ANTHROPIC_AUTH_TOKEN"]
def post(headers):
    body = json.dumps({"model": os.environ["ANTHROPIC_DEFAULT_OPUS_MODEL"], "max_tokens": 8, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(base + "/v1/messages", body, {"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
print(json.dumps({"without": post({})[0], "wrong": post({"x-api-key": "nope"})[0],
                  "with": post({"authorization": "Bearer " + key}), "env": dict(os.environ), "argv": sys.argv,
                  "base": base}))
"""


def test_the_session_key_is_required_and_no_upstream_token_leaves_the_gateway(env, mocks, project, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    result = run("mix", "--", sys.executable, str(script), env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["without"] == 401 and seen["wrong"] == 401
    status, body = seen["with"]
    assert status == 200
    # SSE bytes through the gateway are the upstream's own (the model name aside; the mock numbers
    # its answers, so the direct one has the next id).
    direct = subprocess.run([sys.executable, "-c", "import urllib.request,json,sys;r=urllib.request.Request("
                             f"'{mocks['kimi'].url}/v1/messages',json.dumps({{'model':'k-opus','stream':True}}).encode(),"
                             "{'content-type':'application/json'});print(urllib.request.urlopen(r).read().decode(),end='')"],
                            capture_output=True, text=True, check=True).stdout
    assert re.sub(r"msg_mock_\d+", "msg_mock", body) == re.sub(r"msg_mock_\d+", "msg_mock", direct)
    everything = json.dumps(seen) + result.stderr
    assert not any(token in everything for token in TOKENS.values())


def files_holding(root: Path, needles: list[str]) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(needle.encode() in data for needle in needles):
                found.append(path)
    return found


def test_claude_never_sees_an_upstream_token_and_nothing_is_left_behind(env, mocks, project, isolated_home, tmp_path,
                                                                        claude_bin):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "seen.json"
    wrapper = bin_dir / "claude"
    wrapper.write_text(f"#!{sys.executable}\nimport json, os, sys\njson.dump({{'argv': sys.argv, 'env': dict(os.environ)}}, "
                       f"open({str(record)!r}, 'w'))\nos.execv({str(claude_bin)!r}, [{str(claude_bin)!r}, *sys.argv[1:]])\n")
    wrapper.chmod(0o755)
    wrapped = {k: v for k, v in env.items() if k != "CCSWITCH_CLAUDE"}
    wrapped["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    result = run("mix", "--", "claude", "-p", "hi", env=wrapped, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(record.read_text())
    settings = Path(seen["argv"][seen["argv"].index("--settings") + 1])
    assert wait_until(lambda: not settings.exists() and not gateway_processes(project))  # it ends with claude, and cleans up
    tokens = list(TOKENS.values())
    assert not any(t in json.dumps(seen["env"]) or t in " ".join(seen["argv"]) for t in tokens)
    assert files_holding(isolated_home, tokens) == [] and files_holding(project, tokens) == []


def test_the_gateway_ends_with_a_session_killed_by_sigkill(env, mocks, project, tmp_path):
    out = tmp_path / "base.txt"
    script = f"echo $ANTHROPIC_BASE_URL > {out}; kill -KILL $$"
    result = run("mix", "--", "sh", "-c", script, env=env, cwd=project)
    assert result.returncode == -signal.SIGKILL or result.returncode == 128 + signal.SIGKILL
    port = int(out.read_text().strip().rsplit(":", 1)[1])
    assert wait_until(lambda: not gateway_processes(project))

    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return True
        return False

    assert wait_until(refused)  # gone, even where this test cannot see a non-dumpable process's cwd


def test_a_bad_route_is_a_clear_error_and_starts_nothing(profiles_file, claude_bin, claude_env, project):
    profiles_file('[profiles.mix]\nroutes = { opus = "bedrock" }\n')
    env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin))
    result = run("mix", "--", "claude", "-p", "hi", env=env, cwd=project)
    assert result.returncode == 2 and "'bedrock' cannot be reached through the gateway" in result.stderr
    assert "Traceback" not in result.stderr and gateway_processes(project) == []


def test_slash_model_switches_provider_within_one_interactive_session(env, mocks, project, isolated_home):
    from support.terminal import Terminal

    (isolated_home / ".claude.json").write_text(json.dumps({"projects": {str(project): {"hasTrustDialogAccepted": True}}}))
    argv = [sys.executable, "-m", "ccswitch", "run", "mix", "--", "claude"]
    with Terminal(argv, env, str(project)) as term:
        assert term.wait_for("❯", 60), term.text()[-2000:]
        term.type("first question\r")
        assert wait_until(lambda: mocks["kimi"].messages, 60), term.text()[-2000:]
        assert term.wait_for("from-kimi", 30)
        term.type("/model glm::g-switched")
        time.sleep(1)
        term.type("\r")
        time.sleep(2)
        term.type("second question\r")
        assert wait_until(lambda: mocks["glm"].messages, 60), term.text()[-3000:]
    assert "g-switched" in [m.model for m in mocks["glm"].messages]
    assert all(m.headers.get("x-api-key") == TOKENS["glm"] for m in mocks["glm"].messages)


def test_the_foreground_gateway_serves_a_plain_claude_and_stops_on_sigterm(env, mocks, project, isolated_home,
                                                                          claude_bin, claude_env):
    port = free_port()
    gateway = subprocess.Popen([sys.executable, "-m", "ccswitch", "gateway", "mix", "--port", str(port)], cwd=project,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = gateway.stderr.readline()
        assert f"ccswitch gateway on http://127.0.0.1:{port}" in first, first + gateway.stderr.read()
        key_file = Path(env["XDG_STATE_HOME"]) / "ccswitch" / "gateway.key"
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        assert wait_until(lambda: port_open(port), 10)
        plain = subprocess.run([str(claude_bin), "-p", "hi"], cwd=project, capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL, env=dict(claude_env, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}",
                                                                  ANTHROPIC_AUTH_TOKEN=key_file.read_text().strip()))
        assert plain.returncode == 0, plain.stdout + plain.stderr
        assert "from-kimi" in plain.stdout  # claude's own default (an opus id) routes to the opus tier
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(timeout=10) == 0
    finally:
        gateway.kill()
    assert not any(token in first for token in TOKENS.values())


POOL_KEYS = {"KP_A": "pool-key-a-0123456789", "KP_B": "pool-key-b-0123456789"}


def test_a_429_on_one_key_of_a_pool_and_the_turn_succeeds_on_the_next(profiles_file, claude_bin, claude_env, project):
    with MockAnthropic(reply="from-pool", status_by_key={f"Bearer {POOL_KEYS['KP_A']}": 429},
                       error_headers={"retry-after": "60"}) as pool, MockAnthropic(reply="from-deep") as deep:
        profiles_file(f'[profiles.kp]\nbase_url = "{pool.url}"\ntoken = ["env:KP_A", "env:KP_B"]\nfallback = ["deep"]\n'
                      '[profiles.kp.models]\nopus = "p-opus"\nsonnet = "p-sonnet"\nhaiku = "p-haiku"\n'
                      f'[profiles.deep]\nbase_url = "{deep.url}"\ntoken = "env:DEEP_T"\n'
                      '[profiles.deep.models]\nopus = "d-opus"\nsonnet = "d-sonnet"\nhaiku = "d-haiku"\n'
                      '[profiles.pooled]\nroutes = { opus = "kp", sonnet = "kp", haiku = "kp" }\n')
        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), DEEP_T=TOKENS["deep"], **POOL_KEYS)
        result = run("pooled", "--", "claude", "-p", "hi", env=env, cwd=project)
        sent = [m.headers["authorization"] for m in pool.messages]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-pool" in result.stdout and not deep.messages
    # key A once (its 429 cools it for Retry-After's minute), then key B for that request and every later one
    assert sent[:2] == [f"Bearer {POOL_KEYS['KP_A']}", f"Bearer {POOL_KEYS['KP_B']}"]
    assert set(sent[1:]) == {f"Bearer {POOL_KEYS['KP_B']}"}
    (records,) = Path(env["XDG_STATE_HOME"]).rglob("*.sqlite3")
    query = "SELECT status, key_index, failover FROM requests ORDER BY id"
    assert wait_until(lambda: len(sqlite3.connect(records).execute(query).fetchall()) == len(sent[1:]))  # the gateway's last batch
    rows = sqlite3.connect(records).execute(query).fetchall()
    # claude saw only answers: no 429 reached it (it would have retried, and the row would say so)
    assert [(status, index) for status, index, _ in rows] == [(200, 1)] * len(sent[1:])
    assert json.loads(rows[0][2]) == [["kp", "key 0: HTTP 429"]]
    assert not any(key in result.stdout + result.stderr for key in POOL_KEYS.values())


QUOTA_PROFILES = """\
[profiles.kimi]
base_url = "{kimi}"
token = "env:KIMI_T"
fallback = ["deep"]
models = {{ opus = "k-opus", sonnet = "k-sonnet", haiku = "k-haiku" }}
quota = {quota}

[profiles.deep]
base_url = "{deep}"
token = "env:DEEP_T"
models = {{ opus = "d-opus", sonnet = "d-sonnet", haiku = "d-haiku" }}

[profiles.mix]
routes = {{ opus = "kimi", sonnet = "kimi", haiku = "kimi" }}
"""


def test_a_primary_whose_quota_is_used_up_sends_the_turn_to_its_fallback_until_its_window_resets(
        profiles_file, claude_bin, claude_env, project):
    from ccswitch.usage.windows import clock

    def utc(ts: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))

    with MockAnthropic(reply="from-kimi") as kimi, MockAnthropic(reply="from-deep") as deep:
        def profiles(window_end: int) -> None:  # kimi: one prompt per two minutes, the window ending then
            quota = f'{{ window = "2m", prompts = 1, reset = "fixed", anchor = "{utc(window_end)}" }}'
            profiles_file(QUOTA_PROFILES.format(kimi=kimi.url, deep=deep.url, quota=quota))

        env = subprocess_env(**claude_env, CCSWITCH_CLAUDE=str(claude_bin), KIMI_T=TOKENS["kimi"], DEEP_T=TOKENS["deep"])
        first_end = int(time.time()) + 100
        profiles(first_end)
        first = run("mix", "--", "claude", "-p", "hi", env=env, cwd=project)  # the window's one prompt
        second = run("mix", "--", "claude", "-p", "hi", env=env, cwd=project)  # a new session: its gateway
        # reads the first one's answer from the records. Rather than wait out the two minutes, the
        # window's end moves to just ahead (both sessions stay in the window that ends then).
        end = int(time.time()) + 3
        profiles(end)
        time.sleep(max(0.0, end + 0.5 - time.time()))
        third = run("mix", "--", "claude", "-p", "hi", env=env, cwd=project)
    for result in (first, second, third):
        assert result.returncode == 0, result.stdout + result.stderr
    assert ("from-kimi" in first.stdout, "from-deep" in second.stdout, "from-kimi" in third.stdout) == (True, True, True)
    assert deep.messages and {m.model for m in deep.messages} == {"d-opus"}  # the fallback's model for the tier
    (records,) = Path(env["XDG_STATE_HOME"]).rglob("*.sqlite3")
    query = "SELECT profile, prompt, failover, time FROM requests WHERE path = '/v1/messages' ORDER BY id"
    expected = len(kimi.messages) + len(deep.messages)
    assert wait_until(lambda: len(sqlite3.connect(records).execute(query).fetchall()) == expected)
    rows = sqlite3.connect(records).execute(query).fetchall()
    assert rows[0][:3] == ("kimi", 1, None) and rows[-1][:3] == ("kimi", 1, None)
    held = [row for row in rows if row[0] == "deep"]
    assert [json.loads(row[2]) for row in held] == [
        [["kimi", f"quota: 1/1 prompt per 2m until {clock(first_end, row[3])}"]] for row in held]


def test_an_interactive_session_counts_its_prompts_and_its_title_request_against_the_quota(
        profiles_file, claude_bin, claude_env, project, isolated_home):
    """Interactive claude (2.1.330) asks the haiku tier for a session title on the first prompt, a
    request that ends in the user's text: the gateway counts it as a prompt, so a quota of two
    prompts is used up by the first question (docs/gateway.md, "Quotas"); the second goes to the
    fallback. (`-p`, and CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, send no title request.)"""
    from support.terminal import Terminal

    (isolated_home / ".claude.json").write_text(json.dumps({"projects": {str(project): {"hasTrustDialogAccepted": True}}}))
    with MockAnthropic(reply="from-kimi") as kimi, MockAnthropic(reply="from-deep") as deep:
        profiles_file(QUOTA_PROFILES.format(kimi=kimi.url, deep=deep.url, quota='{ window = "5h", prompts = 2 }'))
        env = subprocess_env(**{k: v for k, v in claude_env.items() if k != "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"},
                             CCSWITCH_CLAUDE=str(claude_bin), KIMI_T=TOKENS["kimi"], DEEP_T=TOKENS["deep"])
        with Terminal([sys.executable, "-m", "ccswitch", "run", "mix", "--", "claude"], env, str(project)) as term:
            assert term.wait_for("❯", 60), term.text()[-2000:]
            term.type("first question\r")
            assert term.wait_for("from-kimi", 60), term.text()[-2000:]
            assert wait_until(lambda: len(kimi.messages) >= 2, 30)  # the answer and the title
            time.sleep(1)
            term.type("second question\r")
            assert term.wait_for("from-deep", 60), term.text()[-3000:]
        models = sorted(m.model for m in kimi.messages)
    assert models == ["k-haiku", "k-opus"], models  # the title (haiku tier), then nothing more for kimi
    assert "d-opus" in [m.model for m in deep.messages]
    (records,) = Path(env["XDG_STATE_HOME"]).rglob("*.sqlite3")
    query = "SELECT profile, model_sent, prompt, failover FROM requests WHERE path = '/v1/messages' ORDER BY id"
    assert wait_until(lambda: any(row[0] == "deep" for row in sqlite3.connect(records).execute(query)))
    rows = sqlite3.connect(records).execute(query).fetchall()
    assert sorted(row[:3] for row in rows if row[0] == "kimi") == [("kimi", "k-haiku", 1), ("kimi", "k-opus", 1)]
    assert all(json.loads(row[3])[0][1].startswith("quota: 2/2 prompts per 5h until ") for row in rows if row[0] == "deep")
