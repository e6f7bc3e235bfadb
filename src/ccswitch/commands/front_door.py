"""The light front door of the read-only commands: `list`, `presets`, `show`, `which`, `status`
(`current`), `doctor`, `restore --list`, `pin` (no name), `usage`, `statusline` and `--version`, parsed by hand when the arguments are the
plain forms below, and answered without importing typer (nor rich, outside a terminal).

Anything else (`--help`, a mistake, an option spelled another way) returns None, and `__main__`
hands the command to the typer app, which parses it, explains mistakes and prints help; its
commands call the same functions in this package. tests/commands/test_front_door.py checks that
both paths print the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ccswitch.errors import CcswitchError, ExitStatus, report

JSON, WIDE = ("--json",), ("--wide", "-w")


def _list(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.profiles import list_profiles

    return list_profiles("--json" in flags, "--wide" in flags)


def _presets(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.profiles import list_presets

    return list_presets("--json" in flags, "--wide" in flags)


def _show(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.profiles import show_profile

    return show_profile(args[0], "--json" in flags)


def _which(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.profiles import which_profile

    return which_profile(args[0], "--json" in flags)


def _pin(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.profiles import show_pin

    return show_pin()


def _status(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.switching import show_status

    return show_status("--json" in flags)


def _doctor(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.health import doctor

    return doctor("--json" in flags)


def _restore_list(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.switching import list_restore_points

    return list_restore_points("--json" in flags, "--wide" in flags)


def _usage(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.usage import show_usage

    return show_usage(values.get("--since"), values.get("--until"), values.get("--by"), "--json" in flags,
                      "--windows" in flags)


def _statusline(flags: set[str], args: list[str], values: dict[str, str]) -> int:
    from ccswitch.commands.statusline import main

    return main()


Handler = Callable[[set[str], list[str], dict[str, str]], int]

# command -> (its flags, how many positional arguments, the function, flags it must have)
COMMANDS: dict[str, tuple[tuple[str, ...], int, Handler, tuple[str, ...]]] = {
    "list": (JSON + WIDE, 0, _list, ()),
    "presets": (JSON + WIDE, 0, _presets, ()),
    "show": (JSON, 1, _show, ()),
    "which": (JSON, 1, _which, ()),
    "status": (JSON, 0, _status, ()),
    "current": (JSON, 0, _status, ()),
    "doctor": (JSON, 0, _doctor, ()),
    "pin": ((), 0, _pin, ()),  # without a name: which pin applies here
    "restore": (("--list",) + JSON + WIDE, 0, _restore_list, ("--list",)),
    "usage": (JSON + ("--windows",), 0, _usage, ()),
    "statusline": ((), 0, _statusline, ()),  # claude runs it after every message: the lightest path
}
# command -> its options that take a value (`--since 7d` or `--since=7d`)
VALUE_OPTIONS: dict[str, tuple[str, ...]] = {"usage": ("--since", "--until", "--by")}


def parse(argv: Sequence[str]) -> tuple[Handler, set[str], list[str], dict[str, str]] | None:
    """(function, flags, positional arguments, option values), or None when typer should answer."""
    if not argv or argv[0] not in COMMANDS:
        return None
    known, count, function, required = COMMANDS[argv[0]]
    with_value = VALUE_OPTIONS.get(argv[0], ())
    flags: set[str] = set()
    args: list[str] = []
    values: dict[str, str] = {}
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        option, equals, value = arg.partition("=")
        if arg in known:
            flags.add("--wide" if arg == "-w" else arg)
        elif option in with_value and option not in values and (equals or (rest and not rest[0].startswith("-"))):
            values[option] = value if equals else rest.pop(0)
        elif arg.startswith("-"):
            return None  # --help, --, an unknown option, a missing value: typer explains
        else:
            args.append(arg)
    if len(args) != count or not set(required) <= flags:
        return None
    return function, flags, args, values


def main(argv: Sequence[str]) -> int | None:
    """Run a read-only command; None when it is not one of the plain forms (typer takes it)."""
    if list(argv) == ["--version"]:
        from ccswitch import __version__

        print(f"ccswitch {__version__}")
        return int(ExitStatus.OK)
    parsed = parse(argv)
    if parsed is None:
        return None
    function, flags, args, values = parsed
    try:
        return function(flags, args, values)
    except CcswitchError as error:
        return report(error)
    except KeyboardInterrupt:
        return int(ExitStatus.CTRL_C)
