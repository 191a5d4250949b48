"""Errors the service answers with: an HTTP status, a stable code and a message, as JSON
``{"error": {"code": ..., "message": ...}}`` — the same ``error`` object a report carries when
its input could not be verified. Never a stack trace or a server path."""

from __future__ import annotations

from aimark.errors import AimarkError

__all__ = ["CODES", "Problem"]

# every code the HTTP layer itself can answer with, and its status (documented in
# docs/server.md and the OpenAPI document; tests check both list exactly these)
CODES: dict[str, int] = {
    "bad-request": 400,
    "bad-content-length": 400,
    "bad-multipart": 400,
    "no-file": 400,
    "too-many-files": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "upload-timeout": 408,
    "header-timeout": 408,
    "body-too-large": 413,
    "unsupported-asset": 415,
    "cannot-ingest": 422,
    "time-limit-exceeded": 422,
    "worker-crash": 422,
    "internal-error": 500,
    "not-implemented": 501,
    "busy": 503,
    "repository-unavailable": 503,
}


class Problem(AimarkError):
    """An error answer: raise it anywhere in a request; the app turns it into JSON."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        if CODES.get(code) != status:
            raise ValueError(f"unknown problem code {code!r} for status {status}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}
