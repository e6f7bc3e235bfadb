"""claude's own `.claude.json`: the one key ccswitch may set there, `hasCompletedOnboarding`.

Interactive claude stops at a first-run wizard (theme, login) until that key is true, which makes a
gateway profile look broken on a fresh machine. The file is claude's, large and often rewritten:
touch only this key, atomically, and leave a file we cannot parse alone.
"""

from __future__ import annotations

import json

from ccswitch.fsutil import atomic_write_text

ONBOARDING_KEY = "hasCompletedOnboarding"
# Keys in .claude.json that mean claude holds a login of its own (claude.ai or Console).
LOGIN_KEYS = ("oauthAccount", "primaryApiKey")


def ensure_onboarding(path: str) -> str | None:
    """Set `hasCompletedOnboarding: true` unless it is already. Returns a warning, or None."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except FileNotFoundError:
        atomic_write_text(path, json.dumps({ONBOARDING_KEY: True}, indent=2) + "\n")
        return None
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror or exc}); left alone"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"{path}: not valid JSON ({exc}); left alone, so claude may show its first-run screens"
    if not isinstance(data, dict):
        return f"{path}: not a JSON object; left alone, so claude may show its first-run screens"
    if data.get(ONBOARDING_KEY) is True:
        return None
    data[ONBOARDING_KEY] = True
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return None
