"""Errors shaped as the Anthropic API shapes them, so claude and the SDKs show and retry them as they
would Anthropic's own: the gateway's own errors, and (for a translated upstream) an OpenAI-format
error turned into one with the same status and the provider's own message."""

from __future__ import annotations

import json

from ccswitch.gateway.sse import frame

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# What an OpenAI-format error's `type`/`code` means in Anthropic's words, when its status says nothing
# (an error object inside a 200 stream has no status of its own).
_OPENAI_KINDS = (
    ("rate_limit", "rate_limit_error"), ("insufficient_quota", "rate_limit_error"), ("overloaded", "overloaded_error"),
    ("server_error", "api_error"), ("timeout", "timeout_error"), ("invalid_request", "invalid_request_error"),
    ("context_length", "invalid_request_error"), ("authentication", "authentication_error"),
    ("invalid_api_key", "authentication_error"), ("permission", "permission_error"), ("not_found", "not_found_error"),
)
DETAIL_LIMIT = 2000  # a provider's message is shown by claude: whole, but not a whole HTML page


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_body(status: int, message: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}).encode()


def sse_error_event(error_type: str, message: str) -> bytes:
    """An SSE `error` event that ends a stream which broke after it started. claude answers it by
    sending the same request again, non-streaming (docs/gateway.md, "When a stream breaks")."""
    return frame("error", {"type": "error", "error": {"type": error_type, "message": message}})


def openai_error_message(body: object) -> tuple[str | None, str]:
    """(kind words, message) of an OpenAI-format error: `{"error": {...}}`, the same in a list
    (Gemini's OpenAI endpoint), `{"error": "text"}`, `{"message": ...}`, or plain text."""
    if isinstance(body, (bytes, bytearray)):
        text = bytes(body).decode("utf-8", "replace").strip()
        try:
            body = json.loads(text)
        except ValueError:
            return None, " ".join(text.split())[:DETAIL_LIMIT] or "(empty error body)"
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, str):
            return None, error[:DETAIL_LIMIT]
        if isinstance(error, dict):
            kind = " ".join(str(error.get(k)) for k in ("type", "code", "status") if error.get(k) is not None)
            message = error.get("message") or error.get("detail") or json.dumps(error)[:DETAIL_LIMIT]
            return kind or None, str(message)[:DETAIL_LIMIT]
    return None, json.dumps(body)[:DETAIL_LIMIT]


def anthropic_kind(words: str | None, status: int | None) -> str:
    """The Anthropic error type: from the status when there is one, else from the provider's words."""
    if status is not None and status != 200:
        return error_type(status)
    lowered = (words or "").lower()
    return next((kind for marker, kind in _OPENAI_KINDS if marker in lowered), "api_error")


def from_openai_error(status: int, body: bytes) -> bytes:
    """An OpenAI-format error answer as the Anthropic error body claude shows: same status, the
    provider's own message."""
    words, message = openai_error_message(body)
    return json.dumps({"type": "error", "error": {"type": anthropic_kind(words, status), "message": message}}).encode()
