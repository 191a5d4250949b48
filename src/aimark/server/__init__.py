"""The upload verification service: an ASGI app (``create_app``) and ``aimark serve``.

Needs the ``server`` extra: ``pip install 'aimark[server]'``; the names below are imported on
first use, so ``import aimark.server`` itself never fails.

Example:
    >>> import aimark
    >>> from aimark.server import ServiceLimits, create_app
    >>> app = create_app(aimark.Verifier(), limits=ServiceLimits(max_body_bytes=8_000_000))
    >>> app.state.service.limits.max_body_bytes
    8000000
    >>> app.state.service.close()
"""

from __future__ import annotations

from typing import Any

from aimark.server.limits import ServiceLimits

__all__ = ["CODES", "Problem", "ServiceLimits", "app_from_env", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "CODES", "Problem", "app_from_env"):
        from aimark.server.config import require_extra

        value: Any

        require_extra()
        if name == "create_app":
            from aimark.server.app import create_app as value
        elif name == "app_from_env":
            from aimark.server.config import app_from_env as value
        else:
            from aimark.server import problems

            value = getattr(problems, name)
        return value
    raise AttributeError(f"module 'aimark.server' has no attribute {name!r}")
