"""console's markup without rich reads markup exactly as rich does, and escape() as rich's."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.markup import escape as rich_escape
from rich.text import Text

from ccswitch.console import Output, escape, plain, segments

PIECES = st.lists(st.sampled_from(["a", " ", "[", "]", "\\", "/", "ok", "[ok]", "[/]", "[/ok]", "[muted]", "x=1",
                                   "[bold red]", "[0]", "é"]), max_size=12).map("".join)


@given(PIECES)
def test_escape_is_richs_but_for_a_trailing_run_of_backslashes(text):
    trailing = len(text) - len(text.rstrip("\\"))
    if trailing < 2:
        assert escape(text) == rich_escape(text)
    else:  # rich's would show fewer backslashes, or with three break the tag after it
        assert escape(text) == rich_escape(text) + "\\" * trailing


def test_escaped_text_ending_in_backslashes_shows_them_all_before_a_tag():
    for count in range(1, 6):
        text = "a" + "\\" * count
        assert Text.from_markup(escape(text) + "[bold]x[/]", emoji=False).plain == text + "x"
        assert plain(escape(text) + "[ok]x[/]") == text + "x"


@given(PIECES)
def test_escaped_text_shows_as_rich_shows_it(text):
    # Not always `text` itself (rich shows "\\[0]" as "[0]"), but always what rich would show.
    assert plain(escape(text)) == Text.from_markup(escape(text), emoji=False).plain


@given(st.lists(st.tuples(st.sampled_from(["", "ok", "muted", "bold red"]), PIECES), max_size=5))
def test_plain_is_what_rich_shows(parts):
    markup = "".join(f"[{style}]{escape(text)}[/]" if style else escape(text) for style, text in parts)
    assert plain(markup) == Text.from_markup(markup, emoji=False).plain


def test_styles_nest_and_close():
    assert segments("a [ok]b [muted]c[/] d[/] e") == [("a ", None), ("b ", "ok"), ("c", "ok muted"), (" d", "ok"), (" e", None)]


def test_piped_output_has_no_colour_and_keeps_brackets():
    buffer = io.StringIO()
    Output("stdout", terminal=False, file=buffer).print("[warning]warning:[/] keep \\[this] and [0]")
    assert buffer.getvalue() == "warning: keep [this] and [0]\n"


def test_escaped_text_has_no_control_characters_but_tab_and_newline():
    """A model name is whatever a provider answers, and transcripts keep it: ESC, CSI (0x9b), BEL and
    DEL must not reach the terminal (cursor moves, a new title, OSC 52 writing the clipboard)."""
    text = "glm\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\x7f\x00a\tb\nc"
    shown = escape(text)
    assert shown == "glm?]52;c;ZXZpbA==??[2J?31m??a\tb\nc"
    assert plain(shown) == Text.from_markup(shown, emoji=False).plain == shown
