"""Start-up benchmark: `ccswitch run P -- true` against `python -c pass`, side by side.

    python bench/startup.py [--runs 40]

Every claude start goes through `ccswitch run`, so its start-up is the cost users pay each time.
Runs in a throwaway HOME with one profile, compiles the package to .pyc first (as an install does;
PYTHONDONTWRITEBYTECODE would otherwise make every run compile from source), warms the profile
cache once, then times each command alternately and prints the medians and their ratio. Two more
rows start `claude` (CCSWITCH_CLAUDE=true) with `--model`: once named, once routed by the model, so
the cost of routing is their difference.
Target: ratio <= 2.0. Prints figures; asserts nothing.
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


def timed(argv: list[str], env: dict[str, str], cwd: str, forget: Path | None = None) -> float:
    if forget is not None and forget.exists():
        forget.unlink()  # a cold start: profiles.toml and the preset read with tomllib
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
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
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "ccswitch run bench -- true": [sys.executable, "-c", entry, "run", "bench", "--", "true"],
            "  same, no profile cache": [sys.executable, "-c", entry, "run", "bench", "--", "true"],
            # claude's settings file is written (reused), then routing: every preset's `serves` read.
            "ccswitch run bench -- claude --model bench-x": [sys.executable, "-c", entry, "run", "bench", "--", "claude", "--model", "bench-x"],
            "ccswitch run -- claude --model bench-x": [sys.executable, "-c", entry, "run", "--", "claude", "--model", "bench-x"],
        }
        cache = home / "cache" / "ccswitch" / "profiles.json"
        for argv in commands.values():  # warm the OS cache, the .pyc files and the profile cache
            timed(argv, env, tmp)
        samples: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(options.runs):
            for label, argv in commands.items():
                samples[label].append(timed(argv, env, tmp, cache if "no profile cache" in label else None))
    medians = {label: statistics.median(values) * 1000 for label, values in samples.items()}
    baseline, ours = medians["python -c pass"], medians["ccswitch run bench -- true"]
    for label, value in medians.items():
        print(f"{label:<46} median {value:6.1f} ms   (min {min(samples[label]) * 1000:.1f} ms, {options.runs} runs)")
    print(f"ratio {ours / baseline:.2f} (target <= 2.0; the cold start is paid once after each edit)")


if __name__ == "__main__":
    main()
