"""The upload verification service as an ASGI app (Starlette).

Routes: ``POST /v1/verify`` (one file, raw or multipart → the JSON report), ``POST
/v1/ingest`` (where the service has a platform's credentials: one upload → the platform's
signed copy, see docs/platforms.md),
``GET /v1/version``, ``GET /healthz``, ``GET /metrics`` (Prometheus), ``GET /openapi.json``,
and the verification page at ``GET /`` (with its files under ``/static/``). See
docs/server.md.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aimark._verifier import Verifier
from aimark._version import __version__
from aimark.report import SCHEMA_VERSION, Status
from aimark.server.access import AccessLog, note
from aimark.server.api_keys import api_key_problem
from aimark.server.body import declared_length, read_upload
from aimark.server.limits import ServiceLimits
from aimark.server.metrics import CONTENT_TYPE, Metrics
from aimark.server.openapi import openapi_document
from aimark.server.pool import Isolation, Outcome, VerifyPool
from aimark.server.problems import CODES, Problem

__all__ = ["create_app"]

log = logging.getLogger("aimark.server")

# the page loads only its own files; uploads are previewed from blob: URLs
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_FAILURES = {
    "time-limit-exceeded": "verifying this file took longer than the limit of {t:g} s",
    "worker-crash": "the file crashed the verifier's worker process; it was not verified",
    "internal-error": "the verifier failed on this file (a bug: the server log has details)",
}


class _Admission:
    """Counts uploads in progress (receiving, waiting or being verified); refuses more than
    ``capacity``. Released from worker threads too, hence the lock."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_progress = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.in_progress >= self.capacity:
                return False
            self.in_progress += 1
            return True

    def release(self, *_: Any) -> None:
        with self._lock:
            self.in_progress -= 1


