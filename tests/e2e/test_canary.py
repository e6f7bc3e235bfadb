"""One canary token, reachable through every kind of reference, run through every command that
exists, on stdout and stderr (with --json too): it must never appear, except on the stdout of a
piped `ccswitch env` (its output is for eval). After each writing command, profiles.toml is 0600 in
a 0700 directory and no temp file is left behind; every other file ccswitch writes (settings.json,
backups, records, locks, run's settings files, the profile cache, .claude.json) ends 0600 in a
0700 directory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.processes import free_port, subprocess_env

CANARY = "sk-CANARY-5d41402abc4b2a76b9719d911017c592"
POOL_FIRST = "sk-POOLFIRST-0c9a2b7d1e6f48a3b5c4d2e1f0a9b8c7"  # a pool's first key, the canary its second
# The parts a careless mask could leak: a long prefix or suffix of the token.
FRAGMENTS = (CANARY, CANARY[:12], CANARY[-12:], "5d41402abc4b2a76")


def ccswitch(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccswitch", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=60,
    )


def assert_clean(result: subprocess.CompletedProcess[str], args: tuple[str, ...], *, crash: bool = False) -> None:
    for stream in (result.stdout, result.stderr):
        for fragment in FRAGMENTS:
            assert fragment not in stream, (args, result.stdout, result.stderr)
    if not crash:
        assert "Traceback" not in result.stderr, (args, result.stderr)


def assert_private(config_dir: Path) -> None:
    path = config_dir / "profiles.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert sorted(p.name for p in config_dir.iterdir()) == ["profiles.toml"]


@pytest.fixture
def canary_setup(profiles_file, file_keyring, tmp_path: Path):  # type: ignore[no-untyped-def]
    secret_file = tmp_path / "secret"
    secret_file.write_text(CANARY + "\n")
    secret_file.chmod(0o600)
    file_keyring.set_password("ccswitch", "viakeyring", CANARY)
    path = profiles_file(
        f"""\
# canary profiles
schema = 1
default = "viaenv"

[profiles.viaenv]
base_url = "https://gw.example.com/anthropic"
token = "env:CANARY_TOKEN"

[profiles.literal]   # plain text on purpose
extends = "viaenv"
token = "{CANARY}"

[profiles.viakeyring]
extends = "glm"
token = "keyring"

