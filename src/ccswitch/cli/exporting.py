"""`export litellm` and `export higress`: the profiles as a real gateway's configuration."""

import os
import stat
from typing import Annotated, List, Optional

import typer

from ccswitch import paths
from ccswitch.cli.common import (
    MARKUP_MODE,
    load_profiles,
    profile_names,
    reports_errors,
)
from ccswitch.console import print_document, stderr

export_app = typer.Typer(
    help="Write a gateway's configuration from your profiles (keys as variables, never literal).\n\n"
         "Example: ccswitch export litellm --all -o litellm.yaml",
    no_args_is_help=True,
    rich_markup_mode=MARKUP_MODE,
)

Names = Annotated[Optional[List[str]], typer.Argument(help="Profiles to export.", autocompletion=profile_names)]
Every = Annotated[bool, typer.Option("--all", help="Every profile of yours (and of included files).")]
Output = Annotated[Optional[str], typer.Option("--output", "-o", help="Write here (a file; its folder must exist) "
                                                "instead of stdout; - is stdout.")]
STDOUT_NAMES = ("-", "/dev/stdout")


def _say(lines: list[str]) -> None:
    for line in lines:
        stderr.print(line, markup=False)


def _to_file(output: str | None) -> bool:
    return bool(output) and output not in STDOUT_NAMES


def _check_target(path: str) -> None:
    """Before anything is written: the folder is there (none is made: a typo would go unnoticed),
    and what is at `path`, if anything, is a regular file (a FIFO or a device is not replaced)."""
    from ccswitch.errors import CcswitchError, ExitStatus
    from ccswitch.fsutil import file_kind

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CcswitchError(f"cannot write {path}: the folder {folder} does not exist (create it first); nothing "
                            "written", ExitStatus.USAGE)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise CcswitchError(f"cannot write {path}: {error.strerror or error}; nothing written") from None
    if not stat.S_ISREG(mode):
        raise CcswitchError(f"cannot write {path}: it is {file_kind(mode)}, not a file (for stdout: -o - or no -o); "
                            "nothing written", ExitStatus.USAGE)


def _write(path: str, text: str) -> None:
    from ccswitch.errors import CcswitchError
    from ccswitch.fsutil import atomic_write_text

    try:
        atomic_write_text(path, text, mode=0o644)  # no key is in it
    except OSError as error:
        raise CcswitchError(f"cannot write {path}: {error.strerror or error}; nothing written") from None


def _dump(data: object, documents: bool = False) -> str:
    import yaml  # export only (module docstring of ccswitch.exporting)

    if documents:
        return yaml.safe_dump_all(data, sort_keys=False, allow_unicode=True)  # type: ignore[arg-type]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@export_app.command("litellm")
@reports_errors
def export_litellm(
    names: Names = None,
    every: Every = False,
    output: Output = None,
    url: Annotated[str, typer.Option("--url", help="Where the proxy will listen (for the client profiles).")] = "http://localhost:4000",
) -> None:
    """A LiteLLM proxy config: a model group per profile and model (PROFILE/MODEL; PROFILE/TIER for a
    routes profile), keys as os.environ/VAR, fallbacks from `fallback` lists.

    With -o FILE.yaml, FILE.ccswitch.toml beside it holds the profiles that point claude at the
    proxy (include it, or copy them into profiles.toml).

    Example: ccswitch export litellm glm kimi -o litellm.yaml
    """
    from ccswitch.exporting import litellm, plan
    from ccswitch.profiles import tomledit

    profile_set = load_profiles()
    export = plan.build(profile_set, plan.choose(profile_set, names or [], every), every=every)
    text = "# LiteLLM proxy config written by `ccswitch export litellm`; keys are read from the environment.\n" \
           + _dump(litellm.config(export))
    clients = litellm.client_profiles(export, url.rstrip("/"))
    notes = list(export.notes) + [f"set {litellm.MASTER_KEY_VARIABLE} (it must start with sk-) for the proxy, and "
                                  f"{litellm.CLIENT_KEY_VARIABLE} to it (or a virtual key) where claude runs"]
    if _to_file(output):
        side = os.path.splitext(output)[0] + ".ccswitch.toml"
        for path in (output, side):
            _check_target(path)
        _write(output, text)
        toml = "# Profiles that point claude at the LiteLLM proxy (ccswitch export litellm).\nschema = 1\n"
        for name, table in clients.items():
            toml += "\n" + tomledit.render_profile(name, table)
        _write(side, toml)
        notes.insert(0, f"wrote {output} and {side} ({', '.join(clients)}): add it to include = [...] in "
                        f"{paths.profiles_file(dict(os.environ))}")
    else:
        print_document(text)
    _say(notes)


@export_app.command("higress")
@reports_errors
def export_higress(names: Names = None, every: Every = False, output: Output = None) -> None:
    """Higress resources: model-router (routes by the PROFILE in PROFILE/MODEL), an ai-proxy rule, an
    Ingress and a DNS registry per profile; keys as ${VAR} placeholders for envsubst.

    Example: ccswitch export higress --all -o higress.yaml
    """
    from ccswitch.exporting import higress, plan

    profile_set = load_profiles()
    export = plan.build(profile_set, plan.choose(profile_set, names or [], every), every=every)
    documents = higress.resources(export)
    text = "# Higress resources written by `ccswitch export higress`; fill ${VAR} (e.g. envsubst) before applying.\n" \
           + _dump(documents, documents=True)
    if _to_file(output):
        _check_target(output)
        _write(output, text)
        export.notes.insert(0, f"wrote {output}")
    else:
        print_document(text)
    _say(export.notes)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
