"""claude's own `.claude.json`: the few keys ccswitch may set there, so that interactive claude
starts on a profile without stopping (docs/claude-code.md, "First run, trust, API keys").

- `hasCompletedOnboarding`: until it is true, interactive claude stops at a first-run wizard
  (theme, login), which makes a gateway profile look broken on a fresh machine.
- `customApiKeyResponses`: interactive claude asks once whether to use an ANTHROPIC_API_KEY, with
  "No" as the default, and remembers the answer by the key's last 20 characters. An x-api-key
  profile's key goes into `approved` (and out of `rejected`), as if the user had said yes.

The file is claude's, large and often rewritten: only these keys change, in one atomic write, and a
file we cannot parse is left alone with a warning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ccswitch.fsutil import atomic_write_text, read_regular, utf8_writable

ONBOARDING_KEY = "hasCompletedOnboarding"
API_KEY_RESPONSES = "customApiKeyResponses"
# Keys in .claude.json that mean claude holds a login of its own (claude.ai or Console).
LOGIN_KEYS = ("oauthAccount", "primaryApiKey")


def key_fingerprint(api_key: str) -> str:
    """What claude stores of a key it asked about: its last 20 characters (2.1.330+ strip it first)."""
    return api_key.strip()[-20:]


def rejected_key(state: Mapping[str, object], api_key: str) -> bool:
    """Whether the user once answered No for this key (and never Yes, which wins): interactive claude
    then refuses it without asking."""
    responses = state.get(API_KEY_RESPONSES)
    if not isinstance(responses, Mapping):
        return False
    fingerprint = key_fingerprint(api_key.strip())
    lists = {name: responses.get(name) if isinstance(responses.get(name), list) else [] for name in ("approved", "rejected")}
    return fingerprint in lists["rejected"] and fingerprint not in lists["approved"]


def prepare_state(path: str, *, onboarding: bool, approve_key: str | None = None) -> str | None:
    """Set what a launch needs (the onboarding key, an approved API key) unless it is already so.
    Returns a warning, or None."""
    try:
        text = read_regular(path).decode("utf-8-sig")
    except FileNotFoundError:
        text = "{}"
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc}); left alone"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return f"{path}: not valid JSON ({exc}); left alone, so claude may show its first-run screens"
    if not isinstance(data, dict):
        return f"{path}: not a JSON object; left alone, so claude may show its first-run screens"
    changed = False
    if onboarding and data.get(ONBOARDING_KEY) is not True:
        data[ONBOARDING_KEY] = True
        changed = True
    if approve_key:
        changed = _approve(data, key_fingerprint(approve_key)) or changed
    if changed:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if not utf8_writable(text):
            return f"{path}: holds a \\uD800-\\uDFFF escape without its pair; left alone, so claude may show its first-run screens"
        atomic_write_text(path, text)
    return None


def _approve(data: dict, fingerprint: str) -> bool:
    responses = data.get(API_KEY_RESPONSES)
    if not isinstance(responses, dict):
        responses = data[API_KEY_RESPONSES] = {}
    approved = responses.get("approved") if isinstance(responses.get("approved"), list) else []
    rejected = responses.get("rejected") if isinstance(responses.get("rejected"), list) else []
    if fingerprint in approved and fingerprint not in rejected and "approved" in responses and "rejected" in responses:
        return False
    responses["approved"] = [*approved, fingerprint] if fingerprint not in approved else approved
    responses["rejected"] = [entry for entry in rejected if entry != fingerprint]
    return True
