"""The report for people: a table and a bar chart per day (or week, month), at most 80 columns.

Built from `ccswitch.tables` and console markup, so a terminal gets colours through the console and
a pipe gets the same characters without importing rich. Columns give way by priority (the token
columns first); the profile, model and cost never disappear, and a cost is never cut: a cost that
is not known is written "unknown", never 0. In the chart each profile has its own bar character,
so the bars stay apart without colour, and its own colour in a terminal.
"""

from __future__ import annotations

from ccswitch.console import escape, plain
from ccswitch.profiles.quota import counted
from ccswitch.tables import Column, Table
from ccswitch.usage.report import Report
from ccswitch.usage.windows import clock

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

MAX_WIDTH = 80
SYMBOLS = {"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£", "JPY": "¥"}
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")
GLYPHS = "█▓▒░▚#=+"
TOKEN_COLUMNS = (("Req", "requests", 1), ("Prompts", "prompts", 6), ("In", "input_tokens", 3),
                 ("Out", "output_tokens", 2), ("C.rd", "cache_read_tokens", 4), ("C.wr", "cache_write_tokens", 5))


def money(amount: float | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return "unknown"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def count(value: int) -> str:
    """At most five characters (953k, 57.2M): eight columns of numbers must fit in 80."""
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= limit:
            scaled = value / limit
            return f"{scaled:.0f}{suffix}" if scaled >= 99.95 else f"{scaled:.1f}{suffix}"
    return str(value)


def total_cost(totals: dict[str, Any]) -> str:
    """The totals' cost: one sum per currency; "+?" when some requests have no known price."""
    costs = totals.get("costs") or {}
    text = " + ".join(money(amount, currency) for currency, amount in sorted(costs.items()))
    if totals.get("unpriced_requests"):
        return (text + " +?") if text else "unknown"
    return text or "-"


def usage_table(report: Report, by: str | None = None) -> Table:
    """The rows and a total line; `by` names the first column (day, week, month, project, session)."""
    columns = []
    first = by if by in ("day", "week", "month", "project", "session") else None
    if first == "session":
        columns += [Column("Session", min_width=36), Column("Last", priority=0),
                    Column("Project", cut="left", min_width=8, priority=7)]
    elif first == "project":
        columns.append(Column("Project", cut="left", min_width=12))
    elif first:
        columns.append(Column(first.capitalize()))
    columns += [Column("Profile", cut="right", min_width=7), Column("Model", cut="right", min_width=8)]
    columns += [Column(header, justify="right", priority=priority) for header, _, priority in TOKEN_COLUMNS]
    columns.append(Column("Cost", justify="right"))
    table = Table(columns, gap=1)
    for row in report.rows:
        cells: list[str | tuple[str, str]] = []
        if first == "session":
            cells += [escape(row["session"]), (row["last"] or "", (row["last"] or "")[5:]), escape(row["project"] or "")]
        elif first:
            cells.append(escape(str(row[first] or "-")))
        cells += [escape(str(row["profile"] or "-")), escape(str(row["model"] or "-"))]
        cells += [count(row[key]) for _, key, _ in TOKEN_COLUMNS]
        cells.append(money(row["cost"], row["currency"]))
        table.add_row(*cells)
    totals = report.totals
    lead = ["", "", ""] if first == "session" else [""] if first else []
    table.add_row(*lead, "[bold]Total[/]", "", *(count(totals.get(key, 0)) for _, key, _ in TOKEN_COLUMNS),
                  f"[bold]{escape(total_cost(totals))}[/]")
    return table


def window_use(state: Any) -> str:
    """A window's use (usage.windows.WindowState): "1 request", "12/600 prompts", "1/1 prompt"
    (the noun goes with the limit when there is one)."""
    quota = state.quota
    if quota.limit is None:
        return counted(state.used, quota.measure)
    return f"{state.used:,}/{counted(quota.limit, quota.measure)}"


def unpriced_note(report: Report) -> str | None:
    unpriced = report.totals.get("unpriced_requests", 0)
    if not unpriced:
        return None
    return f"unknown: no price for {counted(unpriced, 'requests')} (unknown profile or model)"


def chart_lines(report: Report, width: int = MAX_WIDTH) -> list[str]:
    """One bar per day (week, month), split by profile, as markup lines no wider than `width`: the
    cost when every response was priced in one currency, else the tokens (said in the title)."""
    periods = report.chart
    if not periods:
        return ["No usage in this period."]
    width = min(width, MAX_WIDTH)
    currencies = {currency for period in periods.values() for currency in period["costs"]}
    by_cost = len(currencies) == 1 and not any(period["unpriced_requests"] for period in periods.values())
    currency = next(iter(currencies)) if by_cost else None

    def value(part: dict[str, Any]) -> float:
        return part["costs"].get(currency, 0.0) if by_cost else float(part["tokens"])

    labels = {name: money(value(data), currency) if by_cost else count(int(data["tokens"])) for name, data in periods.items()}
    head = max(len(name) for name in periods) + 1
    room = max(10, width - head - 1 - max(len(label) for label in labels.values()))
    peak = max(value(data) for data in periods.values()) or 1.0
    profiles = sorted({p for data in periods.values() for p in data["profiles"]})
    marks = {p: (GLYPHS[i % len(GLYPHS)], PALETTE[i % len(PALETTE)]) for i, p in enumerate(profiles)}
    unit = {"day": "Daily", "week": "Weekly", "month": "Monthly"}[report.unit]
    lines = [f"[bold]{unit} " + (f"cost ({currency})" if by_cost else "tokens (not every cost is known)") + "[/]"]
    for name, data in periods.items():
        bar, done, total = [], 0, 0.0
        for profile in profiles:
            part = data["profiles"].get(profile)
            if part:
                total += value(part)
                length = round(total / peak * room) - done  # cumulative: the parts never outgrow the room
                if length > 0:
                    glyph, colour = marks[profile]
                    bar.append(f"[{colour}]{glyph * length}[/]")
                    done += length
        lines.append(f"{name:<{head - 1}} " + "".join(bar) + " " + labels[name])
    if len(profiles) > 1:
        lines += _legend([f"[{marks[p][1]}]{marks[p][0]}[/] {escape(p)}" for p in profiles], width)
    return lines


def _legend(items: list[str], width: int) -> list[str]:
    lines, current = [], ""
    for item in items:
        candidate = f"{current}  {item}" if current else item
        if current and len(plain(candidate)) > width:
            lines.append(current)
            candidate = item
        current = candidate
    return [*lines, current]


def render(report: Report, by: str | None = None, width: int = MAX_WIDTH) -> str:
    """The table, a note on unpriced requests and the chart, as plain text (tests, pipes)."""
    width = min(width, MAX_WIDTH)
    text = usage_table(report, by).render_text(width)
    note = unpriced_note(report)
    if note:
        text += note + "\n"
    return text + "\n" + "".join(plain(line).rstrip() + "\n" for line in chart_lines(report, width))


def windows_table(states: list[tuple[str, Any]], now: float) -> Table:
    """One line per profile and quota window: use against the limit, when it gives room again,
    the burn rate and, at that rate, when the limit is reached."""
    table = Table([Column("Profile", cut="right", min_width=7), Column("Window"), Column("Used"),
                   Column("Resets", cut="right", min_width=5), Column("Burn/h", justify="right", priority=2),
                   Column("Full at", priority=1)], gap=2)
    for profile, state in states:
        quota = state.quota
        used = window_use(state)
        if state.over:
            used = f"[red]{used}[/]"
        if state.start is None:
            resets = "idle: the next use starts one"
        else:
            resets = moment(state.resets_at, now) if state.resets_at else "-"
        rate = "-" if state.rate is None else f"{state.rate:,.0f}"
        table.add_row(escape(profile), f"{quota.window} {quota.reset}" + (f" ({quota.plan})" if quota.plan else ""),
                      used, resets, rate, moment(state.full_at, now) if state.full_at else "-")
    return table


def moment(ts: float | None, now: float) -> str:
    """"17:40 (in 2h05m)" today, "12-08 00:00 (in 2d03h)" later."""
    if ts is None:
        return "-"
    left = max(0, int(ts - now))
    days, rest = divmod(left, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    span = f"{days}d{hours:02d}h" if days else f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
    return f"{clock(ts, now)} (in {span})"
