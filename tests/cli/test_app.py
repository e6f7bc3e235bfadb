"""The typer app's start-up, which every `--help` and every command outside the light doors pays
(bench/startup.py): annotations typer does not have to compile again."""

from __future__ import annotations

import ast
from pathlib import Path

import ccswitch.cli

CLI = Path(ccswitch.cli.__file__).parent


def test_no_command_module_defers_its_annotations():
    """typer reads every command's annotations at each start; as strings (PEP 563) it compiles and
    evaluates each again, ~13 ms of a `--help` (cli/__init__.py)."""
    deferred = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                deferred.append(path.name)
    assert deferred == []
