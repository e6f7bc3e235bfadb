"""The settings file `run` hands claude: deleted by a later `run` once the claude that read it has
ended (the pid in its name runs no more), kept while it runs, and after a week in any case."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ccswitch.launch.settings_file import (
    PRUNE_AFTER_SECONDS,
    prune_settings_files,
    running,
    settings_file_name,
)


def test_the_name_says_whose_claude_reads_it():
    assert settings_file_name("glm", "{}\n", owner=4242).endswith("-pid4242.json")
    assert settings_file_name("glm", "{}\n").endswith(f"-pid{os.getpid()}.json")


def test_a_file_whose_claude_has_ended_is_deleted_and_the_others_kept(tmp_path: Path):
    tmp_path = tmp_path / "run"
    tmp_path.mkdir()
    names = {"ended": "pa-00000001-pid111.json", "running": "pa-00000002-pid222.json",
             "unowned": "pa-00000003.json", "old unowned": "pa-00000004.json", "kept": "pa-00000005-pid111.json",
             "not ours": "notes.txt"}
    for name in names.values():
        (tmp_path / name).write_text("{}")
    old = time.time() - PRUNE_AFTER_SECONDS - 10
    os.utime(tmp_path / names["old unowned"], (old, old))
    removed = prune_settings_files(str(tmp_path), keep=str(tmp_path / names["kept"]), is_running=lambda pid: pid == 222)
    assert sorted(Path(p).name for p in removed) == sorted([names["ended"], names["old unowned"]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for k, n in names.items() if k not in ("ended", "old unowned"))


def test_running_asks_the_system():
    assert running(os.getpid()) and running(1)  # pid 1: another user's (EPERM) still runs
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    assert not running(pid)
