"""`add`, `edit`, `remove`, `rename` and `token set/rm`: the commands that change profiles.toml.

No option takes a token's value (it would land in shell history and `ps`): a secret comes from a
hidden prompt or from stdin (`--token-stdin`), and goes to the OS keyring unless `--plain-text`.
"""

import os
import sys
from typing import Annotated, List, Optional

import typer

from ccswitch import paths
from ccswitch.cli import common as cli_common
from ccswitch.cli.common import MARKUP_MODE, auth_modes, profile_names, reports_errors
from ccswitch.console import stderr
from ccswitch.errors import CcswitchError, UsageError, report
from ccswitch.profiles.presets import presets_dir

# The core of these commands (tomlkit edits, the keyring, subprocess) is imported inside each one:
# `ccswitch --help` registers them all and should not pay for any (bench/startup.py).

token_app = typer.Typer(
    help="Store or remove a profile's token in the OS keyring.\n\nExample: ccswitch token set glm",
    no_args_is_help=True,
    rich_markup_mode=MARKUP_MODE,
)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _say(message: str) -> None:
    stderr.print(message, markup=False)


def _notes(notes: list[str]) -> None:
    for note in notes:
        _say(note)


def _ask(question: str, check, secret: bool) -> str:  # type: ignore[no-untyped-def]
    """adding.Ask on the terminal: the question again, with what was wrong, until the answer is good."""
    while True:
        answer = typer.prompt(question, default="", show_default=False, hide_input=secret)
        problem = check(answer)
        if problem is None:
            return answer
        _say(f"{problem}; try again")


def _read_secret(from_stdin: bool, what: str) -> str:
    """The token from stdin (one line) or a hidden prompt; never from an option."""
    from ccswitch.profiles import tokens

    if from_stdin or not _stdin_is_terminal():
        if _stdin_is_terminal():
            raise UsageError("--token-stdin: stdin is a terminal; pipe the token in (e.g. `pass show glm | ccswitch …`)")
        secret = sys.stdin.read()
        source = "stdin"
    else:
        secret = typer.prompt(what, hide_input=True, default="", show_default=False)
        source = "the prompt"
    secret = secret.strip()  # the line end, and a Windows key file's \r
    if not secret:
        raise UsageError(f"no token given on {source}")
    if "\n" in secret or "\r" in secret:
        raise UsageError(f"the token on {source} has more than one line")
    return tokens.clean_token(secret, f"the token on {source}")