class VerifyService:
    """What the routes share: the verifier, its worker pool, the limits and the API keys."""

    def __init__(
        self,
        verifier: Verifier,
        limits: ServiceLimits,
        *,
        api_keys: Iterable[str],
        include_scores: bool,
        isolation: Isolation,
        ingester: Any = None,
    ) -> None:
        self.verifier = verifier
        self.ingester = ingester
        self.limits = limits
        api_keys = list(api_keys)
        for key in api_keys:
            problem = api_key_problem(key)
            if problem:
                raise ValueError(f"an API key is refused: {problem}")
        self.api_keys = tuple(k.encode("utf-8") for k in api_keys)
        self.include_scores = include_scores
        self.pool = VerifyPool(
            verifier,
            size=limits.concurrency,
            time_limit=limits.time_limit,
            isolation=isolation,
            ingester=ingester,
        )
        self.admission = _Admission(limits.concurrency + limits.queue)
        self.metrics = Metrics()

    def describe(self) -> dict[str, Any]:
        """What the service was configured with, for its start-up log line: counts and key
        ids, never key material or API keys."""
        keys = self.verifier.watermark_keys
        return {
            "trust_anchors": len(self.verifier.trust.subjects),
            "watermark_keys": len(keys),
            "watermark_key_ids": [k.key_id for k in keys],
            "public_watermarks": self.verifier.public_watermarks,
            "repository": self.verifier.repository is not None,
            "ingest": self.ingester is not None,
            "api_keys": bool(self.api_keys),
            "isolation": self.pool.isolation,
            "max_body_bytes": self.limits.max_body_bytes,
            "max_pixels": self.verifier.limits.max_pixels,
            "concurrency": self.limits.concurrency,
            "queue": self.limits.queue,
            "time_limit": self.limits.time_limit,
        }

    def metrics_text(self) -> str:
        """The Prometheus exposition of :attr:`metrics` and the admission's gauges."""
        return self.metrics.render(
            {
                "aimark_uploads_in_progress": self.admission.in_progress,
                "aimark_workers": self.limits.concurrency,
                "aimark_queue_capacity": self.limits.queue,
                "aimark_worker_restarts_total": self.pool.restarts,
            }
        )

    def authorize(self, request: Request) -> None:
        """Check the API key, if the service has any (``Authorization: Bearer KEY`` or
        ``X-API-Key: KEY``); every configured key is compared in constant time."""
        if not self.api_keys:
            return
        given = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if given is None and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        raw = (given or "").encode("utf-8", "replace")
        ok = False
        for key in self.api_keys:
            ok |= hmac.compare_digest(raw, key)
        if not ok:
            raise Problem(
                401,
                "unauthorized",
                "this service needs an API key (Authorization: Bearer KEY, or X-API-Key)",
                headers={"WWW-Authenticate": 'Bearer realm="aimark"'},
            )

    async def verify(self, request: Request) -> Response:
        outcome = await self._run(request, None)
        if outcome.report is None:
            code = outcome.failure or "internal-error"
            raise Problem(CODES[code], code, _FAILURES[code].format(t=self.limits.time_limit))
        report = outcome.report
        note(request.scope, verdict=report.verdict.status.value, format=report.media.format)
        status = 422 if report.verdict.status is Status.ERROR else 200
        return _json(report.to_dict(include_scores=self.include_scores), status)

    async def ingest(self, request: Request) -> Response:
        """``POST /v1/ingest``: the upload in, the platform's signed copy out (its bytes,
        with the summary in the ``Aimark-Ingest`` header; or both as JSON when the client
        accepts ``application/json`` only)."""
        params = request.query_params
        declared = params.get("declared_ai", "false").lower()
        if declared not in ("true", "false", "1", "0"):
            raise Problem(400, "bad-request", "declared_ai must be true or false")
        propagate_id = params.get("propagate_id")
        if propagate_id is not None and (
            len(propagate_id) > 256 or any(ord(c) < 32 for c in propagate_id)
        ):
            raise Problem(400, "bad-request", "propagate_id must be one line of ≤ 256 characters")
        job = {"propagate_id": propagate_id, "declared_ai": declared in ("true", "1")}
        outcome = await self._run(request, job)
        if outcome.refused is not None:
            raise Problem(422, "cannot-ingest", outcome.refused)
        if outcome.ingested is None:
            code = outcome.failure or "internal-error"
            raise Problem(CODES[code], code, _FAILURES[code].format(t=self.limits.time_limit))
        data, summary = outcome.ingested
        note(request.scope, output=summary["output"]["status"], format=summary["format"])
        if request.headers.get("accept", "").strip().lower() == "application/json":
            import base64

            body = dict(summary, data_base64=base64.b64encode(data).decode("ascii"))
            return _json(body)
        name = f"ingested{summary['extension']}"
        compact = json.dumps(summary, ensure_ascii=True, separators=(",", ":"))
        return Response(
            data,
            media_type=summary["mime"],
            headers={
                "Aimark-Ingest": compact,
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    async def _run(self, request: Request, job: dict[str, Any] | None) -> Outcome:
        """Receive one upload within the limits and run it in the pool (``job``: ingest)."""
        self.authorize(request)
        limits = self.limits
        declared_length(request.headers, limits.max_body_bytes)
        if not self.admission.try_acquire():
            raise Problem(
                503,
                "busy",
                "the service is verifying as many uploads as it can; retry shortly",
                headers={"Retry-After": str(limits.retry_after)},
            )
        try:
            upload = await read_upload(
                request.stream(),
                request.headers.get("content-type"),
                max_bytes=limits.max_body_bytes,
                timeout=limits.upload_timeout,
                name=request.query_params.get("name"),
            )
            future = self.pool.submit(upload.data, upload.name, job)
        except BaseException:
            self.admission.release()
            raise
        del upload
        # the place is given back when the work is over, not when we stop waiting for it
        future.add_done_callback(self.admission.release)
        waiting = asyncio.wrap_future(future)
        if self.pool.isolation == "thread":  # the pool cannot stop a thread: stop waiting
            try:
                outcome = await asyncio.wait_for(asyncio.shield(waiting), limits.time_limit)
            except asyncio.TimeoutError:
                outcome = Outcome(failure="time-limit-exceeded")
        else:  # the pool kills a worker at the limit, so the answer comes in time
            outcome = await waiting
        return outcome

    def version(self, request: Request) -> Response:
        self.authorize(request)
        return _json(
            {
                "aimark": __version__,
                "c2pa_python": _c2pa_version(),
                "schema_version": SCHEMA_VERSION,
                "trust_anchors": len(self.verifier.trust.subjects),
                "watermark_keys": len(self.verifier.watermark_keys),
                "public_watermarks": self.verifier.public_watermarks,
                "include_scores": self.include_scores,
                "auth": bool(self.api_keys),
                "limits": {
                    "max_body_bytes": self.limits.max_body_bytes,
                    "max_pixels": self.verifier.limits.max_pixels,
                    "time_limit": self.limits.time_limit,
                    "concurrency": self.limits.concurrency,
                    "queue": self.limits.queue,
                },
            }
        )

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(self.pool.start)
        try:
            yield
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker processes."""
        self.pool.close()


def _c2pa_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("c2pa-python")
    except PackageNotFoundError:  # pragma: no cover
        return None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def _problem_response(problem: Problem) -> Response:
    return _json(problem.to_dict(), problem.status, problem.headers)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    note(request.scope, error=exc.code)
    return _problem_response(exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "bad-request")
    message = {
        "not-found": "no such resource",
        "method-not-allowed": "this resource does not take that method",
    }.get(code, "bad request")
    problem = Problem(CODES[code], code, message, headers=dict(exc.headers or {}))
    note(request.scope, error=code)
    return _problem_response(problem)


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    note(request.scope, error="internal-error")
    return _problem_response(
        Problem(500, "internal-error", "the service failed on this request (see the server log)")
    )


class _SecurityHeaders:
    """Adds the same defensive headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    verifier: Verifier | None = None,
    *,
    limits: ServiceLimits | None = None,
    api_keys: Iterable[str] = (),
    include_scores: bool = False,
    isolation: Isolation = "process",
    page: bool = True,
    repository: Any = None,
    ingester: Any = None,
    access_log: bool = True,
    metrics: bool = True,
) -> Starlette:
    """The upload verification service as an ASGI app.

    Args:
        verifier: the :class:`~aimark.Verifier` that holds the trust anchors, watermark keys
            and media limits (default: no anchors, no keys). These come from the server's
            configuration only; a request can never supply them.
        limits: body size, concurrency, queue and time limits (:class:`ServiceLimits`).
        api_keys: if given, ``/v1/*`` needs one of them (``Authorization: Bearer KEY`` or
            ``X-API-Key``); each must be at least 16 characters.
        include_scores: also answer with the watermark layer's graded numbers (raw score,
            p-value, confidence). Off by default: a public service should not be a detector
            oracle. Turn it on only for trusted clients.
        isolation: ``"process"`` (default) verifies in worker processes that are killed at
            the time limit or replaced when a decoder crashes; ``"thread"`` verifies in
            threads (no process start-up, but the time limit cannot stop the work).
        page: serve the verification page at ``/``.
        repository: a manifest repository (path, ``postgresql://`` URL or open repository):
            the C2PA Soft Binding Resolution API is served over it under ``/v1``
            (:mod:`aimark.server.resolution`). Give it to the verifier too for verification
            to recover credentials from it.
        ingester: an :class:`~aimark.Ingester` (the platform's credentials, name and
            processing): ``POST /v1/ingest`` is served with it. It signs as the platform,
            so the service must have ``api_keys``; its verifier is replaced by ``verifier``.
        access_log: write one JSON line per request to the ``aimark.access`` logger (INFO;
            give that logger a handler when you mount the app yourself).
        metrics: serve ``GET /metrics`` (Prometheus text format, no API key needed).

    Returns:
        A Starlette app; run it with any ASGI server (``aimark serve`` uses uvicorn). Its
        lifespan starts and stops the workers; without a lifespan they start on first use,
        and ``app.state.service.close()`` stops them.

    Example:
        >>> import aimark
        >>> from aimark.server import create_app
        >>> app = create_app(aimark.Verifier(), isolation="thread")
        >>> sorted(r.path for r in app.routes if r.path.startswith("/v1"))
        ['/v1/verify', '/v1/version']
        >>> app.state.service.close()
    """
    verifier = verifier or Verifier()
    api_keys = list(api_keys)
    if ingester is not None:
        if not api_keys:
            raise ValueError(
                "POST /v1/ingest signs as the platform: give the service API keys "
                "(--api-keys-file) so that only the platform's own systems can call it"
            )
        ingester.verifier = verifier
    if getattr(verifier, "fetch_remote", False):  # an upload must not make the service call out
        raise ValueError("the service never fetches remote manifests: use fetch_remote=False")
    service = VerifyService(
        verifier,
        limits or ServiceLimits(),
        api_keys=api_keys,
        include_scores=include_scores,
        isolation=isolation,
        ingester=ingester,
    )
    document = openapi_document(
        auth=bool(service.api_keys),
        include_scores=include_scores,
        resolution=repository is not None,
        ingest=ingester is not None,
    )

    async def verify(request: Request) -> Response:
        return await service.verify(request)

    async def version(request: Request) -> Response:
        return service.version(request)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def openapi(request: Request) -> Response:
        return _json(document)

    async def ingest(request: Request) -> Response:
        return await service.ingest(request)

    async def metrics_route(request: Request) -> Response:
        return Response(
            service.metrics_text(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"}
        )

    routes: list[Any] = [
        Route("/v1/verify", verify, methods=["POST"]),
        Route("/v1/version", version, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if metrics:
        routes.append(Route("/metrics", metrics_route, methods=["GET"]))
    if ingester is not None:
        routes.append(Route("/v1/ingest", ingest, methods=["POST"]))
    if repository is not None:
        from aimark.repository import open_repository
        from aimark.server.resolution import resolution_routes

        routes += resolution_routes(service, open_repository(repository))
    if page:
        static = resources.files("aimark.server") / "static"

        async def index(request: Request) -> Response:
            return FileResponse(str(static / "index.html"), headers={"Cache-Control": "no-cache"})

        script = _page_script((static / "app.js").read_text(encoding="utf-8"))

        async def app_js(request: Request) -> Response:
            return Response(
                script,
                media_type="text/javascript; charset=utf-8",
                headers={"Cache-Control": "no-cache"},
            )

        routes += [
            Route("/", index, methods=["GET"]),
            Route("/static/app.js", app_js, methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            Problem: _on_problem,
            HTTPException: _on_http_error,
            Exception: _on_crash,
        },
        lifespan=service.lifespan,
    )
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(
        AccessLog, metrics=service.metrics, route_of=_route_of(routes), log_lines=access_log
    )
    app.state.service = service
    return app


def _route_of(routes: list[Any]) -> Any:
    """A function from a request's scope to the template of the route that serves it
    (``"unmatched"`` for none), for metrics labels that stay few."""
    from starlette.routing import Match

    def route_of(scope: Scope) -> str:
        for route in routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return str(route.path)
        return "unmatched"

    return route_of


def _page_script(source: str) -> str:
    """The page's script with aimark's wording table written in (``aimark.wording``), so that
    the page, the CLI and the HTML scan report word verdicts alike."""
    from aimark.wording import as_json

    marker = "/*aimark.wording*/ null"
    if marker not in source:
        raise RuntimeError("the page's script has no place for the wording table")
    table = json.dumps(as_json(), ensure_ascii=True).replace("</", "<\\/")
    return source.replace(marker, table, 1)
