"""The usage engine: Claude Code transcripts and gateway records -> tokens and cost per profile.

What lives here, one module per job:

  messages.py  `Message`, the one usage record every other module passes around
  scan.py      finding transcripts and pulling assistant usage out of their bytes (the hot path)
  index.py     the SQLite index in the state dir: files read and how far, deduped messages
  gateway.py   reading the gateway's request records (its own SQLite file, maybe absent)
  sessions.py  `record_session`: which profile `ccswitch run` launched for which session (launch path)
  prices.py    price entries, Anthropic's list prices, the TOML price-table format, costing
  providers.py what the profiles tell the engine: price tables, who served a model
  report.py    grouping, attribution and costing into the `ccswitch usage --json` shape
  render.py    the rich table and the daily bar chart (the only module that imports rich)
  collect.py   the front door: update the index, merge the gateway, build a report

The status line (commands/statusline.py) imports much of this package after every message of
claude, so these modules stay light: plain classes and `collections.namedtuple`, no dataclasses,
`typing` only for the type checker (`TYPE_CHECKING = False`), no hashlib (bench/statusline.py
measures it).

May import: the standard library, the ground floor (`fsutil`, `errors`), rich (render.py only),
and `profiles` and `claude` (providers.py only). Everything else (paths, price tables, the
attribution callable) comes in as arguments, so the engine itself knows neither the CLI nor the
profiles. No token is ever read or written here (providers.py only asks whether one is set).
"""

from __future__ import annotations
