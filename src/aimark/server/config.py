"""The service's configuration from the command line and the environment.

Trust anchors, watermark keys and API keys are files named by the operator; nothing in a
request can add to them. Every ``aimark serve`` option has an environment variable
(``AIMARK_...``, listed in docs/server.md), so that ``uvicorn --factory
aimark.server:app_from_env`` (or gunicorn) builds the same app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aimark.errors import InputError, MissingExtraError
from aimark.media.limits import Limits
from aimark.server.api_keys import read_api_keys
from aimark.server.connections import DEFAULT_HEADER_TIMEOUT
from aimark.server.limits import ServiceLimits

__all__ = ["ServerSettings", "app_from_env", "require_extra"]

ENV_PREFIX = "AIMARK_"


def require_extra() -> None:
    """Raise :class:`MissingExtraError` unless the ``server`` extra is installed."""
    import importlib

    for module in ("starlette", "python_multipart"):
        try:
            importlib.import_module(module)
        except ImportError:
            raise MissingExtraError(
                f"the server needs {module.replace('_', '-')}: pip install 'aimark[server]'"
            ) from None


def _paths(value: str | None) -> list[str]:
    return [p for p in (value or "").split(os.pathsep) if p]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class ServerSettings:
    """Everything ``aimark serve`` configures (see :meth:`from_env`)."""

    trust: list[str] = field(default_factory=list)
    watermark_keys: list[str] = field(default_factory=list)
    public_watermarks: bool = False
    api_keys_file: str | None = None
    include_scores: bool = False
    isolation: str = "process"
    page: bool = True
    access_log: bool = True
    metrics: bool = True
    max_body_bytes: int = ServiceLimits.max_body_bytes
    max_pixels: int = Limits.max_pixels
    concurrency: int = 0
    queue: int = -1
    time_limit: float = ServiceLimits.time_limit
    upload_timeout: float = ServiceLimits.upload_timeout
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    max_connections: int = 0  # 0: as many as the open-file limit allows (at most 10,000)
    repository: str | None = None
    # POST /v1/ingest: the platform's name and signing credentials (all three, or none)
    platform: str | None = None
    platform_cert: str | None = None
    platform_key: str | None = None
    ingest_av: str = "copy"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Settings from ``AIMARK_*`` variables (``AIMARK_TRUST`` and
        ``AIMARK_WATERMARK_KEYS`` are lists of files separated by ``os.pathsep``)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        s = cls(
            trust=_paths(get("TRUST")),
            watermark_keys=_paths(get("WATERMARK_KEYS")),
            public_watermarks=_flag(get("PUBLIC_WATERMARKS")),
            api_keys_file=get("API_KEYS_FILE"),
            include_scores=_flag(get("INCLUDE_SCORES")),
            isolation=get("ISOLATION") or "process",
            page=not _flag(get("NO_PAGE")),
            access_log=get("ACCESS_LOG") is None or _flag(get("ACCESS_LOG")),
            metrics=not _flag(get("NO_METRICS")),
            repository=get("REPOSITORY"),
            platform=get("PLATFORM"),
            platform_cert=get("PLATFORM_CERT"),
            platform_key=get("PLATFORM_KEY"),
            ingest_av=get("INGEST_AV") or "copy",
        )
        numbers: dict[str, Any] = {
            "MAX_BODY_BYTES": ("max_body_bytes", int),
            "MAX_PIXELS": ("max_pixels", int),
            "CONCURRENCY": ("concurrency", int),
            "QUEUE": ("queue", int),
            "TIME_LIMIT": ("time_limit", float),
            "UPLOAD_TIMEOUT": ("upload_timeout", float),
            "HEADER_TIMEOUT": ("header_timeout", float),
            "MAX_CONNECTIONS": ("max_connections", int),
        }
        for var, (attr, kind) in numbers.items():
            raw = get(var)
            if raw is not None:
                try:
                    setattr(s, attr, kind(raw))
                except ValueError:
                    raise InputError(f"{ENV_PREFIX}{var} must be a number, not {raw!r}") from None
        return s

    def build_app(self) -> Any:
        """The ASGI app these settings describe."""
        require_extra()
        from aimark._verifier import Verifier
        from aimark.keys import WatermarkKey
        from aimark.server.app import create_app
        from aimark.trust import TrustAnchors

        if self.isolation not in ("process", "thread"):
            raise InputError(f"isolation must be 'process' or 'thread', not {self.isolation!r}")
        try:
            limits = ServiceLimits(
                max_body_bytes=self.max_body_bytes,
                concurrency=self.concurrency,
                queue=self.queue,
                time_limit=self.time_limit,
                upload_timeout=self.upload_timeout,
            )
            media_limits = Limits(max_bytes=self.max_body_bytes, max_pixels=self.max_pixels)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        verifier = Verifier(
            trust=TrustAnchors.from_files(*self.trust) if self.trust else None,
            limits=media_limits,
            watermark_keys=[WatermarkKey.load(p) for p in self.watermark_keys],
            public_watermarks=self.public_watermarks,
            repository=self.repository,
            # audio/video: decode no more of an upload than detection can read in time
            watermark_seconds=self.time_limit,
        )
        api_keys = read_api_keys(self.api_keys_file) if self.api_keys_file else []
        return create_app(
            verifier,
            limits=limits,
            api_keys=api_keys,
            include_scores=self.include_scores,
            isolation=self.isolation,  # type: ignore[arg-type]
            page=self.page,
            access_log=self.access_log,
            metrics=self.metrics,
            repository=self.repository,
            ingester=self._ingester(verifier, api_keys),
        )

    def _ingester(self, verifier: Any, api_keys: list[str]) -> Any:
        """The platform's :class:`~aimark.Ingester` for ``POST /v1/ingest``, or None."""
        given = [self.platform, self.platform_cert, self.platform_key]
        if not any(given):
            return None
        if not all(given):
            raise InputError(
                "POST /v1/ingest needs --platform, --platform-cert and --platform-key together"
            )
        if not api_keys:
            raise InputError(
                "POST /v1/ingest signs as the platform: give the service --api-keys-file so "
                "that only the platform's own systems can call it"
            )
        from aimark.credentials import Credentials
        from aimark.platforms.ingest import Ingester
        from aimark.platforms.processing import Processing

        try:
            processing = Processing(av=self.ingest_av)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        assert self.platform and self.platform_cert and self.platform_key
        creds = Credentials.from_files(self.platform_cert, self.platform_key)
        return Ingester(creds, platform=self.platform, processing=processing, verifier=verifier)


def app_from_env() -> Any:
    """The app configured by ``AIMARK_*`` environment variables, for ASGI servers that take
    a factory: ``uvicorn --factory aimark.server:app_from_env``."""
    return ServerSettings.from_env().build_app()