@reports_errors
def add_profile(
    name: Annotated[str, typer.Argument(help="Name of the new profile.")],
    extends: Annotated[Optional[str], typer.Option("--extends", "--preset", help="Start from this preset or profile.", autocompletion=profile_names)] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Endpoint (claude appends /v1/messages).")] = None,
    auth: Annotated[Optional[str], typer.Option("--auth", help="bearer, x-api-key, none or login.", autocompletion=auth_modes)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model `run` starts with.")] = None,
    opus: Annotated[Optional[str], typer.Option("--opus", help="Model behind the opus alias.")] = None,
    sonnet: Annotated[Optional[str], typer.Option("--sonnet", help="Model behind the sonnet alias.")] = None,
    haiku: Annotated[Optional[str], typer.Option("--haiku", help="Model behind the haiku alias.")] = None,
    env_pairs: Annotated[List[str], typer.Option("--env", help="Extra variable NAME=VALUE (repeatable).")] = [],
    description: Annotated[Optional[str], typer.Option("--description", help="One line about the profile.")] = None,
    token_env: Annotated[Optional[str], typer.Option("--token-env", help="Read the token from this variable.")] = None,
    token_cmd: Annotated[Optional[str], typer.Option("--token-cmd", help="Run this command for the token (e.g. 'pass show glm').")] = None,
    token_keyring: Annotated[bool, typer.Option("--token-keyring", help="Read the token from the OS keyring.")] = False,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read the token itself from stdin (into the keyring).")] = False,
    plain_text: Annotated[bool, typer.Option("--plain-text", help="Keep a token typed or piped in in profiles.toml (0600) instead of the keyring.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a profile of the same name.")] = False,
) -> None:
    """Add a profile. In a terminal, asks for what is missing (the token with a hidden prompt).

    No option takes the token itself: pipe it with --token-stdin, or point at it with --token-env,
    --token-cmd or --token-keyring.

    Example: pass show zhipu | ccswitch add myglm --extends glm --token-stdin
    """
    from ccswitch.profiles import adding, keyrings, manage, tokens

    env = dict(os.environ)
    request = adding.AddRequest(
        name, extends=extends, base_url=base_url, auth=auth, model=model, opus=opus, sonnet=sonnet, haiku=haiku,
        env_pairs=env_pairs, description=description, token_env=token_env, token_cmd=token_cmd,
        token_keyring=token_keyring, token_stdin=token_stdin, plain_text=plain_text)
    interactive = _stdin_is_terminal() and not token_stdin
    adding.check_options(request, interactive)
    secret = _read_secret(True, "Token") if token_stdin else None
    known = cli_common.load_profiles(env).names() if interactive else []
    table, keyring_secret = adding.build_table(request, known, _ask if interactive else None, secret)
    profiles_path = paths.profiles_file(env)
    try:
        done = manage.add_profile(profiles_path, presets_dir(), name, table, force=force,
                                  keyring_secret=keyring_secret, cache_path=paths.profiles_cache_file(env))
    except tokens.KeyringUnavailable:
        raise CcswitchError(adding.no_keyring_message(name, table)) from None
    except keyrings.PlainTextKeyring as error:
        raise CcswitchError(adding.no_keyring_message(name, table, error.backend), error.exit_status) from None
    token = table.get("token")
    if tokens.reference_kind(token) == "keyring":  # say which backend: "the OS keyring" may be a plain file
        token_note = keyrings.where_entry_is(tokens.keyring_entry(str(token), name))
    else:
        token_note = tokens.describe_token(token, env, name).detail if "token" in table else "inherited or none"
    _say(f"{done} profile {name!r} in {profiles_path} (token: {token_note})")


@reports_errors
def remove_profile(
    name: Annotated[str, typer.Argument(help="Profile to remove.", autocompletion=profile_names)],
    force: Annotated[bool, typer.Option("--force", help="Remove it even if it is active (default, pinned, in use).")] = False,
) -> None:
    """Remove one of your profiles, and its token from the OS keyring.

    Refuses a profile that is active (the default, pinned by a .ccswitch file, set by `use`)
    unless --force, and one that other profiles extend or list in `fallback`.

    Example: ccswitch remove oldgateway
    """
    from ccswitch.profiles import manage

    env = dict(os.environ)
    notes = manage.remove_profile(paths.profiles_file(env), presets_dir(), name, cwd=os.getcwd(), env=env, force=force,
                                  cache_path=paths.profiles_cache_file(env))
    _notes(notes)


@reports_errors
def rename_profile(
    old: Annotated[str, typer.Argument(help="Current name.", autocompletion=profile_names)],
    new: Annotated[str, typer.Argument(help="New name.")],
) -> None:
    """Rename one of your profiles; `default`, `extends`, `fallback` lists and its keyring entry follow.

    Example: ccswitch rename work work-gateway
    """
    from ccswitch.profiles import manage

    env = dict(os.environ)
    _notes(manage.rename_profile(paths.profiles_file(env), presets_dir(), old, new, cwd=os.getcwd(), env=env,
                                cache_path=paths.profiles_cache_file(env)))


def _editor_command(env: dict[str, str]) -> list[str]:
    import shlex

    editor = env.get("VISUAL") or env.get("EDITOR") or ("notepad" if sys.platform == "win32" else "vi")
    return shlex.split(editor, posix=sys.platform != "win32")


@reports_errors
def edit_profile(name: Annotated[str, typer.Argument(help="Profile to edit (a preset's name makes an override).", autocompletion=profile_names)]) -> None:
    """Open a profile in $VISUAL/$EDITOR; on save it is checked, and re-opened with the error if wrong.

    Only that profile's tables are opened; the rest of profiles.toml stays byte for byte.

    Example: EDITOR=nano ccswitch edit work
    """
    import subprocess
    import tempfile

    from ccswitch.profiles import manage
    from ccswitch.profiles.store import open_for_change, save_profiles_text

    env = dict(os.environ)
    presets = presets_dir()
    opened = open_for_change(paths.profiles_file(env), presets, cache_path=paths.profiles_cache_file(env))
    original = manage.edit_start(opened, name)
    command = _editor_command(env)
    # The profile may hold a plain-text token: a private directory, a 0600 file, removed afterwards.
    workdir = tempfile.mkdtemp(prefix="ccswitch-edit-")
    temp = os.path.join(workdir, f"{name}.toml")
    text = original
    try:
        while True:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            try:
                completed = subprocess.run([*command, temp], check=False)
            except OSError as error:
                raise CcswitchError(f"cannot start the editor {command[0]!r}: {error.strerror or error}; set $EDITOR") from None
            if completed.returncode != 0:
                raise CcswitchError(f"the editor exited with status {completed.returncode}; nothing changed")
            with open(temp, encoding="utf-8") as handle:
                edited = manage.strip_error_marks(handle.read())
            if edited == manage.strip_error_marks(original):
                _say(f"no changes to {name!r}")
                return
            try:
                new_text = manage.edit_apply(opened, name, edited, presets)
            except CcswitchError as error:
                report(error)
                try:
                    again = typer.confirm("Edit again?", default=True)
                except typer.Abort:
                    again = False
                if not again:
                    raise CcswitchError(f"kept {opened.path} as it was; your edit was discarded") from None
                text = "".join(f"{manage.EDIT_ERROR_MARK}{line}\n" for line in error.message.splitlines()) + edited
                continue
            save_profiles_text(opened, new_text, presets)
            _say(f"saved profile {name!r} in {opened.path}")
            return
    finally:
        for leftover in (temp, temp + "~"):
            try:
                os.unlink(leftover)
            except OSError:
                pass
        try:
            os.rmdir(workdir)
        except OSError:
            pass


@token_app.command("set")
@reports_errors
def token_set(
    name: Annotated[str, typer.Argument(help="Profile whose token to store.", autocompletion=profile_names)],
    plain_text: Annotated[bool, typer.Option("--plain-text", help="Store it even when the keyring backend keeps "
                                             "secrets in a plain-text file (keyrings.alt's PlaintextKeyring).")] = False,
) -> None:
    """Store a profile's token in the OS keyring (hidden prompt, or stdin when piped).

    The profile is switched to `token = "keyring"` if it read its token elsewhere (a preset gets an
    override in profiles.toml). A keyring backend that is a plain-text file is refused unless
    --plain-text; then the message says which file holds the token.

    Example: pass show zhipu | ccswitch token set glm
    """
    from ccswitch.profiles import manage

    env = dict(os.environ)
    secret = _read_secret(False, f"Token for {name} (hidden)")
    _notes(manage.set_token(paths.profiles_file(env), presets_dir(), name, secret, cache_path=paths.profiles_cache_file(env),
                            plain_text=plain_text))


@token_app.command("rm")
@reports_errors
def token_rm(name: Annotated[str, typer.Argument(help="Profile whose keyring token to delete.", autocompletion=profile_names)]) -> None:
    """Delete a profile's token from the OS keyring (profiles.toml is not changed).

    Example: ccswitch token rm glm
    """
    from ccswitch.profiles import manage

    env = dict(os.environ)
    _notes(manage.remove_token(paths.profiles_file(env), presets_dir(), name))


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
    app.command("add")(add_profile)
    app.command("remove")(remove_profile)
    app.command("rename")(rename_profile)
    app.command("edit")(edit_profile)
