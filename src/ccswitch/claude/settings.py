"""Claude Code's settings.json: read it strictly, change only ccswitch's keys, write it back in its own style.

The file belongs to the user and to claude (which rewrites it while it runs), so:
- reading refuses anything we could not write back without loss (bad JSON, a non-object, an `env`
  that is not an object of strings, duplicate keys, NaN) and names the file with line:column;
- `apply` and `remove` are pure: they take the parsed settings and a *record* of what ccswitch set
  and what each key held before, and touch nothing else — other keys keep their values and order;
- `dump` writes the data back in the file's own style (BOM, CRLF, indentation, final newline).

The record lives outside settings.json (see switch.py): claude rewrites and reorders the file and
validates its keys, so a bookkeeping key of ours inside it could be dropped or warned about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from json.decoder import scanstring

from ccswitch.errors import ConfigError
from ccswitch.fsutil import read_regular, utf8_writable

MODEL_KEY = "model"
ENV_KEY = "env"
RECORD_VERSION = 1
BOM = "\ufeff"
# Python's json reads nesting recursively; claude's JSON.parse reads far deeper, but no settings file needs it.
TOO_DEEP = "objects or arrays nested too deeply to read"
_WS = re.compile(r"[ \t\n\r]*")


class SettingsFileError(ConfigError):
    """A settings file ccswitch refuses to touch: `path:line:column: message`."""

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.column = column


class Style:
    """How a file was written, so that writing it back changes only what we meant to change."""

    __slots__ = ("bom", "newline", "indent", "final_newline")

    def __init__(self, bom: bool = False, newline: str = "\n", indent: str | None = "  ", final_newline: bool = True) -> None:
        self.bom = bom
        self.newline = newline
        self.indent = indent  # None: everything on one line
        self.final_newline = final_newline

    @classmethod
    def of(cls, text: str) -> Style:
        bom = text.startswith(BOM)
        body = text[1:] if bom else text
        newline = "\r\n" if "\r\n" in body else "\n"
        stripped = body.strip()
        if not stripped or "\n" not in stripped:
            indent: str | None = "  " if not stripped else None
        else:
            match = re.search(r"\n([ \t]+)\S", body)
            indent = match.group(1) if match else "  "
        return cls(bom, newline, indent, body.endswith("\n") or not stripped)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _members(text: str, start: int) -> dict[str, int]:
    """Where each member's value starts in the JSON object at `start` (the text is known valid)."""
    decoder = json.JSONDecoder()
    positions: dict[str, int] = {}
    index = _WS.match(text, start + 1).end()
    if text[index] == "}":
        return positions
    while True:
        key, index = scanstring(text, index + 1)
        index = _WS.match(text, index).end() + 1  # the colon
        index = _WS.match(text, index).end()
        positions[key] = index
        _, index = decoder.scan_once(text, index)
        index = _WS.match(text, index).end()
        if text[index] == "}":
            return positions
        index = _WS.match(text, index + 1).end()


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object", str: "a string"}.get(
        type(value), type(value).__name__
    )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _no_lone_surrogates(data: dict, body: str, path: str) -> None:
    """JSON reads `"\ud800"` without its pair, and no UTF-8 file can hold it: writing the settings back
    would fail half way through a change. Refused here, before anything is written."""
    if not utf8_writable(json.dumps(data, ensure_ascii=False)):
        match = _SURROGATE_ESCAPE.search(body)
        line, column = _position(body, match.start()) if match else (None, None)
        raise SettingsFileError(path, "a \\uD800-\\uDFFF escape without its pair (no UTF-8 file can hold it)",
                                line, column) from None


