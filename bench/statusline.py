"""Status line benchmark: `ccswitch statusline` with a warm index, against `python -c pass`.

    python bench/statusline.py [--size MB] [--runs 30]

claude runs the status line after every message, so it must cost little whatever the history:
goal <= 4x `python -c pass` (issue 19). Generates a corpus (bench/transcripts.py, default 200 MB),
indexes it once with `ccswitch usage`, then times, alternately, `python -c pass` and the status
line of one session (claude's JSON on stdin, as claude sends it), twice: with nothing new in the
session's transcript, and with one response appended before each call (what happens after every
message). Medians of wall and CPU time (user + system: less moved by other work on a shared
machine) and their ratios to the floor measured in the same run. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed(argv: list[str], env: dict[str, str], stdin: bytes) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=200.0)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    from transcripts import generate

    compileall.compile_dir(str(SRC), quiet=1)
    base = Path(tempfile.mkdtemp(prefix="ccswitch-statusline-bench-"))
    try:
        home = base / "home"
        corpus = generate(str(home / ".claude"), options.size)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"), XDG_CONFIG_HOME=str(home / ".config"),
                   XDG_STATE_HOME=str(base / "state"), XDG_CACHE_HOME=str(base / "cache"), PYTHONPATH=str(SRC))
        entry = "import sys; sys.argv[0] = 'ccswitch'; from ccswitch.__main__ import main; main()"
        subprocess.run([sys.executable, "-c", entry, "usage", "--json"], env=env, stdout=subprocess.DEVNULL, check=True)
        transcript = max((p for p in (home / ".claude" / "projects").rglob("*.jsonl") if "subagents" not in p.parts),
                         key=lambda p: p.stat().st_size)
        last = json.loads(next(line for line in reversed(transcript.read_text().splitlines())
                               if '"type":"assistant"' in line))
        payload = json.dumps({"session_id": last["sessionId"], "transcript_path": str(transcript), "cwd": last["cwd"],
                              "model": {"id": last["message"]["model"], "display_name": "x"}}).encode()
        print(f"corpus: {corpus.bytes / 1e6:,.0f} MB, {corpus.files} files; session file {transcript.stat().st_size / 1e6:.1f} MB")
        line = subprocess.run([sys.executable, "-c", entry, "statusline"], env=env, input=payload,
                              capture_output=True).stdout.decode().strip()
        print(f"the line: {line}")
        rows = {"python -c pass": [], "statusline, nothing new": [], "statusline, one new response": []}
        counter = 0
        for _ in range(options.runs):
            rows["python -c pass"].append(timed([sys.executable, "-c", "pass"], env, b""))
            rows["statusline, nothing new"].append(timed([sys.executable, "-c", entry, "statusline"], env, payload))
            counter += 1
            fresh = dict(last, requestId=f"req_bench_{counter}", timestamp=time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                                                                         time.gmtime()))
            fresh["message"] = dict(last["message"], id=f"msg_bench_{counter}")
            with open(transcript, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(fresh, separators=(",", ":")) + "\n")
            rows["statusline, one new response"].append(timed([sys.executable, "-c", entry, "statusline"], env, payload))
        floor = statistics.median(wall for wall, _ in rows["python -c pass"])
        cpu_floor = statistics.median(cpu for _, cpu in rows["python -c pass"])
        print(f"{'':32} {'wall':>9} {'ratio':>6} {'CPU':>9} {'ratio':>6}   ({options.runs} runs each, alternating; "
              "goal <= 4x)")
        for name, values in rows.items():
            wall = statistics.median(w for w, _ in values)
            cpu = statistics.median(c for _, c in values)
            print(f"{name:32} {wall * 1000:6.1f} ms {wall / floor:5.2f}x {cpu * 1000:6.1f} ms {cpu / cpu_floor:5.2f}x")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the end")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
