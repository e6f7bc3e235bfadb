"""The real Claude Code client for the conformance tests: pinned, installed from npm on first use.

`CCSWITCH_TEST_CLAUDE` may point at an existing binary. Otherwise the pinned release is installed
into the repo's git-ignored `.cache/` with npm (once; later runs reuse it). With no npm this
fails loudly: these tests are the proof that profiles win, so they must not silently skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CLAUDE_CODE_VERSION = "2.1.330"
REPO = Path(__file__).resolve().parents[2]
INSTALL_DIR = REPO / ".cache" / f"claude-code-{CLAUDE_CODE_VERSION}"


class ClaudeUnavailable(RuntimeError):
    pass


def claude_binary() -> Path:
    override = os.environ.get("CCSWITCH_TEST_CLAUDE")
    if override:
        return Path(override)
    binary = INSTALL_DIR / "node_modules" / ".bin" / "claude"
    if binary.exists() and _version_ok(binary):
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise ClaudeUnavailable(
            "npm is not on PATH: the conformance tests need the real claude "
            f"(npm install @anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}); install Node.js/npm or set CCSWITCH_TEST_CLAUDE"
        )
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(INSTALL_DIR), f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
        env=npm_environment(),
    )
    if result.returncode != 0 or not binary.exists() or not _version_ok(binary):
        raise ClaudeUnavailable(f"npm could not install claude {CLAUDE_CODE_VERSION}:\n{result.stdout}\n{result.stderr}")
    return binary


def npm_environment() -> dict[str, str]:
    """npm's own files (cache, logs, config) under the repo's .cache/, never in the user's ~/.npm."""
    home = REPO / ".cache" / "npm-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.update(HOME=str(home), npm_config_cache=str(REPO / ".cache" / "npm-cache"), npm_config_userconfig=str(home / ".npmrc"),
               npm_config_update_notifier="false")
    return env


def _version_ok(binary: Path) -> bool:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, env=npm_environment()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.startswith(CLAUDE_CODE_VERSION)
