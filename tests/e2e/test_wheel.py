"""The wheel carries the presets: install it into a fresh venv and find them there, not in the checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from support.processes import REPO
from support.profiles_data import REQUIRED_PRESETS


def test_wheel_ships_presets_into_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    [wheel] = dist.glob("ccswitch-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", site, str(wheel)],
                   check=True, capture_output=True, text=True)
    # The fresh venv gets the test runner's dependencies (typer, rich, ...) but not the checkout.
    deps = sysconfig.get_paths()["purelib"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": deps, "CCSWITCH_HOME": str(tmp_path / "cfg")}
    where = subprocess.run([str(python), "-c", "import ccswitch.profiles.presets as p; print(p.presets_dir())"],
                           capture_output=True, text=True, env=env, check=True, cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(env_dir), where
    result = subprocess.run([str(python), "-m", "ccswitch", "presets", "--json"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = {row["name"] for row in json.loads(result.stdout)}
    assert set(REQUIRED_PRESETS) <= names
    [entry_points] = Path(site).glob("ccswitch-*.dist-info/entry_points.txt")
    assert "ccswitch = ccswitch.__main__:main" in entry_points.read_text()
