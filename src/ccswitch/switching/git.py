"""A settings file that holds a token must never be committed: git checks for `use`.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ccswitch.errors import UsageError
from ccswitch.fsutil import atomic_write_text


def tracking_repository(path: str, git: str | None = None) -> str | None:
    """The work tree of the git repository that tracks `path` (through symlinks: a dotfiles repo),
    or None. A file not created yet counts if git tracks its name."""
    git = git or shutil.which("git")
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    while not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    if git is None:
        return None
    found = subprocess.run([git, "-C", directory, "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    if found.returncode != 0:
        return None
    root = found.stdout.strip()
    tracked = subprocess.run([git, "-C", root, "ls-files", "--error-unmatch", "--", os.path.relpath(real, root)],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return root if tracked.returncode == 0 else None


def refuse_if_tracked(settings_path: str) -> None:
    """`use` would write a plain-text token into a file that the next `git commit` publishes."""
    root = tracking_repository(settings_path)
    if root is not None:
        real = os.path.realpath(settings_path)
        via = f" (through the link {settings_path})" if real != os.path.abspath(settings_path) else ""
        raise UsageError(f"{real}{via} is tracked by the git repository {root}: `use` would commit a token there; "
                         "use `ccswitch run` instead, untrack the file, or pass --force")


def ensure_git_ignored(root: str, settings_path: str, git: str | None = None) -> str | None:
    """Make sure git ignores the local settings file (adding it to .git/info/exclude, which is never
    committed); refuse if the file is already tracked. Returns a note for the user, or None."""
    git = git or shutil.which("git")
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    relative = os.path.relpath(settings_path, root).replace(os.sep, "/")
    if git is None:
        return f"git is not on PATH: cannot check that {relative} is git-ignored; make sure it is (it holds a token)"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([git, "-C", root, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)

    if run("ls-files", "--error-unmatch", "--", relative).returncode == 0:
        raise UsageError(f"{settings_path} is tracked by git; ccswitch would put a token in the repository. "
                         f"Run `git rm --cached {relative}` first")
    if run("check-ignore", "-q", "--", relative).returncode == 0:
        return None
    found = run("rev-parse", "--git-path", "info/exclude")
    if found.returncode != 0:
        return f"cannot check that {relative} is git-ignored ({found.stderr.strip()}); make sure it is"
    exclude = found.stdout.strip()
    if not os.path.isabs(exclude):
        exclude = os.path.join(root, exclude)
    try:
        with open(exclude, encoding="utf-8") as handle:
            old = handle.read()
    except FileNotFoundError:
        old = ""
    prefix = "" if not old or old.endswith("\n") else "\n"
    os.makedirs(os.path.dirname(exclude), exist_ok=True)
    atomic_write_text(exclude, f"{old}{prefix}# added by ccswitch: holds a token\n/{relative}\n")
    return f"added /{relative} to {exclude} so git never commits it"
