"""The transcript reader's fast path against lines the real claude wrote.

The reader decides most lines from their head and decodes a response without its content
(src/ccswitch/usage/scan.py, docs/usage.md "Speed"). That rests on the shape of claude's lines:
the top-level `message` is an assistant line's first nested value, nothing nested follows it, and
its `usage` comes after its content. Here the pinned claude answers a scripted loopback mock with
responses of several content blocks (thinking, text, tool use), a text holding `"usage":{`, and a
tool input holding a real `usage` object; the reader must keep exactly what parsing every line
whole keeps, and the lines must have that shape.
"""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support.usage_lines import full_parse_reference

from ccswitch.usage import scan

USAGE = {"input_tokens": 10, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 30,
         "cache_creation": {"ephemeral_5m_input_tokens": 5, "ephemeral_1h_input_tokens": 15}, "output_tokens": 40}
FAKE = {"input_tokens": 999999, "output_tokens": 999999}


def script(tool_results: int) -> list[dict]:
    """The content blocks of the answer to a request that carries `tool_results` tool results."""
    if tool_results == 0:
        return [{"type": "thinking", "thinking": 'first "usage":{ é', "signature": "sig"},
                {"type": "text", "text": 'I will run "usage":{"output_tokens":999999} — ünïcode ✓'},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash",
                 "input": {"command": "echo '\"usage\":{\"output_tokens\":7}'", "description": "echo"}}]
    if tool_results == 1:  # a tool input holding a real usage object (claude refuses the key, after writing it)
        return [{"type": "tool_use", "id": "toolu_2", "name": "Bash",
                 "input": {"command": "true", "description": "x", "usage": FAKE}}]
    return [{"type": "text", "text": "done"}]


def sse(model: str, message_id: str, blocks: list[dict]) -> bytes:
    start = {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
             "stop_reason": None, "stop_sequence": None, "usage": {**USAGE, "output_tokens": 1}}
    events: list[tuple[str, dict]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(blocks):
        kind = block["type"]
        empty = {"tool_use": {**block, "input": {}}, "thinking": {"type": "thinking", "thinking": "", "signature": ""},
                 "text": {"type": "text", "text": ""}}[kind]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": empty}))
        deltas = {"tool_use": [{"type": "input_json_delta", "partial_json": json.dumps(block.get("input"))}],
                  "thinking": [{"type": "thinking_delta", "thinking": block.get("thinking")},
                               {"type": "signature_delta", "signature": block.get("signature")}],
                  "text": [{"type": "text_delta", "text": block.get("text")}]}[kind]
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    events += [("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                  "usage": {"output_tokens": USAGE["output_tokens"]}}),
               ("message_stop", {"type": "message_stop"})]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


class ScriptedMock:
    def __init__(self) -> None:
        self.answered = 0
        self.lock = threading.Lock()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if "count_tokens" in self.path:
                    data, kind = b'{"input_tokens": 100}', "application/json"
                else:
                    results = json.dumps(body.get("messages", [])).count('"tool_result"')
                    blocks = script(results) if body.get("tools") else [{"type": "text", "text": "title"}]
                    with mock.lock:
                        mock.answered += 1
                        message_id = f"msg_scan_{mock.answered}"
                    data, kind = sse(body.get("model", "m"), message_id, blocks), "text/event-stream"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> ScriptedMock:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_reader_keeps_what_parsing_claudes_lines_whole_keeps(claude_bin, claude_env, project, isolated_home):
    with ScriptedMock() as mock:
        env = {**claude_env, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{mock.server.server_address[1]}",
               "ANTHROPIC_AUTH_TOKEN": "scan-token-0123456789"}
        result = subprocess.run([str(claude_bin), "-p", 'go "usage":{ é', "--allowedTools", "Bash"], cwd=project,
                                env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    files = list((isolated_home / ".claude" / "projects").rglob("*.jsonl"))
    assert files
    blocks = 0
    for path in files:
        data = path.read_bytes()
        for raw in data.splitlines():
            record = json.loads(raw)
            if record.get("type") != "assistant":
                continue
            blocks += 1
            # The shape the fast path relies on: the message is the first nested value, nothing
            # nested follows it, and its usage follows its content.
            nested = [key for key, value in record.items() if isinstance(value, (dict, list))]
            assert nested == ["message"], nested
            assert scan._top_message(raw, 0, len(raw)) == raw.index(b'"message":{') + len(b'"message":')
            keys = list(record["message"])
            assert keys.index("usage") > keys.index("content")
        read = scan.read_file(str(path))
        assert {k: (m.output_tokens, m.total_tokens) for k, m in read.messages.items()} == full_parse_reference(data, str(path))
        assert read.stats.malformed_lines == 0 and read.end == len(data)
    assert blocks >= 5  # thinking, text and tool use of the first answer, the second, the last
    kept = {m.message_id: m for path in files for m in scan.read_file(str(path)).messages.values()}
    assert all((m.output_tokens, m.input_tokens, m.cache_read_tokens) == (40, 10, 30) for m in kept.values())
    assert len([m for m in kept.values() if m.turn_start]) == 1
