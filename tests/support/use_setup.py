"""The settings file and profiles the `use`/`off`/`restore` tests start from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "settings"
ALPHA_TOKEN = "alpha-token-0123456789abcdef"
BETA_TOKEN = "beta-key-fedcba9876543210"


@pytest.fixture
def setup(profiles_file, isolated_home, monkeypatch):
    profiles_file((FIXTURES / "profiles.toml").read_text())
    monkeypatch.setenv("ALPHA_TOKEN", ALPHA_TOKEN)
    monkeypatch.setenv("BETA_TOKEN", BETA_TOKEN)
    settings = isolated_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    shutil.copy(FIXTURES / "before.json", settings)
    return settings
