"""`use`, `off`, `restore`, `status`/`current`: make a profile the default of every plain `claude`,
undo it, and explain which setting wins."""

import os
from typing import Annotated, Optional

import typer

from ccswitch import paths
from ccswitch.claude import settings as claude_settings
from ccswitch.claude.models import DEFAULT_ALIAS
from ccswitch.claude.precedence import SCOPE_SOURCE, root_local_ignored
from ccswitch.claude.sources import rank, read_sources
from ccswitch.claude.variables import CREDENTIAL_VARIABLES
from ccswitch.cli.common import (
    JsonOption,
    WideOption,
    exit_with,
    load_profiles,
    profile_names,
    reports_errors,
    scope_names,
)
from ccswitch.console import escape, stderr
from ccswitch.findings import Finding
from ccswitch.profiles.environment import (
    prepare_claude_state,
    profile_environment,
    refuse_gateway_only,
)
from ccswitch.profiles.model import Profile
from ccswitch.profiles.routing import stray_model
from ccswitch.profiles.tokens import TokenResolver
from ccswitch.redact import mask
from ccswitch.switching.backups import find_backup
from ccswitch.switching.git import ensure_git_ignored, refuse_if_tracked
from ccswitch.switching.records import (
    SCOPES,
    SettingsTarget,
    outside_git_note,
    target_for,
)
from ccswitch.switching.transaction import holds_secret

