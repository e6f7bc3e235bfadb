"""`quota` and `plan` in profiles.toml: checked when the file is read, errors with the line."""

from __future__ import annotations

import os

import pytest

from ccswitch.errors import ProfileFileError
from ccswitch.profiles.cache import load_profiles
from ccswitch.profiles.quota import parse_quotas

HEAD = '[profiles.mine]\nbase_url = "http://127.0.0.1:9"\ntoken = "t-0123456789"\n'


@pytest.mark.parametrize("body,line,message", [
    ('quota = { window = "5h", prompts = 0 }\n', 4, "[profiles.mine.quota]: quota.prompts: must be a whole number"),
    ('[[profiles.mine.quota]]\nwindow = "5h"\n[[profiles.mine.quota]]\nwindow = "1w"\nreset = "fixd"\n', 8,
     "quota[1].reset: 'fixd' is not one of rolling, block, fixed"),
    ('[[profiles.mine.quota]]\nwindow = "5h"\nprompts = 5\nplann = "x"\n', 7, "quota[0]: unknown key 'plann'"),
    ('quota = "5h"\n', 4, "quota: must be a table such as"),
])
def test_a_bad_quota_names_the_file_profile_key_and_line(profiles_file, body, line, message):
    path = profiles_file(HEAD + body)
    with pytest.raises(ProfileFileError) as caught:
        load_profiles(os.environ)
    assert caught.value.path == str(path) and caught.value.line == line and message in str(caught.value)


def test_quota_and_plan_are_inherited_and_a_child_replaces_the_parents_quota(profiles_file):
    profiles_file('[profiles.a]\nextends = "zai"\nplan = "pro"\n'
                  '[profiles.b]\nextends = "zai"\nquota = { window = "1d", requests = 5, reset = "fixed" }\n')
    profiles = load_profiles(os.environ)
    a, b = profiles.get("a"), profiles.get("b")
    assert a.plan == "pro" and [q.limit for q in parse_quotas(a.quota)] == [
        120, 600, 2400]
    assert [(q.window, q.limit, q.reset) for q in parse_quotas(b.quota)] == [("1d", 5, "fixed")]


@pytest.mark.parametrize("entry", [
    {"window": "5h", "prompts": 600, "reset": "block", "plan": "pro", "source": "https://example.invalid"},
    {"window": "1w", "requests": 45000, "reset": "fixed", "anchor": "2026-01-05T00:00:00+08:00"},
    {"window": "1mo", "tokens": 10**9, "reset": "fixed", "anchor": "2026-03-31T06:30:00-03:30"},
    {"window": "1d", "reset": "fixed", "anchor": "2026-01-05"},  # local time, no limit
])
def test_a_quota_as_a_table_reads_back_as_the_same_window(entry):
    from ccswitch.profiles.quota import as_table

    [quota] = parse_quotas(entry)
    [again] = parse_quotas(as_table(quota))
    assert again == quota._replace(plan=None, source="", checked="", note="")
