"""claude_settings: strict parsing with file:line:column errors, style-preserving writes, and the pure
apply/remove transforms (including a property test over arbitrary settings and use/off sequences)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ccswitch.claude import settings as claude_settings
from ccswitch.claude.settings import (
    SettingsFileError,
    Style,
    apply,
    dump,
    parse,
    remove,
)

P = "/x/settings.json"


@pytest.mark.parametrize(
    "text, where, message",
    [
        ('{\n  "a": 1,\n  "b": \n}', ":4:1:", "invalid JSON: Expecting value"),
        ('{"a": 1,}', ":1:9:", "invalid JSON"),
        ("{'a': 1}", ":1:2:", "invalid JSON"),
        ('\n  [1, 2]', ":2:3:", "must be a JSON object, not an array"),
        ('"text"', ":1:1:", "must be a JSON object, not a string"),
        ("null", ":1:1:", "must be a JSON object, not null"),
        ('{\n  "permissions": {},\n  "env": ["A=1"]\n}', ":3:10:", "env: must be an object, not an array"),
        ('{"env": null}', ":1:9:", "env: must be an object, not null"),
        ('{\n  "env": {\n    "A": "1",\n    "B": 2\n  }\n}', ":4:10:", "env.B: must be a string, not a number"),
        ('{"env": {"A": true}}', ":1:15:", "env.A: must be a string, not a boolean"),
        ('{"env": {"A": {"x": "y"}}}', ":1:15:", "env.A: must be a string, not an object"),
        ('{"hooks": {"env": 1}, "env": {"A": null}}', ":1:36:", "env.A: must be a string, not null"),
        ('{\n  "a": 1,\n  "a": 2\n}', ":3:3:", "duplicate key 'a'"),
        ('{"a": NaN}', ":1:7:", "NaN is not a JSON value"),
        ('{\n  "env": {"X": "a\\ud800"}\n}', ":2:18:", "escape without its pair"),  # writing it back failed half way
        ('{"x": ["\\udc00"]}', ":1:9:", "escape without its pair"),
    ],
)
def test_malformed_input_is_refused_with_file_line_and_column(text, where, message):
    with pytest.raises(SettingsFileError) as info:
        parse(text, P)
    assert info.value.message.startswith(P + where), info.value.message
    assert message in info.value.message


DEEP = '{"a":' * 5000 + "1" + "}" * 5000


def test_nesting_too_deep_for_python_is_refused_not_a_traceback(tmp_path):
    with pytest.raises(SettingsFileError, match=r"^/x/settings.json: invalid JSON: objects or arrays nested too deeply"):
        parse(DEEP, P)
    path = tmp_path / "settings.json"
    path.write_text(DEEP)
    data, problem, exists = claude_settings.read_object(str(path))
    assert (data, problem, exists) == (None, "invalid JSON: objects or arrays nested too deeply to read", True)


def test_bom_and_crlf_are_read_and_written_back_as_they_were():
    text = '\ufeff{\r\n\t"a": 1,\r\n\t"env": {\r\n\t\t"X": "y"\r\n\t}\r\n}'
    data = parse(text, P)
    assert data == {"a": 1, "env": {"X": "y"}}
    style = Style.of(text)
    assert (style.bom, style.newline, style.indent, style.final_newline) == (True, "\r\n", "\t", False)
    assert dump(data, style) == text


@pytest.mark.parametrize(
    "text",
    [
        '{\n  "a": [\n    1\n  ],\n  "b": "ü"\n}\n',
        '{\n    "a": 1\n}',
        '{"a": 1, "b": {"c": "d"}}\n',
        "{}\n",
    ],
)
def test_an_untouched_file_is_written_back_byte_for_byte(text):
    assert dump(parse(text, P), Style.of(text)) == text


def test_blank_file_is_an_empty_object():
    assert parse("", P) == {}
    assert parse("\ufeff  \n", P) == {}


def test_apply_touches_only_managed_keys_and_keeps_order():
    settings = {"permissions": {"allow": ["x"]}, "env": {"FOO": "1", "ANTHROPIC_API_KEY": "mine"}, "hooks": {}}
    after, record = apply(settings, {"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": "u"}, "m", None, "p")
    assert list(after) == ["permissions", "env", "hooks", "model"]
    assert list(after["env"]) == ["FOO", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]
    assert after["env"]["ANTHROPIC_API_KEY"] == ""
    assert settings["env"]["ANTHROPIC_API_KEY"] == "mine"  # input untouched
    assert record["env"]["ANTHROPIC_API_KEY"]["before"] == "mine"
    assert "mine" not in json.dumps({k: v.get("written") for k, v in record["env"].items()})
    assert remove(after, record) == settings


def test_switching_drops_the_first_profiles_extra_keys_and_keeps_the_original_before():
    original = {"env": {"EXTRA": "user's"}, "model": "sonnet"}
    a, record_a = apply(original, {"ANTHROPIC_BASE_URL": "a", "EXTRA": "a's", "ONLY_A": "1"}, "model-a", None, "a")
    b, record_b = apply(a, {"ANTHROPIC_BASE_URL": "b"}, None, record_a, "b")
    assert b == {"env": {"EXTRA": "user's", "ANTHROPIC_BASE_URL": "b"}, "model": "sonnet"}
    assert remove(b, record_b) == original


def test_an_env_block_ccswitch_created_goes_away_again():
    a, record = apply({"theme": "dark"}, {"ANTHROPIC_BASE_URL": "a"}, None, None, "a")
    assert a == {"theme": "dark", "env": {"ANTHROPIC_BASE_URL": "a"}}
    assert remove(a, record) == {"theme": "dark"}


def test_changed_since_names_keys_edited_after_use():
    a, record = apply({}, {"ANTHROPIC_BASE_URL": "a", "X": "1"}, "m", None, "a")
    a["env"]["X"] = "2"
    a["model"] = "opus[1m]"  # claude migrates the model key itself
    assert claude_settings.changed_since(a, record) == ["env.X", "model"]


# --- property: arbitrary settings, arbitrary use/off sequences --------------------------------

MANAGED = ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_MODEL"]
EXTRA = ["API_TIMEOUT_MS", "FOO", "AWS_REGION"]
keys = st.sampled_from(MANAGED + EXTRA + ["OTHER", "PATH_X"])
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)
top_keys = st.sampled_from(["permissions", "hooks", "statusLine", "model", "enabledPlugins", "x"]) | st.text(max_size=6)
settings_objects = st.fixed_dictionaries(
    {}, optional={"env": st.dictionaries(keys, st.text(max_size=4), max_size=6)}
).flatmap(lambda base: st.dictionaries(top_keys.filter(lambda k: k != "env"), json_values, max_size=5).map(lambda d: {**d, **base}))
profile_envs = st.dictionaries(st.sampled_from(MANAGED + EXTRA), st.text(max_size=4), min_size=1, max_size=7)
steps = st.lists(st.one_of(st.tuples(st.just("use"), profile_envs, st.none() | st.text(min_size=1, max_size=4)), st.just(("off",)),
                           st.tuples(st.just("edit"), st.text(max_size=6).filter(lambda k: k not in ("env", "model")), json_values)),
                 max_size=6)


def _unmanaged(settings: dict, touched: set[str]) -> dict:
    result = {k: v for k, v in settings.items() if k not in ("env", "model")}
    env = settings.get("env", {})
    result["env"] = {k: v for k, v in env.items() if k not in touched}
    return result


@hsettings(max_examples=300, deadline=None)
@given(settings_objects, steps)
def test_property_unmanaged_keys_never_change_and_off_restores_env(original, sequence):
    current, record = json.loads(json.dumps(original)), None
    touched: set[str] = set()
    edits: dict[str, object] = {}
    for step in sequence:
        if step[0] == "use":
            current, record = apply(current, step[1], step[2], record, "p")
            touched |= set(step[1])
        elif step[0] == "off" and record is not None:
            current, record = remove(current, record), None
        elif step[0] == "edit":  # the user (or claude) changes a key that is not ours in between
            current[step[1]] = step[2]
            edits[step[1]] = step[2]
        expected = _unmanaged({**original, **edits}, touched)
        assert _unmanaged(current, touched) == expected
        # and the file still round-trips through our writer
        assert parse(dump(current, Style()), P) == current
    if record is not None:
        current = remove(current, record)
    assert current.get("env") == original.get("env")
    assert current.get("model") == {**original, **edits}.get("model")
    assert {k: v for k, v in current.items() if k not in ("env", "model")} == {
        k: v for k, v in {**original, **edits}.items() if k not in ("env", "model")
    }
