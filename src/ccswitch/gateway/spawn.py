"""Start the gateway process for a session, without waiting for it.

The launcher binds the listening socket itself (`listen_fd_socket()`), so it knows the URL at once and
can exec claude immediately: connections made before the gateway is ready wait in the kernel's
accept queue. Stdlib only; nothing here is slower than a fork.
"""

from __future__ import annotations

import _socket
import json
import subprocess
import sys
from collections.abc import Mapping

# Kept so that Popen.__del__ does not warn about a child nobody waits for (the launcher execs next).
_children: dict[int, subprocess.Popen] = {}


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
          python: str = sys.executable) -> int:
    """Start `python -m ccswitch.gateway` serving on `sock` and return its pid at once.

    `config` is the dict documented in ccswitch.gateway (validate it first with
    `GatewayConfig.from_dict`: a bad one makes the child exit 2); its `listen` is set here to the
    inherited socket. The config goes over the child's stdin, which is then closed. The child runs
    in its own session, so the terminal's Ctrl-C (meant for claude) does not reach it; it ends when
    `parent_pid` does. `stderr` defaults to /dev/null: the terminal belongs to claude.
    """
    fd = sock if isinstance(sock, int) else sock.fileno()
    payload = json.dumps({**config, "listen": {"fd": fd}}).encode()
    child = subprocess.Popen(
        [python, "-m", "ccswitch.gateway"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        pass_fds=(fd,),
        start_new_session=True,
        close_fds=True,
    )
    try:
        # The child reads stdin before importing its HTTP stack, so this never waits long even for a
        # config larger than the pipe buffer.
        child.stdin.write(payload)
    finally:
        child.stdin.close()
    _children[child.pid] = child  # not waited for: the launcher execs claude, which inherits it
    return child.pid
