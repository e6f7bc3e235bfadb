"""The typer app: one module per command group, each registering its commands on the app in
`cli.app`. Parse -> core -> render; nothing here is imported on the `run`/`env` path.

May import: everything.
"""
