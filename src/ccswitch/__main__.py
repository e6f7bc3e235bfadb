"""Entry point for the `ccswitch` script and `python -m ccswitch`.

Three doors, lightest first:
- `run` and `env` go to the launcher (no typer: every claude start passes through here);
- a shell's completion request (`_CCSWITCH_COMPLETE`, on every Tab) and the read-only commands in
  their plain forms (`list`, `show NAME`, `status --json`, ...) are answered by `commands` without
  typer, and without rich outside a terminal;
- everything else, and any `--help`, goes to the typer app.
"""

from __future__ import annotations

import os
import sys

FAST_COMMANDS = ("run", "env")
COMPLETE_VARIABLE = "_CCSWITCH_COMPLETE"


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in FAST_COMMANDS:
        # The light front door: no typer, rich or tomlkit on the path of every claude start.
        from ccswitch.launch import front_door

        if not front_door.wants_help(args[1:]):
            sys.exit(front_door.main(args))
    elif os.environ.get(COMPLETE_VARIABLE, "").startswith("complete_"):
        from ccswitch.commands import completion

        status = completion.main(os.environ[COMPLETE_VARIABLE], os.environ)
        if status is not None:
            sys.exit(status)
    else:
        from ccswitch.commands import front_door as read_only

        status = read_only.main(args)
        if status is not None:
            sys.exit(status)
    # Everything else (and any --help) pays for typer.
    from ccswitch.cli.app import app

    app(prog_name="ccswitch")


if __name__ == "__main__":
    main()
