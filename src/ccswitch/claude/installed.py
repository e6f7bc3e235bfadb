"""The installed claude: which program `claude` (or `$CCSWITCH_CLAUDE`) is, and which release. The
one place ccswitch learns it: `doctor` reports it, and the warnings that depend on the release
(`use`, `status`, `doctor`) ask it here.

Runs `claude --version` only when it must: an npm install says its version in its package.json.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping

from ccswitch import paths
from ccswitch.fsutil import read_json

PACKAGE = "@anthropic-ai/claude-code"
# The first release that reads the project's `.claude/settings.local.json` (at the git root, where
# `use --scope project` writes) when started in a subfolder: bisected over the npm releases
# (docs/claude-code.md, "Where settings come from").
ROOT_LOCAL_SETTINGS_SINCE = (2, 1, 211)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Which = Callable[..., "str | None"]
_VERSION = re.compile(r"\s*v?(\d+)\.(\d+)\.(\d+)")


class Installed:
    """What was found: `path` None when claude is not on PATH; `version` the first line of
    `claude --version` (or the package's version); `problem` when `--version` failed."""

    __slots__ = ("program", "path", "from_override", "version", "problem", "package")

    def __init__(self, program: str, path: str | None, from_override: bool, version: str = "",
                 problem: str | None = None, package: dict | None = None) -> None:
        self.program = program
        self.path = path
        self.from_override = from_override
        self.version = version
        self.problem = problem
        self.package = package

    @property
    def release(self) -> tuple[int, int, int] | None:
        """(major, minor, patch), None when unknown (not found, failing, or an unreadable version)."""
        return parse_release(self.version) if self.path and not self.problem else None

    @property
    def from_npm(self) -> bool:
        return bool(self.path) and "node_modules" in os.path.realpath(str(self.path)).split(os.sep)


def parse_release(text: str) -> tuple[int, int, int] | None:
    """`2.1.330 (Claude Code)` -> (2, 1, 330)."""
    match = _VERSION.match(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def release_text(release: tuple[int, ...]) -> str:
    return ".".join(map(str, release))


def probe(env: Mapping[str, str], *, which: Which | None = None, run: Runner | None = None,
          ask: bool = False) -> Installed:
    """The claude a plain `claude` (or `$CCSWITCH_CLAUDE`) starts. `ask`: run `--version` even when
    the npm package says its version (doctor checks that the program runs)."""
    program = paths.claude_program(env)
    found = (which or shutil.which)(program, path=env.get("PATH", os.defpath))
    override = bool(env.get(paths.ENV_CLAUDE_PROGRAM))
    if not found:
        return Installed(program, None, override)
    installed = Installed(program, found, override)
    if installed.from_npm:
        installed.package = installed_package(found)
    version = (installed.package or {}).get("version")
    if isinstance(version, str) and not ask:
        installed.version = version
        return installed
    installed.version, installed.problem = first_line(run or subprocess.run, [found, "--version"], env)
    return installed


def installed_package(program: str) -> dict | None:
    """The package.json of the npm package a claude binary belongs to (its `version`, `engines`)."""
    directory = os.path.dirname(os.path.realpath(program))
    for _ in range(4):
        data = read_json(os.path.join(directory, "package.json"))
        if isinstance(data, dict) and data.get("name") == PACKAGE:
            return data
        directory = os.path.dirname(directory)
    return None


def first_line(run: Runner, argv: list[str], env: Mapping[str, str]) -> tuple[str, str | None]:
    """(first line of the output, None) or (what there was, the problem): for `--version` calls."""
    try:
        done = run(argv, capture_output=True, text=True, timeout=20, env=dict(env), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return "", str(exc) or type(exc).__name__
    output = (done.stdout or "").strip() or (done.stderr or "").strip()
    first = output.splitlines()[0] if output else ""
    if done.returncode != 0:
        return first, f"exit status {done.returncode}" + (f": {first}" if first else "")
    return first, None
