"""Nothing inside a gateway session can read an upstream token: a command run by `ccswitch run` on a
`routes` profile (as a tool claude runs would be) scans everything under /proc it can read (every
process's environ and cmdline; the memory and open files of every process of its session, the
gateway included) and finds none of them; the gateway's environment holds no token variable and no
provider variable from the shell (docs/gateway.md, "The gateway's environment")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from support.mock_anthropic import MockAnthropic
from support.processes import free_port, subprocess_env

from ccswitch.claude.variables import CREDENTIAL_VARIABLES, MANAGED_VARIABLES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")

# Run as the session command (through `sh -c`, as claude runs its tools). Prints what it found as
# one JSON line, then waits for stdin to close, so the test can look at the gateway while it lives.
SCANNER = r'''
import json, os, sys, urllib.request

needles = [n.encode() for n in json.load(open(sys.argv[1]))]
me = os.getpid()
request = urllib.request.Request(
    os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    json.dumps({"model": os.environ["ANTHROPIC_DEFAULT_OPUS_MODEL"], "max_tokens": 8, "stream": False,
                "messages": [{"role": "user", "content": "hi"}]}).encode(),
    {"content-type": "application/json", "authorization": "Bearer " + os.environ["ANTHROPIC_AUTH_TOKEN"]})
status = urllib.request.urlopen(request, timeout=60).status  # the tokens have been used by now


def read(path, limit=1 << 26):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else ():
        found += [int(c) for c in (read(f"/proc/{pid}/task/{task}/children") or b"").split()]
    return found


def memory(pid):
    """Every readable mapping of the process, or None when its memory cannot be read at all."""
    maps = read(f"/proc/{pid}/maps")
    if maps is None:
        return None
    try:
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError:
        return None
    chunks = []
    with mem:
        for line in maps.decode().splitlines():
            span, perms = line.split()[:2]
            start, end = (int(x, 16) for x in span.split("-"))
            if perms[0] != "r" or line.endswith(("[vvar]", "[vsyscall]")) or end - start > 1 << 28:
                continue
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except (OSError, OverflowError, ValueError):
                pass
    return chunks


def open_files(pid):
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    contents = []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        except OSError:
            return None
        if target.startswith("/") and os.path.isfile(target):
            contents.append(read(target) or b"")
    return contents


leader = os.getppid()  # the shell the session started
session, queue = [], [leader]
while queue:
    pid = queue.pop()
    session.append(pid)
    queue += children(pid)
session = [pid for pid in session if pid != me]
found, unreadable = [], {}
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == me:
        continue
    pid = int(name)
    for what in ("environ", "cmdline"):
        data = read(f"/proc/{pid}/{what}")
        if data is None:
            unreadable.setdefault(pid, []).append(what)
        elif any(n in data for n in needles):
            found.append([pid, what])
for pid in session:
    for what, blobs in (("mem", memory(pid)), ("fd", open_files(pid))):
        if blobs is None:
            unreadable.setdefault(pid, []).append(what)
        elif any(n in blob for blob in blobs for n in needles):
            found.append([pid, what])
gateways = [pid for pid in session if (read(f"/proc/{pid}/comm") or b"").strip() == b"ccswitch-gw"
            or b"ccswitch.gateway" in (read(f"/proc/{pid}/cmdline") or b"")]
print(json.dumps({"status": status, "found": found, "gateways": gateways, "session": session,
                  "unreadable": {str(pid): unreadable.get(pid, []) for pid in session}}), flush=True)
sys.stdin.read()
'''

# Run as root (a container), the session loses every capability first: a process of the same user
# without CAP_SYS_PTRACE is what a tool claude runs is; root with it reads everything anyway.
WITHOUT_CAPABILITIES = r'''
import ctypes, os, sys
PR_CAPBSET_DROP = 24
libc = ctypes.CDLL(None, use_errno=True)
last = int(open("/proc/sys/kernel/cap_last_cap").read())
for cap in range(last + 1):
    if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
        sys.exit(f"cannot drop capability {cap}: errno {ctypes.get_errno()}")
os.execvp(sys.argv[1], sys.argv[1:])  # root's capabilities after exec: only what the bounding set keeps
'''

def profiles(url: str, glm_token: str, kimi_token: str = '"env:KIMI_T"') -> str:
    """kimi (`kimi_token`: an env: token, or a key pool; falling back to deep), glm (`glm_token`,
    x-api-key), deep, and `mix` routing a tier to each, all served by the one mock at `url`."""
    text = ""
    for name, token, extra in (("kimi", kimi_token, 'fallback = ["deep"]\n'), ("glm", f'"{glm_token}"', 'auth = "x-api-key"\n'),
                               ("deep", '"env:DEEP_T"', "")):
        text += f'[profiles.{name}]\nbase_url = "{url}"\ntoken = {token}\n{extra}[profiles.{name}.models]\n'
        text += "".join(f'{tier} = "{name[0]}-{tier}"\n' for tier in ("opus", "sonnet", "haiku"))
    return text + '[profiles.mix]\nroutes = { opus = "kimi", sonnet = "glm", haiku = "deep" }\n'


def session_argv(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return [sys.executable, "-c", WITHOUT_CAPABILITIES, *argv]


def environ_of(pid: int) -> dict[str, str] | None:
    """The gateway's environment as this (privileged) test process reads it; None when even it cannot."""
    try:
        data = Path(f"/proc/{pid}/environ").read_bytes()
    except PermissionError:
        return None
    return dict(item.split("=", 1) for item in data.decode(errors="replace").split("\0") if "=" in item)


