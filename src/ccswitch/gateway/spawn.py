"""Start the gateway process for a session, without waiting for it.

The launcher binds the listening socket itself (`listen_fd_socket()`), so it knows the URL at once and
can exec claude immediately: connections made before the gateway is ready wait in the kernel's
accept queue. Stdlib only; nothing here is slower than a fork.

On Linux the launcher makes itself non-dumpable and forks the gateway (`private=True`): the child is
born non-dumpable, with its config already in memory, so no process of the session (which starts
after it) can ever read its memory, environment or file descriptors. A gateway started with exec
is dumpable until its first instruction calls prctl, and in that window a process of the same user
can open its stdin (/proc/PID/fd/0) and read the tokens sent there, or attach to it. Elsewhere, and
for tests that stand in for the interpreter, it is `python -m ccswitch.gateway` with the config on
stdin. Either way it gets an environment of its own (`gateway_environment`): what Python, the proxy
and the TLS stack need, and nothing else (docs/gateway.md, "The gateway's environment").
"""

from __future__ import annotations

import _socket
import json
import os
import re
import sys
from collections.abc import Collection, Mapping

from ccswitch.interpreter import module_command

# What the gateway process may inherit: an allowlist, because it holds every upstream's token and the
# shell's environment holds anything (other providers' keys, cloud credentials, a stray
# ANTHROPIC_API_KEY): a denylist would have to know every secret's name. Compared in upper case
# (http_proxy and HTTP_PROXY are both read; Windows names are case-insensitive).
GATEWAY_VARIABLES = frozenset({
    # finding the interpreter's libraries and ccswitch itself (user site-packages live under HOME)
    "PATH", "HOME", "LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_LIBRARY_PATH", "DYLD_FALLBACK_LIBRARY_PATH",
    # proxies, as aiohttp reads them (`env_proxy`), and their credentials in a netrc file
    "HTTP_PROXY", "HTTPS_PROXY", "WS_PROXY", "WSS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC",
    # the CA certificates OpenSSL trusts, and its configuration
    "SSL_CERT_FILE", "SSL_CERT_DIR", "NIX_SSL_CERT_FILE", "OPENSSL_CONF", "OPENSSL_MODULES",
    # language, time zone, temporary files
    "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    # Windows: sockets and random numbers need SYSTEMROOT; the user's profile holds site-packages
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "HOMEDRIVE", "HOMEPATH",
    "APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE",
})
# Whole families: PYTHON* decides how the interpreter runs and imports (PYTHONPATH, PYTHONHOME,
# PYTHONUTF8, ...; new ones come with each release), LC_* is the locale.
GATEWAY_PREFIXES = ("PYTHON", "LC_")
# A name that says it holds a secret is left out even when allowed above (PYTHON_INDEX_TOKEN).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|PRIVATE|AUTH")
_SHORTEST_SECRET = 8  # shorter tokens are dummies ("ollama"): as a substring they would match anything


def gateway_environment(env: Mapping[str, str], secrets: Collection[str] = ()) -> dict[str, str]:
    """The environment to start the gateway with: `env` reduced to GATEWAY_VARIABLES and
    GATEWAY_PREFIXES, without any name that looks like a secret's and any value that holds one
    of `secrets` (the upstream tokens: an allowed variable that happens to carry one)."""
    secrets = [s for s in secrets if s]

    def holds_secret(value: str) -> bool:
        return any(s == value or (len(s) >= _SHORTEST_SECRET and s in value) for s in secrets)

    kept = {}
    for name, value in env.items():
        upper = name.upper()
        if upper not in GATEWAY_VARIABLES and not upper.startswith(GATEWAY_PREFIXES):
            continue
        if _SECRET_NAME.search(upper) or holds_secret(value):
            continue
        kept[name] = value
    return kept


def config_secrets(config: Mapping[str, object]) -> list[str]:
    """The secrets in a gateway config: the session key and every upstream's token (every key of a pool)."""
    upstreams = config.get("upstreams")
    tokens = []
    for upstream in upstreams.values() if isinstance(upstreams, Mapping) else ():
        if isinstance(upstream, Mapping):
            pool = upstream.get("tokens")
            pairs = pool if isinstance(pool, (list, tuple)) else ()
            tokens += [upstream.get("token"), *(pair[-1] for pair in pairs if isinstance(pair, (list, tuple)) and pair)]
    return [s for s in (config.get("key"), *tokens) if isinstance(s, str)]


# Kept so that Popen.__del__ does not warn about a child nobody waits for (the launcher execs next).
_children: dict[int, object] = {}  # pid -> subprocess.Popen


