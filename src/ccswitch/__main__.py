"""Entry point for the `ccswitch` script and `python -m ccswitch`."""

from __future__ import annotations


def main() -> None:
    from ccswitch.cli import app

    app(prog_name="ccswitch")


if __name__ == "__main__":
    main()
