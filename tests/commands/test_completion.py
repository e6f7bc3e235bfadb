"""Shell completion answered without typer: the same answers as typer's own completion of the same
app, for commands, options, option values and profile names, in each shell's format."""

from __future__ import annotations

import os

import pytest
import typer.main
from typer.testing import CliRunner

from ccswitch.cli.app import app
from ccswitch.commands import completion

PROFILES = '[profiles.work-gw]\nbase_url = "https://gw.example.com"\ntoken = "env:W"\n'


def typer_commands() -> dict[str, object]:
    group = typer.main.get_command(app)
    found = {}
    for name, command in group.commands.items():
        subs = getattr(command, "commands", None)
        if subs:
            for sub, child in subs.items():
                found[f"{name} {sub}"] = child
        else:
            found[name] = command
    return found


def light_commands() -> dict[str, completion.Command]:
    found = {}
    for name, command in completion.COMMANDS.items():
        if name in completion.SUBCOMMANDS:
            found.update({f"{name} {sub}": child for sub, child in completion.SUBCOMMANDS[name].items()})
        else:
            found[name] = command
    return found


def test_the_table_is_the_typer_app():
    typer_side, light = typer_commands(), light_commands()
    assert set(light) == set(typer_side)
    for name, command in typer_side.items():
        options = {}
        arguments = []
        for param in command.params:
            if param.param_type_name == "option":
                for opt in param.opts + param.secondary_opts:
                    options[opt] = param.is_flag
            else:
                arguments.append(param)
        assert {o: flag for o, flag in options.items()} == {
            o: kind is completion.FLAG for o, kind in light[name].options.items() if o not in completion.HELP}, name
        kinds = [(completion.IMPORT_SOURCE if p.name == "source" else completion.PROFILE)
                 if getattr(p, "_custom_shell_complete", None) else completion.VALUE
                 for p in arguments if p.name != "command"]
        assert list(light[name].arguments) == kinds, name


def typer_answer(words: str, cword: int) -> list[str]:
    env = {"_CCSWITCH_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(app, [], env=env, prog_name="ccswitch")
    assert result.exit_code == 0
    return result.stdout.split()


CASES = [
    ("ccswitch", 1), ("ccswitch r", 1), ("ccswitch import c", 2), ("ccswitch import", 2), ("ccswitch --", 1), ("ccswitch run", 2), ("ccswitch run w", 2),
    ("ccswitch run work-gw", 3), ("ccswitch run --dry-run g", 3), ("ccswitch run -", 2), ("ccswitch use", 2),
    ("ccswitch use --scope", 3), ("ccswitch use --scope p", 3), ("ccswitch env --shell", 3), ("ccswitch env --shell z", 3),
    ("ccswitch show q", 2), ("ccswitch test glm", 3), ("ccswitch test glm k", 3), ("ccswitch pin", 2),
    ("ccswitch remove w", 2), ("ccswitch rename work-gw", 3), ("ccswitch rename w", 2), ("ccswitch edit", 2),
    ("ccswitch token", 2), ("ccswitch token set", 3), ("ccswitch token rm z", 3), ("ccswitch add x --extends g", 4),
    ("ccswitch add x --auth", 4), ("ccswitch list --", 2), ("ccswitch list", 2), ("ccswitch which", 2),
    ("ccswitch doctor --j", 2), ("ccswitch restore --", 2), ("ccswitch off --scope", 3),
]


@pytest.mark.parametrize("words,cword", CASES)
def test_same_answers_as_typer(words, cword, profiles_file, capsys):
    """As bash's function sends them: the words joined by newlines, an empty last word when the
    cursor is after a space."""
    profiles_file(PROFILES)
    line = (words + (" " if cword == len(words.split()) else "")).replace(" ", "\n")
    expected = typer_answer(line, cword)
    assert completion.main("complete_bash", {**os.environ, "COMP_WORDS": line, "COMP_CWORD": str(cword)}) == 0
    # Sorted: click lists -h/--help from a set, in an order that changes from run to run.
    assert sorted(capsys.readouterr().out.split()) == sorted(expected)


def test_profile_names_include_the_users_and_a_broken_file_gives_none(profiles_file):
    profiles_file(PROFILES)
    assert "work-gw" in completion.values("profile", "w", os.environ)
    profiles_file("[profiles.x\n")
    assert completion.values("profile", "", os.environ) == []


@pytest.mark.parametrize("shell,env,expected", [
    ("zsh", {"_TYPER_COMPLETE_ARGS": "ccswitch ru"}, "_arguments '*: :((\"run\":\"start claude on a profile\"))'"),
    ("zsh", {"_TYPER_COMPLETE_ARGS": "ccswitch run -- ls "}, "_files"),
    ("fish", {"_TYPER_COMPLETE_ARGS": "ccswitch use --scope ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}, "user\nproject"),
    ("powershell", {"_TYPER_COMPLETE_ARGS": "ccswitch env --shell b", "_TYPER_COMPLETE_WORD_TO_COMPLETE": "b"}, "bash::: "),
])
def test_other_shells_formats(shell, env, expected, capsys):
    assert completion.main(f"complete_{shell}", env) == 0
    assert capsys.readouterr().out == expected


def test_fish_asks_whether_there_is_anything_to_complete():
    assert completion.main("complete_fish", {"_TYPER_COMPLETE_ARGS": "ccswitch us", "_TYPER_COMPLETE_FISH_ACTION": "is-args"}) == 0
    assert completion.main("complete_fish", {"_TYPER_COMPLETE_ARGS": "ccswitch run -- ls ",
                                             "_TYPER_COMPLETE_FISH_ACTION": "is-args"}) == 1


def test_show_completion_names_the_light_variable():
    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="ccswitch")
    assert result.exit_code == 0 and "_CCSWITCH_COMPLETE=complete_bash" in result.stdout
