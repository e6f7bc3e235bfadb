"""Start-up benchmark: every read-only command against `python -c pass`, side by side.

    python bench/startup.py [--runs 40] [--only list,show]

Every claude start goes through `ccswitch run`, and every other command is typed by a person who
waits for it, so start-up is the cost users pay each time. Runs in a throwaway HOME with one
profile, compiles the package to .pyc first (as an install does; PYTHONDONTWRITEBYTECODE would
otherwise make every run compile from source), warms the profile cache once, then times each
command alternately (stdout to /dev/null: a pipe, as scripts see it) and prints each median, wall
and CPU (user + system), with its ratio to the floor measured in the same run and the ratio it
should stay under, judged on CPU time (on a shared machine, waiting for a core flatters the wall
ratio). Ratios, not milliseconds: a slower machine slows the floor too. Two `run` rows start
`claude` (CCSWITCH_CLAUDE=true) with `--model`: once named, once routed by the model, so the cost of
routing is their difference. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"

PROFILE = """\
[profiles.bench]
base_url = "http://127.0.0.1:9/api"
token = "env:BENCH_TOKEN"
model = "bench-model"
serves = ["bench-*"]
[profiles.bench.models]
opus = "bench-opus"
"""


# What bash's completion function sends on `ccswitch run <TAB>` (see `ccswitch --show-completion bash`).
COMPLETE_RUN = {"_CCSWITCH_COMPLETE": "complete_bash", "COMP_WORDS": "ccswitch run ", "COMP_CWORD": "2"}


def timed(argv: list[str], env: dict[str, str], cwd: str, forget: Path | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU is the child's user + system time (wall where the
    platform has no getrusage)."""
    if forget is not None and forget.exists():
        forget.unlink()  # a cold start: profiles.toml and the preset read with tomllib
    before = _children_cpu()
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = _children_cpu()
    return wall, (after - before) if after is not None and before is not None else wall


def _children_cpu() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check(label: str, argv: list[str], env: dict[str, str], cwd: str) -> None:
    """Once, before timing: a command that crashes would time its traceback."""
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        sys.exit(f"{label}: exit {done.returncode}\n{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--only", help="comma-separated parts of the labels to time (the floor is always timed)")
    options = parser.parse_args()
    compileall.compile_dir(str(SRC), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        config = home / "config"
        config.mkdir(mode=0o700)
        (config / "profiles.toml").write_text(PROFILE, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HOME=str(home), CCSWITCH_HOME=str(config), XDG_CACHE_HOME=str(home / "cache"),
                   XDG_RUNTIME_DIR=str(home / "run"), XDG_STATE_HOME=str(home / "state"),
                   BENCH_TOKEN="bench-token-0123456789", PYTHONPATH=str(SRC),
                   CCSWITCH_CLAUDE=shutil.which("true") or "/bin/true")  # `claude` here exits at once
        # The console script does `from ccswitch.__main__ import main; main()`; so does this.
        entry = "import sys; sys.argv[0] = 'ccswitch'; from ccswitch.__main__ import main; main()"
        (home / "work").mkdir()
        # (label, argv after the entry, target ratio): the targets of issues 14 and 18 (run/env: 2.0, --help: 6).
        rows = [
            ("ccswitch run bench -- true", ["run", "bench", "--", "true"], 2.0),
            ("  same, no profile cache", ["run", "bench", "--", "true"], None),
            ("ccswitch run bench -- claude --model bench-x", ["run", "bench", "--", "claude", "--model", "bench-x"], 2.0),
            ("ccswitch run -- claude --model bench-x", ["run", "--", "claude", "--model", "bench-x"], 2.0),
            ("ccswitch env bench", ["env", "bench"], 2.0),
            ("ccswitch list", ["list"], 6.0),
            ("ccswitch list --json", ["list", "--json"], 6.0),
            ("ccswitch show bench", ["show", "bench"], 8.0),
            ("ccswitch presets", ["presets"], 8.0),
            ("ccswitch which bench-x", ["which", "bench-x"], 8.0),
            ("ccswitch status", ["status"], 8.0),
            ("ccswitch doctor", ["doctor"], 8.0),
            ("ccswitch restore --list", ["restore", "--list"], 8.0),
            ("ccswitch pin", ["pin"], 8.0),
            ("ccswitch --version", ["--version"], 8.0),
            ("ccswitch --help", ["--help"], 6.0),
            ("ccswitch test --help", ["test", "--help"], 6.0),
            ("completion: ccswitch run <TAB>", COMPLETE_RUN, 8.0),
        ]
        if options.only:
            wanted = options.only.split(",")
            rows = [row for row in rows if any(w in row[0] for w in wanted)]
        commands = {"python -c pass": [sys.executable, "-c", "pass"]}
        envs = {"python -c pass": env}
        targets: dict[str, float | None] = {"python -c pass": 1.0}
        for label, args, target in rows:
            if isinstance(args, dict):  # a completion request: the arguments are in the environment
                commands[label], envs[label] = [sys.executable, "-c", entry], {**env, **args}
            else:
                commands[label], envs[label] = [sys.executable, "-c", entry, *args], env
            targets[label] = target
        cache = home / "cache" / "ccswitch" / "profiles.json"
        work = str(home / "work")
        for label, argv in commands.items():  # warm the OS cache, the .pyc files and the profile cache
            check(label, argv, envs[label], work)
        walls: dict[str, list[float]] = {label: [] for label in commands}
        cpus: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(options.runs):
            for label, argv in commands.items():
                wall, cpu = timed(argv, envs[label], work, cache if "no profile cache" in label else None)
                walls[label].append(wall)
                cpus[label].append(cpu)
    wall_ms = {label: statistics.median(values) * 1000 for label, values in walls.items()}
    cpu_ms = {label: statistics.median(values) * 1000 for label, values in cpus.items()}
    floor, cpu_floor = wall_ms["python -c pass"], cpu_ms["python -c pass"]
    print(f"{'command':<46} {'median':>9} {'ratio':>6} {'CPU':>9} {'ratio':>6} {'target':>7}"
          f"   ({options.runs} runs each, alternating)")
    over = []
    for label in wall_ms:
        target = targets[label]
        # Judged on CPU time: on a shared machine, waiting for a core inflates the floor's wall time
        # more than a longer command's, and the wall ratio flatters.
        cpu_ratio = cpu_ms[label] / cpu_floor
        verdict = "" if target is None else ("  ok" if cpu_ratio <= target else "  OVER")
        if verdict == "  OVER":
            over.append(label)
        shown = "-" if target is None else f"<= {target:g}"
        print(f"{label:<46} {wall_ms[label]:6.1f} ms {wall_ms[label] / floor:5.2f}x {cpu_ms[label]:6.1f} ms "
              f"{cpu_ratio:5.2f}x {shown:>7}{verdict}")
    print(f"floor: python -c pass {floor:.1f} ms ({cpu_floor:.1f} ms CPU); "
          + (f"over target: {', '.join(over)}" if over else "every command within its target"))


if __name__ == "__main__":
    main()
