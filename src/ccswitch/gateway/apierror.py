"""Errors the gateway itself answers, shaped as the Anthropic API shapes them, so claude and the SDKs
show and retry them as they would Anthropic's own."""

from __future__ import annotations

import json

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


def error_body(status: int, message: str) -> bytes:
    error = {"type": ERROR_TYPES.get(status, "api_error"), "message": message}
    return json.dumps({"type": "error", "error": error}).encode()


def sse_error_event(error_type: str, message: str) -> bytes:
    """An SSE `error` event that ends a stream which broke after it started. claude answers it by
    sending the same request again, non-streaming (docs/gateway.md, "When a stream breaks")."""
    data = json.dumps({"type": "error", "error": {"type": error_type, "message": message}})
    return f"event: error\ndata: {data}\n\n".encode()
