"""The report for people: a rich table and a daily bar chart, at most 80 columns wide.

The only module of the engine that imports rich. Output is returned as text with no trailing
spaces, so it reads the same in a terminal, piped into less or pasted into an issue; colour only
when asked for. A cost that is not known is written "unknown", never 0.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ccswitch.usage.report import Report

MAX_WIDTH = 80
SYMBOLS = {"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£", "JPY": "¥"}
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")
_TAIL = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$")  # spaces and colour codes at the end of a line


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
    costs = totals.get("costs") or {}
    text = " + ".join(money(amount, currency) for currency, amount in sorted(costs.items()))
    if totals.get("unpriced_requests"):
        return (text + " +?") if text else "unknown"
    return text or money(0.0, "USD") if not costs else text


def render_table(report: Report, *, color: bool = False, width: int = MAX_WIDTH) -> str:
    # no padding: the box's blank column divider is the one space between columns
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, show_footer=True, pad_edge=False, padding=(0, 0))
    first = next((key for key in ("day", "session") if report.rows and key in report.rows[0]), None)
    if first:
        table.add_column(first.capitalize(), footer="Total", no_wrap=True, overflow="ellipsis", min_width=10, max_width=10)
    table.add_column("Profile", footer="" if first else "Total", no_wrap=True, overflow="ellipsis", max_width=9 if first else 10)
    table.add_column("Model", no_wrap=True, overflow="ellipsis", max_width=16 if first else 24)
    totals = report.totals
    for header, key in (("Req", "requests"), ("In", "input_tokens"), ("Out", "output_tokens"),
                        ("C.rd", "cache_read_tokens"), ("C.wr", "cache_write_tokens")):
        table.add_column(header, justify="right", no_wrap=True, min_width=5, footer=count(totals.get(key, 0)))
    table.add_column("Cost", justify="right", no_wrap=True, min_width=7, footer=total_cost(totals))
    for row in report.rows:
        cells = [str(row[first])] if first else []
        cells += [str(row["profile"] or "-"), str(row["model"] or "-")]
        cells += [count(row[k]) for k in ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")]
        cells.append(money(row["cost"], row["currency"]))
        table.add_row(*cells)
    text = _print(table, color, width)
    unpriced = totals.get("unpriced_requests", 0)
    if unpriced:
        text += f"unknown: no price for {unpriced} request{'s' if unpriced != 1 else ''} (unknown profile or model)\n"
    return text


def render_daily_chart(report: Report, *, color: bool = False, width: int = MAX_WIDTH) -> str:
    """One bar per day, split by profile; the cost when every response was priced in one currency,
    else the tokens (said in the title)."""
    days = report.daily
    if not days:
        return "No usage in this period.\n"
    currencies = {currency for day in days.values() for currency in day["costs"]}
    by_cost = len(currencies) == 1 and not any(day["unpriced_requests"] for day in days.values())
    currency = next(iter(currencies)) if by_cost else None

    def value(part: dict[str, Any]) -> float:
        return part["costs"].get(currency, 0.0) if by_cost else float(part["tokens"])

    labels = {day: money(value(data), currency) if by_cost else count(int(data["tokens"])) for day, data in days.items()}
    room = max(10, min(width, MAX_WIDTH) - 11 - max(len(label) for label in labels.values()) - 1)
    peak = max(value(data) for data in days.values()) or 1.0
    profiles = sorted({p for data in days.values() for p in data["profiles"]})
    styles = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(profiles)}
    lines = [Text("Daily " + (f"cost ({currency})" if by_cost else "tokens (not every cost is known)"), style="bold")]
    for day, data in days.items():
        line = Text(day + " ")
        for profile in profiles:
            part = data["profiles"].get(profile)
            if part:
                line.append("█" * round(value(part) / peak * room), style=styles[profile])
        line.append(" " + labels[day])
        lines.append(line)
    if len(profiles) > 1:
        lines.append(Text("█ ").join(Text(p, style=styles[p]) for p in profiles) if color else Text(", ".join(profiles)))
    return _print(Text("\n").join(lines), color, width)


def render(report: Report, *, color: bool = False, width: int = MAX_WIDTH) -> str:
    return render_table(report, color=color, width=width) + "\n" + render_daily_chart(report, color=color, width=width)


def _print(renderable: Any, color: bool, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=min(width, MAX_WIDTH), color_system="standard" if color else None,
                      force_terminal=color, legacy_windows=False, highlight=False)
    console.print(renderable)
    return "\n".join(_strip_end(line) for line in buffer.getvalue().splitlines()) + "\n"


def _strip_end(line: str) -> str:
    """The line without trailing spaces, keeping the colour codes that close its styles."""
    return _TAIL.sub(lambda tail: re.sub(r"[ \t]", "", tail.group()), line)
