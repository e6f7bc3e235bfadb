"""Token references: describing never resolves; resolving env, keyring and cmd: with clear errors
that name the profile and never contain the token or a command's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.processes import subprocess_env, wait_until

from ccswitch.errors import CcswitchError
from ccswitch.profiles import tokens

CANARY = "sk-canary-7f3e9a1b2c4d5e6f"


def test_reference_kinds() -> None:
    assert tokens.reference_kind(None) == "none"
    assert tokens.reference_kind("env:X") == "env"
    assert tokens.reference_kind("keyring") == "keyring"
    assert tokens.reference_kind("keyring:shared") == "keyring"
    assert tokens.reference_kind("cmd:pass show glm") == "cmd"
    assert tokens.reference_kind("sk-literal") == "literal"
    # A literal that merely starts like a word is still a literal.
    assert tokens.reference_kind("keyringish") == "literal"


def test_describe_never_runs_a_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    status = tokens.describe_token(f"cmd:touch {marker}", {}, "p")
    assert (status.kind, status.found, status.detail) == ("cmd", None, "from command (not run)")
    assert not marker.exists()


def test_describe_keyring_does_not_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    def boom(*args: object) -> None:
        raise AssertionError("describe read the keyring")

    monkeypatch.setattr(keyring, "get_password", boom)
    status = tokens.describe_token("keyring", {}, "glm")
    assert status.kind == "keyring" and status.found is None
    assert "ccswitch/glm" in status.detail
    assert "ccswitch/team" in tokens.describe_token("keyring:team", {}, "glm").detail


@pytest.mark.parametrize("around", [("", "\r"), ("", "\r\n"), (" ", " \n"), ("\t", "\n\n"), ("", "\u00a0")])
def test_a_resolved_token_loses_the_whitespace_around_it(tmp_path: Path, around: tuple[str, str]) -> None:
    # A key file saved on Windows, read with $(cat key.txt), ends in \r: claude trims it, so do we.
    value = around[0] + CANARY + around[1]
    (tmp_path / "t").write_bytes(value.encode())
    assert tokens.resolve_token(f"cmd:cat {tmp_path / 't'}", {"PATH": "/usr/bin:/bin"}, "p") == CANARY
    assert tokens.resolve_token("env:T", {"T": value}, "p") == CANARY
    assert tokens.resolve_token(value, {}, "p") == CANARY


@pytest.mark.parametrize("bad", ["\x07", "\x00", "\x7f", "\u00e9", "\u20ac", "\n"])
@pytest.mark.parametrize(("ref", "where"), [("env:T", "$T"), ("literal", "the profiles file")])
def test_a_token_no_header_can_carry_is_one_line_naming_profile_and_source(bad: str, ref: str, where: str) -> None:
    value = CANARY[:10] + bad + CANARY[10:]
    with pytest.raises(CcswitchError) as caught:
        tokens.resolve_token(value if ref == "literal" else ref, {"T": value}, "work")
    message = caught.value.message
    assert message.startswith(f"profile 'work': the token from {where} holds a control or non-ASCII character (character 11)")
    assert "\n" not in message and CANARY[:10] not in message and CANARY[11:] not in message


def test_a_token_command_printing_a_bad_character_is_refused_too() -> None:
    with pytest.raises(CcswitchError, match="^profile 'p': the token from its token command's output holds a control"):
        tokens.resolve_token("cmd:printf 'sk-abc\\001def'", {"PATH": "/usr/bin:/bin"}, "p")


def test_describe_says_an_env_token_is_unusable_without_showing_it() -> None:
    status = tokens.describe_token("env:T", {"T": CANARY + "\x01x"}, "p")
    assert (status.found, status.detail) == (False, "unusable ($T holds a control or non-ASCII character)")
    assert tokens.describe_token("env:T", {"T": CANARY + "\r"}, "p").found is True
    assert tokens.describe_token("env:T", {"T": " \r"}, "p").detail == "missing (T is empty)"


def test_cmd_sees_the_environment_and_keeps_the_token_off_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    real_popen = subprocess.Popen

    def recording_popen(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(args)
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    token = tokens.resolve_token('cmd:printf "%s\\n" "$SECRET_SOURCE"', {"SECRET_SOURCE": CANARY, "PATH": "/usr/bin:/bin"}, "p")
    assert token == CANARY
    assert seen and all(CANARY not in str(args) for args in seen)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (f"printf '%s' {CANARY}; exit 3", "failed with exit status 3"),
        ("true", "printed nothing"),
        ("printf '\\n'", "printed nothing"),
        (f"printf '%s\\nsecond line\\n' {CANARY}", "printed more than one line"),
        ("printf '%s'; sleep 5", "did not finish within 0.3 s"),
        ("   ", "empty"),
    ],
)
def test_cmd_failures_name_the_profile_never_the_output(command: str, expected: str) -> None:
    with pytest.raises(CcswitchError) as caught:
        tokens.resolve_token(f"cmd:{command}", {"PATH": "/usr/bin:/bin"}, "work", timeout=0.3)
    message = caught.value.message
    assert message.startswith("profile 'work': token command")
    assert expected in message
    assert CANARY not in message


def running(marker: str) -> list[str]:
    listing = subprocess.run(["ps", "-A", "-o", "args="], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if marker in line]


def test_a_timed_out_command_leaves_no_process_behind() -> None:
    marker = f"sleep 7.{os.getpid():07d}"  # unique to this run: fixed width, no pid inside another
    with pytest.raises(CcswitchError, match="did not finish within 0.3 s"):
        tokens.resolve_token(f"cmd:printf '%s' x; {marker}; true", {"PATH": "/usr/bin:/bin"}, "work", timeout=0.3)
    # Killed, a process may still be listed for a moment until the kernel has run its end (a busy
    # machine); left behind, it would be listed for 7 s.
    assert wait_until(lambda: running(marker) == [], seconds=3)


def test_cmd_timeout_from_environment() -> None:
    with pytest.raises(CcswitchError, match="within 0.2 s"):
        tokens.resolve_token("cmd:sleep 5", {"PATH": "/usr/bin:/bin", tokens.ENV_CMD_TIMEOUT: "0.2"}, "p")
    with pytest.raises(CcswitchError, match="must be a number of seconds"):
        tokens.resolve_token("cmd:true", {tokens.ENV_CMD_TIMEOUT: "soon"}, "p")


def test_resolver_runs_a_command_once_per_invocation(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    ref = f"cmd:echo x >> {counter}; printf %s {CANARY}"
    resolver = tokens.TokenResolver({"PATH": "/usr/bin:/bin"})
    assert resolver.resolve(ref, "a") == CANARY
    assert resolver.resolve(ref, "b") == CANARY
    assert counter.read_text() == "x\n"


def test_resolver_remembers_a_failure(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    resolver = tokens.TokenResolver({"PATH": "/usr/bin:/bin"})
    for _ in range(2):
        with pytest.raises(CcswitchError):
            resolver.resolve(f"cmd:echo x >> {counter}; exit 1", "a")
    assert counter.read_text() == "x\n"


def test_keyring_round_trip(file_keyring) -> None:  # type: ignore[no-untyped-def]
    tokens.keyring_set("glm", CANARY)
    assert tokens.resolve_token("keyring", {}, "glm") == CANARY
    assert tokens.resolve_token("keyring:glm", {}, "other") == CANARY
    assert tokens.keyring_delete("glm") is True
    assert tokens.keyring_delete("glm") is False


def test_keyring_resolver_keys_by_profile(file_keyring) -> None:  # type: ignore[no-untyped-def]
    tokens.keyring_set("a", "token-for-a-123456")
    tokens.keyring_set("b", "token-for-b-123456")
    resolver = tokens.TokenResolver({})
    assert resolver.resolve("keyring", "a") == "token-for-a-123456"
    assert resolver.resolve("keyring", "b") == "token-for-b-123456"


def test_keyring_missing_entry(file_keyring) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CcswitchError, match=r"profile 'glm': no token in the OS keyring under ccswitch/glm .*ccswitch token set glm"):
        tokens.resolve_token("keyring", {}, "glm")


def test_no_keyring_backend_suggests_env_or_cmd() -> None:
    # The autouse fixture installs keyring's "fail" backend: what a headless Linux box has.
    with pytest.raises(CcswitchError) as caught:
        tokens.resolve_token("keyring", {}, "glm")
    assert "profile 'glm': no OS keyring is available" in caught.value.message
    assert "env:VAR" in caught.value.message and "cmd:COMMAND" in caught.value.message


def test_read_path_does_not_import_keyring_subprocess_or_writers() -> None:
    code = "import sys, ccswitch.profiles.tokens, ccswitch.profiles.store; print(sorted(m for m in ('keyring', 'subprocess', 'tomlkit', 'tempfile') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