def listen_fd_socket(host: str = "127.0.0.1", port: int = 0, backlog: int = 128) -> _socket.socket:
    """A bound, listening IPv4 TCP socket (port 0: any free port; `.getsockname()[1]` tells which),
    as the C module's object: enough to hand its fd to the gateway, and the launcher is spared the
    `socket` module, whose enums cost 10 ms (bench/gateway.py). Python creates it non-inheritable,
    so a later exec (claude) does not keep the port open."""
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def listen_socket(host: str = "127.0.0.1", port: int = 0, backlog: int = 128):  # -> socket.socket
    """The same as a `socket.socket`, for a gateway served in this process (tests, the bench)."""
    import socket

    return socket.socket(fileno=listen_fd_socket(host, port, backlog).detach())


def spawn(config: Mapping[str, object], sock: _socket.socket | int, *, stderr: int | object | None = None,
          python: str = sys.executable, env: Mapping[str, str] | None = None, private: bool = False) -> int:
    """Start the gateway serving on `sock` and return its pid at once.

    `config` is the dict documented in ccswitch.gateway (validate it first with
    `GatewayConfig.from_dict`: a bad one makes the child exit 2); its `listen` is set here to the
    inherited socket. The child runs in its own session, so the terminal's Ctrl-C (meant for claude)
    does not reach it; it ends when `parent_pid` does. `stderr` defaults to /dev/null: the terminal
    belongs to claude. Its environment is `gateway_environment` of `env` (this process's by
    default). `private`: fork it where that keeps it private from birth (see the module docstring;
    this process becomes non-dumpable, until it execs); otherwise `python -m ccswitch.gateway`
    with the config on stdin.
    """
    fd = sock if isinstance(sock, int) else sock.fileno()
    config = {**config, "listen": {"fd": fd}}
    environment = gateway_environment(os.environ if env is None else env, config_secrets(config))
    if private and _can_fork_privately():
        return _fork(config, fd, environment, stderr)
    import subprocess  # 4 ms with selectors and threading: a forked gateway does without

    payload = json.dumps(config).encode()
    child = subprocess.Popen(
        module_command("ccswitch.gateway", python),  # not `-m` alone: the project's json.py would be imported
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        pass_fds=(fd,),
        start_new_session=True,
        close_fds=True,
        env=environment,
    )
    try:
        # The child reads stdin before importing its HTTP stack, so this never waits long even for a
        # config larger than the pipe buffer.
        child.stdin.write(payload)
    finally:
        child.stdin.close()
    _children[child.pid] = child  # not waited for: the launcher execs claude, which inherits it
    return child.pid


def _can_fork_privately() -> bool:
    """Linux, one thread (a fork copies only the calling thread: a lock held by another would stay
    held in the child), and this process could make itself non-dumpable."""
    from ccswitch.gateway.lifecycle import keep_memory_private

    threading = sys.modules.get("threading")
    if not sys.platform.startswith("linux") or (threading is not None and threading.active_count() > 1):
        return False
    return keep_memory_private()


def _fork(config: dict, fd: int, environment: dict[str, str], stderr: int | object | None) -> int:
    """Fork the gateway: the child serves `config` and never returns into the launcher's code."""
    for stream in (sys.stdout, sys.stderr):  # nothing buffered twice
        if stream is not None:
            stream.flush()
    pid = os.fork()
    if pid:
        return pid
    try:
        os._exit(_serve_in_child(config, fd, environment, stderr))
    except BaseException as exc:  # the child ends here, whatever happened: never back in the launcher
        try:
            os.write(2, f"ccswitch gateway: {type(exc).__name__}\n".encode())
        finally:
            os._exit(1)


def _serve_in_child(config: dict, fd: int, environment: dict[str, str], stderr: int | object | None) -> int:
    from ccswitch.gateway.config import GatewayConfig
    from ccswitch.gateway.lifecycle import forget_initial_environment, name_process
    from ccswitch.gateway.process import serve

    os.setsid()  # out of claude's session: the terminal's Ctrl-C is claude's
    null = os.open(os.devnull, os.O_RDWR)
    err = stderr if isinstance(stderr, int) else stderr.fileno() if stderr is not None else null
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err, 2)
    os.closerange(3, fd)  # the launcher's other files (its terminal, locks, caches) are not ours
    os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
    os.environ.clear()  # the C library's copy too: it drops the launcher's variables
    os.environ.update(environment)
    forget_initial_environment()
    name_process(b"ccswitch-gw")
    return serve(GatewayConfig.from_dict(config))
