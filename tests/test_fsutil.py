"""Writing files: atomically, privately, following symlinks, and never replacing what is not a
regular file (a FIFO, a device: as root a rename over /dev/null replaces the device itself)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ccswitch.fsutil import NotARegularFile, atomic_write_text


def test_a_fifo_or_a_directory_is_left_as_it_is(tmp_path: Path):
    fifo, folder = tmp_path / "fifo", tmp_path / "folder"
    os.mkfifo(fifo)
    folder.mkdir()
    link = tmp_path / "link"
    link.symlink_to(fifo)  # a symlink is followed, and what it leads to is checked
    for path, kind in ((fifo, "a FIFO"), (folder, "a directory"), (link, "a FIFO")):
        with pytest.raises(NotARegularFile) as raised:
            atomic_write_text(path, "x")
        assert raised.value.strerror == f"not a regular file ({kind}), left as it is"
    assert fifo.is_fifo() and folder.is_dir() and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder", "home", "link"]  # no temp file left


def test_a_regular_file_through_a_symlink_is_replaced_and_keeps_its_mode(tmp_path: Path):
    target = tmp_path / "dotfiles" / "settings.json"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    assert atomic_write_text(link, "new") == str(target)
    assert link.is_symlink() and target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making a device node takes root")
def test_use_leaves_a_settings_file_that_is_a_device(setup, isolated_home: Path):
    """A settings.json linked to a null device (as to /dev/null): as root, the rename replaced the
    device itself. The device here is one the test makes, so a regression harms nothing."""
    import stat

    from typer.testing import CliRunner

    from ccswitch.cli.app import app

    device = isolated_home / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    setup.unlink()
    setup.symlink_to(device)
    result = CliRunner().invoke(app, ["use", "alpha"])
    assert result.exit_code != 0 and "not a regular file (a character device)" in result.stderr  # found reading it now
    assert "Traceback" not in result.output and stat.S_ISCHR(device.stat().st_mode)


def test_create_private_makes_a_new_0600_file_and_never_follows_or_replaces(tmp_path: Path):
    from ccswitch.fsutil import create_private

    path = tmp_path / "new.json"
    create_private(str(path), "{}\n")
    assert path.read_text() == "{}\n" and path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        create_private(str(path), "other")
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(FileExistsError):
        create_private(str(link), "x")
    assert path.read_text() == "{}\n" and not (tmp_path / "elsewhere.json").exists()


def _returns_within(seconds: float, call) -> object:
    """call()'s result or exception, failing the test if it blocks (a FIFO opened the blocking way)."""
    import threading

    outcome: list = []

    def run() -> None:
        try:
            outcome.append(("value", call()))
        except BaseException as error:  # handed to the test
            outcome.append(("error", error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, "blocked on a FIFO"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def test_own_records_in_a_fifos_place_are_an_error_at_once_not_a_wait(tmp_path):
    """A FIFO at sessions.jsonl hung `ccswitch run` (appending waits for a reader) and `usage`
    (reading waits for a writer); at gateway.sqlite3 sqlite waited too."""
    from ccswitch.fsutil import NotARegularFile, append_private, read_json, read_regular
    from ccswitch.usage.gateway import load_requests
    from ccswitch.usage.sessions import load_sessions, record_session

    fifo = tmp_path / "sessions.jsonl"
    os.mkfifo(fifo)
    for call in (lambda: read_regular(str(fifo)), lambda: append_private(str(fifo), b"x\n"),
                 lambda: load_sessions(str(tmp_path)), lambda: record_session(str(tmp_path), "s", "glm", 1.0)):
        with pytest.raises(NotARegularFile, match="not a regular file"):
            _returns_within(10, call)
    assert _returns_within(10, lambda: read_json(str(fifo))) is None
    assert _returns_within(10, lambda: load_requests(str(fifo))) == (
        [], f"gateway records {fifo}: not a regular file, not read")
    plain = tmp_path / "plain.jsonl"
    append_private(str(plain), b"a\n")
    append_private(str(plain), b"b\n")
    assert read_regular(str(plain)) == b"a\nb\n" and (plain.stat().st_mode & 0o777) == 0o600


def test_claudes_files_in_a_fifos_place_are_a_line_at_once(tmp_path):
    """settings.json or ~/.claude.json as a FIFO hung status, env, run, use and doctor."""
    from ccswitch.claude import settings as claude_settings
    from ccswitch.claude.settings import SettingsFileError
    from ccswitch.claude.state import prepare_state

    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    with pytest.raises(SettingsFileError, match=r"settings.json: cannot read: not a regular file \(a FIFO\)"):
        _returns_within(10, lambda: claude_settings.read(str(fifo)))
    assert _returns_within(10, lambda: claude_settings.read_object(str(fifo))) == (
        None, "cannot read: not a regular file (a FIFO)", True)
    assert _returns_within(10, lambda: prepare_state(str(fifo), onboarding=True)) == (
        f"{fifo}: cannot read (not a regular file (a FIFO)); left alone")
    (tmp_path / "bad.json").write_bytes(b'{"a": "\xff"}')  # not UTF-8: a traceback before
    assert "cannot read" in prepare_state(str(tmp_path / "bad.json"), onboarding=True)
