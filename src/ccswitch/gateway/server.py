"""Serve: aiohttp's low-level HTTP server on the inherited (or bound) socket, until told to stop.

aiohttp's `web_server.Server` rather than `web.Application`: one handler, no router, no middleware,
and `aiohttp.web` (the application framework) is never imported. Stops on SIGTERM/SIGINT/SIGHUP, or
when the parent is gone, with a clean shutdown: stop accepting, let requests in flight finish for a
few seconds, end the streams still running with an SSE error event, close, flush the records.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from ccswitch.gateway.config import GatewayConfig
from ccswitch.gateway.forward import MAX_BODY, Gateway
from ccswitch.gateway.lifecycle import CHECK_SECONDS, ParentWatch
from ccswitch.gateway.quota import QuotaBook
from ccswitch.gateway.records import RecordWriter
from ccswitch.gateway.upstream import make_session

GRACE_SECONDS = 3.0  # in-flight answers may finish for this long after a stop signal
PARENT_GONE_GRACE = 0.5  # no client is left to read them


def warn(message: str) -> None:
    print(f"ccswitch gateway: {message}", file=sys.stderr, flush=True)


def listening_socket(config: GatewayConfig) -> socket.socket:
    listen = config.listen
    if listen is None:
        raise ValueError("listen: not set (spawn() sets it to the inherited socket)")
    if "fd" in listen:
        return socket.socket(fileno=listen["fd"])
    return socket.create_server((listen["host"], listen["port"]), backlog=128)


class Service:
    """The running gateway: `run()` serves until `stop()`; usable from a test's thread too."""

    def __init__(self, config: GatewayConfig, sock: socket.socket | None = None,
                 parent: ParentWatch | None = None) -> None:
        self.config = config
        self.sock = sock
        # Made as early as possible (before aiohttp is imported) by __main__: whether the parent is
        # our direct parent must be seen while it still is.
        self.parent = parent or (ParentWatch(config.parent_pid) if config.parent_pid else None)
        self.stopped: asyncio.Event | None = None
        self.grace = GRACE_SECONDS
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Thread-safe: ask the service to shut down."""
        if self.loop is not None and self.stopped is not None:
            self.grace = min(self.grace, grace)
            self.loop.call_soon_threadsafe(self.stopped.set)

    async def run(self, install_signals: bool = False) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        sock = self.sock or listening_socket(self.config)
        self.port = sock.getsockname()[1]
        if self.sock is None and "port" in self.config.listen:  # foreground: say where (never the key)
            warn(f"listening on http://{host_for_url(sock.getsockname()[0])}:{self.port}")
        # Quotas count every gateway's answers: the records' thread reads them back for the book.
        quotas = QuotaBook.of(self.config.upstreams.values())
        follower = quotas.follow(self.loop) if quotas is not None and self.config.records else None
        records = RecordWriter(self.config.records, warn, follower) if self.config.records else None
        session = make_session(self.config.timeouts)
        gateway = Gateway(self.config, session, records, quotas=quotas)
        server = Server(gateway.handle, request_factory=_request_factory(self.loop), access_log=None)
        listener = await self.loop.create_server(server, sock=sock)
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                self.loop.add_signal_handler(sig, self.stop)
        watcher = self.loop.create_task(self._watch_parent()) if self.parent else None
        try:
            await self.stopped.wait()
        finally:
            if watcher is not None:
                watcher.cancel()
            await self._shutdown(listener, server, gateway, session, records)

    async def _watch_parent(self) -> None:
        while self.parent.alive():
            await asyncio.sleep(CHECK_SECONDS)
        self.grace = min(self.grace, PARENT_GONE_GRACE)
        self.stopped.set()

    async def _shutdown(self, listener, server: Server, gateway: Gateway, session, records) -> None:
        listener.close()  # the port is free from here on; queued connections are refused
        deadline = self.loop.time() + self.grace
        while gateway.in_flight and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        gateway.stop_streams()  # streams still running end with an error event
        await server.shutdown(1.0)  # closes idle keep-alive connections; cancels what is left
        await session.close()
        if records is not None:
            records.close()


def host_for_url(host: str) -> str:
    """A host as it goes into a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def _request_factory(loop: asyncio.AbstractEventLoop):
    def make(message, payload, protocol, writer, task) -> BaseRequest:
        return BaseRequest(message, payload, protocol, writer, task, loop, client_max_size=MAX_BODY)

    return make


def run(config: GatewayConfig, parent: ParentWatch | None = None, sock: socket.socket | None = None) -> None:
    """The process's main: serve (on `sock`, or the config's `listen`) until a signal or the parent's death."""
    asyncio.run(Service(config, sock, parent=parent).run(install_signals=True))
