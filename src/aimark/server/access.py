"""One structured access-log line per request, and the request metrics, from one ASGI
middleware.

Each request gets an id (the client's ``X-Request-Id`` when it is a short token, else a new
one), echoed in the answer's ``X-Request-Id``. When the answer is sent, one JSON line goes to
the ``aimark.access`` logger (INFO) and the request is counted in :class:`~aimark.server.
metrics.Metrics`. The line holds the method, the path, the *names* of the query parameters
(never their values, which may be secrets or a file's name), the status, the duration, the
bytes in and out, the client's address and the request id; routes add what they learnt (the
verdict and media format of ``/v1/verify``, the output's status of ``/v1/ingest``, the
error code of a problem) through :func:`note`. Never a header, an API key or the file.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aimark.server.metrics import Metrics

__all__ = ["AccessLog", "note"]

access_log = logging.getLogger("aimark.access")

_SCOPE_KEY = "aimark.access"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_MAX_PATH = 256


def note(scope: Scope, **fields: Any) -> None:
    """Add ``fields`` to this request's access-log line (no-op outside :class:`AccessLog`)."""
    notes = scope.get(_SCOPE_KEY)
    if notes is not None:
        notes.update(fields)


def _query_names(query: bytes) -> list[str]:
    names = {part.split(b"=", 1)[0] for part in query.split(b"&") if part}
    return sorted(n.decode("latin-1")[:64] for n in names)[:20]


class AccessLog:
    """ASGI middleware: request id, access-log line (when ``log_lines``) and metrics.

    ``route_of(scope)`` gives the route template that counts a request (so that metrics
    labels stay few whatever paths clients send)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        route_of: Callable[[Scope], str],
        log_lines: bool = True,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of
        self.log_lines = log_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        route = self.route_of(scope)  # before the router changes the scope
        given = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        notes: dict[str, Any] = {}
        scope[_SCOPE_KEY] = notes
        sizes = {"in": 0, "out": 0}
        answer = {"status": 0}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                sizes["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sizes["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        except BaseException:
            if not answer["status"]:
                answer["status"] = 500  # the server's error handler answers it
            raise
        finally:
            seconds = time.perf_counter() - t0
            status = answer["status"]
            self.metrics.observe(route, status, seconds, notes.get("verdict"))
            if self.log_lines:
                client = scope.get("client")
                line = {
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path", "")[:_MAX_PATH],
                    "query": _query_names(scope.get("query_string", b"")),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "bytes_in": sizes["in"],
                    "bytes_out": sizes["out"],
                    "client": client[0] if client else None,
                    **notes,
                }
                access_log.info(json.dumps(line, ensure_ascii=True, separators=(",", ":")))