def parse(text: str, path: str) -> dict:
    """Parse a settings file's text (BOM allowed; blank means `{}`). Raises SettingsFileError."""
    body = text[1:] if text.startswith(BOM) else text
    if not body.strip():
        return {}
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SettingsFileError(path, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise SettingsFileError(path, f"invalid JSON: {TOO_DEEP}") from None
    except _Duplicate as exc:
        matches = list(re.finditer(re.escape(json.dumps(exc.key)) + r"\s*:", body))
        line, column = _position(body, matches[-1].start()) if matches else (None, None)
        raise SettingsFileError(path, f"duplicate key {exc.key!r} (claude would keep only the last one)", line, column) from None
    except ValueError as exc:
        match = re.search(r"-?\b(NaN|Infinity)\b", body)
        line, column = _position(body, match.start()) if match else (None, None)
        raise SettingsFileError(path, f"invalid JSON: {exc} is not a JSON value", line, column) from None
    start = _WS.match(body).end()
    if not isinstance(data, dict):
        raise SettingsFileError(path, f"must be a JSON object, not {_json_type(data)}", *_position(body, start))
    _no_lone_surrogates(data, body, path)
    env = data.get(ENV_KEY)
    if env is None and ENV_KEY not in data:
        return data
    members = _members(body, start)
    if not isinstance(env, dict):
        raise SettingsFileError(path, f"env: must be an object, not {_json_type(env)}", *_position(body, members[ENV_KEY]))
    for key, value in env.items():
        if not isinstance(value, str):
            env_members = _members(body, members[ENV_KEY])
            raise SettingsFileError(
                path,
                f"env.{key}: must be a string, not {_json_type(value)} (write \"{key}\": \"{value}\")",
                *_position(body, env_members[key]),
            )
    return data


def read(path: str) -> tuple[dict, Style, bool]:
    """(settings, style, existed). A missing file is an empty one."""
    settings, style, raw = read_with_bytes(path)
    return settings, style, raw is not None


def read_with_bytes(path: str) -> tuple[dict, Style, bytes | None]:
    """(settings, style, the file's exact bytes or None when there is none), from one read: a
    writer that keeps the bytes to compare or give back later needs the very bytes it parsed."""
    try:
        raw = read_regular(path)  # a FIFO in its place is an error at once, not a wait for a writer
    except FileNotFoundError:
        return {}, Style(), None
    except OSError as exc:
        raise SettingsFileError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsFileError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse(text, path), Style.of(text), raw


def read_object(path: str) -> tuple[dict | None, str | None, bool]:
    """(data, problem, exists) for a JSON file read the way claude reads it, for *analysis*
    (`status`, `doctor`, `.claude.json`): never raises, and accepts what claude accepts (duplicate
    keys: the last wins). `read` is the strict one, for files ccswitch is about to write back."""
    try:
        text = read_regular(path).decode("utf-8-sig")
    except FileNotFoundError:
        return None, None, False
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read: {getattr(exc, 'strerror', None) or exc}", True
    if not text.strip():
        return {}, None, True
    try:
        data = json.loads(text, parse_constant=_reject_constant)  # JSON.parse, which claude uses, has no NaN
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}", True
    except RecursionError:
        return None, f"invalid JSON: {TOO_DEEP}", True
    except ValueError as exc:
        return None, f"invalid JSON: {exc} is not a JSON value", True
    if not isinstance(data, dict):
        return None, f"must be a JSON object, not {_json_type(data)}", True
    return data, None, True


def dump(settings: Mapping[str, object], style: Style) -> str:
    text = json.dumps(settings, indent=style.indent, ensure_ascii=False)
    if style.newline != "\n":
        # JSON strings never hold a raw newline, so every "\n" here is layout.
        text = text.replace("\n", style.newline)
    if style.final_newline:
        text += style.newline
    return (BOM if style.bom else "") + text


def digest(value: object) -> str:
    """What the record keeps of a value ccswitch wrote: enough to notice a change, never the token."""
    import hashlib  # `use` and `status` only: `run` reads settings files but never digests them

    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode("utf-8")).hexdigest()


def _entry(container: Mapping[str, object], key: str, earlier: Mapping[str, object] | None) -> dict[str, object]:
    """How `key` looked before ccswitch first set it: from the earlier record if it has one."""
    if earlier is not None and key in earlier:
        return dict(earlier[key])  # type: ignore[arg-type]
    if key in container:
        return {"had": True, "before": _deepcopy(container[key])}
    return {"had": False}


