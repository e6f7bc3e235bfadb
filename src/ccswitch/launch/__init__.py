"""Starting claude (or any program) on a profile: which profile, the plan, the settings file handed
to claude, exec, the hand-parsed `run`/`env`/`--resume` front door, and the fallback probe before launch.

May import: the ground floor, `claude`, `profiles`, `usage.sessions` (which profile ran which
session), and (only for a fallback check) `health`.
No typer, rich or tomlkit: every claude start passes through here (tests/e2e/test_launch_imports.py).
"""
