"""Where claude reads settings from and which source wins for a variable: the one discovery of
Claude Code's settings sources, used by `run`'s and `env`'s warnings, `status` and `doctor`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from ccswitch import paths
from ccswitch.claude import settings as claude_settings

# Highest precedence first; the shell is always last. "project-local" is the git root's
# settings.local.json (where `use --scope project` writes), "folder-local" the working directory's
# when claude starts in a subfolder, "project" the working directory's settings.json.
SETTINGS_SOURCES = ("managed", "project-local", "folder-local", "project", "user")
SHELL = "shell"
LABELS = {
    "managed": "managed settings",
    "project-local": "project settings.local.json",
    "folder-local": "this folder's settings.local.json",
    "project": "project settings.json",
    "user": "user settings",
    SHELL: "shell environment",
}


def _text(value: object) -> str:
    # As claude would see a non-string: JSON's spelling (true, 5), not Python's (True).
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


class Source:
    """One place claude reads settings from, already loaded."""

    __slots__ = ("name", "path", "data", "error", "exists")

    def __init__(self, name: str, path: str | None, data: Mapping[str, object] | None, error: str | None = None,
                 exists: bool = True) -> None:
        self.name = name
        self.path = path
        self.data = data or {}
        self.error = error
        self.exists = exists

    @property
    def env(self) -> dict[str, str]:
        env = self.data.get("env") if self.name != SHELL else self.data
        if not isinstance(env, Mapping):
            return {}
        return {str(key): _text(value) for key, value in env.items()}

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    def where(self) -> str:
        """The label with the file, for messages that send the user to fix it."""
        if self.name == SHELL:
            return SHELL
        return f"{self.label} ({self.path})" if self.path else self.label

    def where_to_fix(self) -> str:
        return "your shell" if self.name == SHELL else self.where()


def settings_files(env: Mapping[str, str], cwd: str, root_local: bool = True) -> list[tuple[str, str]]:
    """(source name, path) of claude's settings files for a claude started in `cwd`, highest first
    (docs/claude-code.md, "Where settings come from").

    `.claude/settings.json` is read from `cwd` only, never from the git root above it;
    `.claude/settings.local.json` from the git work tree's root (where `use --scope project` writes)
    and from `cwd`, the root's first. `root_local` False: a claude older than
    installed.ROOT_LOCAL_SETTINGS_SINCE, which in a subfolder reads only `cwd`'s. In $HOME the user
    file is also the project file; it is listed once, as the user's.
    """
    here = os.path.abspath(cwd)
    root = paths.find_project_root(here)
    user = paths.claude_user_settings(env)
    candidates = [("managed", paths.managed_settings_file(env))]
    if root_local or here == root:
        candidates.append(("project-local", paths.claude_project_local_settings(root)))
    if here != root:
        candidates.append(("folder-local", paths.claude_project_local_settings(here)))
    candidates += [("project", paths.claude_project_settings(here)), ("user", user)]
    real_user = os.path.realpath(user)
    return [(name, path) for name, path in candidates if name in ("managed", "user") or os.path.realpath(path) != real_user]


def read_source(name: str, path: str) -> Source:
    """A settings file as claude reads it; a file it cannot use carries `error` (path first), never raises."""
    data, problem, exists = claude_settings.read_object(path)
    if data is not None and "env" in data and not isinstance(data["env"], Mapping):
        problem = '"env" must be an object of strings'
    if problem:
        return Source(name, path, None, f"{path}: {problem}", exists)
    return Source(name, path, data, exists=exists)


def load_sources(settings_paths: Sequence[tuple[str, str]], shell_env: Mapping[str, str]) -> list[Source]:
    """Read each (name, path) — highest precedence first — and append the shell."""
    return [*(read_source(name, path) for name, path in settings_paths), Source(SHELL, None, dict(shell_env))]


def read_sources(env: Mapping[str, str], cwd: str, names: Sequence[str] = SETTINGS_SOURCES) -> list[Source]:
    """The settings files (those of `names`) of a claude started in `cwd`, read, highest first."""
    return [read_source(name, path) for name, path in settings_files(env, cwd) if name in names]


def overrides(environment: Mapping[str, str], sources: Sequence[Source]) -> list[tuple[Source, list[str]]]:
    """[(settings source, the variables of `environment` it sets to another value)]: what beats
    `environment` when it reaches claude as exported variables (every source does) or as `--settings`
    (only managed settings do). A file that already holds the same value is in no one's way."""
    found = []
    for source in sources:
        env = source.env
        keys = [key for key in environment if key in env and env[key] != environment[key]]
        if keys and source.name != SHELL:
            found.append((source, keys))
    return found


def resolve(variable: str, sources: Sequence[Source]) -> tuple[Source | None, str | None, list[Source]]:
    """(winning source, its value, lower sources it shadows). The first source that has the key wins."""
    having = [s for s in sources if variable in s.env]
    if not having:
        return None, None, []
    return having[0], having[0].env[variable], having[1:]


def rank(name: str) -> int:
    order = (*SETTINGS_SOURCES, SHELL)
    return order.index(name) if name in order else len(order)
