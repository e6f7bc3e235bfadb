"""A settings file that holds a token must never be committed: git checks for `use`.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ccswitch.errors import UsageError
from ccswitch.fsutil import atomic_write_text


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
