"""Changes to the text of profiles.toml that keep everything else byte for byte.

Pure: text in, text out. Each change is made on the lines of the file where that is safe (a
profile is a run of `[profiles.NAME…]` tables, with the comment lines written directly above
them), then checked: the new text must parse to exactly the data intended. When a file is laid out
in a way the line surgery does not understand (inline tables, dotted keys, a header inside a
multi-line string), the check fails and tomlkit makes the change instead, which still keeps
comments but may move some whitespace. Either way the caller validates the result before writing.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Callable, Mapping

from ccswitch.errors import CcswitchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_HEADER_RE = re.compile(r"(?P<indent>[ \t]*)\[(?!\[)(?P<inner>[^\]\n]*(?:\"[^\"\n]*\"[^\]\n]*)*)\](?P<rest>.*)\Z")
_COMMENT_RE = re.compile(r"[ \t]*#")


class EditFailed(CcswitchError):
    """The file's layout defeated both ways of making the change."""


# TOML's basic strings take no control character but tab as it is: each is written as \uXXXX.
_TOML_CONTROLS = {code: f"\\u{code:04x}" for code in (*range(0x20), 0x7F) if code != 0x09}


def quote_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').translate(_TOML_CONTROLS)
    return f'"{escaped}"'


def quote_key(key: str) -> str:
    return key if _BARE_KEY_RE.match(key) else quote_string(key)


