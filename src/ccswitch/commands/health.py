"""`test` and `doctor`: what each prints, one line per profile and model (`test`), one check per
line with its fix below, wrapped to the width (`doctor`)."""

from __future__ import annotations

import os
import re

from ccswitch.console import Output, escape, print_json, stdout
from ccswitch.findings import FAIL, OK, SKIPPED, WARN
from ccswitch.tables import Column, Table

RESULT_STYLE = {OK: "[ok]OK[/]", FAIL: "[error]FAIL[/]", SKIPPED: "[muted]SKIP[/]"}
CHECK_STYLE = {OK: "[ok]OK[/]  ", WARN: "[warning]WARN[/]", FAIL: "[error]FAIL[/]"}
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")


def short_detail(detail: str) -> str:
    """One line of a failure's detail for the table: `[Errno -2] Name or service not known` says
    no more than `Name or service not known`; --json keeps the detail as it came."""
    return " ".join(_ERRNO.sub("", detail).split())


def test_table(rows: list[dict], wide: bool = False) -> Table:
    """The profile and the result whole; the reason cut to the width (--json or --wide: whole)."""
    table = Table([
        Column("profile"),
        Column("model", priority=2, cut="right", min_width=10),
        Column("result"),
        Column("reason", priority=1, cut="right", min_width=24),
        Column("HTTP", priority=4, justify="right"),
        Column("connect", priority=6, justify="right"),
        Column("first byte", priority=5, justify="right"),
        Column("total", priority=3, justify="right"),
    ], wide=wide)
    for row in rows:
        model = escape(str(row["model"])) if row["model"] else "-"
        if row["model"] and row["tiers"]:
            model += f" [muted]({escape(', '.join(row['tiers']))})[/]"
        reason = escape(str(row["reason"]))
        if row["detail"] and row["result"] != "ok":
            reason += f"[muted]: {escape(short_detail(str(row['detail'])))}[/]"
        table.add_row(
            f"[name]{escape(str(row['profile']))}[/]",
            model,
            RESULT_STYLE[str(row["result"])],
            reason,
            str(row["http_status"] or "-"),
            *(_ms(row[key]) for key in ("connect_ms", "first_byte_ms", "total_ms")),
        )
    return table


def _ms(value: object) -> str:
    return f"{value:.0f} ms" if isinstance(value, (int, float)) else "-"


def print_doctor(checks: list, *, out: Output = stdout) -> None:
    """`STATUS  check  message`, the message wrapped under itself, `fix: ...` on the next line."""
    import textwrap  # only here: `doctor` is the one command that wraps

    label_width = max((len(check.check) for check in checks), default=0)
    indent = 4 + 2 + label_width + 2
    width = out.width
    room = (width - indent) if width and width - indent >= 24 else None
    for check in checks:
        lines = [check.message]
        if check.fix and check.level != OK:
            lines.append(f"fix: {check.fix}")
        first = True
        for number, text in enumerate(lines):
            wrapped = textwrap.wrap(text, room, break_long_words=True, break_on_hyphens=False) if room else [text]
            for piece in wrapped or [""]:
                style = "muted" if number else None
                body = f"[{style}]{escape(piece)}[/]" if style else escape(piece)
                if first:
                    label = escape(check.check.ljust(label_width))
                    out.print(f"{CHECK_STYLE[check.level]}  {label}  {body}".rstrip())
                    first = False
                else:
                    out.print(" " * indent + body)


def doctor(as_json: bool = False, *, out: Output = stdout) -> int:
    """`ccswitch doctor`: exit status 1 when any check fails."""
    from ccswitch.health import (
        doctor as core,  # its checks read files and run claude --version
    )
    from ccswitch.profiles.presets import presets_dir

    checks = core.run_doctor(dict(os.environ), os.getcwd(), presets_dir())
    failed = core.failed(checks)
    if as_json:
        print_json({"passed": not failed, "checks": [core.as_dict(check) for check in checks]})
    else:
        print_doctor(checks, out=out)
    return 1 if failed else 0
