"""Strict checks of a request body against the `openai` package's own request types (its TypedDicts
for `chat.completions.create` and `responses.create`).

pydantic's TypeAdapter is not used: it validates the SDK's `Iterable[...]` fields lazily (a wrong
message would pass) and cannot forbid extra keys in TypedDicts it does not own. This walks the
types instead: unknown keys are errors (an Anthropic-only key that leaked through fails), required
keys must be there, literals must match, every list element is checked.
"""

from __future__ import annotations

import collections.abc
import types
import typing

from typing_extensions import NotRequired, Required, is_typeddict


class Mismatch(AssertionError):
    pass


def check_chat(body: dict) -> None:
    from openai.types.chat import completion_create_params as params

    kind = params.CompletionCreateParamsStreaming if body.get("stream") else params.CompletionCreateParamsNonStreaming
    check(body, kind)


def check_responses(body: dict) -> None:
    from openai.types.responses import response_create_params as params

    kind = params.ResponseCreateParamsStreaming if body.get("stream") else params.ResponseCreateParamsNonStreaming
    check(_reasoning_ids_filled(body), kind)


def _reasoning_ids_filled(body: dict) -> dict:
    """The one place the SDK's types are stricter than the API: a reasoning item's `id` is Required
    in `ResponseReasoningItemParam`, but with `store: false` OpenAI looks an id up among stored items
    and refuses it ("Item with id 'rs_...' not found"); OpenAI's own Codex client sends reasoning
    items without one (docs/translation.md, "Responses API"). Checked with a stand-in id."""
    items = body.get("input")
    if not isinstance(items, list) or not any(isinstance(i, dict) and i.get("type") == "reasoning" and "id" not in i
                                              for i in items):
        return body
    filled = [{**i, "id": "rs_stand_in"} if isinstance(i, dict) and i.get("type") == "reasoning" and "id" not in i else i
              for i in items]
    return {**body, "input": filled}


def check(value: object, kind: object, path: str = "$") -> None:
    problem = _problem(value, kind, path)
    if problem:
        raise Mismatch(problem)


_LISTS = (list, collections.abc.Iterable, collections.abc.Sequence, typing.Iterable, typing.Sequence, typing.List)
_MAPS = (dict, collections.abc.Mapping, typing.Dict, typing.Mapping)


def _problem(value: object, kind: object, path: str) -> str | None:  # noqa: C901 - one case per typing form
    if kind is typing.Any or kind is object:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated or origin in (Required, NotRequired, typing.Required, typing.NotRequired):
        return _problem(value, args[0], path)
    if is_typeddict(kind) or typing.is_typeddict(kind):
        return _typeddict(value, kind, path)
    if origin is typing.Union or origin is types.UnionType:
        problems = [_problem(value, arg, path) for arg in args]
        if not all(problems):
            return None
        # Explain with the member the value claims to be (its "type"), else with every member's reason.
        claimed = [p for arg, p in zip(args, problems) if _claims(value, arg)]
        return claimed[0] if len(claimed) == 1 else f"{path}: matches no member of the union: " + " | ".join(
            p for p in problems if p)
    if origin is typing.Literal:
        return None if value in args else f"{path}: {value!r} is not one of {args}"
    if origin in _LISTS:
        if not isinstance(value, list):
            return f"{path}: expected a list, got {type(value).__name__}"
        for i, item in enumerate(value):
            problem = _problem(item, args[0], f"{path}[{i}]") if args else None
            if problem:
                return problem
        return None
    if origin in _MAPS:
        if not isinstance(value, dict):
            return f"{path}: expected an object"
        return next((p for k, v in value.items() if (p := _problem(v, args[1], f"{path}.{k}"))), None) if args else None
    if kind is type(None):
        return None if value is None else f"{path}: expected null"
    if kind is bool:
        return None if isinstance(value, bool) else f"{path}: expected a boolean"
    if kind is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else f"{path}: expected an integer"
    if kind is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else f"{path}: expected a number"
    if kind is str:
        return None if isinstance(value, str) else f"{path}: expected a string, got {value!r:.60}"
    if isinstance(kind, type):
        return None if isinstance(value, kind) else f"{path}: expected {kind.__name__}"
    raise TypeError(f"{path}: no rule for {kind!r}")


def _claims(value: object, kind: object) -> bool:
    if not isinstance(value, dict) or "type" not in value or not typing.is_typeddict(kind):
        return False
    hint = typing.get_type_hints(kind, include_extras=True).get("type")
    while typing.get_origin(hint) in (Required, NotRequired, typing.Required, typing.NotRequired, typing.Annotated):
        hint = typing.get_args(hint)[0]
    return typing.get_origin(hint) is typing.Literal and value["type"] in typing.get_args(hint)


def _typeddict(value: object, kind: type, path: str) -> str | None:
    if not isinstance(value, dict):
        return f"{path}: expected an object ({kind.__name__})"
    hints = typing.get_type_hints(kind, include_extras=True)
    for key in value:
        if key not in hints:
            return f"{path}.{key}: unknown key for {kind.__name__}"
    for key, hint in hints.items():
        required = typing.get_origin(hint) in (Required, typing.Required) or (
            getattr(kind, "__total__", True) and typing.get_origin(hint) not in (NotRequired, typing.NotRequired))
        if key not in value:
            if required and typing.get_origin(hint) in (Required, typing.Required):
                return f"{path}.{key}: required by {kind.__name__}"
            continue
        problem = _problem(value[key], hint, f"{path}.{key}")
        if problem:
            return problem
    return None
