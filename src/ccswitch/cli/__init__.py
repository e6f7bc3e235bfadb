"""The typer app: one module per command group, each registering its commands on the app in
`cli.app`. Parse -> core -> render; nothing here is imported on the `run`/`env` path.

No `from __future__ import annotations` in these modules: typer reads every command's annotations
each time the app starts (any `--help` too), and as strings it compiles and evaluates each of them
again (~13 ms of a `--help`, bench/startup.py). A command's core is imported where it runs when
nothing else needs it at start-up. tests/cli/test_app.py holds both.

May import: everything.
"""
