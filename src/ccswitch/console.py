"""The two rich consoles: data to stdout, messages to stderr, with named styles."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.theme import Theme

THEME = Theme(
    {
        "error": "bold red",
        "warning": "yellow",
        "ok": "green",
        "missing": "red",
        "muted": "dim",
        "name": "bold cyan",
    }
)


# Piped output is read by scripts and by people with wide terminals: rich's 80-column guess would cut
# model names short.
PIPED_WIDTH = 1000


def make_consoles() -> tuple[Console, Console]:
    width = None if sys.stdout.isatty() else PIPED_WIDTH
    return Console(theme=THEME, highlight=False, width=width), Console(
        theme=THEME, stderr=True, highlight=False, width=width
    )


stdout, stderr = make_consoles()
