"""The gateway as a process: spawned with an inherited socket, ending with its parent (also on
SIGKILL) or on SIGTERM with streams ended cleanly; a bad config exits 2; light imports."""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from support.gateway_kit import (
    KEY,
    MockUpstream,
    Reply,
    gateway_config,
    messages_body,
    post,
    sse_events,
    upstream_config,
)
from support.processes import SRC, subprocess_env

from ccswitch.gateway.spawn import listen_socket, spawn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process model")

GATEWAY_DIR = SRC / "ccswitch" / "gateway"

# A parent that spawns the gateway (watching itself), reports the port and pid, then waits to be killed.
PARENT = """
import json, os, sys, time
from ccswitch.gateway.spawn import listen_socket, spawn
config = json.loads(sys.stdin.read())
sock = listen_socket()
port = sock.getsockname()[1]
pid = spawn({**config, "parent_pid": os.getpid()}, sock, stderr=open(sys.argv[1], "a"))
sock.close()  # the gateway has its own copy
print(json.dumps({"port": port, "pid": pid}), flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split() == ["State:", "Z", "(zombie)"] for line in status)
    except FileNotFoundError:
        return True
    except OSError:  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return False


def refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def one_upstream_config(mock: MockUpstream) -> dict:
    return gateway_config({"kimi": upstream_config(mock)}, {t: "kimi" for t in ("opus", "sonnet", "haiku", "fable")})


def test_the_gateway_ends_when_its_parent_is_killed(tmp_path):
    log = tmp_path / "gateway.log"
    with MockUpstream("kimi") as kimi:
        parent = subprocess.Popen([sys.executable, "-c", PARENT, str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env=subprocess_env(), text=True)
        try:
            parent.stdin.write(json.dumps(one_upstream_config(kimi)))
            parent.stdin.close()
            started = json.loads(parent.stdout.readline())
            port, pid = started["port"], started["pid"]
            answer = post(port, messages_body("opus"), timeout=20)  # queued until the gateway is up
            assert answer.status == 200 and answer.body == kimi.sent[-1]
            parent.send_signal(signal.SIGKILL)
            parent.wait(10)
            assert wait_gone(pid, 5.0), "the gateway outlived its parent"
            assert refused(port), "the port is still open"
        finally:
            parent.kill()
            parent.wait()
    assert "tok-kimi-secret" not in log.read_text() and KEY not in log.read_text()


def test_sigterm_ends_streams_in_flight_with_an_error_event_and_exits_cleanly(tmp_path):
    log = tmp_path / "gateway.log"
    with MockUpstream("kimi") as kimi:
        kimi.script(Reply(stall_after_first=30.0))
        sock = listen_socket()
        port = sock.getsockname()[1]
        config = one_upstream_config(kimi) | {"parent_pid": os.getpid()}
        with open(log, "a") as stderr:
            pid = spawn(config, sock, stderr=stderr)
        sock.close()
        answers = []
        client = threading.Thread(target=lambda: answers.append(post(port, messages_body("opus"), timeout=30)))
        client.start()
        deadline = time.monotonic() + 20
        while not kimi.seen and time.monotonic() < deadline:  # the stream is under way
            time.sleep(0.05)
        time.sleep(0.3)
        stopping = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        took = time.monotonic() - stopping
        client.join(10)
    assert os.waitstatus_to_exitcode(status) == 0 and took < 6.0
    (answer,) = answers
    first = sse_events("kimi", "kimi-opus", 1)[0]
    assert answer.status == 200 and answer.body.startswith(first + b"event: error\ndata: ")
    assert b"shutting down" in answer.body
    assert refused(port)
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.mark.parametrize("stdin, message", [
    (b"{not json", "ccswitch gateway: the config on stdin is not valid JSON\n"),
    (json.dumps({"session": "s", "key": "tok-short", "upstreams": {}, "tiers": {}}).encode(),
     "ccswitch gateway: key: must be 16-512 printable ASCII characters without spaces\n"),
    (json.dumps({"session": "s", "key": KEY, "upstreams": {"a": {"base_url": "http://x", "token": "tok-secret-1",
                                                                 "models": {}}}, "tiers": {}}).encode(),
     "ccswitch gateway: upstreams.a.models.opus: missing (every tier needs a model; the launcher fills borrowed tiers)\n"),
])
def test_a_bad_config_exits_2_with_one_line(stdin, message):
    result = subprocess.run([sys.executable, "-m", "ccswitch.gateway"], input=stdin, capture_output=True,
                            env=subprocess_env(), timeout=30)
    assert (result.returncode, result.stderr.decode(), result.stdout) == (2, message, b"")


def test_a_config_without_a_socket_to_serve_on_exits_2():
    config = gateway_config({"a": {"base_url": "http://127.0.0.1:9", "auth": "none",
                                   "models": {t: "m" for t in ("opus", "sonnet", "haiku", "fable")}}},
                            {t: "a" for t in ("opus", "sonnet", "haiku", "fable")})
    result = subprocess.run([sys.executable, "-m", "ccswitch.gateway"], input=json.dumps(config).encode(),
                            capture_output=True, env=subprocess_env(), timeout=30)
    assert result.returncode == 2 and b"listen: missing" in result.stderr


HEAVY = {"typer", "rich", "click", "pydantic", "httpx", "httpcore", "tomlkit", "tomllib", "tomli", "keyring",
         "platformdirs", "filelock"}


def modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_the_gateway_process_imports_only_what_it_serves_with():
    loaded = modules_after("import ccswitch.gateway.__main__, ccswitch.gateway.server")
    assert not loaded & HEAVY
    assert "aiohttp" in loaded and "aiohttp.web" not in loaded  # the low-level server, not the framework
    ccswitch_modules = {m for m in loaded if m.startswith("ccswitch")}
    assert all(m in SHARED_MODULES or m.startswith("ccswitch.gateway") for m in ccswitch_modules), ccswitch_modules


def test_what_the_launcher_imports_is_stdlib_only():
    loaded = modules_after("import ccswitch.gateway.config, ccswitch.gateway.routing, ccswitch.gateway.spawn")
    assert not loaded & (HEAVY | {"aiohttp", "asyncio", "sqlite3", "ctypes"})


def test_the_translators_are_sans_io():
    modules = ", ".join(f"ccswitch.gateway.translate.{m}" for m in (
        "chat_request", "chat_stream", "chat_answer", "responses_request", "responses_stream", "responses_answer",
        "count_tokens"))
    loaded = modules_after(f"import {modules}")
    assert not loaded & (HEAVY | {"aiohttp", "asyncio", "socket", "ssl", "sqlite3"}), loaded & (HEAVY | {"aiohttp", "asyncio", "socket"})


# What the gateway shares with the rest of ccswitch: the ground floor it writes files with and the
# pure vocabularies (claude's tiers and aliases, the `serves` pattern language, the API formats and
# their options, the quota format) and the pure arithmetic of quota windows, which `usage --windows`
# counts with too; their packages' __init__ files import nothing.
SHARED_MODULES = {"ccswitch", "ccswitch.fsutil", "ccswitch.claude", "ccswitch.claude.models", "ccswitch.profiles",
                  "ccswitch.profiles.patterns", "ccswitch.profiles.apis", "ccswitch.profiles.quota", "ccswitch.usage",
                  "ccswitch.usage.windows", "ccswitch.interpreter"}


def test_the_package_imports_nothing_from_ccswitch_outside_it_but_shared_vocabularies():
    for path in sorted(GATEWAY_DIR.rglob("*.py")):  # translate/ too
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                if name == "ccswitch" or name.startswith("ccswitch."):
                    assert name.startswith("ccswitch.gateway") or name in SHARED_MODULES, f"{path.name} imports {name}"


def test_spawn_puts_the_config_on_stdin_not_argv_or_environment(tmp_path, monkeypatch):
    seen = {}

    class FakePopen:
        def __init__(self, argv, **kwargs):
            seen.update(argv=argv, kwargs=kwargs)
            self.pid = 4242
            self.stdin = self

        def write(self, data):
            seen["stdin"] = data

        def close(self):
            pass

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    sock = listen_socket()
    fd = sock.fileno()
    try:
        assert spawn({"key": KEY, "token": "tok-x"}, sock) == 4242
    finally:
        sock.close()
    assert seen["argv"][1:] == ["-P" if sys.version_info >= (3, 11) else "-I", "-m", "ccswitch.gateway"]
    assert json.loads(seen["stdin"]) == {"key": KEY, "token": "tok-x", "listen": {"fd": fd}}
    assert seen["kwargs"]["pass_fds"] == (fd,)
    assert seen["kwargs"]["start_new_session"] is True
    assert not any("tok-x" in v or KEY in v for v in seen["kwargs"]["env"].values())  # test_gateway_secrets.py: the rest
    assert not any("tok-x" in a or KEY in a for a in seen["argv"])



def test_foreground_mode_binds_says_where_and_stops_on_ctrl_c():
    with MockUpstream("kimi") as kimi:
        config = one_upstream_config(kimi) | {"listen": {"host": "127.0.0.1", "port": 0}}
        child = subprocess.Popen([sys.executable, "-m", "ccswitch.gateway"], stdin=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=subprocess_env(), text=True)
        try:
            child.stdin.write(json.dumps(config))
            child.stdin.close()
            line = child.stderr.readline()
            assert line.startswith("ccswitch gateway: listening on http://127.0.0.1:"), line
            port = int(line.rsplit(":", 1)[1])
            assert post(port, messages_body("haiku")).status == 200
            child.send_signal(signal.SIGINT)
            assert child.wait(10) == 0
            rest = child.stderr.read()
        finally:
            child.kill()
            child.wait()
    assert rest == "" and refused(port)
    assert kimi.seen[0].model == "kimi-haiku"
