"""Tables that fit the width they are given: one line per row, the columns that matter whole.

Each column says how it gives way when the width is short, in this order:
- a cell may have a short form (`(full, short)`): the column uses the short forms when the full
  ones do not fit;
- a column may be cut (`cut="right"`, or `"left"` for paths: the end of a path says more than its
  start), down to `min_width`, with "…";
- a column may be dropped: below its `min_table_width`, or, when the table still does not fit,
  the columns with the highest `priority` number first (priority 0 is never dropped nor cut).
`wide_only` columns appear only in `--wide` output, where nothing is shortened (`narrow_only`
columns, summaries of those, only without it).
Lines carry no trailing spaces. Pure: no rich here; `console.Output` prints the lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from ccswitch.console import Segment, plain, segments

ELLIPSIS = "…"


class Column:
    __slots__ = ("header", "priority", "cut", "min_width", "justify", "wide_only", "narrow_only", "min_table_width")

    def __init__(self, header: str, *, priority: int = 0, cut: str | None = None, min_width: int = 8,
                 justify: str = "left", wide_only: bool = False, narrow_only: bool = False,
                 min_table_width: int = 0) -> None:
        self.header = header
        self.priority = priority
        self.cut = cut  # None: never cut; "right" or "left": which end gives way
        self.min_width = min_width
        self.justify = justify
        self.wide_only = wide_only  # only with --wide
        self.narrow_only = narrow_only  # only without --wide (a summary of wide_only columns)
        self.min_table_width = min_table_width


Cell = "str | tuple[str, str]"


class Table:
    def __init__(self, columns: Sequence[Column], *, show_header: bool = True, gap: int = 2, wide: bool = False) -> None:
        self.columns = list(columns)
        self.show_header = show_header
        self.gap = gap
        self.wide = wide
        self.rows: list[list[tuple[str, str]]] = []

    def add_row(self, *cells: str | tuple[str, str]) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([cell if isinstance(cell, tuple) else (cell, cell) for cell in cells])

    # -- layout ------------------------------------------------------------------------------------

    def _natural(self, index: int, short: bool) -> int:
        header = len(self.columns[index].header) if self.show_header else 0
        cells = [len(plain(row[index][1 if short else 0])) for row in self.rows]
        return max([header, *cells])

    def layout(self, width: int | None) -> tuple[list[int], list[int], list[bool]]:
        """(shown column indexes, their widths, whether each uses the short forms)."""
        shown = [i for i, c in enumerate(self.columns) if (c.narrow_only if not self.wide else not c.narrow_only)
                 or not (c.wide_only or c.narrow_only)]
        if width is None or self.wide:
            return shown, [self._natural(i, False) for i in shown], [False] * len(shown)
        shown = [i for i in shown if self.columns[i].min_table_width <= width]

        def minimum(i: int) -> int:
            natural = self._natural(i, True)
            column = self.columns[i]
            return min(natural, max(column.min_width, 1)) if column.cut else natural

        droppable = sorted((i for i in shown if self.columns[i].priority > 0),
                           key=lambda i: (self.columns[i].priority, i), reverse=True)
        while True:
            need = sum(minimum(i) for i in shown) + self.gap * (len(shown) - 1)
            if need <= width or not droppable:
                break
            shown.remove(droppable.pop(0))
        widths = {i: minimum(i) for i in shown}
        short = {i: True for i in shown}
        spare = width - (sum(widths.values()) + self.gap * (len(shown) - 1))
        # The spare columns go to the most important columns first: each takes its whole values
        # (full forms) if they fit, and a cut column grows back toward its natural width.
        for i in sorted(shown, key=lambda i: (self.columns[i].priority, i)):
            full = self._natural(i, False)
            if full - widths[i] <= spare:
                spare -= max(full - widths[i], 0)
                widths[i], short[i] = max(full, widths[i]), False
            elif self.columns[i].cut and spare > 0:
                grow = min(spare, max(self._natural(i, True) - widths[i], 0))
                widths[i] += grow
                spare -= grow
        return shown, [widths[i] for i in shown], [short[i] for i in shown]

    # -- rendering ---------------------------------------------------------------------------------

    def render_lines(self, width: int | None) -> list[list[Segment]]:
        """The table as lines of (text, style) pieces, at most `width` wide where the names allow."""
        shown, widths, short = self.layout(width)
        lines: list[list[Segment]] = []
        if self.show_header:
            lines.append(self._line([(f"[bold]{self.columns[i].header}[/]", i) for i in shown], widths))
        for row in self.rows:
            lines.append(self._line([(row[i][1 if s else 0], i) for i, s in zip(shown, short)], widths))
        return lines

    def render_text(self, width: int | None) -> str:
        """The plain text of the table, for tests and pipes."""
        return "".join("".join(text for text, _ in line) + "\n" for line in self.render_lines(width))

    def _line(self, cells: list[tuple[str, int]], widths: list[int]) -> list[Segment]:
        out: list[Segment] = []
        for position, ((markup, index), width) in enumerate(zip(cells, widths)):
            column = self.columns[index]
            pieces = fit(segments(markup), width, column.cut or "right")
            used = sum(len(text) for text, _ in pieces)
            pad = " " * (width - used)
            if column.justify == "right":
                pieces = [(pad, None), *pieces] if pad else pieces
                pad = ""
            if position:
                out.append((" " * self.gap, None))
            out.extend(pieces)
            if pad:
                out.append((pad, None))
        return strip_trailing(out)


def fit(pieces: list[Segment], width: int, side: str) -> list[Segment]:
    """Cut styled text to `width` characters with "…" at the `side` that gives way."""
    total = sum(len(text) for text, _ in pieces)
    if total <= width:
        return pieces
    if width <= 1:
        return [(ELLIPSIS[:width], None)]
    keep = width - 1
    if side == "left":
        out: list[Segment] = []
        for text, style in reversed(pieces):
            if keep <= 0:
                break
            out.insert(0, (text[-keep:], style))
            keep -= len(out[0][0])
        return [(ELLIPSIS, pieces[0][1]), *out]
    out = []
    for text, style in pieces:
        if keep <= 0:
            break
        out.append((text[:keep], style))
        keep -= len(out[-1][0])
    return [*out, (ELLIPSIS, pieces[-1][1])]


def strip_trailing(pieces: list[Segment]) -> list[Segment]:
    while pieces and not pieces[-1][0].rstrip():
        pieces = pieces[:-1]
    if pieces:
        text, style = pieces[-1]
        pieces = [*pieces[:-1], (text.rstrip(), style)]
    return pieces
