"""A generator of realistic Claude Code transcripts, for bench/usage.py and the usage tests.

What real transcripts hold, in the proportions that matter to a reader: user prompts; assistant
responses written as one line per content block (thinking, text, tool_use) that share the message
id and request id, the early lines carrying the usage of `message_start` (output_tokens 1-9);
tool_result lines that are most of the bytes (file contents, command output), a few of them huge
(megabytes: an image, a big file); bookkeeping lines (summary, file-history-snapshot); subagent
files (`<session>/subagents/agent-*.jsonl`, isSidechain true); resumed sessions whose file starts
by replaying the previous file's last lines; `<synthetic>` error responses; and now and then a
malformed line (cut short, or garbage). Deterministic for a given seed.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from dataclasses import dataclass, field

MODELS = ("claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5", "glm-5.1", "kimi-k2.5", "deepseek-v4-pro")
WORDS = (
    "the function returns a value when the test passes and the build is green so we can merge "
    "refactor parser index cache sqlite offset token usage request session profile gateway"
).split()


@dataclass
class Corpus:
    root: str
    files: int = 0
    bytes: int = 0
    messages: set[tuple[str, str]] = field(default_factory=set)  # unique (message id, request id)
    malformed: int = 0


_POOL = " ".join(random.Random(1).choice(WORDS) for _ in range(400_000))  # ~2.4 MB of words


def _text(rng: random.Random, size: int) -> str:
    """`size` characters of words: a slice of a fixed pool (fast), repeated for huge payloads."""
    if size >= len(_POOL):
        return (_POOL * (size // len(_POOL) + 1))[:size]
    start = rng.randrange(len(_POOL) - size)
    return _POOL[start : start + size]


class _Session:
    def __init__(self, rng: random.Random, corpus: Corpus, project: str, cwd: str, ts: float) -> None:
        self.rng, self.corpus, self.project, self.cwd, self.ts = rng, corpus, project, cwd, ts
        self.id = str(uuid.UUID(int=rng.getrandbits(128)))
        self.model = rng.choice(MODELS)
        self.lines: list[str] = []
        self.parent: str | None = None

    def _base(self, kind: str, sidechain: bool) -> dict:
        self.ts += self.rng.uniform(1, 40)
        entry = {
            "parentUuid": self.parent,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.id,
            "version": "2.1.330",
            "gitBranch": "main",
        }
        self.parent = str(uuid.UUID(int=self.rng.getrandbits(128)))
        return entry | {"type": kind, "uuid": self.parent}

    def _stamp(self, entry: dict) -> str:
        ms = int(self.ts * 1000)
        entry["timestamp"] = _iso(ms)
        return json.dumps(entry, separators=(",", ":"))

    def user(self, content: object, sidechain: bool = False, extra: dict | None = None) -> None:
        entry = self._base("user", sidechain)
        entry["message"] = {"role": "user", "content": content}
        if extra:
            entry.update(extra)
        self.lines.append(self._stamp(entry))

    def assistant(self, sidechain: bool = False) -> None:
        rng = self.rng
        message_id = "msg_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24]
        request_id = "req_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24]
        model = "<synthetic>" if rng.random() < 0.004 else self.model
        if model != "<synthetic>":
            self.corpus.messages.add((message_id, request_id))
        cache_read = rng.randint(0, 180_000)
        usage_final = {
            "input_tokens": rng.randint(1, 40),
            "cache_creation_input_tokens": rng.randint(0, 8000),
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": rng.randint(20, 3000),
            "service_tier": "standard",
        }
        usage_final["cache_creation"]["ephemeral_1h_input_tokens"] = usage_final["cache_creation_input_tokens"]
        blocks = [b for b in ("thinking", "text", "tool_use") if rng.random() < 0.7] or ["text"]
        for i, kind in enumerate(blocks):
            usage = dict(usage_final)
            if i < len(blocks) - 1:
                usage["output_tokens"] = rng.randint(1, 9)  # message_start's usage on early blocks
            entry = self._base("assistant", sidechain)
            entry["message"] = {
                "model": model,
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [_block(rng, kind)],
                "stop_reason": "tool_use" if kind == "tool_use" else None,
                "stop_sequence": None,
                "usage": usage,
            }
            entry["requestId"] = request_id
            del entry["type"]
            del entry["uuid"]
            entry.update(type="assistant", uuid=self.parent)
            self.lines.append(self._stamp(entry))

    def tool_result(self, sidechain: bool = False) -> None:
        rng = self.rng
        size = int(rng.lognormvariate(8.6, 1.1))  # median ~5.4 KB, long tail
        if rng.random() < 0.0025:
            size = rng.randint(1_000_000, 6_000_000)  # an image or a huge file read
        content = [{"tool_use_id": "toolu_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24], "type": "tool_result",
                    "content": _text(rng, size)}]
        extra = {"toolUseResult": {"stdout": "ok", "stderr": "", "interrupted": False,
                                   "usage": {"input_tokens": 5, "output_tokens": 7}}}
        self.user(content, sidechain, extra)

    def housekeeping(self) -> None:
        kind = self.rng.choice(("summary", "file-history-snapshot", "system"))
        entry = {"type": kind, "leafUuid": self.parent, "summary": _text(self.rng, 80)}
        self.lines.append(json.dumps(entry, separators=(",", ":")))

    def malformed(self) -> None:
        self.corpus.malformed += 1
        if self.rng.random() < 0.5 and self.lines:
            self.lines.append(self.lines[-1][: len(self.lines[-1]) // 2])  # cut short by a crash
        else:
            self.lines.append('{"type":"assistant","message":{"usage":{"input_tokens":')


def _block(rng: random.Random, kind: str) -> dict:
    if kind == "thinking":
        return {"type": "thinking", "thinking": _text(rng, rng.randint(200, 3000)), "signature": "sig" * 40}
    if kind == "text":
        return {"type": "text", "text": _text(rng, rng.randint(50, 2000))}
    return {"type": "tool_use", "id": "toolu_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24], "name": "Edit",
            "input": {"file_path": "/src/app.py", "old_string": _text(rng, rng.randint(50, 1500)),
                      "new_string": _text(rng, rng.randint(50, 1500)), "model": "not-this-one"}}


def _iso(ms: int) -> str:
    import time

    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _turns(session: _Session, target_bytes: int, sidechain: bool = False) -> None:
    rng = session.rng
    written = 0
    while written < target_bytes:
        before = len(session.lines)
        session.user(_text(rng, rng.randint(20, 400)), sidechain)
        session.assistant(sidechain)
        if rng.random() < 0.8:
            session.tool_result(sidechain)
            session.assistant(sidechain)
        if rng.random() < 0.05:
            session.housekeeping()
        if rng.random() < 0.002:
            session.malformed()
        written += sum(len(line) + 1 for line in session.lines[before:])


def _write(corpus: Corpus, path: str, lines: list[str]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(path, "wb") as handle:
        handle.write(data)
    corpus.files += 1
    corpus.bytes += len(data)


def generate(root: str, size_mb: float, seed: int = 7, now: float = 1_796_000_000.0, file_mb: float = 2.0) -> Corpus:
    """Write about `size_mb` MB of transcripts under `root/projects/` in files of `file_mb` MB on
    average (real ones: ~2 MB); returns what was written."""
    import math

    rng = random.Random(seed)
    corpus = Corpus(root)
    target = int(size_mb * 1_000_000)
    projects = [f"-home-dev-project{i}" for i in range(max(1, int(size_mb // 40) + 1))]
    previous: _Session | None = None
    while corpus.bytes < target:
        project = rng.choice(projects)
        session = _Session(rng, corpus, project, "/home/dev/" + project.rsplit("-", 1)[-1], now - rng.uniform(0, 60 * 86400))
        if previous is not None and previous.project == project and rng.random() < 0.1:
            replay = previous.lines[-rng.randint(4, 40):]  # a resumed session replays old lines first
            session.lines.extend(replay)
        size = min(int(rng.lognormvariate(math.log(file_mb * 1e6) - 0.5, 1.0)), 40_000_000, max(20_000, target - corpus.bytes))
        _turns(session, size)
        base = os.path.join(root, "projects", project)
        _write(corpus, os.path.join(base, session.id + ".jsonl"), session.lines)
        if rng.random() < 0.15:  # a subagent of this session
            agent = _Session(rng, corpus, project, session.cwd, session.ts)
            agent.id, agent.model = session.id, session.model
            _turns(agent, size // 6, sidechain=True)
            name = f"agent-{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}.jsonl"
            _write(corpus, os.path.join(base, session.id, "subagents", name), agent.lines)
        previous = session
    return corpus
