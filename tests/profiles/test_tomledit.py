"""Text changes to profiles.toml keep everything outside the changed profile byte for byte."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccswitch.profiles import tomledit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HEAD = """\
# My profiles.  Odd   spacing and comments must survive.
schema = 1
default = "work"   # used when no profile is named

"""
WORK = """\
# Work gateway; ask the platform team for a key
[profiles.work]   # the header's own comment
base_url = "https://gw.example.com/anthropic"  # no /v1
token = "env:WORK_KEY"
[profiles.work.models]
opus = "big-model"
# last line of work
"""
GAP = """
# ---- a section comment set apart by blank lines ----

"""
OTHER = """\
[profiles.other]
extends = "glm"
model    =    'sonnet'
"""
FILE = HEAD + WORK + GAP + OTHER


def test_add_appends_and_keeps_every_byte() -> None:
    result = tomledit.add_profile(FILE, "new", {"base_url": "https://n.example.com", "models": {"opus": "x"}})
    assert result.startswith(FILE)
    assert tomllib.loads(result)["profiles"]["new"] == {"base_url": "https://n.example.com", "models": {"opus": "x"}}


def test_add_to_a_new_file_starts_with_schema() -> None:
    result = tomledit.add_profile("", "a", {"extends": "glm"})
    assert result == 'schema = 1\n\n[profiles.a]\nextends = "glm"\n'


def test_add_quotes_a_dotted_name() -> None:
    result = tomledit.add_profile(FILE, "my.glm", {"extends": "glm"})
    assert '[profiles."my.glm"]' in result
    assert tomllib.loads(result)["profiles"]["my.glm"] == {"extends": "glm"}


def test_replace_puts_the_profile_where_it_was() -> None:
    result = tomledit.add_profile(FILE, "work", {"base_url": "https://z.example.com"})
    assert result == HEAD + '[profiles.work]\nbase_url = "https://z.example.com"\n' + GAP + OTHER


def test_remove_takes_the_profile_and_its_own_comments_only() -> None:
    assert tomledit.remove_profile(FILE, "work") == HEAD + GAP.lstrip("\n") + OTHER
    assert tomledit.remove_profile(FILE, "other") == HEAD + WORK + GAP.rstrip("\n") + "\n"


def test_remove_can_drop_the_default() -> None:
    result = tomledit.remove_profile(FILE, "work", drop_default=True)
    assert result == HEAD.replace('default = "work"   # used when no profile is named\n', "") + GAP.lstrip("\n") + OTHER


def test_rename_changes_headers_default_and_extends_only() -> None:
    text = FILE + '\n[profiles.child]\nextends = "work"  # follows work\n'
    result = tomledit.rename_profile(text, "work", "job")
    expected = (
        text.replace("[profiles.work]", "[profiles.job]")
        .replace("[profiles.work.models]", "[profiles.job.models]")
        .replace('default = "work"', 'default = "job"')
        .replace('extends = "work"', 'extends = "job"')
    )
    assert result == expected


def test_rename_follows_fallback_lists_keeping_their_layout() -> None:
    text = FILE + (
        '\n[profiles.fb]\nbase_url = "https://fb.example.com"\nfallback = [ "other",  "work" ]  # in order\n'
        '\n[profiles.fb2]\nbase_url = "https://fb2.example.com"\nfallback = [\n  "work",  # first\n  "glm",\n]\n'
    )
    result = tomledit.rename_profile(text, "work", "job")
    expected = (
        text.replace("[profiles.work]", "[profiles.job]")
        .replace("[profiles.work.models]", "[profiles.job.models]")
        .replace('default = "work"', 'default = "job"')
        .replace('"other",  "work" ]', '"other",  "job" ]')
        .replace('  "work",  # first', '  "job",  # first')
    )
    assert result == expected


def test_rename_follows_fallback_lists_in_inline_tables_too() -> None:
    # An inline table defeats the line edit; tomlkit's fallback must rewrite fallback as well.
    text = 'schema = 1\n[profiles]\nwork = { base_url = "https://w.example.com" }\nfb = { extends = "glm", fallback = ["work"] }\n'
    result = tomledit.rename_profile(text, "work", "job")
    assert tomllib.loads(result)["profiles"] == {
        "job": {"base_url": "https://w.example.com"},
        "fb": {"extends": "glm", "fallback": ["job"]},
    }


def test_profile_text_and_replace_round_trip() -> None:
    chunk = tomledit.profile_text(FILE, "work")
    assert chunk == WORK
    assert tomledit.replace_profile(FILE, "work", chunk) == FILE
    edited = chunk.replace('"big-model"', '"bigger-model"')
    assert tomledit.replace_profile(FILE, "work", edited) == FILE.replace('"big-model"', '"bigger-model"')


def test_set_value_keeps_comments() -> None:
    result = tomledit.set_profile_value(FILE, "work", "token", "keyring")
    assert result == FILE.replace('token = "env:WORK_KEY"', 'token = "keyring"')


def test_unusual_layout_falls_back_to_tomlkit_or_refuses() -> None:
    dotted = 'schema = 1\n[profiles]\na.base_url = "https://a.example.com"  # dotted\n'
    removed = tomledit.remove_profile(dotted, "a")
    assert tomllib.loads(removed) == {"schema": 1, "profiles": {}}
    inline = 'profiles = { a = { base_url = "https://a.example.com" } }\n'
    with pytest.raises(tomledit.EditFailed, match="cannot add profile 'b'"):
        tomledit.add_profile(inline, "b", {"extends": "glm"})


def test_header_inside_a_multiline_string_is_not_a_table() -> None:
    text = 'schema = 1\n[profiles.a]\ndescription = """\n[profiles.b]\n"""\n\n[profiles.b]\nextends = "glm"\n'
    result = tomledit.remove_profile(text, "b")
    assert tomllib.loads(result)["profiles"] == {"a": {"description": "[profiles.b]\n"}}


@given(st.text())
def test_a_quoted_string_reads_back_as_itself_whatever_it_holds(value):
    """A control character was written as it is (`import` of a name or model holding DEL or CR made a
    file tomllib refuses: "Illegal character"): TOML's basic strings take them only as escapes."""
    assert tomllib.loads(f"k = {tomledit.quote_string(value)}")["k"] == value
    assert tomllib.loads(f"{tomledit.quote_key(value)} = 1") == {value: 1}
