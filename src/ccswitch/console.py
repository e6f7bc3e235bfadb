"""Where commands print: data to stdout, messages to stderr, in rich markup with named styles.

In a terminal the text goes through a rich Console (colours, the terminal's width). Anywhere else (a
pipe, a file, a test's captured output) the markup is stripped here and rich is never imported: it
costs more than the rest of a `ccswitch list` (bench/startup.py). Both paths print the same
characters: tables (`ccswitch.tables`) are laid out here, not by rich.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the status line prints through here)
if TYPE_CHECKING:
    from typing import TextIO

THEME = {
    "error": "bold red",
    "warning": "yellow",
    "ok": "green",
    "missing": "red",
    "muted": "dim",
    "name": "bold cyan",
}

# rich's markup: `[style]text[/]`, `[/style]`; a backslash before `[` makes it literal.
_TAG = re.compile(r"(\\*)\[([a-z#/@][^[]*?)]")
_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
# Control characters but tab and newline: text from a transcript or a provider (a model name) must not
# move the cursor, retitle the terminal or write its clipboard (ESC, CSI, OSC, BEL).
_CONTROLS = {code: "?" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code not in (0x09, 0x0A)}

Segment = tuple[str, "str | None"]


def escape(text: str) -> str:
    r"""Text shown as is, never read as markup: rich.markup.escape (without importing rich), except
    that control characters (but tab and newline) show as `?` and a run of backslashes at the end is
    doubled. Before a tag that follows, rich reads a run of n as n // 2 backslashes and, n odd, an
    escaped bracket: its own escape (which adds one only to a single backslash) shows `a\\` as `a\`
    and breaks the tag after three."""

    def double(match: re.Match[str]) -> str:
        backslashes, tag = match.groups()
        return f"{backslashes}{backslashes}\\{tag}"

    text = _ESCAPE.sub(double, text.translate(_CONTROLS))
    trailing = len(text) - len(text.rstrip("\\"))
    return text + "\\" * trailing


def segments(markup: str) -> list[Segment]:
    """Markup -> (text, style) pieces, the style being the open tags joined by spaces (rich's rules)."""
    out: list[Segment] = []
    stack: list[str] = []
    position = 0

    def add(text: str, literal: bool = False) -> None:
        if text:
            # As rich: a backslash before a bracket that opens no tag shows just the bracket.
            out.append((text if literal else text.replace("\\[", "["), " ".join(stack) or None))

    for match in _TAG.finditer(markup):
        backslashes, tag = match.groups()
        add(markup[position : match.start()])
        position = match.end()
        if backslashes:
            add(backslashes[: len(backslashes) // 2], literal=True)
            if len(backslashes) % 2:  # escaped: the tag is text
                add(f"[{tag}]", literal=True)
                continue
        if tag.startswith("/"):
            closing = tag[1:].strip()
            if not closing:
                if stack:
                    stack.pop()
            elif closing in stack:
                stack.remove(closing)
        else:
            stack.append(tag.strip())
    add(markup[position:])
    return out


def plain(markup: str) -> str:
    """The characters markup shows, without styles."""
    return "".join(text for text, _ in segments(markup))


def piped_width(env: Mapping[str, str] = os.environ) -> int | None:
    """Width for output that is not a terminal: $COLUMNS when set, else no limit (scripts read whole lines)."""
    try:
        columns = int(env.get("COLUMNS", ""))
    except ValueError:
        return None
    return columns if columns > 0 else None


class Output:
    """One stream, resolved when printing (tests swap sys.stdout), rich only on a terminal."""

    def __init__(self, stream: str = "stdout", *, terminal: bool | None = None, width: int | None = None,
                 file: TextIO | None = None) -> None:
        self.stream = stream
        self._terminal = terminal
        self._width = width
        self._file = file
        self._rich = None
        self._rich_file: TextIO | None = None

    @property
    def file(self) -> TextIO:
        return self._file or (sys.stderr if self.stream == "stderr" else sys.stdout)

    @property
    def is_terminal(self) -> bool:
        if self._terminal is not None:
            return self._terminal
        try:
            return self.file.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def width(self) -> int | None:
        """The columns a table may use; None: no limit."""
        if self._width is not None:
            return self._width
        if self.is_terminal:
            return self.rich().width
        return piped_width()

    def rich(self):  # type: ignore[no-untyped-def]
        """The rich Console for this stream (imported on first use, in a terminal only)."""
        if self._rich is None or self._rich_file is not self.file:
            from rich.console import Console
            from rich.theme import Theme

            self._rich_file = self.file
            self._rich = Console(file=self.file, theme=Theme(THEME), highlight=False, width=self._width,
                                 force_terminal=self._terminal, soft_wrap=False, emoji=False)
        return self._rich

    def print(self, content: object = "", *, markup: bool = True, end: str = "\n") -> None:
        render = getattr(content, "render_lines", None)
        if render is not None:  # a ccswitch.tables.Table, laid out for this stream's width
            for line in render(self.width):  # a row stays one line, even when --wide is wider than the terminal
                self._line(line, end, soft_wrap=True)
            return
        text = str(content)
        if not markup:
            text = escape(text)
        self._line(segments(text), end)

    def _line(self, pieces: list[Segment], end: str, soft_wrap: bool = False) -> None:
        if not self.is_terminal:
            self.file.write("".join(text for text, _ in pieces) + end)
            return
        from rich.text import Text

        line = Text()
        for text, style in pieces:
            line.append(text, style)
        self.rich().print(line, end=end, soft_wrap=soft_wrap)


stdout = Output("stdout")
stderr = Output("stderr")


def print_document(text: str) -> None:
    """A generated file's text (an export's YAML) to stdout byte for byte, as `-o FILE` would write
    it: no markup read, no control character shown as `?` (PyYAML writes U+0085 as it is)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def print_json(data: object) -> None:
    # Plain print, not rich: scripts read this and must get it byte for byte, uncoloured.
    import json  # not at the top: `--help` and the tables never need it

    print(json.dumps(data, indent=2, ensure_ascii=False))
