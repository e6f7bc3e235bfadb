"""The real Claude Code client for the conformance tests: pinned, installed from npm on first use.

`CCSWITCH_TEST_CLAUDE` may point at an existing binary. Otherwise the pinned release is installed
into the repo's git-ignored `.cache/` with npm (once; later runs reuse it). The few tests about a
release boundary install that release the same way, beside it. With no npm this
fails loudly: these tests are the proof that profiles win, so they must not silently skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

CLAUDE_CODE_VERSION = "2.1.330"
REPO = Path(__file__).resolve().parents[2]


class ClaudeUnavailable(RuntimeError):
    pass


def claude_binary(version: str = CLAUDE_CODE_VERSION) -> Path:
    """The pinned claude (or `CCSWITCH_TEST_CLAUDE`); another `version` for the few tests that are
    about a release boundary, installed beside it (those ignore the override)."""
    override = os.environ.get("CCSWITCH_TEST_CLAUDE")
    if override and version == CLAUDE_CODE_VERSION:
        return Path(override)
    install_dir = install_dir_for(version)
    binary = install_dir / "node_modules" / ".bin" / "claude"
    if binary.exists() and _version_ok(binary, version):
        return binary
    # pytest-xdist's workers each ask on a fresh clone: one installs, the others wait and reuse it.
    from filelock import FileLock

    install_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(install_dir) + ".lock", timeout=900):
        if binary.exists() and _version_ok(binary, version):
            return binary
        return _install(binary, version)


def _install(binary: Path, version: str) -> Path:
    install_dir = install_dir_for(version)
    npm = shutil.which("npm")
    if npm is None:
        raise ClaudeUnavailable(
            "npm is not on PATH: the conformance tests need the real claude "
            f"(npm install @anthropic-ai/claude-code@{version}); install Node.js/npm or set CCSWITCH_TEST_CLAUDE"
        )
    install_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(install_dir), f"@anthropic-ai/claude-code@{version}"],
        capture_output=True,
        text=True,
        timeout=600,
        env=npm_environment(),
    )
    if result.returncode != 0 or not binary.exists() or not _version_ok(binary, version):
        raise ClaudeUnavailable(f"npm could not install claude {version}:\n{result.stdout}\n{result.stderr}")
    return binary


def install_dir_for(version: str) -> Path:
    return REPO / ".cache" / f"claude-code-{version}"


def npm_environment() -> dict[str, str]:
    """npm's own files (cache, logs, config) under the repo's .cache/, never in the user's ~/.npm."""
    home = REPO / ".cache" / "npm-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.update(HOME=str(home), npm_config_cache=str(REPO / ".cache" / "npm-cache"), npm_config_userconfig=str(home / ".npmrc"),
               npm_config_update_notifier="false")
    return env


def _version_ok(binary: Path, version: str) -> bool:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, env=npm_environment()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.startswith(version + " ")


def skip_first_run(home: Path, project: Path) -> None:
    """Interactive claude without its first-run screens and trust question for `project`
    (docs/claude-code.md, "First run, trust, API keys")."""
    (home / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True,
                                                   "projects": {str(project): {"hasTrustDialogAccepted": True}}}))
