"""`status` (alias `current`) and `restore --list`: what a plain `claude` started here will use, and
the backups `restore` can bring back."""

from __future__ import annotations

import os

from ccswitch import paths
from ccswitch.claude import installed, precedence, sources
from ccswitch.console import Output, escape, print_json, stderr, stdout
from ccswitch.profiles.active import missing_active, stray_models
from ccswitch.profiles.cache import load_profiles
from ccswitch.switching.backups import list_backups
from ccswitch.switching.records import active_records
from ccswitch.tables import Column, Table


def analysis(env: dict[str, str]) -> dict[str, object]:
    """precedence's analysis, plus what only the profiles know: a settings "model" the active
    profile does not serve, and an active profile that no longer exists."""
    cwd = os.getcwd()
    active = active_records(paths.state_dir(env), paths.claude_user_settings(env), cwd)
    situation = precedence.gather(env, cwd, active, lambda: installed.probe(env).release)
    result = situation.analyze()
    profile_set = load_profiles(env)
    extra = [*missing_active(profile_set, active), *stray_models(profile_set, active, situation.sources)]
    result["warnings"] = [*result["warnings"], *(f.as_dict() for f in extra)]  # type: ignore[misc]
    result["missing_profiles"] = sorted({str(r.get("profile")) for r in active.values()
                                         if r and r.get("profile") not in profile_set})
    return result


def show_status(as_json: bool = False, *, out: Output = stdout, err: Output = stderr) -> int:
    """`ccswitch status`."""
    env = dict(os.environ)
    data = analysis(env)
    if as_json:
        print_json(data)
        return 0
    gone = set(data["missing_profiles"])  # type: ignore[arg-type]
    for scope, active in data["active"].items():  # type: ignore[union-attr]
        if active:
            changed = f" [warning](changed since: {escape(', '.join(active['changed']))})[/]" if active["changed"] else ""
            missing = " [warning](no such profile any more)[/]" if active["profile"] in gone else ""
            out.print(f"{scope} scope: [name]{escape(str(active['profile']))}[/]{missing} since {escape(str(active['since']))} "
                      f"[muted]({escape(str(active['path']))})[/]{changed}")
        else:
            out.print(f"{scope} scope: [muted]no ccswitch profile[/]")
    table = Table([Column("variable"), Column("value", priority=1, cut="right", min_width=12),
                   Column("from", priority=2, cut="left", min_width=12)])
    unset = 0
    blanked: dict[str, list[str]] = {}
    for row in data["variables"]:  # type: ignore[union-attr]
        if row["source"] is None:
            unset += 1
        elif not row["set"]:
            # A blank value wins like any other and counts as unset: one line per source is enough.
            blanked.setdefault(sources.LABELS.get(row["source"], row["source"]), []).append(row["name"])
        else:
            table.add_row(escape(row["name"]), escape(row["value"]), escape(sources.LABELS.get(row["source"], row["source"])))
    model = data["model"]
    table.add_row("model (session)", escape(str(model["value"] or "-")), escape(str(model["source"])))  # type: ignore[index]
    out.print(table)
    for label, names in blanked.items():
        out.print(f"[muted]blanked (unset for claude) by {escape(label)}: {escape(', '.join(names))}[/]")
    if unset:
        out.print(f"[muted]{unset} other managed variables are set nowhere[/]")
    for source in data["sources"]:  # type: ignore[union-attr]
        state = "error" if source["error"] else ("present" if source["exists"] else "absent")
        out.print(f"[muted]{source['label']}: {escape(str(source['path']))} ({state})[/]")
    for warning in data["warnings"]:  # type: ignore[union-attr]
        err.print(f"[warning]warning:[/] {escape(warning['message'])}")
    return 0


def list_restore_points(as_json: bool = False, wide: bool = False, *, out: Output = stdout, err: Output = stderr) -> int:
    """`ccswitch restore --list`: the id to type is always whole."""
    rows = list_backups(paths.backups_dir(dict(os.environ)))
    if as_json:
        print_json(rows)
        return 0
    if not rows:
        err.print("no backups yet (ccswitch takes one before every change it makes)")
        return 0
    out.print(backups_table(rows, wide=wide))
    return 0


def backups_table(rows: list[dict], wide: bool = False) -> Table:
    table = Table([
        Column("id"),
        Column("created", priority=3),
        Column("before", priority=2, cut="right", min_width=10),
        Column("file", priority=1, cut="left", min_width=16),
    ], wide=wide)
    for row in rows:
        created = str(row["created"])
        table.add_row(escape(str(row["id"])), (escape(created), escape(created[:16].replace("T", " "))),
                      escape(str(row["reason"])),
                      escape(str(row["settings_path"])) + ("" if row["existed"] else " [muted](did not exist)[/]"))
    return table