def _put_back(container: dict, key: str, entry: Mapping[str, object]) -> None:
    if entry.get("had"):
        container[key] = _deepcopy(entry.get("before"))
    else:
        container.pop(key, None)


def apply(
    settings: Mapping[str, object],
    profile_env: Mapping[str, str],
    model: str | None,
    record: Mapping[str, object] | None = None,
    profile: str = "",
) -> tuple[dict, dict]:
    """`settings` with the profile's env (and `model` key) set; returns (new settings, new record).

    Switching from another profile: keys the earlier record holds keep their original "before",
    keys only the earlier profile set are put back, so `remove` always restores the state from
    before the first `use`. Inputs are not modified.
    """
    result = _deepcopy(dict(settings))
    earlier_env = record.get("env", {}) if record else None
    earlier_top = record.get("top", {}) if record else None
    created_env = bool(record.get("created_env")) if record else ENV_KEY not in result
    env = result.get(ENV_KEY)
    if not isinstance(env, dict):
        env = result[ENV_KEY] = {}
    env_entries: dict[str, dict] = {}
    for key, value in profile_env.items():
        entry = _entry(env, key, earlier_env)  # type: ignore[arg-type]
        env[key] = value
        entry["written"] = digest(value)
        env_entries[key] = entry
    for key, entry in (earlier_env or {}).items():  # type: ignore[union-attr]
        if key not in env_entries:
            _put_back(env, key, entry)
    top_entries: dict[str, dict] = {}
    if model:
        entry = _entry(result, MODEL_KEY, earlier_top)  # type: ignore[arg-type]
        result[MODEL_KEY] = model
        entry["written"] = digest(model)
        top_entries[MODEL_KEY] = entry
    for key, entry in (earlier_top or {}).items():  # type: ignore[union-attr]
        if key not in top_entries:
            _put_back(result, key, entry)
    if created_env and not env:
        del result[ENV_KEY]
    new_record = {
        "version": RECORD_VERSION,
        "profile": profile,
        "created_env": created_env,
        "env": env_entries,
        "top": top_entries,
    }
    return result, new_record


def remove(settings: Mapping[str, object], record: Mapping[str, object]) -> dict:
    """`settings` with every key the record holds put back as it was before the first `use`."""
    result = _deepcopy(dict(settings))
    env = result.get(ENV_KEY)
    if record.get("env"):
        if not isinstance(env, dict):
            env = result[ENV_KEY] = {}
        for key, entry in record["env"].items():  # type: ignore[union-attr]
            _put_back(env, key, entry)
    for key, entry in record.get("top", {}).items():  # type: ignore[union-attr]
        _put_back(result, key, entry)
    if record.get("created_env") and result.get(ENV_KEY) == {}:
        del result[ENV_KEY]
    return result


def changed_since(settings: Mapping[str, object], record: Mapping[str, object]) -> list[str]:
    """Keys ccswitch wrote whose value someone (the user, claude's /model) has changed since."""
    changed = []
    env = settings.get(ENV_KEY) if isinstance(settings.get(ENV_KEY), dict) else {}
    for key, entry in record.get("env", {}).items():  # type: ignore[union-attr]
        if key not in env or digest(env[key]) != entry.get("written"):  # type: ignore[operator]
            changed.append(f"env.{key}")
    for key, entry in record.get("top", {}).items():  # type: ignore[union-attr]
        if key not in settings or digest(settings[key]) != entry.get("written"):
            changed.append(key)
    return changed


def masked(settings: Mapping[str, object], secret_keys: frozenset[str] | set[str], mask) -> dict:
    """A copy for display: the env values of `secret_keys` replaced by `mask(value)`."""
    result = _deepcopy(dict(settings))
    env = result.get(ENV_KEY)
    if isinstance(env, dict):
        for key in env:
            if key in secret_keys and isinstance(env[key], str) and env[key]:
                env[key] = mask(env[key])
    return result


def _deepcopy(value: object):  # -> a copy of value
    # copy (and weakref) only for the commands that change a settings file: not on claude's launch path.
    import copy

    return copy.deepcopy(value)