@pytest.mark.parametrize("pool", [False, True], ids=["one key each", "kimi's key pool"])
def test_nothing_inside_a_gateway_session_reads_an_upstream_token(profiles_file, project: Path, tmp_path: Path,
                                                                  pool: bool) -> None:
    names = ("kimi", "glm", "deep", *(("kimi2", "kimi3") if pool else ()))
    tokens = {name: f"{name}-tok-{uuid.uuid4().hex}" for name in names}
    shell_secrets = {"GITHUB_TOKEN": f"ghp-{uuid.uuid4().hex}", "AWS_SECRET_ACCESS_KEY": uuid.uuid4().hex}
    glm_file = tmp_path / "glm-key"
    glm_file.write_text(tokens["glm"] + "\n")
    pool_file = tmp_path / "kimi3-key"
    pool_file.write_text(tokens.get("kimi3", "") + "\n")
    # A pool: two env: keys and one from a command, every one of them kept from the session.
    kimi_token = f'["env:KIMI_T", "env:KIMI_T2", "cmd:cat {pool_file}"]' if pool else '"env:KIMI_T"'
    needles = tmp_path / "needles.json"
    needles.write_text(json.dumps(list(tokens.values())))  # the shell's own secrets are the session's to keep
    scanner = tmp_path / "scan.py"
    scanner.write_text(SCANNER)
    shell = {"ANTHROPIC_API_KEY": f"shell-key-{uuid.uuid4().hex}", "ANTHROPIC_BASE_URL": "http://shell.invalid",
             "ANTHROPIC_MODEL": "shell-model", "ANTHROPIC_CUSTOM_HEADERS": "X-Shell: 1"}
    with MockAnthropic(reply="ok") as upstream:
        profiles_file(profiles(upstream.url, f"cmd:cat {glm_file}", kimi_token))
        pool_keys = {"KIMI_T2": tokens["kimi2"]} if pool else {}
        env = subprocess_env(KIMI_T=tokens["kimi"], DEEP_T=tokens["deep"], NO_PROXY="127.0.0.1", **pool_keys, **shell,
                             **shell_secrets)
        command = f'"{sys.executable}" "{scanner}" "{needles}"; status=$?; exit $status'  # the shell stays
        session = subprocess.Popen(session_argv([sys.executable, "-m", "ccswitch", "run", "mix", "--", "sh", "-c", command]),
                                   cwd=project, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            line = session.stdout.readline()
            seen = json.loads(line) if line else {}
            gateway_envs = [environ_of(pid) for pid in seen.get("gateways", [])]
        finally:
            session.stdin.close()  # the scanner ends, and the session with it
            out, err = line + session.stdout.read(), session.stderr.read()
            session.wait(60)
        assert upstream.messages[-1].headers["authorization"] == f"Bearer {tokens['kimi']}"  # the gateway served it
    assert session.returncode == 0 and line, out + err
    assert seen["status"] == 200 and len(seen["gateways"]) == 1, seen
    assert seen["found"] == [], f"readable inside the session: {seen['found']}"
    # Not by luck: the gateway's environment, memory and open files are closed to the session.
    (gateway,) = seen["gateways"]
    assert {"environ", "mem", "fd"} <= set(seen["unreadable"][str(gateway)]), seen["unreadable"]
    assert not any(token in out + err for token in tokens.values())
    for gateway_env in gateway_envs:
        if gateway_env is None:  # not root: this test process cannot read it either (the scan proved the rest)
            continue
        # Root reads what the process started with: the forked gateway has zeroed the launcher's block
        # (what it runs with is gateway_environment's, tests/gateway/test_spawn.py).
        assert not set(gateway_env) & {*MANAGED_VARIABLES, *CREDENTIAL_VARIABLES, "KIMI_T", "KIMI_T2", "DEEP_T",
                                       *shell_secrets}
        assert not [k for k in gateway_env if k.startswith("ANTHROPIC_")]
        assert not any(t in v for v in gateway_env.values() for t in [*tokens.values(), *shell_secrets.values()])


def test_the_gateway_is_private_from_its_first_instant(profiles_file, project: Path) -> None:
    """The first thing the session does is to read its children's stdin, as fast as a shell can:
    an exec'd gateway was still starting, dumpable, with every token waiting in its stdin pipe."""
    tokens = {"KIMI_T": f"kimi-tok-{uuid.uuid4().hex}", "DEEP_T": f"deep-tok-{uuid.uuid4().hex}"}
    steal = 'for G in $(cat /proc/$$/task/$$/children); do timeout 2 cat /proc/$G/fd/0 /proc/$G/environ; done; true'
    with MockAnthropic(reply="ok") as upstream:
        profiles_file(profiles(upstream.url, "glm-token-0123456789"))
        for _ in range(3):
            done = subprocess.run(session_argv([sys.executable, "-m", "ccswitch", "run", "mix", "--", "sh", "-c", steal]),
                                  cwd=project, env=subprocess_env(**tokens), capture_output=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
            assert done.returncode == 0, done.stderr
            stolen = done.stdout + done.stderr
            assert not any(token.encode() in stolen for token in [*tokens.values(), "glm-token-0123456789"]), stolen[:300]
            assert b"Permission denied" in done.stderr  # it tried, and the kernel said no


# Prints, for each of /proc/PID/{environ,mem,fd}, whether this process could read it.
READER = r'''
import json, os, sys
pid = sys.argv[1]
def tried(read):
    try:
        read()
    except PermissionError:
        return "denied"
    return "read"
print(json.dumps({"environ": tried(lambda: open(f"/proc/{pid}/environ", "rb").read()),
                  "mem": tried(lambda: open(f"/proc/{pid}/mem", "rb")),
                  "fd": tried(lambda: [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")])}))
'''


def test_the_foreground_gateway_is_closed_to_other_processes_of_the_user(profiles_file, project: Path) -> None:
    with MockAnthropic() as upstream:
        profiles_file(profiles(upstream.url, "glm-token-0123456789"))
        port = str(free_port())
        env = subprocess_env(KIMI_T="kimi-token-0123456789", DEEP_T="deep-token-0123456789")
        gateway = subprocess.Popen(session_argv([sys.executable, "-m", "ccswitch", "gateway", "mix", "--port", port]),
                                   cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        try:
            banner = gateway.stderr.readline()
            assert banner.startswith("ccswitch gateway on"), banner + gateway.stderr.read()
            reader = subprocess.run(session_argv([sys.executable, "-c", READER, str(gateway.pid)]), env=env,
                                    capture_output=True, text=True, timeout=60)
        finally:
            gateway.terminate()
            gateway.wait(30)
    assert json.loads(reader.stdout) == {"environ": "denied", "mem": "denied", "fd": "denied"}, reader.stderr


# Stands in for the interpreter: records the environment spawn() gives it, and reads the config as the gateway would.
RECORDING_PYTHON = '#!/bin/sh\nenv > "$(dirname "$0")/seen-env"\ncat > /dev/null\n'


def test_spawn_gives_the_gateway_its_own_environment(tmp_path: Path) -> None:
    from ccswitch.gateway.spawn import listen_fd_socket, spawn

    python = tmp_path / "python"
    python.write_text(RECORDING_PYTHON)
    python.chmod(0o755)
    config = {"key": "session-key-0123456789abcdef", "upstreams": {"a": {"token": "tok-upstream-0123456789"}}}
    shell = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "/src", "HTTPS_PROXY": "http://proxy:3128", "ANTHROPIC_API_KEY": "sk-x",
             "ANTHROPIC_BASE_URL": "http://shell", "A_T": "tok-upstream-0123456789", "GITHUB_TOKEN": "ghp"}
    sock = listen_fd_socket()
    try:
        pid = spawn(config, sock, python=str(python), env=shell)
        os.waitpid(pid, 0)
    finally:
        sock.close()
    seen = dict(line.split("=", 1) for line in (tmp_path / "seen-env").read_text().splitlines() if "=" in line)
    seen.pop("PWD", None), seen.pop("SHLVL", None), seen.pop("_", None)  # the recording shell's own
    assert seen == {"PATH": "/usr/bin:/bin", "PYTHONPATH": "/src", "HTTPS_PROXY": "http://proxy:3128"}
