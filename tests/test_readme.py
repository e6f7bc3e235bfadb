"""The README's first command leaves `ccswitch` runnable by name, as its Quick start then uses it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def first_block() -> str:
    return re.search(r"```sh\n(.*?)```", README, re.DOTALL).group(1)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_install_line_leaves_ccswitch_on_path(tmp_path):
    """Run the README's install line in bash on a machine where `python3 -m venv` and pip are stand-ins
    (no network, no build): what matters is that `ccswitch` then runs by name, as the Quick start
    and the rest of that very line use it."""
    install = first_block().splitlines()[0].split("  #", 1)[0]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(
        '#!/bin/sh\n# python3 -m venv DIR: a venv whose pip installs a `ccswitch` that says where it is\n'
        'mkdir -p "$3/bin"\nprintf \'#!/bin/sh\\nmkdir -p "$(dirname "$0")"\\n'
        'printf "#!/bin/sh\\\\necho ccswitch from $(dirname "$0")\\\\n" > "$(dirname "$0")/ccswitch"\\n'
        'chmod +x "$(dirname "$0")/ccswitch"\\n\' > "$3/bin/pip"\nchmod +x "$3/bin/pip"\n')
    (bin_dir / "python3").chmod(0o755)
    work = tmp_path / "checkout"
    work.mkdir()
    script = f"{install}\ncommand -v ccswitch"
    done = subprocess.run(["bash", "--norc", "-c", script], cwd=work, capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    ran, found = done.stdout.splitlines()
    assert ran == "ccswitch from .venv/bin"  # `ccswitch list` at the end of the line ran by name
    assert found == f"{work}/.venv/bin/ccswitch"  # ... and still does afterwards


def test_the_readme_names_pipx_and_uv_for_everyday_use():
    intro = README.split("## Quick start")[0]
    assert "pipx install ." in intro and "uv tool install ." in intro
