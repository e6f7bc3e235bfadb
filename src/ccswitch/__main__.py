"""Entry point for the `ccswitch` script and `python -m ccswitch`.

`run` and `env` go to the light launcher (no typer: every claude start passes through here);
everything else, and any `--help`, to the typer app.
"""

from __future__ import annotations

import sys

FAST_COMMANDS = ("run", "env")


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in FAST_COMMANDS:
        # The light front door: no typer, rich or tomlkit on the path of every claude start.
        from ccswitch.launch import front_door

        if not front_door.wants_help(args[1:]):
            sys.exit(front_door.main(args))
    # Everything else (and any --help) pays for typer and rich.
    from ccswitch.cli.app import app

    app(prog_name="ccswitch")


if __name__ == "__main__":
    main()
