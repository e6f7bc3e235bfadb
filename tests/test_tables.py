"""Tables fitted to a width: names whole, short forms, cut columns, dropped columns, --wide."""

from __future__ import annotations

from ccswitch.tables import Column, Table


def table(wide: bool = False) -> Table:
    t = Table([
        Column("name"),
        Column("state", priority=1),
        Column("models", priority=2, cut="right", min_width=6),
        Column("path", priority=3, cut="left", min_width=8),
        Column("extra", priority=4, wide_only=True),
        Column("summary", priority=4, narrow_only=True),
    ], wide=wide)
    t.add_row("[name]a-rather-long-name[/]", ("missing ($X unset)", "missing"), "m1, m2, m3", "/very/long/path/to/settings.json",
              "x", "s")
    t.add_row("b", ("found in $Y", "found"), "m", "/p", "y", "t")
    return t


def lines(width: int | None, wide: bool = False) -> list[str]:
    return table(wide).render_text(width).splitlines()


def test_everything_whole_when_there_is_room():
    assert lines(None) == [
        "name                state               models      path                              summary",
        "a-rather-long-name  missing ($X unset)  m1, m2, m3  /very/long/path/to/settings.json  s",
        "b                   found in $Y         m           /p                                t",
    ]


def test_narrow_shortens_then_cuts_then_drops_and_never_cuts_a_name():
    for width in (80, 60, 50, 40, 30, 20):
        rows = lines(width)
        assert all(len(line) <= width or line.startswith("a-rather-long-name") for line in rows), (width, rows)
        assert rows[1].split()[0] == "a-rather-long-name" and rows[2].split()[0] == "b"
        assert all(line == line.rstrip() for line in rows)
    assert lines(50) == [
        "name                state    models      path",
        "a-rather-long-name  missing  m1, m2, m3  …ngs.json",
        "b                   found    m           /p",
    ]
    assert lines(20) == ["name", "a-rather-long-name", "b"]


def test_wide_shows_wide_only_columns_in_full_and_hides_summaries():
    rows = lines(30, wide=True)
    assert rows[0].split() == ["name", "state", "models", "path", "extra"]
    assert "missing ($X unset)" in rows[1] and "/very/long/path/to/settings.json" in rows[1]


def test_right_justified_columns_and_min_table_width():
    t = Table([Column("n"), Column("ms", justify="right"), Column("host", priority=1, min_table_width=100)])
    t.add_row("a", "5 ms", "example.com")
    t.add_row("bb", "120 ms", "h")
    assert t.render_text(80).splitlines() == ["n       ms", "a     5 ms", "bb  120 ms"]
    assert t.render_text(100).splitlines()[1] == "a     5 ms  example.com"
