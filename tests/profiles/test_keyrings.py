"""Which keyring backend a secret would go to, named for what it is: an OS keyring, a plain-text
file (keyrings.alt's PlaintextKeyring), the null or the fail backend (docs/keyring.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from keyring.backends import chainer, fail, null
from support.keyring_backend import FileKeyring, PlaintextKeyring, use_test_keyring
from support.processes import subprocess_env

from ccswitch.errors import CcswitchError
from ccswitch.profiles import keyrings, manage, tokens
from ccswitch.profiles.presets import presets_dir

CANARY = "sk-keyring-canary-0123456789"


def test_each_kind_of_backend_is_named(file_keyring) -> None:  # type: ignore[no-untyped-def]
    assert keyrings.describe_backend(fail.Keyring()).kind == keyrings.NONE
    assert keyrings.describe_backend(null.Keyring()).kind == keyrings.NULL
    assert keyrings.describe_backend(FileKeyring()).kind == keyrings.OS
    plain = keyrings.describe_backend(PlaintextKeyring())
    assert (plain.name, plain.kind, plain.file) == ("support.keyring_backend.PlaintextKeyring", keyrings.PLAIN_TEXT,
                                                    file_keyring.file_path)


def test_a_chainer_is_judged_by_the_backend_it_stores_into(monkeypatch: pytest.MonkeyPatch, file_keyring) -> None:  # type: ignore[no-untyped-def]
    for first, kind in ((PlaintextKeyring(), keyrings.PLAIN_TEXT), (FileKeyring(), keyrings.OS)):
        monkeypatch.setattr(chainer.ChainerBackend, "backends", [first, FileKeyring()])
        backend = keyrings.describe_backend(chainer.ChainerBackend())
        assert backend.kind == kind and backend.name.startswith("keyring.backends.chainer.ChainerBackend -> support.")


@pytest.fixture
def plain_keyring(isolated_home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    return use_test_keyring(monkeypatch, isolated_home, "PlaintextKeyring")


def test_token_set_refuses_a_plain_text_backend_and_changes_nothing(config_dir: Path, plain_keyring) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(keyrings.PlainTextKeyring) as caught:
        manage.set_token(str(config_dir / "profiles.toml"), presets_dir(), "glm", CANARY, cache_path=None)
    assert caught.value.exit_status == 2 and "\n" not in caught.value.message
    assert caught.value.message.startswith("the keyring backend here (support.keyring_backend.PlaintextKeyring) keeps "
                                           f"secrets in plain text in {plain_keyring.file_path}, so the token was not stored")
    assert "--plain-text" in caught.value.message and CANARY not in caught.value.message
    assert not Path(plain_keyring.file_path).exists() and not (config_dir / "profiles.toml").exists()


def test_token_set_with_plain_text_says_where_the_secret_went(config_dir: Path, plain_keyring) -> None:  # type: ignore[no-untyped-def]
    notes = manage.set_token(str(config_dir / "profiles.toml"), presets_dir(), "glm", CANARY, cache_path=None, plain_text=True)
    assert notes[0] == (f"stored the token for 'glm' as ccswitch/glm in plain text (not encrypted) in {plain_keyring.file_path}, "
                        "by the keyring backend support.keyring_backend.PlaintextKeyring")
    assert plain_keyring.get_password("ccswitch", "glm") == CANARY


def test_the_null_backend_stores_nothing_so_it_is_no_keyring(config_dir: Path) -> None:
    import keyring

    keyring.set_keyring(null.Keyring())
    with pytest.raises(tokens.KeyringUnavailable, match=r"no OS keyring is available here \(keyring.backends.null.Keyring "
                                                         r"stores nothing\)"):
        tokens.keyring_set("glm", CANARY, plain_text=True)


def test_an_os_keyring_is_named_when_a_token_is_stored(config_dir: Path, file_keyring) -> None:  # type: ignore[no-untyped-def]
    notes = manage.set_token(str(config_dir / "profiles.toml"), presets_dir(), "glm", CANARY, cache_path=None)
    assert notes[0] == "stored the token for 'glm' as ccswitch/glm in the OS keyring (support.keyring_backend.FileKeyring)"


def test_add_refuses_a_plain_text_backend_with_the_commands_that_work(config_dir: Path, plain_keyring) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run([sys.executable, "-m", "ccswitch", "add", "mine", "--extends", "glm", "--token-stdin"],
                            input=CANARY + "\n", capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "keeps secrets in plain text" in result.stderr and "--token-stdin --plain-text" in result.stderr
    assert CANARY not in result.stdout + result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (config_dir / "profiles.toml").exists() and not Path(plain_keyring.file_path).exists()


def test_import_with_a_plain_text_backend_says_what_its_plain_text_option_does(isolated_home: Path, plain_keyring) -> None:  # type: ignore[no-untyped-def]
    from support import import_sources as src
    from typer.testing import CliRunner

    from ccswitch.cli.app import app

    src.ccr_home(isolated_home)
    dry = CliRunner().invoke(app, ["import", "ccr", "--dry-run"])  # promises nothing the import refuses
    refused = CliRunner().invoke(app, ["import", "ccr"])
    assert (dry.exit_code, dry.stderr) == (refused.exit_code, refused.stderr)
    assert refused.exit_code == 2 and "so no key was stored and nothing was written" in refused.stderr
    assert refused.stderr.rstrip().endswith("or pass --plain-text to keep the keys in profiles.toml (0600) instead")
    profiles = Path(os.environ["CCSWITCH_HOME"]) / "profiles.toml"
    assert not profiles.exists() and not Path(plain_keyring.file_path).exists()
    # What the message promises is what happens: the key in profiles.toml, nothing in the plain-text file.
    assert CliRunner().invoke(app, ["import", "ccr", "--plain-text"]).exit_code == 0
    assert src.CCR_KEY in profiles.read_text() and not Path(plain_keyring.file_path).exists()


def test_add_token_keyring_names_the_backend_the_token_is_read_from(config_dir: Path, plain_keyring) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from ccswitch.cli.app import app

    result = CliRunner().invoke(app, ["add", "mine", "--extends", "glm", "--token-keyring"])
    assert result.exit_code == 0 and result.stderr.rstrip().endswith(
        f"(token: as ccswitch/mine in plain text (not encrypted) in {plain_keyring.file_path}, by the keyring backend "
        "support.keyring_backend.PlaintextKeyring)")


def test_rename_moves_an_entry_within_a_plain_text_backend(profiles_file, plain_keyring) -> None:  # type: ignore[no-untyped-def]
    path = profiles_file('[profiles.work]\nextends = "glm"\ntoken = "keyring"\n')
    plain_keyring.set_password("ccswitch", "work", CANARY)  # already there: moving it exposes nothing new
    manage.rename_profile(str(path), presets_dir(), "work", "job", cwd=str(path.parent), env={}, cache_path=None)
    assert plain_keyring.get_password("ccswitch", "job") == CANARY


def test_a_keyring_error_still_names_the_profile(config_dir: Path) -> None:
    with pytest.raises(CcswitchError, match="profile 'glm': no OS keyring is available"):
        tokens.keyring_set("glm", CANARY)  # the autouse fixture's fail backend


def test_the_test_extra_installs_no_keyring_backend() -> None:
    import tomllib

    extra = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert not [dep for dep in extra if dep.lower().startswith("keyring")]


def test_the_keyring_a_user_gets_from_this_environment_is_no_plain_text_file(isolated_home: Path) -> None:
    # What `ccswitch token set` would use after the README's test command, outside the tests: no
    # PYTHON_KEYRING_BACKEND, no PYTHONPATH to the tests' backend, a home of its own.
    code = ("import keyring; from ccswitch.profiles.keyrings import describe_backend; "
            "b = describe_backend(keyring.get_keyring()); print(b.kind, b.name)")
    env = {k: v for k, v in subprocess_env().items() if k not in ("PYTHON_KEYRING_BACKEND", "CCSWITCH_TEST_KEYRING_FILE")}
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert not found.stdout.startswith(keyrings.PLAIN_TEXT), found.stdout


KR_PROFILE = """\
[profiles.kr]
base_url = "http://127.0.0.1:9"
token = "keyring"
[profiles.kr.models]
opus = "kr-opus"
"""


@pytest.fixture(params=["variable", "keyringrc"])
def unloadable_backend(request, profiles_file, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A backend named but not installed, as keyring would meet it on its first call in a new process."""
    import keyring.core

    profiles_file(KR_PROFILE)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    if request.param == "variable":
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no_such_keyrings.file.PlaintextKeyring")
        return "the keyring backend PYTHON_KEYRING_BACKEND=no_such_keyrings.file.PlaintextKeyring cannot be loaded " \
               "(ModuleNotFoundError: No module named 'no_such_keyrings'); install it into the environment ccswitch " \
               "runs from, or unset PYTHON_KEYRING_BACKEND to use the OS keyring"
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    config = isolated_home / ".config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring = no_such_keyrings.file.PlaintextKeyring\n")
    return f"the keyring backend named in {config} (default-keyring) cannot be loaded (ModuleNotFoundError: No " \
           "module named 'no_such_keyrings'); install it into the environment ccswitch runs from, or remove that " \
           "line to use the OS keyring"


