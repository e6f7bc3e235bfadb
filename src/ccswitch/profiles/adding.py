"""What `ccswitch add` builds: a profile's table from the options given and, in a terminal, the
answers to questions for what is missing, each answer checked as it is typed (and asked again when
wrong), so that nothing typed earlier is lost to a mistake found at the end.

Pure but for the `ask` callable the front end supplies (typer's prompt in the CLI, a script in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ccswitch.claude.models import MAIN_TIERS
from ccswitch.errors import UsageError
from ccswitch.profiles import tokens
from ccswitch.profiles.schema import (
    AUTH_MODES,
    TOKENLESS_AUTHS,
    base_url_problem,
    check_name,
    did_you_mean,
)

# ask(question, check, secret) -> the answer; `check(answer)` returns a problem to show before asking
# again, or None. An empty answer means "none" wherever the question allows it.
Ask = Callable[[str, Callable[[str], "str | None"], bool], str]
# Options whose empty value would otherwise be dropped as if the option had not been given.
TEXT_OPTIONS = ("extends", "base_url", "auth", "model", "opus", "sonnet", "haiku", "description", "token_env", "token_cmd")


class AddRequest:
    """The options of `ccswitch add`, as given."""

    __slots__ = ("name", "extends", "base_url", "auth", "model", "opus", "sonnet", "haiku", "env_pairs", "description",
                 "token_env", "token_cmd", "token_keyring", "token_stdin", "plain_text")

    def __init__(self, name: str, **options: object) -> None:
        self.name = name
        for slot in self.__slots__[1:]:
            setattr(self, slot, options.pop(slot, None))
        if options:
            raise TypeError(f"unknown options {sorted(options)}")
        self.env_pairs = list(self.env_pairs or [])  # type: ignore[has-type]


def check_options(request: AddRequest, interactive: bool) -> None:
    """Mistakes in the options themselves: found before any question is asked."""
    for option in TEXT_OPTIONS:
        value = getattr(request, option)
        if value is not None and not str(value).strip():
            raise UsageError(f"--{option.replace('_', '-')} is empty; give a value or leave the option out")
    if sum(bool(x) for x in (request.token_env, request.token_cmd, request.token_keyring or request.token_stdin)) > 1:
        raise UsageError("give only one of --token-env, --token-cmd, --token-keyring/--token-stdin")
    if request.plain_text and not (request.token_stdin or interactive):
        raise UsageError("--plain-text applies to a token read from stdin (--token-stdin) or the prompt")
    if request.auth is not None and request.auth not in AUTH_MODES:
        raise UsageError(f"--auth {request.auth!r}: use one of {', '.join(AUTH_MODES)}")
    check_name(request.name)
    parse_env_pairs(request.env_pairs)
    if not (request.extends or request.base_url or interactive):
        raise UsageError("give --extends PRESET (see `ccswitch presets`) or --base-url URL")


def build_table(request: AddRequest, known_profiles: Collection[str], ask: Ask | None,
                secret: str | None = None) -> tuple[dict[str, object], str | None]:
    """(the profile's table, a token for the keyring or None). `ask` is None when there is no one
    to ask; `secret` is a token already read (from stdin)."""
    extends, base_url = request.extends, request.base_url
    if not extends and not base_url and ask is not None:
        extends = ask("Preset to start from (see `ccswitch presets`; empty for none)",
                      lambda answer: _known_profile(answer, known_profiles), False) or None
        if not extends:
            base_url = ask("Base URL (e.g. https://gateway.example.com/anthropic)", _url_problem, False)
    models = {tier: getattr(request, tier) for tier in MAIN_TIERS if getattr(request, tier)}
    if ask is not None and not extends and not models:
        for tier in MAIN_TIERS:
            answer = ask(f"Model behind {tier} (empty: claude's default)", _no_problem, False)
            if answer:
                models[tier] = answer
    table: dict[str, object] = {key: value for key, value in (
        ("extends", extends), ("description", request.description), ("base_url", base_url), ("auth", request.auth))
        if value}
    token_ref, secret = _token(request, ask, secret)
    keyring_secret = None
    if token_ref is not None:
        table["token"] = token_ref
    if secret is not None:
        if request.plain_text:
            table["token"] = secret
        else:
            table["token"] = tokens.KEYRING_REF
            keyring_secret = secret
    if request.model:
        table["model"] = request.model
    if models:
        table["models"] = models
    if request.env_pairs:
        table["env"] = parse_env_pairs(request.env_pairs)
    return table, keyring_secret


def _token(request: AddRequest, ask: Ask | None, secret: str | None) -> tuple[str | None, str | None]:
    """(the token reference to write, a token value typed or piped in)."""
    if request.token_env:
        return tokens.ENV_PREFIX + str(request.token_env), None
    if request.token_cmd:
        return tokens.CMD_PREFIX + str(request.token_cmd), None
    if request.token_stdin:
        return None, secret
    if request.token_keyring:
        typed = ask("Token (hidden; empty to keep what the keyring holds)", one_line_secret, True).strip() if ask else ""
        return tokens.KEYRING_REF, typed or None
    if ask is not None and request.auth not in TOKENLESS_AUTHS:
        typed = ask("Token (hidden; empty to keep the preset's or set none)", one_line_secret, True).strip()
        return None, typed or None
    return None, None


def parse_env_pairs(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r}: write it as NAME=VALUE")
        result[key] = value
    return result


def one_line_secret(secret: str) -> str | None:
    secret = secret.strip()
    if "\n" in secret or "\r" in secret:
        return "the token has more than one line"
    position = tokens.unsendable_at(secret)
    return None if position is None else f"the token holds a control or non-ASCII character (character {position})"


def _known_profile(answer: str, known: Collection[str]) -> str | None:
    if not answer or answer in known:
        return None
    return f"no preset or profile named {answer!r}{did_you_mean(answer, known)}; `ccswitch presets` lists them"


def _url_problem(answer: str) -> str | None:
    return base_url_problem(answer) if answer.strip() else "a base URL is needed when no preset is given"


def _no_problem(answer: str) -> str | None:
    return None



def add_command(name: str, table: dict[str, object]) -> list[str]:
    """`ccswitch add ...` that builds `table` again, without its token: for a message to copy from."""
    argv = ["ccswitch", "add", name]
    for key, option in (("extends", "--extends"), ("base_url", "--base-url"), ("auth", "--auth"),
                        ("model", "--model"), ("description", "--description")):
        if table.get(key):
            argv += [option, str(table[key])]
    for tier, model in dict(table.get("models") or {}).items():  # type: ignore[call-overload]
        argv += [f"--{tier}", str(model)]
    for var, value in dict(table.get("env") or {}).items():  # type: ignore[call-overload]
        argv += ["--env", f"{var}={value}"]
    return argv


def no_keyring_message(name: str, table: dict[str, object], plain_text_backend=None) -> str:  # a keyrings.Backend
    """What works on a machine with no OS keyring (or only a plain-text one, `plain_text_backend`),
    as the exact commands for this profile."""
    import shlex

    base = shlex.join(add_command(name, table))
    variable = "".join(c if c.isalnum() else "_" for c in name.upper()) + "_API_KEY"
    if plain_text_backend is not None:
        file = f" in {plain_text_backend.file}" if plain_text_backend.file else ""
        why = (f"the keyring backend here ({plain_text_backend.name}) keeps secrets in plain text{file}, so the token "
               "was not stored there")
    else:
        why = "no OS keyring is available here (headless system?), so the token cannot be stored there"
    return (f"{why}; nothing was "
            f"written. What works on this machine: the token in a variable: `{base} --token-env {variable}` "
            f"(then export {variable}); a command that prints it: `{base} --token-cmd 'pass show {name}'`; or the "
            f"token in profiles.toml (0600): `pass show {name} | {base} --token-stdin --plain-text`")
