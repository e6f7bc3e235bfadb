"""The read-only commands without typer: what `list`, `show`, `presets`, `which`, `status`,
`restore --list`, `test`, `doctor` and `usage` compute and print (tables fitted to the width, `--json` for
scripts), shared by the typer app (`cli/`) and the light front door (`front_door.py`), which
answers these commands, and shell completion, without importing typer or rich.

May import: the ground floor and every core package (`claude`, `profiles`, `switching`, `launch`,
`health`, `usage`); never `cli` (which imports this package) nor typer.
"""