@pytest.mark.parametrize("args", [["run", "kr", "--", "true"], ["run", "--dry-run", "kr"], ["env", "kr"]])
def test_a_backend_that_cannot_be_loaded_is_one_line_on_the_launch_path(unloadable_backend, args, capsys) -> None:  # type: ignore[no-untyped-def]
    from ccswitch.launch import front_door

    assert front_door.main(args) == 1
    out, err = capsys.readouterr()
    assert err == f"ccswitch: error: profile 'kr': {unloadable_backend}\n" and out == ""


@pytest.mark.parametrize("args", [["token", "rm", "kr"], ["token", "set", "kr"], ["test", "kr"], ["doctor"]])
def test_a_backend_that_cannot_be_loaded_is_one_line_for_every_command(unloadable_backend, args, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from ccswitch.cli.app import app

    before = (config_dir / "profiles.toml").read_text()
    result = CliRunner().invoke(app, args, input="sk-new-token-0123456789\n")
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), result.exception
    assert "Traceback" not in result.output and "no_such_keyrings" in result.output
    problem, fix = unloadable_backend.split("; ")
    if args == ["doctor"]:
        row = next(line for line in result.stdout.splitlines() if " keyring " in line)
        assert row.split()[:2] == ["FAIL", "keyring"] and problem in " ".join(result.stdout.split())
        assert fix in " ".join(result.stdout.split())
    elif args[0] == "test":
        assert problem in " ".join(result.stdout.split())
    else:
        assert result.stderr == f"ccswitch: error: profile 'kr': {unloadable_backend}\n"
    assert (config_dir / "profiles.toml").read_text() == before
