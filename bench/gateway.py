"""Gateway benchmark: the gateway against the direct path to a fast loopback mock, side by side.

    python bench/gateway.py [--samples 400] [--seconds 4] [--compare SRC]

Measured in one run (2 shared cores make sub-millisecond figures noisy; compare within a run), on
three paths to the same mock: direct; through a bare aiohttp pass-through (the "floor": what any
aiohttp gateway costs on this machine right now); through the gateway:
- time to ready: spawn() with a fresh listening socket, then one request queued at once on it; the
  time until its answer starts (what claude's first request would wait), median of 5 spawns; the
  floor column is `import aiohttp.web_server` alone;
- idle RSS after warm-up;
- time to first body byte with a 96 B and a 62 KB body, the paths taking turns on keep-alive
  connections: p50 and p99, and gateway minus direct ("added");
- requests/s with 16 keep-alive connections (a whole SSE answer each), and the gateway's CPU time
  per request (Linux /proc);
- the translated path (issue 17; `--translated-only` measures only it): a gateway whose upstream is
  an `openai-chat` profile on the same mock (it answers /v1/chat/completions with a short Chat
  Completions stream), beside the direct OpenAI-format call (the same request, translated
  beforehand, sent straight to the mock), then LiteLLM's `/v1/messages` -> Chat Completions path to
  the same mock beside direct again (the pinned LiteLLM of tests/support/litellm_proxy.py, on
  loopback, local cost map; `--no-litellm` leaves it out): time to first byte at 96 B and 62 KB
  (claude 2.1.330's captured tool-loop body, padded), and the relay rate of a 4,000-chunk stream
  (text deltas, then a tool call's arguments in fragments; chunks/s over the whole stream, median
  of 7). Goals: added p50 <= 1.5 ms and p99 <= 4 ms at both sizes, >= 20,000 chunks/s relayed.
The mock (a separate process, raw asyncio) answers every request with the same ~1 KB SSE stream.
Records are on, as in a session. Then `ccswitch run mix -- true` (a routes profile: plan, bind,
start the gateway, exec) beside `python -c pass` ("direct" column). Goals: ready <= 0.3 s, RSS <=
60 MiB, added p50 <= 1 ms and p99 <= 3 ms at both sizes, >= 1500 req/s, the launch <= 2.5x the
floor. Last, gateways side by side on the same mock, taking turns: one key, a two-key pool
(gateway/keys.py), one key with a quota (gateway/quota.py) that has room and one used up (sent
anyway), and with `--compare SRC` the gateway of another source tree (`src` of a checkout of main,
say) with one key: a single-key upstream without a quota must cost nothing more than before.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
sys.path.insert(0, str(SRC))

from translate import CHUNKS, body_62k, chat_chunks  # noqa: E402  (bench/translate.py)

from ccswitch.gateway.spawn import listen_socket, spawn  # noqa: E402
from ccswitch.gateway.translate.chat_request import to_chat  # noqa: E402
from ccswitch.gateway.translate.params import encode  # noqa: E402
from ccswitch.profiles.apis import options_with_defaults  # noqa: E402

KEY = "bench-session-key-0123456789abcdef"
SSE = "".join(
    f"event: {name}\ndata: {json.dumps(data)}\n\n"
    for name, data in [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_bench", "type": "message", "role": "assistant", "model": "bench-opus", "content": [],
            "stop_reason": None, "usage": {"input_tokens": 2095, "output_tokens": 1, "cache_read_input_tokens": 0}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there!"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ]
).encode()
MOCK_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                 b"request-id: req_bench\r\nContent-Length: %d\r\n\r\n" % len(SSE)) + SSE
# The translated path's upstream: a short Chat Completions stream, and one of 4,000 chunks.
CHAT_BASE = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": "bench-gpt"}
CHAT_SSE = b"".join(b"data: " + json.dumps({**CHAT_BASE, **extra}, separators=(",", ":")).encode() + b"\n\n" for extra in (
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"content": " there!"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"choices": [], "usage": {"prompt_tokens": 2095, "completion_tokens": 5, "total_tokens": 2100,
                              "prompt_tokens_details": {"cached_tokens": 0}}},
)) + b"data: [DONE]\n\n"


def sse_response(data: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"x-request-id: req_bench\r\nContent-Length: %d\r\n\r\n" % len(data)) + data


CHAT_RESPONSE = sse_response(CHAT_SSE)
CHAT_BIG_RESPONSE = sse_response(b"".join(chat_chunks()))
# The headers claude 2.1 sends, give or take.
CLIENT_HEADERS = (
    "Accept: application/json\r\nAnthropic-Beta: claude-code-20250219,interleaved-thinking-2025-05-14\r\n"
    "Anthropic-Dangerous-Direct-Browser-Access: true\r\nAnthropic-Version: 2023-06-01\r\n"
    f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\nUser-Agent: claude-cli/2.1.330 (external, cli)\r\n"
    "X-App: cli\r\nX-Stainless-Arch: x64\r\nX-Stainless-Lang: js\r\nX-Stainless-OS: Linux\r\n"
    "X-Stainless-Package-Version: 0.60.0\r\nX-Stainless-Retry-Count: 0\r\nX-Stainless-Runtime: node\r\n"
    "X-Stainless-Runtime-Version: v24.3.0\r\nX-Stainless-Timeout: 600\r\n"
    "x-claude-code-session-id: 5b0c2a3e-2f57-4a39-9a5e-0d4bbf1f6c11\r\nConnection: keep-alive\r\n"
)


def body(size: int) -> bytes:
    """A Messages body of exactly `size` bytes in claude's key order (model first, stream last):
    a short prompt, or for a big body a system prompt (which, with the tools, makes up most of a
    real one)."""
    messages = [{"role": "user", "content": ""}]
    tail = {"max_tokens": 32000, "stream": True}
    free = size - len(_dump({"model": "opus", "messages": messages, **tail}))
    if size < 1024:
        messages[0]["content"] = "x" * free
        return _dump({"model": "opus", "messages": messages, **tail})
    system = "x" * (free - len(',"system":""'))
    return _dump({"model": "opus", "messages": messages, "system": system, **tail})


def _dump(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def request_bytes(payload: bytes, port: int, path: str = "/v1/messages?beta=true", headers: str = CLIENT_HEADERS) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
            f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


# ---- the mock upstream (runs in its own process) ----

class MockProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, bytearray()
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            path = head.split(b" ", 2)[1]
            del self.buffer[: end + 4 + length]
            self.transport.write(CHAT_BIG_RESPONSE if path.startswith(b"/v1/big/") else
                                 CHAT_RESPONSE if path.endswith(b"/chat/completions") else MOCK_RESPONSE)


def serve_floor(mock_port: int) -> None:
    """The least an aiohttp pass-through can do (no routing, key, failover, usage or records): a
    reference for what this machine allows right now, in the same run."""
    import aiohttp
    from aiohttp.web_response import StreamResponse
    from aiohttp.web_server import Server

    async def main():
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))

        async def handler(request):
            data = await request.read()
            response = await session.post(f"http://127.0.0.1:{mock_port}/v1/messages", data=data,
                                          headers={"Content-Type": "application/json"})
            out = StreamResponse(status=response.status, headers={"Content-Type": response.content_type})
            await out.prepare(request)
            async for chunk in response.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            response.release()
            return out

        server = await asyncio.get_running_loop().create_server(Server(handler, access_log=None), "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_mock() -> None:
    async def main():
        server = await asyncio.get_running_loop().create_server(MockProtocol, "127.0.0.1", 0, backlog=256)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# ---- a minimal HTTP/1.1 client: keep-alive, content-length or chunked ----

class Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> float:
        """Send; return seconds to the first body byte; read the whole answer."""
        start = time.perf_counter()
        self.sock.sendall(request)
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0 and len(self.buffer) > end + 4:
                break
            self.buffer += self.sock.recv(65536)
        ttfb = time.perf_counter() - start
        head, self.buffer = self.buffer[:end].lower(), self.buffer[end + 4 :]
        assert head.startswith(b"http/1.1 200"), head[:200]
        if b"transfer-encoding: chunked" in head:
            while not (self.buffer.endswith(b"0\r\n\r\n") and self._chunked_complete()):
                self.buffer += self.sock.recv(65536)
            self.buffer = b""
        else:
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            while len(self.buffer) < length:
                self.buffer += self.sock.recv(65536)
            self.buffer = self.buffer[length:]
        return ttfb

    def _chunked_complete(self) -> bool:
        at, data = 0, self.buffer
        while True:
            line_end = data.find(b"\r\n", at)
            if line_end < 0:
                return False
            size = int(data[at:line_end], 16)
            if size == 0:
                return True
            at = line_end + 2 + size + 2
            if at > len(data):
                return False


async def load(port: int, payload: bytes, seconds: float, connections: int = 16) -> int:
    request = request_bytes(payload, port)
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker():
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if b"chunked" in head.lower():
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            done += 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done


# ---- measuring ----

def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def gateway_config(mock_port: int, records: str, pool: bool = False, quota: dict | None = None) -> dict:
    models = {t: f"bench-{t}" for t in ("opus", "sonnet", "haiku", "fable")}
    upstream = {"base_url": f"http://127.0.0.1:{mock_port}", "auth": "bearer", "token": "bench-upstream-token",
                "models": models}
    if quota:
        upstream["quota"] = quota
    if pool:
        del upstream["token"]
        upstream["tokens"] = [[0, "bench-upstream-token"], [1, "bench-upstream-token-2"]]
    return {"session": "bench", "key": KEY, "records": records, "parent_pid": os.getpid(),
            "upstreams": {"mock": upstream}, "tiers": {t: "mock" for t in models}}


def start_gateway(config: dict, src: Path | None = None) -> tuple[int, int, float]:
    """Spawn (from the `src` tree given, else this one); return (pid, port, seconds until the first
    queued request's answer started)."""
    sock = listen_socket()
    port = sock.getsockname()[1]
    started = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    pid = spawn(config, sock, env=env)
    sock.close()
    Connection(port).exchange(request_bytes(body(96), port))
    return pid, port, time.perf_counter() - started


def stop_gateway(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ttfb(ports: dict[str, int], size: int, samples: int) -> dict[str, list[float]]:
    """Time to first body byte on each path, the paths taking turns in a rotating order."""
    return ttfb_of({path: (port, request_bytes(body(size), port)) for path, port in ports.items()}, samples)


def ttfb_of(targets: dict[str, tuple[int, bytes]], samples: int) -> dict[str, list[float]]:
    """ttfb() for a request of each path's own (port, request bytes)."""
    ports = {path: port for path, (port, _) in targets.items()}
    connections = {path: Connection(port) for path, port in ports.items()}
    requests = {path: request for path, (_, request) in targets.items()}
    times: dict[str, list[float]] = {path: [] for path in ports}
    for _ in range(50):  # warm every path (pooled upstream connections, caches)
        for path, connection in connections.items():
            connection.exchange(requests[path])
    paths = list(ports)
    for i in range(samples):
        for path in paths[i % len(paths) :] + paths[: i % len(paths)]:
            times[path].append(connections[path].exchange(requests[path]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--compare", type=Path, metavar="SRC", help="also measure the gateway of this source tree")
    parser.add_argument("--serve-mock", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out of the translated rows")
    parser.add_argument("--translated-only", action="store_true", help="only the translated rows")
    options = parser.parse_args()
    if options.serve_mock:
        return serve_mock()
    if options.serve_floor:
        return serve_floor(options.serve_floor)
    compileall.compile_dir(str(SRC / "ccswitch" / "gateway"), quiet=1)  # as an install does
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"  # the gateway honours proxies; none for loopback
    mock = subprocess.Popen([sys.executable, __file__, "--serve-mock"], stdout=subprocess.PIPE, text=True)
    floor = None
    try:
        mock_port = int(mock.stdout.readline())
        floor = subprocess.Popen([sys.executable, __file__, "--serve-floor", str(mock_port)], stdout=subprocess.PIPE,
                                 text=True)
        floor_port = int(floor.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            records = os.path.join(tmp, "records", "usage.sqlite3")
            if not options.translated_only:
                run(options, mock_port, (floor.pid, floor_port), records)
            translated(options, mock_port, records)
    finally:
        for child in (mock, floor):
            if child is not None:
                child.kill()
                child.wait()


def import_seconds() -> float:
    """How long `import aiohttp` plus its server takes in a fresh interpreter: the floor of readiness."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import aiohttp.web_server"], check=True)
    return time.perf_counter() - started


def run(options: argparse.Namespace, mock_port: int, floor: tuple[int, int], records: str) -> None:
    config = gateway_config(mock_port, records)
    readies, imports = [], []
    for _ in range(5):
        pid, port, ready = start_gateway(config)
        readies.append(ready)
        stop_gateway(pid)
        imports.append(import_seconds())
    pid, port, _ = start_gateway(config)
    try:
        rows = measure(options, {"direct": mock_port, "floor": floor[1], "gateway": port}, pid, floor[0])
    finally:
        stop_gateway(pid)
    rows.insert(0, ("time to ready (spawn -> first answer)", "", f"{statistics.median(imports):.3f} s",
                    f"{statistics.median(readies):.3f} s", "", "<= 0.3 s"))
    rows.append(launch_row(mock_port))
    print(f"{'':<34} {'direct':>9} {'aiohttp floor':>13} {'gateway':>10} {'added':>10}   goal")
    for label, direct, floor, through, added, goal in rows:
        print(f"{label:<34} {direct:>9} {floor:>13} {through:>10} {added:>10}   {goal}")
    print(f"added = gateway - direct. aiohttp floor: a bare aiohttp pass-through, for what this machine allows now\n"
          f"(its ready figure: `import aiohttp.web_server` alone in a fresh interpreter).\n"
          f"({options.samples} samples per path and size, paths in turn; load {options.seconds:.0f} s per path; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]})")
    variants(options, mock_port, records)


def variants(options: argparse.Namespace, mock_port: int, records: str) -> None:
    """Gateways side by side on the same mock: this tree with one key and with a two-key pool, and
    another tree's with one key (`--compare`). TTFB in turns, then load and CPU per request, each
    gateway alone in turn, twice in alternating order (the machine is shared: compare the rows of
    one run, and trust CPU time over wall time)."""
    # Each its own records file: a gateway of another version would not write into this one's.
    configs = {"one key": (gateway_config(mock_port, records + ".1"), None),
               "two-key pool": (gateway_config(mock_port, records + ".2", pool=True), None),
               # a quota with room left, and one used up by the first request (then sent anyway: no fallback)
               "one key, a quota with room": (gateway_config(mock_port, records + ".4",
                                                              quota={"window": "5h", "requests": 10**9}), None),
               "one key, a quota used up": (gateway_config(mock_port, records + ".5",
                                                            quota={"window": "5h", "requests": 1}), None)}
    if options.compare:
        configs[f"one key, {options.compare}"] = (gateway_config(mock_port, records + ".3"), options.compare.resolve())
    gateways = {name: start_gateway(config, src)[:2] for name, (config, src) in configs.items()}
    try:
        ports = {name: port for name, (_, port) in gateways.items()}
        sizes = {size: ttfb(ports, size, options.samples) for size in (96, 62 * 1024)}
        done = {name: 0 for name in gateways}
        cpu = {name: 0.0 for name in gateways}
        for order in (list(gateways), list(reversed(gateways))):
            for name in order:
                pid, port = gateways[name]
                before = cpu_seconds(pid) or 0.0
                done[name] += asyncio.run(load(port, body(96), options.seconds / 2))
                cpu[name] += (cpu_seconds(pid) or 0.0) - before
    finally:
        for pid, _ in gateways.values():
            stop_gateway(pid)
    print(f"\n{'gateway':<44} {'p50 96 B':>9} {'p99 96 B':>9} {'p50 62 KB':>10} {'p99 62 KB':>10} {'req/s':>7} "
          f"{'CPU/req':>9}")
    for name in gateways:
        figures = [percentile(sizes[size][name], q) * 1000 for size in (96, 62 * 1024) for q in (0.5, 0.99)]
        print(f"{name:<44} " + " ".join(f"{f:>{w}.3f}" for f, w in zip(figures, (9, 9, 10, 10)))
              + f" {done[name] / options.seconds:>7.0f} {cpu[name] / done[name] * 1000:>7.3f} ms")


# What the installed `ccswitch` script runs (no runpy, as with `python -m`).
ENTRY = "import sys; sys.argv[0] = 'ccswitch'; from ccswitch.__main__ import main; main()"
LAUNCH_PROFILES = """\
[profiles.a]
base_url = "http://127.0.0.1:{port}"
token = "env:BENCH_TOKEN"
models = {{ opus = "a-opus", sonnet = "a-sonnet", haiku = "a-haiku" }}
[profiles.b]
extends = "a"
[profiles.mix]
routes = {{ opus = "a", sonnet = "b" }}
"""


def launch_row(mock_port: int, runs: int = 15) -> tuple[str, ...]:
    """`ccswitch run mix -- true` (plan, bind, start the gateway, exec) beside `python -c pass`,
    alternating, medians: the "direct" column is the floor, "added" the ratio."""
    with tempfile.TemporaryDirectory() as home:
        config = Path(home, ".config", "ccswitch")
        config.mkdir(parents=True, mode=0o700)
        (config / "profiles.toml").write_text(LAUNCH_PROFILES.format(port=mock_port))
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=str(Path(home, ".config")),
                   XDG_CACHE_HOME=str(Path(home, ".cache")), XDG_STATE_HOME=str(Path(home, ".state")),
                   CCSWITCH_HOME=str(config), BENCH_TOKEN="bench-token-0123456789", PYTHONPATH=str(SRC))
        commands = {"floor": [sys.executable, "-c", "pass"],
                    "run": [sys.executable, "-c", ENTRY, "run", "mix", "--", "true"]}
        subprocess.run(commands["run"], env=env, check=True)  # warm the profile cache, as every later run is
        times: dict[str, list[float]] = {"floor": [], "run": []}
        for _ in range(runs):
            for name, argv in commands.items():
                started = time.perf_counter()
                subprocess.run(argv, env=env, check=True)
                times[name].append(time.perf_counter() - started)
            # The gateway each launch started imports aiohttp (~0.4 s of CPU) and then ends, its
            # `true` gone; let it, or it competes with the next measurement on 2 cores.
            time.sleep(1.0)
    floor, launch = statistics.median(times["floor"]), statistics.median(times["run"])
    return ("run mix -- true (launch)", f"{floor * 1000:.0f} ms", "", f"{launch * 1000:.0f} ms",
            f"{launch / floor:.2f}x", "<= 2.5x python -c pass")


def measure(options: argparse.Namespace, ports: dict[str, int], pid: int, floor_pid: int) -> list[tuple[str, ...]]:
    rows = []
    sizes = {size: ttfb(ports, size, options.samples) for size in (96, 62 * 1024)}
    rows.append(("idle RSS", "", f"{rss_mib(floor_pid):.1f} MiB", f"{rss_mib(pid):.1f} MiB", "", "<= 60 MiB"))
    for size, times in sizes.items():
        label = "96 B" if size == 96 else "62 KB"
        for q, goal in ((0.5, "<= +1 ms"), (0.99, "<= +3 ms")):
            d, f, g = (percentile(times[path], q) * 1000 for path in ("direct", "floor", "gateway"))
            rows.append((f"TTFB p{int(q * 100)}, {label} body", f"{d:.3f} ms", f"{f:.3f} ms", f"{g:.3f} ms",
                         f"+{g - d:.3f} ms", goal))
    done, cpu = {}, {}
    servers = {"floor": floor_pid, "gateway": pid}
    for path, port in ports.items():
        before = cpu_seconds(servers[path]) if path in servers else None
        done[path] = asyncio.run(load(port, body(96), options.seconds))
        if before is not None:
            cpu[path] = ((cpu_seconds(servers[path]) or 0) - before) / done[path] * 1000
    rate = {path: n / options.seconds for path, n in done.items()}
    rows.append(("req/s, 16 connections", f"{rate['direct']:.0f}", f"{rate['floor']:.0f}", f"{rate['gateway']:.0f}",
                 f"{rate['gateway'] / rate['direct']:.2f}x", ">= 1500"))
    if cpu:
        rows.append(("server CPU per request", "", f"{cpu['floor']:.3f} ms", f"{cpu['gateway']:.3f} ms", "", ""))
    return rows



# ---- the translated path (issue 17) ----

OPENAI_HEADERS = ("Accept: text/event-stream\r\nAuthorization: Bearer bench-upstream-token\r\n"
                  "Content-Type: application/json\r\nUser-Agent: bench\r\nConnection: keep-alive\r\n")
TRANSLATED_SIZES = {"96 B": 96, "62 KB": 62 * 1024}
LITELLM_KEY = "sk-" + KEY  # its master key (this release refuses to start without one)
LITELLM_HEADERS = CLIENT_HEADERS.replace(KEY, LITELLM_KEY)


def translated_config(mock_port: int, records: str) -> dict:
    """A gateway whose every tier is an openai-chat profile on the mock (`big::` reaches the
    4,000-chunk stream)."""
    models = {t: f"gpt-{t}" for t in ("opus", "sonnet", "haiku", "fable")}
    upstream = {"base_url": f"http://127.0.0.1:{mock_port}/v1", "api": "openai-chat", "token": "bench-upstream-token",
                "models": models}
    big = {**upstream, "base_url": f"http://127.0.0.1:{mock_port}/v1/big"}
    return {"session": "bench-translated", "key": KEY, "records": records, "parent_pid": os.getpid(),
            "upstreams": {"gpt": upstream, "big": big}, "tiers": dict.fromkeys(models, "gpt")}


def anthropic_body(size: int, model: str = "opus") -> dict:
    """claude's request: the 96 B one of the pass-through rows, or claude 2.1.330's captured
    tool-loop body padded to 62 KB (what translation really walks: system blocks, tools, a tool loop)."""
    doc = json.loads(body(96)) if size < 1024 else json.loads(body_62k())
    return {**doc, "model": model, "stream": True}


def direct_request(doc: dict, port: int, path: str) -> bytes:
    """The OpenAI-format request the gateway would send for `doc`, sent straight to the mock."""
    chat, _ = to_chat(doc, "gpt-opus", options_with_defaults({}))
    return request_bytes(encode(chat), port, path, OPENAI_HEADERS)


def litellm_proxy(mock_port: int, tmp: str):  # -> support.litellm_proxy.Proxy, or None
    """LiteLLM (the pinned release, its own venv under .cache/) with `opus` and `big` as
    hosted_vllm deployments on the mock: its /v1/messages -> /chat/completions path."""
    sys.path.insert(0, str(REPO / "tests"))
    from support.litellm_proxy import LiteLLMUnavailable, Proxy

    config = Path(tmp, "litellm.yaml")
    config.write_text("model_list:\n" + "".join(
        f"  - model_name: {name}\n    litellm_params:\n      model: hosted_vllm/gpt-opus\n"
        f"      api_base: http://127.0.0.1:{mock_port}{base}\n      api_key: bench-upstream-token\n"
        for name, base in (("opus", "/v1"), ("big", "/v1/big")))
        + f"litellm_settings:\n  telemetry: false\ngeneral_settings:\n  master_key: {LITELLM_KEY}\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        return Proxy(config, port, {"HOME": tmp}, Path(tmp, "litellm.log")).__enter__()
    except LiteLLMUnavailable as error:
        print(f"LiteLLM left out: {str(error).splitlines()[0]}")
        return None


def relay_rate(targets: dict[str, tuple[int, bytes]], pid: int, name: str, runs: int = 7) -> tuple[dict[str, float], float]:
    """Chunks per second over a whole 4,000-chunk stream (request sent to last byte read), median
    of `runs`, the paths taking turns; and the CPU seconds per relayed chunk of path `name` (`pid`)."""
    connections = {path: Connection(port) for path, (port, _) in targets.items()}
    times: dict[str, list[float]] = {path: [] for path in targets}
    for _ in range(2):  # warm
        for path, (_, request) in targets.items():
            connections[path].exchange(request)
    cpu = 0.0
    for _ in range(runs):
        for path, (_, request) in targets.items():
            before = cpu_seconds(pid) if path == name else None
            started = time.perf_counter()
            connections[path].exchange(request)
            times[path].append(time.perf_counter() - started)
            if before is not None:
                cpu += (cpu_seconds(pid) or before) - before
    return {path: CHUNKS / statistics.median(values) for path, values in times.items()}, cpu / runs / CHUNKS


def translated(options: argparse.Namespace, mock_port: int, records: str) -> None:
    """Two passes: direct and the gateway alone (the goals' figures), then direct and LiteLLM (whose
    proxy, running, takes CPU from whatever shares the 2 cores: it is started only for its pass)."""
    pid, port, _ = start_gateway(translated_config(mock_port, records))
    try:
        ours = translated_rows(options, mock_port, "gateway", port, pid)
    finally:
        stop_gateway(pid)
    theirs = None
    if not options.no_litellm:
        with tempfile.TemporaryDirectory() as tmp:
            proxy = litellm_proxy(mock_port, tmp)
            if proxy is not None:
                try:
                    theirs = translated_rows(options, mock_port, "litellm", proxy.port, proxy.process.pid)
                finally:
                    proxy.__exit__()
    names = ["direct", "gateway", "added"] + (["direct", "LiteLLM", "added"] if theirs else [])
    print(f"\ntranslated path (openai-chat upstream){'':<6}" + "".join(f"{n:>11}" for n in names) + "   goal")
    for i, (label, cells, goal) in enumerate(ours):
        cells = cells + (theirs[i][1] if theirs else [])
        print(f"{label:<44}" + "".join(f"{c:>11}" for c in cells) + f"   {goal}")
    print("added = through - direct; direct = the same request already translated, sent straight to the same mock.\n"
          f"Each pass alternates its two paths ({options.samples} samples per size; LiteLLM half as many); "
          f"load average {os.getloadavg()[0]:.1f}.")


def translated_rows(options: argparse.Namespace, mock_port: int, name: str, port: int, pid: int) -> list:
    """TTFB at both sizes and the relay rate, through `name` (the gateway or LiteLLM) against direct."""
    litellm = name == "litellm"
    rows = []
    for label, size in TRANSLATED_SIZES.items():
        doc = anthropic_body(size)
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()  # as claude sends it
        through = request_bytes(raw, port, "/v1/messages", LITELLM_HEADERS) if litellm else request_bytes(raw, port)
        times = ttfb_of({"direct": (mock_port, direct_request(doc, mock_port, "/v1/chat/completions")),
                         name: (port, through)}, max(100, options.samples // 2) if litellm else options.samples)
        for q, goal in ((0.5, "<= +1.5 ms"), (0.99, "<= +4 ms")):
            d, t = percentile(times["direct"], q) * 1000, percentile(times[name], q) * 1000
            rows.append((f"TTFB p{int(q * 100)}, {label} body ({len(raw)} B)", [f"{d:.3f} ms", f"{t:.3f} ms", f"+{t - d:.3f} ms"],
                         goal))
    doc = anthropic_body(96, "big" if litellm else "big::opus")
    through = request_bytes(_dump(doc), port, "/v1/messages", LITELLM_HEADERS) if litellm else request_bytes(_dump(doc), port)
    rates, cpu = relay_rate({"direct": (mock_port, direct_request(doc, mock_port, "/v1/big/chat/completions")),
                             name: (port, through)}, pid, name)
    rows.append((f"relay, {CHUNKS}-chunk stream (chunks/s)", [f"{rates['direct']:,.0f}", f"{rates[name]:,.0f}",
                                                             f"{rates[name] / rates['direct']:.2f}x"], ">= 20,000"))
    rows.append(("its CPU per relayed chunk", ["", f"{cpu * 1e6:.1f} µs", ""], ""))
    return rows


if __name__ == "__main__":
    main()
