"""`import`: providers from cc-switch, ccs, claude-code-router or claude's own settings as profiles."""

import os
from typing import Annotated, Optional

import typer

from ccswitch import paths
from ccswitch.cli.common import reports_errors
from ccswitch.console import stderr, stdout
from ccswitch.errors import ExitStatus
from ccswitch.profiles.presets import presets_dir


def _import_sources(incomplete: str) -> list[str]:
    from ccswitch.commands import completion

    return completion.values(completion.IMPORT_SOURCE, incomplete, dict(os.environ))


@reports_errors
def import_profiles(
    source: Annotated[str, typer.Argument(help="cc-switch, ccs, ccr (claude-code-router) or claude.", autocompletion=_import_sources)],
    path: Annotated[Optional[str], typer.Argument(help="The tool's file or directory (default: where the tool keeps it).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be written (keys masked); change nothing.")] = False,
    prefix: Annotated[str, typer.Option("--prefix", help="Put this before every imported profile's name.")] = "",
    force: Annotated[bool, typer.Option("--force", help="Replace profiles of the same name that differ.")] = False,
    plain_text: Annotated[bool, typer.Option("--plain-text", help="Keep keys in profiles.toml (0600) instead of the OS keyring.")] = False,
) -> None:
    """Import providers from another tool's own files as profiles.

    Keys go into the OS keyring (env references stay references); entries for other apps (Codex,
    Gemini CLI, ...) are skipped and counted. Importing the same source again changes nothing.

    Example: ccswitch import cc-switch --dry-run
    """
    from ccswitch.importing import apply
    from ccswitch.importing.readers import read_source
    from ccswitch.profiles.store import open_for_change

    env = dict(os.environ)
    home = paths.home_dir(env)
    found = read_source(source, path, env, home, os.getcwd())
    presets = presets_dir()
    opened = open_for_change(paths.profiles_file(env), presets, cache_path=paths.profiles_cache_file(env), home=home)
    result = apply.plan(found, opened, prefix=prefix, force=force, plain_text=plain_text)
    if dry_run:
        apply.check_keyring(result)  # as the import itself would: a dry run promises nothing it refuses
        text = apply.dry_run_text(result)
        if text:
            stdout.print(text.rstrip("\n"), markup=False)
    else:
        apply.apply(result, opened, presets)
    for line in apply.report_lines(result, dry_run=dry_run, plain_text=plain_text):
        stderr.print(line, markup=False)
    if found.refused or any(action.status == apply.INVALID for action in result.actions):
        raise typer.Exit(int(ExitStatus.FAILURE))  # the others were imported; those said why not


def register(app: typer.Typer) -> None:
    app.command("import")(import_profiles)