ScopeOption = Annotated[
    str,
    typer.Option("--scope", help="user: your settings.json (or $CLAUDE_CONFIG_DIR's); "
                 "project: .claude/settings.local.json at the git root (git-ignored).", autocompletion=scope_names),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the change as a diff (tokens masked); write nothing.")]


def _check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise typer.BadParameter(f"{scope!r} is not one of {', '.join(SCOPES)}", param_hint="--scope")
    return scope


def _target(scope: str, env: dict[str, str]) -> SettingsTarget:
    return target_for(_check_scope(scope), paths.claude_user_settings(env), os.getcwd())


def _model_to_write(profile: Profile, target: SettingsTarget, env: dict[str, str]) -> tuple[str | None, Finding | None]:
    """The "model" key `use` writes: the profile's `model`; else, when the session model claude would
    take from a settings file is one the profile does not serve, its default alias in the target file
    (which beats that file if it is the target or below it); a file above the target only gets named."""
    if profile.model:
        return profile.model, None
    stray = stray_model(profile, read_sources(env, os.getcwd()))
    if stray is None:
        return None, None
    finding, source = stray
    if source.name != "managed" and rank(source.name) >= rank(SCOPE_SOURCE[target.scope]):
        return DEFAULT_ALIAS, Finding(finding.code, finding.level, finding.message.replace(
            "claude starts with", "`use` writes"), finding.fix)
    return None, Finding(finding.code, finding.level, f"{finding.message.split('; claude starts')[0]}, and it beats "
                                                      f"the {target.scope} settings `use` writes", finding.fix)


def _say_waiting(message: str) -> None:
    stderr.print(f"[muted]{escape(message)}[/]")


def _scope_label(target: SettingsTarget) -> str:
    return f"{target.scope} settings ({target.path})"


def _print_diff(change) -> None:  # type: ignore[no-untyped-def]
    import difflib

    style = change.style

    def text(data: dict | None, exists: bool) -> list[str]:
        if data is None or not exists:
            return []
        shown = claude_settings.masked(data, CREDENTIAL_VARIABLES, mask)
        return claude_settings.dump(shown, claude_settings.Style(False, "\n", style.indent, True)).splitlines(keepends=True)

    before = text(change.before, change.existed)
    # Given back as the exact bytes kept (`off`, `statusline --uninstall`): shown in that file's key order.
    written = claude_settings.parse(change.text, change.target.path) if change.text is not None else change.after
    after = text(written, change.after is not None)
    diff = list(difflib.unified_diff(before, after, fromfile=change.target.path, tofile=change.target.path))
    if not diff:
        stderr.print(f"[muted]{escape(change.target.path)}: nothing would change[/]")
        return
    print("".join(diff), end="")


@reports_errors
def use_profile(
    name: Annotated[str, typer.Argument(help="Profile name.", autocompletion=profile_names)],
    scope: ScopeOption = "user",
    dry_run: DryRunOption = False,
    force: Annotated[bool, typer.Option("--force", help="Write the token even into a settings file that git tracks.")] = False,
    no_onboarding_fix: Annotated[
        bool, typer.Option("--no-onboarding-fix", help="Leave .claude.json alone (first-run screens, the API-key question).")
    ] = False,
) -> None:
    """Make a profile the default for every plain `claude` by editing only ccswitch's keys in settings.json.

    Everything else in the file (permissions, hooks, plugins, your own env entries) stays as it is;
    a backup is taken first and `ccswitch off` puts back exactly what was there.

    Example: ccswitch use glm --dry-run && ccswitch use glm
    """
    from ccswitch.switching.transaction import use

    env = dict(os.environ)
    profile = load_profiles(env).get(name)
    refuse_gateway_only(profile, "use")
    target = _target(scope, env)
    token = TokenResolver(env).resolve_profile(profile)
    # The model goes into the settings "model" key, not ANTHROPIC_MODEL: the env variable would
    # override every `/model` choice in every later session (see README, "Switching the default").
    block = profile_environment(profile, token, include_model=False)
    note = None
    outside_git = outside_git_note(target)
    if outside_git:
        stderr.print(f"[muted]{escape(outside_git)}[/]")
    if target.scope == "project" and not dry_run and target.root:
        note = ensure_git_ignored(target.root, target.path)
    elif holds_secret({claude_settings.ENV_KEY: block}) and not force:
        refuse_if_tracked(target.path)
    model, stray = _model_to_write(profile, target, env)
    change = use(target, profile.name, block, model, paths.state_dir(env), paths.backups_dir(env),
                 dry_run=dry_run, on_wait=_say_waiting)
    if dry_run:
        _print_diff(change)
        return
    if note:
        stderr.print(f"[muted]{escape(note)}[/]")
    if not no_onboarding_fix:  # the same rule as `run`
        warning = prepare_claude_state(profile, token, paths.claude_state_file(env))
        if warning:
            stderr.print(f"[warning]warning:[/] {escape(warning)}")
    if stray is not None:
        stderr.print(f"[warning]warning:[/] {escape(stray.message)}")
    if change.backup_id is None:
        stderr.print(f"{escape(profile.name)} is already active in {escape(_scope_label(target))}; nothing changed")
    else:
        stderr.print(f"[ok]{escape(profile.name)}[/] is now the profile of every plain `claude` via "
                     f"{escape(_scope_label(target))}\n[muted]backup {change.backup_id}; `ccswitch off"
                     f"{' --scope project' if target.scope == 'project' else ''}` undoes it[/]")
    if target.scope == "project" and target.root:
        _warn_old_claude(env, target.root)
    _print_conflicts(env, only_overrides=True)


def _warn_old_claude(env: dict[str, str], root: str) -> None:
    """A claude before 2.1.211 reads the file `use --scope project` wrote only when started in the
    project's root (claude.precedence.root_local_ignored)."""
    from ccswitch.claude import installed

    if not os.path.exists(os.path.join(root, ".git")):
        return  # outside git the project is this directory, whatever the release
    note = root_local_ignored(installed.probe(env).release, root, os.path.abspath(os.getcwd()) != root)
    if note is not None:
        stderr.print(f"[warning]warning:[/] {escape(note.message)}\n[muted]fix: {escape(note.fix)}[/]")


@reports_errors
def switch_off(scope: ScopeOption = "user", dry_run: DryRunOption = False) -> None:
    """Remove what `ccswitch use` set and put back the values it displaced; nothing else changes.

    Example: ccswitch off
    """
    from ccswitch.switching.transaction import off

    env = dict(os.environ)
    target = _target(scope, env)
    change = off(target, paths.state_dir(env), paths.backups_dir(env), dry_run=dry_run, on_wait=_say_waiting)
    if change is None:
        stderr.print(f"no profile is active in {escape(_scope_label(target))}; nothing to undo")
        return
    if dry_run:
        _print_diff(change)
        return
    if change.changed_keys:
        stderr.print(f"[warning]note:[/] changed since `use`, now put back as they were before it: "
                     f"{escape(', '.join(change.changed_keys))}")
    backup = f"; backup {change.backup_id}" if change.backup_id else ""
    if change.kept:
        stderr.print(f"[ok]off[/]: ccswitch's keys in {escape(_scope_label(target))} are as they were before "
                     f"`ccswitch use`; kept what changed there since: {escape(', '.join(change.kept))}{backup}")
    elif change.after is None:
        stderr.print(f"[ok]off[/]: removed {escape(_scope_label(target))}, which `ccswitch use` had created{backup}")
    else:
        stderr.print(f"[ok]off[/]: {escape(_scope_label(target))} is as it was before `ccswitch use`{backup}")


@reports_errors
def restore_backup(
    backup_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="Backup id (a unique prefix is enough); default: the newest.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the backups instead, newest first.")] = False,
    scope: ScopeOption = "user",
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Bring back a settings file (and ccswitch's record of it) from the backup taken before a change.

    Without an ID, the newest backup of the --scope's file. The current file is backed up first.

    Example: ccswitch restore --list; ccswitch restore 20261122-0815
    """
    from ccswitch.commands import switching as commands
    from ccswitch.switching.transaction import restore

    env = dict(os.environ)
    backups = paths.backups_dir(env)
    if list_:
        exit_with(commands.list_restore_points(as_json, wide))
        return
    target = _target(scope, env)
    backup = find_backup(backups, backup_id, target.path)
    change = restore(backup, paths.state_dir(env), backups, dry_run=dry_run, on_wait=_say_waiting)
    if dry_run:
        _print_diff(change)
        return
    stderr.print(f"[ok]restored[/] {escape(str(backup['settings_path']))} from backup {escape(str(backup['id']))} "
                 f"(taken before `{escape(str(backup['reason']))}`)\n[muted]the file as it was is in backup {change.backup_id}[/]")


def _print_conflicts(env: dict[str, str], only_overrides: bool = False) -> None:
    from ccswitch.commands import switching as commands

    for warning in commands.analysis(env)["warnings"]:  # type: ignore[union-attr]
        if only_overrides and warning["code"] != "override":
            continue
        stderr.print(f"[warning]warning:[/] {escape(warning['message'])}")


def show_status(as_json: JsonOption = False) -> None:
    """Show what a plain `claude` started here will use, which file each value comes from, and what conflicts.

    Example: ccswitch status
    """
    from ccswitch.commands import switching as commands

    exit_with(commands.show_status(as_json))


def register(app: typer.Typer) -> None:
    app.command("use")(use_profile)
    app.command("off")(switch_off)
    app.command("restore")(restore_backup)
    app.command("status")(reports_errors(show_status))
    app.command("current", help="Alias of `status`: what a plain `claude` started here will use, and why.\n\nExample: ccswitch current --json")(reports_errors(show_status))