[profiles.viacmd]
base_url = "https://gw.example.com/anthropic"
auth = "x-api-key"
token = "cmd:cat {secret_file}"
"""
    )
    return path


def test_canary_never_printed(canary_setup: Path, tmp_path: Path) -> None:
    config_dir = canary_setup.parent
    env = {"CANARY_TOKEN": CANARY}
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import os, stat, sys\n"
        "p = sys.argv[1]\n"
        "assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, oct(os.stat(p).st_mode)\n"
        "assert stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode) == 0o700\n"
        "t = open(p).read()\n"
        "open(p, 'w').write(t.replace('# plain text on purpose', '# still plain text'))\n"
    )
    reading = [
        ("list",), ("list", "--json"), ("presets",), ("presets", "--json"),
        *[(cmd, name, *json) for name in ("viaenv", "literal", "viakeyring", "viacmd") for cmd in ("show",) for json in ((), ("--json",))],
        ("show", "nosuch"), ("--help",), ("add", "--help"), ("token", "set", "--help"),
    ]
    for args in reading:
        result = ccswitch(*args, **env)
        assert_clean(result, args)
        assert result.returncode in (0, 2), (args, result.stderr)

    writing: list[tuple[tuple[str, ...], str | None, int]] = [
        (("add", "piped", "--extends", "glm", "--token-stdin"), CANARY + "\n", 0),
        (("add", "plain", "--extends", "glm", "--token-stdin", "--plain-text"), CANARY + "\n", 0),
        (("add", "piped", "--extends", "glm", "--token-stdin"), CANARY + "\n", 2),  # exists: an error path
        (("add", "bad", "--base-url", "https://x.example.com/v1", "--token-stdin"), CANARY + "\n", 2),
        (("add", "cmdref", "--base-url", "https://x.example.com", "--token-cmd", f"cat {tmp_path / 'secret'}"), None, 0),
        (("edit", "literal"), None, 0),
        (("rename", "viakeyring", "keyring2"), None, 0),
        (("rename", "literal", "literal2"), None, 0),
        (("token", "set", "viaenv"), CANARY + "\n", 0),
        (("token", "set", "plain"), CANARY, 0),
        (("token", "rm", "plain"), None, 0),
        (("token", "rm", "plain"), None, 1),
        (("remove", "viaenv"), None, 2),  # the default: refused
        (("remove", "keyring2"), None, 0),
        (("remove", "piped"), None, 0),
    ]
    for args, stdin, status in writing:
        result = ccswitch(*args, stdin=stdin, EDITOR=f"{sys.executable} {editor}", **env)
        assert_clean(result, args)
        assert result.returncode == status, (args, result.stdout, result.stderr)
        assert_private(config_dir)
    for args in reading[:2] + [("show", "literal2"), ("show", "literal2", "--json"), ("show", "plain", "--json")]:
        assert_clean(ccswitch(*args, **env), args)
    text = canary_setup.read_text()
    assert "# still plain text" in text and "[profiles.literal2]" in text and "[profiles.keyring2]" not in text


def test_a_crash_report_shows_no_locals(tmp_path: Path) -> None:
    # A bug deep in `add` while the token sits in local variables: the traceback must not show them.
    code = (
        "import sys\n"
        "from ccswitch.profiles import manage\n"
        "from ccswitch.cli.app import app\n"
        "def crash(*args, **kwargs):\n"
        "    raise RuntimeError('simulated bug')\n"
        "manage.add_profile = crash\n"
        "sys.argv = ['ccswitch', 'add', 'x', '--extends', 'glm', '--token-stdin', '--plain-text']\n"
        "app(prog_name='ccswitch')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input=CANARY + "\n", capture_output=True, text=True, env=subprocess_env(COLUMNS="200"), timeout=60
    )
    assert result.returncode != 0
    assert "simulated bug" in result.stderr and "Traceback" in result.stderr
    assert_clean(result, ("crash",), crash=True)


# --- every other command: run, env, pin, which, use, off, restore, status, test, doctor -------------


def files_under(*roots: Path) -> list[Path]:
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


def on_a_terminal(*args: str, **env: str) -> tuple[str, str, int]:
    """Run ccswitch with stdout on a pseudo-terminal (as a person typing it would)."""
    import os
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "ccswitch", *args], stdin=subprocess.DEVNULL, stdout=slave,
                               stderr=subprocess.PIPE, env=subprocess_env(**env))
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stderr = process.stderr.read().decode() if process.stderr else ""
    status = process.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode(errors="replace"), stderr, status


def test_canary_through_every_command(isolated_home: Path, profiles_file, file_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from support.mock_anthropic import MockAnthropic

    secret_file = tmp_path / "secret"
    secret_file.write_text(CANARY + "\n")
    file_keyring.set_password("ccswitch", "viakeyring", CANARY)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_log = tmp_path / "claude-argv"
    # A claude that answers --version (doctor) and records its argv (run): the canary must not be in it.
    (bin_dir / "claude").write_text(f'#!/bin/sh\nif [ "$1" = --version ]; then echo "2.1.330 (Claude Code)"; exit 0; fi\n'
                                    f'echo "$@" >> {argv_log}\n')
    (bin_dir / "claude").chmod(0o755)
    env = {"CANARY_TOKEN": CANARY, "PATH": f"{bin_dir}:/usr/bin:/bin", "NO_PROXY": "*"}
    kinds = ("viaenv", "literal", "viakeyring", "viacmd")

    def clean(*args: str, status: int | tuple[int, ...] = 0, out_may_hold_token: bool = False) -> subprocess.CompletedProcess[str]:
        result = ccswitch(*args, **env)
        assert result.returncode in ((status,) if isinstance(status, int) else status), (args, result.stdout, result.stderr)
        if out_may_hold_token:
            assert_clean(subprocess.CompletedProcess(args, 0, "", result.stderr), args)
        else:
            assert_clean(result, args)
        return result

    with MockAnthropic() as server:
        profiles_file(
            'default = "viaenv"\n'
            f'[profiles.viaenv]\nbase_url = "{server.url}"\ntoken = "env:CANARY_TOKEN"\nserves = ["canary-model"]\n'
            f'[profiles.viaenv.models]\nopus = "canary-model"\n'
            f'[profiles.literal]\nextends = "viaenv"\ntoken = "{CANARY}"\nserves = []\n'
            f'[profiles.viakeyring]\nextends = "viaenv"\ntoken = "keyring"\nserves = []\n'
            f'[profiles.viacmd]\nextends = "viaenv"\nauth = "x-api-key"\ntoken = "cmd:cat {secret_file}"\nserves = []\n'
        )
        for name in kinds:
            clean("run", "--dry-run", name)
            clean("run", "--dry-run", name, "--", "python3", "-c", "pass")
            clean("run", name, "--", "claude", "-p", "hi")
            piped = clean("env", name, "--shell", "bash", out_may_hold_token=True)  # piped: for eval, the one exception
            assert CANARY in piped.stdout
            clean("env", name, "--shell", "json", out_may_hold_token=True)
            out, err, status = on_a_terminal("env", name, "--shell", "bash", **env)
            assert status == 0 and "masked because stdout is a terminal" in err
            assert_clean(subprocess.CompletedProcess((), 0, out, err), ("env on a terminal", name))
            clean("test", name)
            clean("test", name, "--json")
            clean("test", name, "--stream")
            for scope in ("user", "project"):
                clean("use", name, "--scope", scope, "--dry-run")
                clean("use", name, "--scope", scope)
                if scope == "project":  # `off` removes this file again (there was none), so check it now
                    local = tmp_path / ".claude" / "settings.local.json"
                    assert stat.S_IMODE(local.stat().st_mode) == 0o600
                    assert stat.S_IMODE(local.parent.stat().st_mode) == 0o700
                clean("status")
                clean("status", "--json")
                clean("current")
        assert server.messages and all(CANARY in (r.headers.get("authorization", "") + r.headers.get("x-api-key", ""))
                                       for r in server.messages)
        clean("pin", "viacmd")
        clean("pin")
        clean("run", "--dry-run")  # the pinned profile
        clean("pin", "--clear")
        clean("which", "canary-model")
        clean("which", "canary-model", "--json")
        clean("doctor", status=(0, 1))
        clean("doctor", "--json", status=(0, 1))
        clean("restore", "--list")
        clean("restore", "--list", "--json")
        clean("off", "--dry-run")
        clean("off")
        clean("off", "--scope", "project")
        clean("restore", "--dry-run")
        clean("restore")
        clean("status")
        clean("status", "--json")

    assert CANARY not in argv_log.read_text() and "--settings" in argv_log.read_text()
    settings = isolated_home / ".claude" / "settings.json"
    assert CANARY in settings.read_text()  # where `use` is meant to put it (restored above)
    config = Path(os.environ["CCSWITCH_HOME"])
    written = files_under(config, Path(os.environ["XDG_RUNTIME_DIR"]) / "ccswitch", Path(os.environ["XDG_CACHE_HOME"]) / "ccswitch",
                          Path(os.environ["XDG_STATE_HOME"]) / "ccswitch") + [settings]
    assert not (tmp_path / ".claude" / "settings.local.json").exists()  # `off` took away the file `use` made
    claude_state = isolated_home / ".claude.json"  # created by the onboarding fix, in HOME (not ours to chmod)
    assert stat.S_IMODE(claude_state.stat().st_mode) == 0o600
    run_files = files_under(Path(os.environ["XDG_RUNTIME_DIR"]) / "ccswitch")
    assert run_files and all(CANARY in p.read_text() for p in run_files)  # the --settings files `run` hands claude
    assert (Path(os.environ["XDG_CACHE_HOME"]) / "ccswitch" / "profiles.json") in written
    assert {"backups", "records", "locks", "ccswitch", ".claude"} <= {p.parent.name for p in written}
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, (path.parent, oct(path.parent.stat().st_mode))


# --- a canary token through every failure: test, run --fallback, the gateway, doctor ------------------

CLIENT = r'''
import json, os, sys, urllib.request, urllib.error
for tier in ("OPUS", "SONNET", "HAIKU"):
    for stream in (False, True):
        body = {"model": os.environ[f"ANTHROPIC_DEFAULT_{tier}_MODEL"], "max_tokens": 8, "stream": stream,
                "messages": [{"role": "user", "content": "hi"}]}
        request = urllib.request.Request(sys.argv[1] if len(sys.argv) > 1 else os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
                                         json.dumps(body).encode(), {"content-type": "application/json",
                                         "x-api-key": sys.argv[2] if len(sys.argv) > 2 else os.environ["ANTHROPIC_AUTH_TOKEN"]})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                print(tier, answer.status, answer.read().decode())
        except urllib.error.HTTPError as error:
            print(tier, error.code, error.read().decode())
'''


def test_a_canary_through_every_failure_never_appears(isolated_home: Path, profiles_file, file_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import time

    from support.mock_anthropic import MockAnthropic, closed_port_url

    bad = CANARY[:20] + "\x07" + CANARY[20:]  # no stripping can fix it
    file_keyring.set_password("ccswitch", "viakeyring", CANARY + "\r")
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    models = '[profiles.{0}.models]\nopus = "{0}-opus"\nsonnet = "{0}-sonnet"\nhaiku = "{0}-haiku"\n'
    env = {"CANARY_CR": CANARY + "\r", "CANARY_BAD": bad, "NO_PROXY": "*", "CCSWITCH_PROBE_TIMEOUT": "1",
           "CCSWITCH_GATEWAY_FIRST_BYTE_TIMEOUT": "1", "POOL_FIRST": POOL_FIRST}
    outputs: list[tuple[tuple[str, ...], str]] = []

    def clean(*args: str, status: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        result = ccswitch(*args, **env)
        assert result.returncode in status, (args, result.stdout, result.stderr)
        assert_clean(result, args)
        outputs.append((args, result.stdout + result.stderr))
        return result

    with MockAnthropic() as ok, MockAnthropic(status=401, echo_credentials=True) as denied, \
            MockAnthropic(status=500, echo_credentials=True) as broken, MockAnthropic(delay=3) as slow:
        endpoints = {"ok": ok.url, "denied": denied.url, "broken": broken.url, "slow": slow.url, "refused": closed_port_url(),
                     "tls": ok.url.replace("http://", "https://")}
        text = 'default = "ok"\n'
        for name, url in endpoints.items():
            text += f'[profiles.{name}]\nbase_url = "{url}"\ntoken = "env:CANARY_CR"\n' + models.format(name)
        text += ('[profiles.literal]\nextends = "ok"\ntoken = "' + CANARY + '\\r"\n'
                 '[profiles.viakeyring]\nextends = "ok"\ntoken = "keyring"\n'
                 f'[profiles.viacmd]\nextends = "ok"\nauth = "x-api-key"\ntoken = "cmd:printf \'%s\\\\r\' {CANARY}"\n'
                 '[profiles.bad]\nextends = "ok"\ntoken = "env:CANARY_BAD"\n'
                 '[profiles.gwfirst]\nextends = "refused"\nfallback = ["denied"]\n'
                 '[profiles.gwslow]\nextends = "slow"\nfallback = ["broken"]\n'
                 '[profiles.mix]\nroutes = { opus = "gwfirst", sonnet = "gwslow", haiku = "ok" }\n'
                 '[profiles.mixbad]\nroutes = { opus = "bad", sonnet = "ok", haiku = "ok" }\n'
                 # A key pool whose every key gets a 401 that quotes it: the canary is its second key.
                 '[profiles.gwpool]\nextends = "denied"\ntoken = ["env:POOL_FIRST", "env:CANARY_CR"]\n'
                 '[profiles.mixpool]\nroutes = { opus = "gwpool", sonnet = "ok", haiku = "ok" }\n')
        # (`ccswitch gateway` serves every profile but leaves out `bad`: none of them may fall back to it)
        first = '[profiles.first]\nextends = "refused"\nfallback = ["denied", "broken", "slow", "tls", "bad", "ok"]\n'
        profiles_file(text + first)

        # ccswitch test: every failure (refused, 401 and 500 echoing the key, timeout, TLS, a bad token) and success.
        for args in (("test", "--all", "--timeout", "1"), ("test", "--all", "--timeout", "1", "--json"),
                     ("test", "--all", "--timeout", "1", "--stream"), ("test", "bad"), ("test", "bad", "--json")):
            clean(*args, status=(1,))
        clean("test", "ok", "literal", "viakeyring", "viacmd", "--json")
        assert ok.messages and {m.headers.get("authorization") or m.headers.get("x-api-key") for m in ok.messages} \
            == {f"Bearer {CANARY}", CANARY}  # stripped of its \r, as claude would send it

        # run --fallback: every failure of the chain reported, then the healthy one launched.
        fell = clean("run", "--fallback", "first", "--", "sh", "-c", "exit 0")
        assert "launching fallback profile 'ok'" in fell.stderr
        clean("run", "--fallback", "--dry-run", "first", "--", "sh", "-c", "exit 0")
        refused = clean("run", "--fallback", "bad", "--", "sh", "-c", "exit 0", status=(2,))
        assert "profile 'bad': the token from $CANARY_BAD holds a control or non-ASCII character" in refused.stderr

        # The gateway: refused then a 401 echoing the key; a first-byte timeout then a 500 echoing it; success.
        session = clean("run", "mix", "--", sys.executable, str(client))
        assert session.stdout.count("HAIKU 200") == 2 and session.stdout.count("OPUS 401") == 2, session.stdout
        clean("run", "mixbad", "--", "sh", "-c", "exit 0", status=(2,))
        before = len(denied.messages)
        pooled = clean("run", "mixpool", "--", sys.executable, str(client))
        assert pooled.stdout.count("OPUS 401") == 2 and POOL_FIRST not in pooled.stdout + pooled.stderr, pooled.stdout
        # each key refused once; the second request, with both keys cooling, tries the first key back
        assert [m.headers["authorization"] for m in denied.messages[before:]] == [
            f"Bearer {POOL_FIRST}", f"Bearer {CANARY}", f"Bearer {POOL_FIRST}"]
        profiles_file(text)
        port = free_port()
        foreground = subprocess.Popen([sys.executable, "-m", "ccswitch", "gateway", "mix", "--port", str(port)],
                                      env=subprocess_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            key_file = Path(os.environ["XDG_STATE_HOME"]) / "ccswitch"
            deadline = time.monotonic() + 30
            while not list(key_file.glob("gateway*key*")) and time.monotonic() < deadline:
                time.sleep(0.1)
            key = next(key_file.glob("gateway*key*")).read_text().strip()
            served = subprocess.run([sys.executable, str(client), f"http://127.0.0.1:{port}/v1/messages", key],
                                    capture_output=True, text=True, timeout=120,
                                    env={**subprocess_env(), "ANTHROPIC_DEFAULT_OPUS_MODEL": "opus",
                                         "ANTHROPIC_DEFAULT_SONNET_MODEL": "sonnet", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "haiku"})
        finally:
            foreground.terminate()
            out, err = foreground.communicate(timeout=30)
        assert "bad: left out (profile 'bad': the token from $CANARY_BAD holds" in err, err
        for stream in (served.stdout, served.stderr, out, err):
            assert not any(fragment in stream for fragment in FRAGMENTS), stream

        clean("doctor", status=(0, 1))
        clean("doctor", "--json", status=(0, 1))
        clean("show", "bad")
        clean("list")

    assert denied.messages and broken.messages and slow.messages  # each failure was really provoked
    # The literal token's homes: profiles.toml and its cached copy (both 0600), and the keyring's file.
    meant_to_hold_it = {Path(os.environ["CCSWITCH_HOME"]) / "profiles.toml", Path(str(file_keyring.file_path)),
                        Path(os.environ["XDG_CACHE_HOME"]) / "ccswitch" / "profiles.json"}
    leaked = [p for p in files_under(isolated_home) if p not in meant_to_hold_it
              and any(fragment.encode() in p.read_bytes() for fragment in (*FRAGMENTS, POOL_FIRST))]
    assert leaked == []
    assert list(Path(os.environ["XDG_STATE_HOME"]).rglob("*.sqlite3")), "the gateway's records were written"


def test_a_canary_through_a_translated_upstream_never_appears(isolated_home: Path, profiles_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same through OpenAI-format upstreams (the gateway translates): `test` probing them, and a
    session whose opus tier answers 401 quoting the key it was sent (both formats), failing over to
    a translated upstream that answers; its sonnet tier answers at once."""
    from support.mock_openai import Fail, MockOpenAI

    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    env = {"CANARY_CR": CANARY + "\r", "NO_PROXY": "*"}
    models = '[profiles.{0}.models]\nopus = "{0}-opus"\nsonnet = "{0}-sonnet"\nhaiku = "{0}-haiku"\n'
    denied_401 = Fail(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key", echo=True)
    with MockOpenAI(final_text="from-oaiok") as ok, MockOpenAI("openai-responses") as denied:
        denied.script(*[denied_401] * 20)
        profiles_file(
            f'[profiles.oaiok]\napi = "openai-chat"\nbase_url = "{ok.url}"\ntoken = "env:CANARY_CR"\n' + models.format("oaiok")
            + f'[profiles.oaidenied]\napi = "openai-responses"\nbase_url = "{denied.url}"\ntoken = "env:CANARY_CR"\n'
            + 'fallback = ["oaiok"]\n' + models.format("oaidenied")
            + '[profiles.oaionly]\nextends = "oaidenied"\nfallback = []\n'
            + '[profiles.gwoai]\nroutes = { opus = "oaionly", sonnet = "oaidenied", haiku = "oaiok" }\n')
        for args in (("test", "oaiok", "oaidenied"), ("test", "oaiok", "oaidenied", "--json"), ("test", "oaidenied", "--stream")):
            result = ccswitch(*args, **env)
            assert result.returncode == 1, (args, result.stdout, result.stderr)
            assert_clean(result, args)
        session = ccswitch("run", "gwoai", "--", sys.executable, str(client), **env)
        assert session.returncode == 0, session.stderr
        assert_clean(session, ("run gwoai",))
        assert session.stdout.count("OPUS 401") == 2 and session.stdout.count("SONNET 200") == 2, session.stdout
        assert session.stdout.count("<token hidden by the ccswitch gateway>") == 2  # in the provider's own message
        assert "from-oaiok" in session.stdout and ok.problems == [] and denied.problems == []
    assert all(s.headers["authorization"] == f"Bearer {CANARY}" for s in ok.seen + denied.seen)  # each really got it
    leaked = [p for p in files_under(isolated_home) if p.name != "profiles.toml"
              and any(fragment.encode() in p.read_bytes() for fragment in FRAGMENTS)]
    assert leaked == []
    assert list(Path(os.environ["XDG_STATE_HOME"]).rglob("*.sqlite3")), "the gateway's records were written"