def split_key_path(inner: str) -> list[str] | None:
    """The parts of a dotted TOML key (`profiles."my.glm".models`), or None if it is not one."""
    parts: list[str] = []
    i, n = 0, len(inner)
    while True:
        while i < n and inner[i] in " \t":
            i += 1
        if i >= n:
            return None
        if inner[i] == '"':
            end = i + 1
            while end < n and inner[end] != '"':
                end += 2 if inner[end] == "\\" else 1
            if end >= n:
                return None
            try:
                parts.append(tomllib.loads(f"k = {inner[i:end + 1]}")["k"])
            except tomllib.TOMLDecodeError:
                return None
            i = end + 1
        elif inner[i] == "'":
            end = inner.find("'", i + 1)
            if end < 0:
                return None
            parts.append(inner[i + 1 : end])
            i = end + 1
        else:
            match = re.compile(r"[A-Za-z0-9_-]+").match(inner, i)
            if not match:
                return None
            parts.append(match.group(0))
            i = match.end()
        while i < n and inner[i] in " \t":
            i += 1
        if i >= n:
            return parts
        if inner[i] != ".":
            return None
        i += 1


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _headers(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(line index, key path) of every table header."""
    found = []
    for index, line in enumerate(lines):
        match = _HEADER_RE.match(line.rstrip("\r\n"))
        if match:
            rest = match.group("rest").strip()
            if rest and not rest.startswith("#"):
                continue
            path = split_key_path(match.group("inner"))
            if path is not None:
                found.append((index, path))
    return found


def _is_blank(line: str) -> bool:
    return not line.strip()


def _is_comment(line: str) -> bool:
    return bool(_COMMENT_RE.match(line))


def _profile_spans(lines: list[str], name: str) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the tables of `[profiles.NAME…]`, each with the comment lines
    written directly above its header and directly below its last line. Blank lines and comments
    set apart by a blank line stay where they are: they may belong to the next table."""
    headers = _headers(lines)
    spans = []
    for position, (index, path) in enumerate(headers):
        if len(path) < 2 or path[0] != "profiles" or path[1] != name:
            continue
        start = index
        while start > 0 and _is_comment(lines[start - 1]):
            start -= 1
        limit = headers[position + 1][0] if position + 1 < len(headers) else len(lines)
        # The next header's own comment lines are not ours.
        while limit > index + 1 and _is_comment(lines[limit - 1]):
            if position + 1 < len(headers):
                limit -= 1
            else:
                break
        end = index + 1
        last_content = index
        for line_index in range(index + 1, limit):
            if not _is_blank(lines[line_index]) and not _is_comment(lines[line_index]):
                last_content = line_index
        end = last_content + 1
        while end < limit and _is_comment(lines[end]):
            end += 1
        spans.append((start, end))
    # Tables of one profile set apart only by blank lines are one piece of text.
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and all(_is_blank(line) for line in lines[merged[-1][1] : start]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _cut(lines: list[str], spans: list[tuple[int, int]]) -> list[str]:
    drop: set[int] = set()
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    for start, end in merged:
        drop.update(range(start, end))
        # Take one blank line along, so two tables do not end up two blank lines apart.
        if end < len(lines) and _is_blank(lines[end]) and (start == 0 or _is_blank(lines[start - 1])):
            drop.add(end)
    return [line for index, line in enumerate(lines) if index not in drop]


def _checked(candidate: str | None, expected: Mapping[str, object]) -> str | None:
    if candidate is None:
        return None
    try:
        return candidate if _normal(tomllib.loads(candidate)) == _normal(expected) else None
    except tomllib.TOMLDecodeError:
        return None


def _normal(data: Mapping[str, object]) -> dict:
    # An empty [profiles] table and none at all mean the same file.
    return {key: value for key, value in data.items() if not (key == "profiles" and value == {})}


def _with_tomlkit(text: str, change: Callable[[object], None], expected: Mapping[str, object], what: str) -> str:
    import tomlkit  # only when the line edits cannot make the change (module docstring)

    try:
        doc = tomlkit.parse(text)
        change(doc)
        result: str | None = tomlkit.dumps(doc)
    except Exception:  # tomlkit refuses some layouts (a table inside an inline table)
        result = None
    if _checked(result, expected) is None:
        raise EditFailed(f"cannot {what} without disturbing the rest of the file; use `ccswitch edit` or a text editor")
    assert result is not None
    return result


def _ensure_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def render_profile(name: str, table: Mapping[str, object]) -> str:
    """`[profiles.NAME]` and its sub-tables, as tomlkit writes them."""
    import tomlkit  # only when the line edits cannot make the change (module docstring)

    doc = tomlkit.document()
    profiles = tomlkit.table(is_super_table=True)
    item = tomlkit.table()
    for key, value in table.items():
        if isinstance(value, Mapping):
            sub = tomlkit.table()
            for sub_key, sub_value in value.items():
                sub[sub_key] = sub_value
            item[key] = sub
        else:
            item[key] = value
    profiles[name] = item
    doc["profiles"] = profiles
    return tomlkit.dumps(doc)


def _data(text: str) -> dict:
    return tomllib.loads(text) if text else {}


def add_profile(text: str, name: str, table: Mapping[str, object], *, new_file_header: str = "schema = 1\n") -> str:
    """Append `[profiles.NAME]` (replacing an existing one in place of its old tables)."""
    data = _data(text)
    expected = copy.deepcopy(data)
    expected.setdefault("profiles", {})[name] = copy.deepcopy(dict(table))
    rendered = render_profile(name, table)
    if not text.strip():
        return new_file_header + ("\n" if new_file_header else "") + rendered
    if name in data.get("profiles", {}):
        return replace_profile(text, name, rendered)
    lines = _lines(_ensure_newline(text))
    candidate = "".join(lines) + ("\n" if not _is_blank(lines[-1]) else "") + rendered
    result = _checked(candidate, expected)
    if result is not None:
        return result

    return _put_profile_with_tomlkit(text, name, rendered, expected, f"add profile {name!r}")


def remove_profile(text: str, name: str, *, drop_default: bool = False) -> str:
    data = _data(text)
    expected = copy.deepcopy(data)
    expected["profiles"].pop(name)
    if drop_default:
        expected.pop("default", None)
    lines = _lines(_ensure_newline(text))
    candidate_lines = _cut(lines, _profile_spans(lines, name))
    # Removing the last table must not leave blank lines at the end that were not there before.
    while candidate_lines and _is_blank(candidate_lines[-1]) and not _is_blank(lines[-1]):
        candidate_lines.pop()
    candidate = "".join(candidate_lines)
    if drop_default:
        candidate = _drop_top_level_key(candidate, "default")
    result = _checked(candidate, expected)
    if result is not None:
        return result

    def change(doc):  # type: ignore[no-untyped-def]
        del doc["profiles"][name]
        if drop_default and "default" in doc:
            del doc["default"]

    return _with_tomlkit(text, change, expected, f"remove profile {name!r}")


def set_default(text: str, name: str) -> str:
    """`default = "NAME"` among the top-level keys of a file that has none: after `schema`, else first."""
    expected = _data(text)
    expected["default"] = name
    lines = _lines(text)
    at = 0
    for index, line in enumerate(lines):
        if _HEADER_RE.match(line.rstrip("\r\n")):
            break
        if re.match(r"[ \t]*schema[ \t]*=", line):
            at = index + 1
            break
    candidate = "".join(lines[:at] + [f"default = {quote_string(name)}\n"] + lines[at:])
    result = _checked(candidate, expected)
    if result is not None:
        return result

    def change(doc):  # type: ignore[no-untyped-def]
        doc["default"] = name

    return _with_tomlkit(text, change, expected, "set the default profile")


def _drop_top_level_key(text: str, key: str) -> str:
    lines = _lines(text)
    pattern = re.compile(rf"[ \t]*{re.escape(key)}[ \t]*=")
    for index, line in enumerate(lines):
        if _HEADER_RE.match(line.rstrip("\r\n")):
            break
        if pattern.match(line):
            del lines[index]
            break
    return "".join(lines)


def rename_profile(text: str, old: str, new: str) -> str:
    """Rename `[profiles.OLD…]` to NEW; `default`, other profiles' `extends` and the names in
    their `fallback` lists follow."""
    data = _data(text)
    expected = copy.deepcopy(data)
    profiles = expected["profiles"]
    profiles[new] = profiles.pop(old)
    if expected.get("default") == old:
        expected["default"] = new
    followers = [n for n, raw in profiles.items() if n != new and raw.get("extends") == old]
    for follower in followers:
        profiles[follower]["extends"] = new
    falling_back = [n for n, raw in profiles.items() if old in (raw.get("fallback") or ())]
    for name in falling_back:
        profiles[name]["fallback"] = [new if entry == old else entry for entry in profiles[name]["fallback"]]

    lines = _lines(_ensure_newline(text))
    for index, path in _headers(lines):
        if len(path) >= 2 and path[0] == "profiles" and path[1] == old:
            line = lines[index]
            match = _HEADER_RE.match(line.rstrip("\r\n"))
            assert match is not None
            inner = ".".join(quote_key(part) for part in ["profiles", new, *path[2:]])
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = f"{match.group('indent')}[{inner}]{match.group('rest')}{ending}"
    candidate = "".join(lines)
    if followers or falling_back or expected.get("default") == new != data.get("default"):
        candidate = _set_values(candidate, expected, followers, falling_back, old, new)
    result = _checked(candidate, expected)
    if result is not None:
        return result

    def change(doc):  # type: ignore[no-untyped-def]
        table = doc["profiles"][old]
        del doc["profiles"][old]
        doc["profiles"][new] = table
        if doc.get("default") == old:
            doc["default"] = new
        for follower in followers:
            doc["profiles"][follower]["extends"] = new
        _rename_in_fallbacks(doc, falling_back, old, new)

    return _with_tomlkit(text, change, expected, f"rename profile {old!r}")


def _rename_in_fallbacks(doc, names: list[str], old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    # Item by item, so that the array keeps its layout and comments.
    for name in names:
        array = doc["profiles"][name]["fallback"]
        for index, entry in enumerate(array):
            if entry == old:
                array[index] = new


def _set_values(text: str, expected: Mapping[str, object], followers: list[str], falling_back: list[str],
                old: str, new: str) -> str:
    import tomlkit  # only when the line edits cannot make the change (module docstring)

    try:
        doc = tomlkit.parse(text)
        if "default" in expected and doc.get("default") != expected["default"]:
            doc["default"] = expected["default"]
        for follower in followers:
            doc["profiles"][follower]["extends"] = new
        _rename_in_fallbacks(doc, falling_back, old, new)
    except Exception:  # tomlkit's ParseError, or a layout it cannot edit; the check after us reports the failure
        return text
    return tomlkit.dumps(doc)


def set_profile_value(text: str, name: str, key: str, value: str) -> str:
    """Set one string field of a profile that exists in the file."""
    import tomlkit  # only when the line edits cannot make the change (module docstring)

    data = _data(text)
    expected = copy.deepcopy(data)
    expected["profiles"][name][key] = value
    doc = tomlkit.parse(text)
    doc["profiles"][name][key] = value
    result = _checked(tomlkit.dumps(doc), expected)
    if result is None:
        raise EditFailed(f"cannot set {key} of profile {name!r} in place; use `ccswitch edit {name}`")
    return result


def profile_text(text: str, name: str) -> str:
    """The text of `[profiles.NAME…]` as written in the file, for `ccswitch edit`."""
    lines = _lines(_ensure_newline(text))
    spans = _profile_spans(lines, name)
    chunk = "".join("".join(lines[start:end]) for start, end in spans)
    expected = {"profiles": {name: _data(text).get("profiles", {}).get(name)}}
    if spans and _checked(chunk, expected) is not None:
        return chunk
    import tomlkit  # only when the line edits cannot make the change (module docstring)

    return render_profile(name, tomlkit.parse(text)["profiles"][name].unwrap())


def replace_profile(text: str, name: str, new_chunk: str) -> str:
    """Put the edited text of one profile back where it was (or at the end for a new one)."""
    data = _data(text)
    edited = tomllib.loads(new_chunk)["profiles"][name]
    expected = copy.deepcopy(data)
    expected.setdefault("profiles", {})[name] = edited
    if not text.strip():
        expected["schema"] = 1
    new_chunk = _ensure_newline(new_chunk)
    lines = _lines(_ensure_newline(text))
    spans = _profile_spans(lines, name) if name in data.get("profiles", {}) else []
    if spans:
        first = spans[0][0]
        drop: set[int] = set()
        for start, end in spans:
            drop.update(range(start, end))
        before = [line for index, line in enumerate(lines[:first]) if index not in drop]
        after = [line for index, line in enumerate(lines) if index >= first and index not in drop]
        candidate = "".join(before) + new_chunk + "".join(after)
    elif text.strip():
        candidate = "".join(lines) + ("\n" if not _is_blank(lines[-1]) else "") + new_chunk
    else:
        candidate = "schema = 1\n\n" + new_chunk
    result = _checked(candidate, expected)
    if result is not None:
        return result

    return _put_profile_with_tomlkit(text, name, new_chunk, expected, f"save profile {name!r}")


def _put_profile_with_tomlkit(text: str, name: str, chunk: str, expected: dict, what: str) -> str:
    """The fallback when a line edit does not give the intended data: set [profiles.NAME] with tomlkit."""

    def change(doc):  # type: ignore[no-untyped-def]
        import tomlkit  # only when the line edits cannot make the change (module docstring)

        if "profiles" not in doc:
            doc["profiles"] = tomlkit.table(is_super_table=True)
        if name in doc["profiles"]:
            del doc["profiles"][name]
        doc["profiles"][name] = tomlkit.parse(chunk)["profiles"][name]

    return _with_tomlkit(text, change, expected, what)
